// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Receiving SRTP when the device may use either of two keys (`docs/secure-streaming-and-
//! discovery.md` §1.3): the one we sent in `KeyMgmt` (Axis, Genetec, ONVIF 26.06's
//! client-provided key) or the one its SDP gave (gst-rtsp-server's device-provided key).
//! The first packet that authenticates under one of them decides; the other is dropped.
//! Packets no key authenticates are dropped and counted. The cryptography is the `libsrtp`
//! crate's (RFC 3711, 7714, MKI), tested against libsrtp2's output in
//! `tests/srtp_interop.rs`; nothing here reads or writes a socket.

use libsrtp::{MasterKey, ProtectionProfile, RecvSession, StreamConfig};

use super::mikey::{SrtpKey, Suite};

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The key we sent in `KeyMgmt`.
    Ours,
    /// The key of the device's SDP (`a=key-mgmt`).
    Device,
}

impl KeySource {
    pub fn describe(self) -> &'static str {
        match self {
            KeySource::Ours => "the key the element sent (KeyMgmt)",
            KeySource::Device => "the device's key (its SDP's a=key-mgmt)",
        }
    }
}

/// The profile of an ONVIF suite, for RTP and RTCP alike.
fn profile(suite: Suite) -> ProtectionProfile {
    match suite {
        Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha180,
        Suite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        Suite::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
    }
}

/// What became of a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Unprotected {
    /// Decrypted and authenticated; `decided` names the key when this packet decided it.
    Packet {
        bytes: Vec<u8>,
        decided: Option<KeySource>,
    },
    /// No key authenticates it (a wrong tag, a wrong key, an unknown MKI): dropped.
    Dropped,
}

/// The receiving side of one SRTP stream (RTP and its SRTCP).
pub struct Receiver {
    candidates: Vec<(KeySource, RecvSession)>,
    decided: Option<usize>,
    dropped: u64,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field(
                "candidates",
                &self.candidates.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            )
            .field("decided", &self.decided())
            .field("dropped", &self.dropped)
            .finish()
    }
}

impl Receiver {
    /// A receiver trying `keys` in order until one authenticates a packet; a key the
    /// library refuses (its lengths) is said, naming where it came from.
    pub fn new(keys: &[(KeySource, SrtpKey)]) -> Result<Receiver, String> {
        let mut candidates = Vec::with_capacity(keys.len());
        for (source, key) in keys {
            let p = profile(key.suite);
            let config = StreamConfig::new(
                vec![MasterKey::new(&key.master_key, &key.master_salt, &key.mki)],
                &p,
                &p,
            );
            let mut session = RecvSession::new();
            // Any SSRC: the device's may be 0 in the MIKEY, or change.
            session
                .add_stream(None, &config)
                .map_err(|e| format!("{} cannot be used: {e}", source.describe()))?;
            candidates.push((*source, session));
        }
        Ok(Receiver {
            candidates,
            decided: None,
            dropped: 0,
        })
    }

    /// The key the device was found to use.
    pub fn decided(&self) -> Option<KeySource> {
        self.decided
            .and_then(|i| self.candidates.get(i))
            .map(|(s, _)| *s)
    }

    /// Packets dropped so far (RTP and RTCP).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// One SRTP packet.
    pub fn rtp(&mut self, packet: Vec<u8>) -> Unprotected {
        self.unprotect(packet, |s, p| s.rtp_unprotect(p).ok())
    }

    /// One SRTCP packet.
    pub fn rtcp(&mut self, packet: Vec<u8>) -> Unprotected {
        self.unprotect(packet, |s, p| s.rtcp_unprotect(p).ok())
    }

    fn unprotect(
        &mut self,
        packet: Vec<u8>,
        open: impl Fn(&mut RecvSession, Vec<u8>) -> Option<Vec<u8>>,
    ) -> Unprotected {
        if let Some(i) = self.decided {
            return match self
                .candidates
                .get_mut(i)
                .and_then(|(_, s)| open(s, packet))
            {
                Some(bytes) => Unprotected::Packet {
                    bytes,
                    decided: None,
                },
                None => self.drop_one(),
            };
        }
        for (i, (source, session)) in self.candidates.iter_mut().enumerate() {
            if let Some(bytes) = open(session, packet.clone()) {
                let source = *source;
                self.decided = Some(i);
                return Unprotected::Packet {
                    bytes,
                    decided: Some(source),
                };
            }
        }
        self.drop_one()
    }

