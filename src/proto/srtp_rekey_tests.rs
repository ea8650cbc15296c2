// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Re-keying ([`Receiver::rekey`], [`Sender::rekey`]): the device's packets switch to our
//! new key by its MKI, with the roll-over counter kept or restarted, and nothing else
//! moves the receiver off the old key.

use super::*;

const SSRC: u32 = 0x0B0E_7C01;

fn key(seed: u8, mki: u8) -> SrtpKey {
    let random: [u8; KEY_RANDOM] = std::array::from_fn(|i| seed.wrapping_add(i as u8));
    our_key(
        Suite::AesCm128HmacSha1_80,
        &random,
        Some(u32::from(mki)),
        0xABCD_0001,
    )
}

/// The device's side: packets of [`SSRC`] under the keys it holds.
struct Device {
    session: SendSession,
    seq: u16,
}

impl Device {
    fn new(k: &SrtpKey, first_seq: u16) -> Device {
        let mut session = SendSession::new();
        session.add_stream(None, &config(k)).unwrap();
        Device {
            session,
            seq: first_seq,
        }
    }

    /// The next packet under `k`, in clear and protected.
    fn send(&mut self, k: &SrtpKey) -> (Vec<u8>, Vec<u8>) {
        let mut plain = vec![0x80, 96];
        plain.extend_from_slice(&self.seq.to_be_bytes());
        plain.extend_from_slice(&[0, 0, 0, 0]);
        plain.extend_from_slice(&SSRC.to_be_bytes());
        plain.extend_from_slice(&[self.seq as u8; 30]);
        self.seq = self.seq.wrapping_add(1);
        let cipher = self.session.rtp_protect_mki(plain.clone(), &k.mki).unwrap();
        (plain, cipher)
    }
}

fn opened(r: &mut Receiver, (plain, cipher): (Vec<u8>, Vec<u8>)) -> Option<Found> {
    match r.rtp(cipher) {
        Unprotected::Packet { bytes, found } => {
            assert_eq!(bytes, plain);
            found
        }
        Unprotected::Dropped => panic!("dropped"),
    }
}

/// A receiver of our old key (MKI 1) that opened `n` packets of a device starting at
/// `first_seq`, then was given our new key (MKI 2): the receiver, the device, the keys.
fn rekeyed_after(first_seq: u16, n: usize) -> (Receiver, Device, SrtpKey, SrtpKey) {
    let (old, new) = (key(1, 1), key(50, 2));
    let mut r = Receiver::new(&[(KeySource::Ours, old.clone())]).unwrap();
    let mut device = Device::new(&old, first_seq);
    for _ in 0..n {
        opened(&mut r, device.send(&old));
    }
    assert!(r.rekey(&new));
    (r, device, old, new)
}

/// The device took our new key and keeps its roll-over counter (ONVIF 26.06): its
/// first packet under the new MKI switches the receiver, past a sequence wrap; a packet
/// under the old key after that is dropped (the old key is gone).
#[test]
fn test_the_new_mki_switches_with_the_roc_kept() {
    let (mut r, mut device, old, new) = rekeyed_after(65_533, 6);
    assert_eq!(device.session.get_roc(SSRC).unwrap(), 1, "wrapped");
    // Sent before the switch, arriving after it.
    let late_old = device.send(&old);
    // Until the device switches, its packets under the old key open as before.
    assert_eq!(opened(&mut r, device.send(&old)), None);
    device.session.add_stream(None, &config(&new)).unwrap();
    assert_eq!(
        opened(&mut r, device.send(&new)),
        Some(Found::Switched {
            roc_restarted: false
        })
    );
    for _ in 0..3 {
        assert_eq!(opened(&mut r, device.send(&new)), None);
    }
    assert_eq!(r.rtp(late_old.1), Unprotected::Dropped);
    assert_eq!(r.rtp(device.send(&old).1), Unprotected::Dropped);
    assert_eq!(r.dropped(), 2);
    assert_eq!(r.decided(), Some(KeySource::Ours));
}

