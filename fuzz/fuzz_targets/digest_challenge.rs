// SPDX-License-Identifier: MPL-2.0
//! `WWW-Authenticate` challenges; a parsed Digest challenge always yields a header that
//! parses back.
#![no_main]
use gstonvifhttps::testing::digest::{self, Challenge, DigestSession};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(Challenge::Digest(d)) = digest::parse_challenge(s) {
        let mut session = DigestSession::new(d);
        let h = session.authorization("u", "p", "GET", "/x", "c");
        assert!(digest::parse_authorization(&h).is_some(), "{h}");
    }
    let _ = digest::choose(s.split('\n'), true);
});
