// SPDX-License-Identifier: MPL-2.0
//! Chunked bodies with huge and malformed sizes, extensions and trailers, fed to the
//! incremental decoder in pieces the bytes choose: it must agree with the whole-buffer
//! decode, never hold more than a line of raw bytes, and never panic.
#![no_main]
use gstonvifhttps::testing::http;
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    // A body built from the bytes: each record is (size class, payload length).
    let mut body = Vec::new();
    let mut i = 0;
    while i + 1 < data.len() && body.len() < 1 << 18 {
        let (class, n) = (data[i], usize::from(data[i + 1]));
        i += 2;
        match class % 6 {
            0 => body.extend_from_slice(format!("{n:x}\r\n").as_bytes()),
            1 => body.extend_from_slice(b"ffffffffffffffff\r\n"),
            2 => body.extend_from_slice(format!("{n:X};ext=\"a\"\r\n").as_bytes()),
            3 => body.extend_from_slice(&data[i..(i + n).min(data.len())]),
            4 => body.extend_from_slice(b"\r\n"),
            _ => body.extend_from_slice(b"0\r\nX-T: 1\r\n"),
        }
        if class % 6 == 0 {
            body.extend(std::iter::repeat_n(b'z', n));
            body.extend_from_slice(b"\r\n");
        }
    }
    let whole = http::decode_chunked(&body, LIMIT);
    let mut decoder = http::ChunkedDecoder::new(LIMIT);
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut step = 1 + data.first().map_or(0, |b| usize::from(*b) % 97);
    let incremental = loop {
        let end = (pos + step).min(body.len());
        buf.extend_from_slice(&body[pos..end]);
        pos = end;
        step = step * 7 % 1031 + 1;
        match decoder.feed(&mut buf) {
            Ok(true) => break Ok(true),
            Ok(false) if pos >= body.len() => break Ok(false),
            Ok(false) => assert!(buf.len() <= 8 * 1024 + 1024 + 2, "held {}", buf.len()),
            Err(e) => break Err(e),
        }
    };
    match (&whole, &incremental) {
        (Ok(Some(_)), Ok(true)) | (Ok(None), Ok(false)) | (Err(_), Err(_)) => {}
        other => panic!("whole and incremental disagree: {other:?}"),
    }
    if let (Ok(Some((b, _))), Ok(true)) = (whole, incremental) {
        assert_eq!(b, decoder.into_body());
    }
});
