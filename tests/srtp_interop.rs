// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Issue 25 point 2, before `rtsps-srtp` is built on it: does the pure-Rust SRTP candidate
//! (the `libsrtp` crate, a dev-dependency for now) read what devices write? Devices and
//! gst-rtsp-server encrypt with libsrtp2 (Cisco's C library) through GStreamer's
//! `srtpenc`: here `srtpenc` encrypts an RTP stream with each of ONVIF's three suites,
//! with and without a 4-byte MKI (ONVIF 26.06, the Genetec flavour), and the crate must
//! decrypt every packet to the bytes that went in, and refuse every packet under a wrong
//! key or a wrong MKI.

mod common;

use gst::prelude::*;
use libsrtp::{MasterKey, ProtectionProfile, RecvSession, SrtpError, StreamConfig};

const SSRC: u32 = 0x1234_5678;
const PACKETS: usize = 30;

/// `(srtpenc cipher, srtpenc auth, the crate's profile, key bytes, salt bytes)`.
const SUITES: &[(&str, &str, ProtectionProfile, usize, usize)] = &[
    (
        "aes-128-icm",
        "hmac-sha1-80",
        ProtectionProfile::Aes128CmHmacSha180,
        16,
        14,
    ),
    (
        "aes-128-gcm",
        "null",
        ProtectionProfile::AeadAes128Gcm,
        16,
        12,
    ),
    (
        "aes-256-gcm",
        "null",
        ProtectionProfile::AeadAes256Gcm,
        32,
        12,
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `PACKETS` PCMU packets, as they go into `srtpenc` and as they come out of it.
fn encrypted(
    cipher: &str,
    auth: &str,
    master: &[u8],
    mki: Option<&[u8]>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mki = mki.map(|m| format!(" mki={}", hex(m))).unwrap_or_default();
    let pipeline = gst::parse::launch(&format!(
        "audiotestsrc num-buffers={PACKETS} samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 ! \
         mulawenc ! rtppcmupay ssrc={SSRC} ! tee name=t \
         t. ! queue ! appsink name=plain sync=false \
         t. ! queue ! srtpenc name=enc key={} rtp-cipher={cipher} rtp-auth={auth} \
         rtcp-cipher={cipher} rtcp-auth={}{mki} ! appsink name=srtp sync=false",
        hex(master),
        if auth == "null" { "null" } else { "hmac-sha1-80" }
    ))
    .expect("an srtpenc pipeline")
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = |name: &str| {
        pipeline
            .by_name(name)
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap()
    };
    let (plain, srtp) = (sink("plain"), sink("srtp"));
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    for _ in 0..PACKETS {
        let bytes = |s: &gst_app::AppSink| {
            let sample = s
                .try_pull_sample(gst::ClockTime::from_seconds(5))
                .expect("a packet");
            sample.buffer().unwrap().map_readable().unwrap().to_vec()
        };
        out.push((bytes(&plain), bytes(&srtp)));
    }
    pipeline.set_state(gst::State::Null).unwrap();
    out
}

fn receiver(
    profile: ProtectionProfile,
    key: &[u8],
    salt: &[u8],
    mki: Option<&[u8]>,
) -> RecvSession {
    let mut r = RecvSession::new();
    let config = StreamConfig::new(
        vec![MasterKey::new(key, salt, &mki.map(<[u8]>::to_vec))],
        &profile,
        &profile,
    );
    r.add_stream(Some(SSRC), &config).expect("a stream");
    r
}

#[test]
fn test_the_crate_reads_what_libsrtp2_writes() {
    common::init();
    if gst::ElementFactory::find("srtpenc").is_none() {
        assert!(
            !common::tool_required(),
            "srtpenc (gstreamer1.0-plugins-bad) missing"
        );
        eprintln!("srtpenc missing: skipped");
        return;
    }
    for &(cipher, auth, profile, key_len, salt_len) in SUITES {
        let master: Vec<u8> = (0..key_len + salt_len).map(|i| (i * 7 + 3) as u8).collect();
        let (key, salt) = master.split_at(key_len);
        for mki in [None, Some(&[0u8, 0, 0, 0x2f][..])] {
            let what = format!("{cipher}/{auth}, MKI {mki:?}");
            let packets = encrypted(cipher, auth, &master, mki);
            // What the element sends (the backchannel, under its key) is byte for byte
            // what libsrtp2 writes: SRTP is deterministic for a key, SSRC and index.
            let mut ours = libsrtp::SendSession::new();
            ours.add_stream(
                None,
                &StreamConfig::new(
                    vec![MasterKey::new(key, salt, &mki.map(<[u8]>::to_vec))],
                    &profile,
                    &profile,
                ),
            )
            .expect("a stream");
            for (i, (plain, srtp)) in packets.iter().enumerate() {
                let protected = ours.rtp_protect_mki(plain.clone(), &mki.map(<[u8]>::to_vec));
                assert_eq!(protected.as_ref(), Ok(srtp), "{what}: packet {i} as sent");
            }
            let mut r = receiver(profile, key, salt, mki);
            for (i, (plain, srtp)) in packets.iter().enumerate() {
                assert_ne!(plain, srtp, "{what}: packet {i} encrypted");
                let got = r.rtp_unprotect(srtp.clone());
                assert_eq!(got.as_ref(), Ok(plain), "{what}: packet {i}");
            }
            // A wrong key: every packet refused.
            let wrong: Vec<u8> = key.iter().map(|b| b ^ 0x55).collect();
            let mut r = receiver(profile, &wrong, salt, mki);
            let refused = packets
                .iter()
                .filter(|(_, srtp)| r.rtp_unprotect(srtp.clone()).is_err())
                .count();
            assert_eq!(refused, PACKETS, "{what}: a wrong key decrypts nothing");
            // A wrong MKI: every packet refused, as an unknown MKI.
            if let Some(m) = mki {
                let other: Vec<u8> = m.iter().map(|b| b ^ 1).collect();
                let mut r = receiver(profile, key, salt, Some(&other));
                let unknown = packets
                    .iter()
                    .filter(|(_, srtp)| r.rtp_unprotect(srtp.clone()) == Err(SrtpError::InvalidMki))
                    .count();
                assert_eq!(unknown, PACKETS, "{what}: another MKI");
            }
        }
    }
}
