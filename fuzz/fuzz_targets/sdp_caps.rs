// SPDX-License-Identifier: MPL-2.0
//! A DESCRIBE answer's SDP, then the RTP caps of every stream in it.
#![no_main]
use gstonvifhttps::testing::rtsp::sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, streams)) = sdp::parse(data) {
        let _ = gst::init();
        for s in &streams {
            let caps = gstonvifhttps::testing::session::rtp_caps(s);
            assert!(caps.is_fixed(), "{caps}");
        }
    }
});
