// SPDX-License-Identifier: MPL-2.0
//! RTP headers, the ONVIF replay extension (0xABAC) and RTCP sender reports, plus the
//! interleaved framing split at every offset.
#![no_main]
use gstonvifhttps::testing::rtp;
use gstonvifhttps::testing::rtsp::framing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rtp::parse_header(data);
    if let Some(e) = rtp::replay_extension(data) {
        let _ = rtp::ntp_to_unix_ns(e.ntp);
    }
    let _ = rtp::sender_reports(data);
    // Whole-buffer parse must never panic; units found must stay inside the buffer.
    let mut pos = 0;
    while let Ok(Some((f, used))) = framing::next(&data[pos..]) {
        assert!(used > 0 && pos + used <= data.len());
        if let framing::Frame::Data { start, len, .. } = f {
            assert!(start + len <= used);
        }
        pos += used;
    }
});
