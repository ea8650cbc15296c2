// SPDX-License-Identifier: MPL-2.0
//! A WS-Discovery datagram from anyone on the network (the multicast group takes them
//! from everyone): never a panic; a target read has an endpoint, and the location chosen
//! for it is an http(s) URL that parses.
#![no_main]
use gstonvifhttps::testing::onvif::discovery::{self, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let targets = match discovery::parse(data) {
        Ok(Message::ProbeMatches { targets, .. }) => targets,
        Ok(Message::Hello(t)) => vec![t],
        _ => return,
    };
    for t in targets {
        assert!(!t.endpoint.is_empty());
        let _ = t.is_onvif();
        let _ = t.scope("name");
        for source in ["192.0.2.1", "::1", "fe80::2"] {
            if let Some(l) = t.location(source.parse().unwrap()) {
                let u = url::Url::parse(&l).expect("a URL");
                assert!(matches!(u.scheme(), "http" | "https"), "{l}");
            }
        }
    }
});
