// SPDX-License-Identifier: MPL-2.0
//! A SETUP answer's Transport value, read by rtsp-types' typed header or leniently: never
//! a panic, and it grants only what the value names.
#![no_main]
use gstonvifhttps::testing::rtsp::transport::Reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let r = Reply::parse(s);
    if let Some((a, b)) = r.interleaved
        && !s.contains("interleaved")
    {
        panic!("channels {a}-{b} from a value without interleaved: {s:?}");
    }
    if r.server_port.is_some() {
        assert!(s.contains("server_port"), "{s:?}");
    }
});