/// A device that starts its roll-over counter again with the new key (srtpenc before
/// GStreamer 1.28, gst-rtsp-server's cameras): the receiver finds it at 0.
#[test]
fn test_a_device_that_restarts_its_roc_is_followed() {
    let (mut r, device, _, new) = rekeyed_after(65_534, 4);
    let mut restarted = Device::new(&new, device.seq);
    assert_eq!(
        opened(&mut r, restarted.send(&new)),
        Some(Found::Switched {
            roc_restarted: true
        })
    );
    assert_eq!(opened(&mut r, restarted.send(&new)), None);
    assert_eq!(r.dropped(), 0);
}

/// Bytes that carry the new MKI but authenticate under nothing switch nothing: dropped,
/// the old key still opens the device's packets, the re-keying still pending. A refused
/// re-keying ([`Receiver::cancel_rekey`]) leaves only the old key.
#[test]
fn test_a_forged_new_mki_switches_nothing() {
    let (old, new) = (key(1, 1), key(50, 2));
    let mut r = Receiver::new(&[(KeySource::Ours, old.clone())]).unwrap();
    let mut device = Device::new(&old, 10);
    opened(&mut r, device.send(&old));
    assert!(r.rekey(&new));
    let mut forged = device.send(&old).1;
    let n = forged.len();
    forged[n - 10 - 4..n - 10].copy_from_slice(&[0, 0, 0, 2]);
    assert_eq!(r.rtp(forged), Unprotected::Dropped);
    assert_eq!(
        r.rtp(vec![0x80, 96, 0, 0, 0, 0, 0, 2]),
        Unprotected::Dropped
    );
    assert_eq!(opened(&mut r, device.send(&old)), None);
    r.cancel_rekey();
    let mut switched = Device::new(&new, device.seq);
    assert_eq!(r.rtp(switched.send(&new).1), Unprotected::Dropped);
    assert_eq!(opened(&mut r, device.send(&old)), None);
    assert_eq!(r.dropped(), 3);
}

/// A device that encrypts with its own key is not re-keyed by ours; a key without an
/// MKI cannot be told apart from the old one.
#[test]
fn test_only_our_key_with_an_mki_is_re_keyed() {
    let (old, new, device_key) = (key(1, 1), key(50, 2), key(90, 7));
    let mut r = Receiver::new(&[
        (KeySource::Ours, old.clone()),
        (KeySource::Device, device_key.clone()),
    ])
    .unwrap();
    opened(&mut r, Device::new(&device_key, 1).send(&device_key));
    assert_eq!(r.decided(), Some(KeySource::Device));
    assert!(!r.rekey(&new));
    let mut r = Receiver::new(&[(KeySource::Ours, old)]).unwrap();
    let mut no_mki = new.clone();
    no_mki.mki = None;
    assert!(!r.rekey(&no_mki));
}

/// Our reports after a re-key: under the new key and MKI, their SRTCP index going on
/// from the old key's (RFC 3711 §3.4: it never restarts), opened by a receiver of the
/// new key.
#[test]
fn test_our_reports_go_on_under_the_new_key() {
    let (old, new) = (key(1, 1), key(50, 2));
    let mut tx = Sender::new(&old).unwrap();
    let report = |n: u8| {
        let mut rr = vec![0x80, 201, 0, 1];
        rr.extend_from_slice(&0xABCD_0001u32.to_be_bytes());
        rr.push(n);
        rr.truncate(8);
        rr
    };
    // Index and MKI: the 4 bytes before the MKI, the 4 before the 10-byte tag.
    let trailer = |p: &[u8]| {
        let n = p.len();
        (
            u32::from_be_bytes(p[n - 18..n - 14].try_into().unwrap()) & 0x7FFF_FFFF,
            p[n - 14..n - 10].to_vec(),
        )
    };
    for _ in 0..3 {
        tx.rtcp(report(0)).unwrap();
    }
    tx.rekey(&new).unwrap();
    let p = tx.rtcp(report(0)).unwrap();
    assert_eq!(trailer(&p), (3, vec![0, 0, 0, 2]));
    let mut rx = Receiver::new(&[(KeySource::Ours, new.clone())]).unwrap();
    assert!(matches!(rx.rtcp(p), Unprotected::Packet { .. }));
    let mut no_mki = new;
    no_mki.mki = None;
    assert!(tx.rekey(&no_mki).is_err());
}