    fn drop_one(&mut self) -> Unprotected {
        self.dropped = self.dropped.saturating_add(1);
        Unprotected::Dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsrtp::SendSession;

    fn key(suite: Suite, seed: u8, mki: Option<Vec<u8>>) -> SrtpKey {
        let (k, s) = suite.lengths();
        SrtpKey {
            suite,
            master_key: (0..k).map(|i| seed.wrapping_add(i as u8)).collect(),
            master_salt: (0..s)
                .map(|i| seed.wrapping_mul(3).wrapping_add(i as u8))
                .collect(),
            mki,
            ssrc: 0,
            roc: 0,
        }
    }

    /// RTP packets of SSRC 0x0B0E7C01, sequence numbers from 100, encrypted under `k`.
    fn sent(k: &SrtpKey, n: u16) -> Vec<(Vec<u8>, Vec<u8>)> {
        let p = profile(k.suite);
        let mut s = SendSession::new();
        s.add_stream(
            Some(0x0B0E_7C01),
            &StreamConfig::new(
                vec![MasterKey::new(&k.master_key, &k.master_salt, &k.mki)],
                &p,
                &p,
            ),
        )
        .unwrap();
        (0..n)
            .map(|i| {
                let mut plain = vec![0x80, 96];
                plain.extend_from_slice(&(100 + i).to_be_bytes());
                plain.extend_from_slice(&(u32::from(i) * 3000).to_be_bytes());
                plain.extend_from_slice(&0x0B0E_7C01u32.to_be_bytes());
                plain.extend_from_slice(&[i as u8; 40]);
                let cipher = s.rtp_protect_mki(plain.clone(), &k.mki).unwrap();
                (plain, cipher)
            })
            .collect()
    }

    /// The device uses its own key (gst-rtsp-server): our key fails, the device's decides
    /// on the first packet and is used from then on, said once.
    #[test]
    fn test_the_first_authenticated_packet_decides() {
        for suite in [
            Suite::AesCm128HmacSha1_80,
            Suite::AeadAes128Gcm,
            Suite::AeadAes256Gcm,
        ] {
            let device = key(suite, 7, Some(vec![0, 0, 0, 1]));
            let ours = key(suite, 9, Some(vec![0, 0, 0, 2]));
            let mut r = Receiver::new(&[
                (KeySource::Ours, ours.clone()),
                (KeySource::Device, device.clone()),
            ])
            .unwrap();
            let packets = sent(&device, 5);
            for (i, (plain, cipher)) in packets.into_iter().enumerate() {
                let decided = (i == 0).then_some(KeySource::Device);
                assert_eq!(
                    r.rtp(cipher),
                    Unprotected::Packet {
                        bytes: plain,
                        decided
                    },
                    "{suite:?} packet {i}"
                );
            }
            assert_eq!(r.decided(), Some(KeySource::Device));
            assert_eq!(r.dropped(), 0);
            // And with the device using ours (Axis): ours decides.
            let mut r =
                Receiver::new(&[(KeySource::Ours, ours.clone()), (KeySource::Device, device)])
                    .unwrap();
            let (plain, cipher) = sent(&ours, 1).remove(0);
            assert_eq!(
                r.rtp(cipher),
                Unprotected::Packet {
                    bytes: plain,
                    decided: Some(KeySource::Ours)
                }
            );
        }
    }

    /// A packet whose tag does not verify (a byte changed on the way), one under a key
    /// nobody gave, a replayed one, and garbage are dropped and counted, before and after
    /// the decision.
    #[test]
    fn test_packets_that_do_not_authenticate_are_dropped_and_counted() {
        let suite = Suite::AesCm128HmacSha1_80;
        let device = key(suite, 7, None);
        let mut r = Receiver::new(&[(KeySource::Device, device.clone())]).unwrap();
        let mut packets = sent(&device, 3);
        let mut tampered = packets[0].1.clone();
        tampered[20] ^= 1;
        assert_eq!(r.rtp(tampered), Unprotected::Dropped);
        assert_eq!(r.decided(), None, "a dropped packet decides nothing");
        let stranger = sent(&key(suite, 42, None), 1).remove(0).1;
        assert_eq!(r.rtp(stranger), Unprotected::Dropped);
        assert_eq!(r.rtp(vec![0x80; 5]), Unprotected::Dropped);
        let (plain, cipher) = packets.remove(0);
        assert_eq!(
            r.rtp(cipher.clone()),
            Unprotected::Packet {
                bytes: plain,
                decided: Some(KeySource::Device)
            }
        );
        assert_eq!(r.rtp(cipher), Unprotected::Dropped, "a replay");
        assert_eq!(r.dropped(), 4);
    }

    /// A key of the wrong length for its suite is refused, naming where it came from.
    #[test]
    fn test_a_key_the_library_refuses_is_named() {
        let mut bad = key(Suite::AeadAes128Gcm, 1, None);
        bad.master_key.truncate(5);
        let e = Receiver::new(&[(KeySource::Device, bad)]).unwrap_err();
        assert!(e.contains("the device's key"), "{e}");
    }
}
