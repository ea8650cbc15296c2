// SPDX-License-Identifier: MPL-2.0
//! HTTP response heads and chunked bodies, split at every offset: a split parse must agree
//! with the whole one.
#![no_main]
use gstonvifhttps::testing::http;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = http::parse_head(data);
    if let Ok(Some(head)) = &whole {
        let _ = head.framing();
        let _ = head.keep_alive();
        for split in 0..head.len {
            assert_eq!(
                http::parse_head(&data[..split]).ok(),
                Some(None),
                "prefix {split}"
            );
        }
        let body = &data[head.len..];
        if let Ok(Some((decoded, used))) = http::decode_chunked(body, 1 << 20) {
            assert!(decoded.len() <= used);
            for split in 0..used {
                assert!(matches!(
                    http::decode_chunked(&body[..split], 1 << 20),
                    Ok(None) | Err(_)
                ));
            }
        }
    }
});
