// SPDX-License-Identifier: MPL-2.0
//! SRTP and SRTCP packets from a device that are not what they should be (the `libsrtp`
//! crate parses their headers; it is young): never a panic, and a packet no key
//! authenticates is dropped and counted, never delivered; a re-keying pending from a
//! packet the input chooses (its MKI at the end of any packet) included.
#![no_main]
use gstonvifhttps::testing::mikey::{SrtpKey, Suite};
use gstonvifhttps::testing::srtp::{KeySource, Receiver, Unprotected};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let suite = match first % 3 {
        0 => Suite::AesCm128HmacSha1_80,
        1 => Suite::AeadAes128Gcm,
        _ => Suite::AeadAes256Gcm,
    };
    let (k, s) = suite.lengths();
    let key = |seed: u8, mki: Option<Vec<u8>>| SrtpKey {
        suite,
        master_key: vec![seed; k],
        master_salt: vec![seed; s],
        mki,
        ssrc: 0,
        roc: 0,
    };
    let mut r = Receiver::new(&[
        (KeySource::Ours, key(1, Some(vec![0, 0, 0, 1]))),
        (KeySource::Device, key(2, None)),
    ])
    .expect("keys of the suite's lengths");
    // Packets: a length byte, then that many bytes; odd lengths as RTCP; a length of
    // 255 starts a re-keying to MKI 2.
    let mut rest = rest;
    let mut n = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 255 {
            r.rekey(&key(3, Some(vec![0, 0, 0, 2])));
            rest = tail;
            continue;
        }
        let take = usize::from(len).min(tail.len());
        let (packet, after) = tail.split_at(take);
        rest = after;
        let out = if len % 2 == 0 {
            r.rtp(packet.to_vec())
        } else {
            r.rtcp(packet.to_vec())
        };
        if out == Unprotected::Dropped {
            n += 1;
        }
        assert_eq!(r.dropped(), n, "every drop counted");
    }
});
