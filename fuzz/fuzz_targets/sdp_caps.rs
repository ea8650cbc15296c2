// SPDX-License-Identifier: MPL-2.0
//! A DESCRIBE answer's SDP, then the RTP caps of every stream in it (the seed corpus
//! should hold an fmtp line of thousands of parameters).
#![no_main]
use gstonvifhttps::testing::rtsp::sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, streams)) = sdp::parse(data) {
        let _ = gst::init();
        for s in &streams {
            // Issue 23: an fmtp line of thousands of names becomes at most this many fields.
            assert!(s.fmtp.len() <= sdp::MAX_FMTP_PARAMS);
            let caps = gstonvifhttps::testing::session::rtp_caps(s);
            assert!(caps.is_fixed(), "{caps}");
        }
    }
});