/// The device's SRTCP under the new key opens but decides nothing (the SRTCP index does
/// not depend on the roll-over counter): a device that restarts its counter sends a
/// sender report first, and its RTP after it is still found at 0. A second re-keying
/// waits until the first new key is in use.
#[test]
fn test_srtcp_under_the_new_key_decides_nothing() {
    let (mut r, device, _, new) = rekeyed_after(65_534, 4);
    assert!(!r.rekey(&key(60, 3)), "one new key at a time");
    let mut restarted = Device::new(&new, device.seq);
    let mut sr = vec![0x80, 200, 0, 6];
    sr.extend_from_slice(&SSRC.to_be_bytes());
    sr.extend_from_slice(&[7; 20]);
    let protected = restarted
        .session
        .rtcp_protect_mki(sr.clone(), &new.mki)
        .unwrap();
    assert_eq!(
        r.rtcp(protected),
        Unprotected::Packet {
            bytes: sr,
            found: None
        }
    );
    assert!(r.rekey_pending());
    assert_eq!(
        opened(&mut r, restarted.send(&new)),
        Some(Found::Switched {
            roc_restarted: true
        })
    );
    assert!(!r.rekey_pending());
}

/// The device's first packet under the new key is the first after a sequence wrap: its
/// roll-over counter is one more than the old key's stream had seen.
#[test]
fn test_a_wrap_at_the_switch_is_followed() {
    let (mut r, mut device, _, new) = rekeyed_after(65_530, 6);
    assert_eq!(device.seq, 0);
    device.session.add_stream(None, &config(&new)).unwrap();
    assert_eq!(
        opened(&mut r, device.send(&new)),
        Some(Found::Switched {
            roc_restarted: false
        })
    );
    assert_eq!(opened(&mut r, device.send(&new)), None);
}

/// A re-keying asked before the device's first packet, and the device turns out to use
/// its own key, whose MKI is the one our new key has: its packets open under its key,
/// and our new key is forgotten.
#[test]
fn test_a_device_key_with_the_new_mki_is_not_taken_for_ours() {
    let (old, new, device_key) = (key(1, 1), key(50, 2), key(90, 2));
    let mut r = Receiver::new(&[
        (KeySource::Ours, old),
        (KeySource::Device, device_key.clone()),
    ])
    .unwrap();
    assert!(r.rekey(&new));
    let mut device = Device::new(&device_key, 1);
    assert_eq!(
        opened(&mut r, device.send(&device_key)),
        Some(Found::Decided(KeySource::Device))
    );
    assert!(!r.rekey_pending());
    assert_eq!(opened(&mut r, device.send(&device_key)), None);
    assert_eq!(r.dropped(), 0);
}

/// Our next key names where our own stream's roll-over counter is (the backchannel's,
/// past a wrap), and the next MKI.
#[test]
fn test_our_next_key_carries_our_roc() {
    let old = key(1, 1);
    let mut tx = Sender::new(&old).unwrap();
    let mut out = Outgoing::new(tx, 0xABCD_0001, 65_535);
    for _ in 0..3 {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&[1; 20]);
        out.protect(p).unwrap();
    }
    let next = out.next_key(&[9; KEY_RANDOM]).unwrap();
    assert_eq!(
        (next.roc, next.mki.as_deref()),
        (1, Some(&[0, 0, 0, 2][..]))
    );
    tx = Sender::new(&old).unwrap();
    assert_eq!(tx.next_key(&[9; KEY_RANDOM]).unwrap().roc, 0);
}
