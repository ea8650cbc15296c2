// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Receiving SRTP when the device may use either of two keys (`docs/secure-streaming-and-
//! discovery.md` §1.3): the one we sent in `KeyMgmt` (Axis, Genetec, ONVIF 26.06's
//! client-provided key) or the one its SDP gave (gst-rtsp-server's device-provided key).
//! The first packet that authenticates under one of them decides; the other is dropped.
//! Packets no key authenticates are dropped and counted. The cryptography is the `libsrtp`
//! crate's (RFC 3711, 7714, MKI), tested against libsrtp2's output in
//! `tests/srtp_interop.rs`; nothing here reads or writes a socket.

use libsrtp::{MasterKey, ProtectionProfile, RecvSession, SendSession, StreamConfig};

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

/// The libsrtp configuration of `key`.
fn config(key: &SrtpKey) -> StreamConfig {
    let p = profile(key.suite);
    StreamConfig::new(
        vec![MasterKey::new(&key.master_key, &key.master_salt, &key.mki)],
        &p,
        &p,
    )
}

/// Bytes of randomness [`our_key`] takes: the longest master key and salt (AES-256-GCM's).
pub const KEY_RANDOM: usize = 44;

/// Our key for one stream's `KeyMgmt` (ONVIF 26.06 and the Genetec flavour): a fresh
/// master key and salt of `suite`'s lengths from `random` (the caller's OS randomness),
/// a 4-byte MKI when there is one, and our sending SSRC in the crypto session (the key of
/// our SRTCP, and of the device's media when it uses the client's key).
pub fn our_key(suite: Suite, random: &[u8; KEY_RANDOM], mki: Option<u32>, ssrc: u32) -> SrtpKey {
    let (key_len, salt_len) = suite.lengths();
    let (k, rest) = random.split_at(key_len.min(random.len()));
    SrtpKey {
        suite,
        master_key: k.to_vec(),
        master_salt: rest.iter().take(salt_len).copied().collect(),

        mki: mki.map(|m| m.to_be_bytes().to_vec()),
        ssrc,
        roc: 0,
    }
}

/// The sending side of one SRTP stream: our receiver reports (SRTCP) and the backchannel's
/// packets, under our key.
pub struct Sender {
    session: SendSession,
    /// The key in use (the next one is numbered from its MKI).
    key: SrtpKey,
    mki: Option<Vec<u8>>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender under `key`, for any SSRC.
    pub fn new(key: &SrtpKey) -> Result<Sender, String> {
        let mut session = SendSession::new();
        session
            .add_stream(None, &config(key))
            .map_err(|e| format!("our key cannot be used: {e}"))?;
        Ok(Sender {
            session,
            key: key.clone(),
            mki: key.mki.clone(),
        })
    }

    /// A fresh key to replace ours (from `random`, the caller's OS randomness): the same
    /// suite and SSRC, the next MKI. `None` when ours has no MKI: the device could not tell
    /// two keys apart.
    pub fn next_key(&self, random: &[u8; KEY_RANDOM]) -> Option<SrtpKey> {
        let next = self.key.mki_number()?.wrapping_add(1);
        let mut key = our_key(self.key.suite, random, Some(next), self.key.ssrc);
        // Our stream's roll-over counter goes on under the new key (the backchannel's,
        // which may have wrapped): the crypto session says where it is.
        key.roc = self.session.get_roc(self.key.ssrc).unwrap_or(0);
        Some(key)
    }

    /// One RTCP packet, protected; `None` when it is not RTCP or its SRTCP index is spent.
    pub fn rtcp(&mut self, packet: Vec<u8>) -> Option<Vec<u8>> {
        self.session.rtcp_protect_mki(packet, &self.mki).ok()
    }

    /// One RTP packet, protected; `None` when it is not RTP or the key is spent.
    pub fn rtp(&mut self, packet: Vec<u8>) -> Option<Vec<u8>> {
        self.session.rtp_protect_mki(packet, &self.mki).ok()
    }

    /// From now on, under `key` (the device accepted it): the same streams, their
    /// indexes and roll-over counters going on (RFC 3711 §3.3.1, §3.4: neither restarts
    /// with a key), the packets carrying its MKI. The library keeps the old key beside
    /// it (it has no removal: about 300 bytes per re-key until the session ends).
    pub fn rekey(&mut self, key: &SrtpKey) -> Result<(), String> {
        if key.mki.is_none() || self.mki.is_none() {
            return Err("a key without an MKI cannot replace another".into());
        }
        self.session
            .add_stream(None, &config(key))
            .map_err(|e| format!("the new key cannot be used: {e}"))?;
        self.mki = key.mki.clone();
        self.key = key.clone();
        Ok(())
    }
}

/// An RTP stream we send under our key (the backchannel): as from the SSRC our `KeyMgmt`
/// named (the device finds the key by it) and with our own sequence numbers, whatever the
/// application's packets carry (SRTP refuses an index twice: a payloader started again
/// would have its packets refused until its numbers passed the old ones).
#[derive(Debug)]
pub struct Outgoing {
    sender: Sender,
    ssrc: u32,
    seq: u16,
}

impl Outgoing {
    /// The stream of `ssrc` under `sender`'s key, numbered from `first_seq`.
    pub fn new(sender: Sender, ssrc: u32, first_seq: u16) -> Outgoing {
        Outgoing {
            sender,
            ssrc,
            seq: first_seq,
        }
    }

    /// One RTP packet of the application, renumbered and protected; `None` when it is not
    /// RTP.
    pub fn protect(&mut self, mut packet: Vec<u8>) -> Option<Vec<u8>> {
        packet
            .get_mut(8..12)?
            .copy_from_slice(&self.ssrc.to_be_bytes());
        packet
            .get_mut(2..4)?
            .copy_from_slice(&self.seq.to_be_bytes());
        self.seq = self.seq.wrapping_add(1);
        self.sender.rtp(packet)
    }

    /// From now on under `key` ([`Sender::rekey`]).
    pub fn rekey(&mut self, key: &SrtpKey) -> Result<(), String> {
        self.sender.rekey(key)
    }

    /// [`Sender::next_key`].
    pub fn next_key(&self, random: &[u8; KEY_RANDOM]) -> Option<SrtpKey> {
        self.sender.next_key(random)
    }
}

/// What a packet told about the keys, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The first packet that authenticated: the device uses this key.
    Decided(KeySource),
    /// The first packet under the new key of a re-keying: the old key is dropped.
    /// `roc_restarted`: the device counts its roll-overs from 0 again (srtpenc before
    /// GStreamer 1.28 does; ONVIF 26.06 says it shall not).
    Switched { roc_restarted: bool },
}

/// What became of a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Unprotected {
    /// Decrypted and authenticated; `found` says what it told about the keys.
    Packet {
        bytes: Vec<u8>,
        found: Option<Found>,
    },
    /// No key authenticates it (a wrong tag, a wrong key, an unknown MKI): dropped.
    Dropped,
}

/// The receiving side of one SRTP stream (RTP and its SRTCP).
pub struct Receiver {
    candidates: Vec<(KeySource, RecvSession)>,
    decided: Option<usize>,
    /// Our new key, sent in a re-keying: the device's packets carrying its MKI switch to
    /// it.
    pending: Option<SrtpKey>,
    /// The SSRC of the packet that decided.
    device_ssrc: Option<u32>,
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
            let config = config(key);
            let refused = |e| format!("{} cannot be used: {e}", source.describe());
            let mut session = RecvSession::new();
            // Any SSRC: the device's may be 0 in the MIKEY, or change.
            session.add_stream(None, &config).map_err(refused)?;
            // A sender that has sent 65536 packets or more (a shared media joined late)
            // says its roll-over counter in the crypto session; its SSRC starts there.
            if key.ssrc != 0 && key.roc != 0 {
                session
                    .add_stream(Some(key.ssrc), &config)
                    .map_err(refused)?;
                session.set_roc(key.ssrc, key.roc).map_err(refused)?;
            }
            candidates.push((*source, session));
        }
        Ok(Receiver {
            candidates,
            decided: None,
            pending: None,
            device_ssrc: None,
            dropped: 0,
        })
    }

    /// The key the device was found to use.
    pub fn decided(&self) -> Option<KeySource> {
        self.decided
            .and_then(|i| self.candidates.get(i))
            .map(|(s, _)| *s)
    }

    /// The SSRC the device sent the deciding packet from.
    pub fn device_ssrc(&self) -> Option<u32> {
        self.device_ssrc
    }

    /// Whether a report of ours from `ssrc` under our key would repeat the device's
    /// keystream: the device sends under our key (the client-keyed mode) and took the SSRC
    /// our `KeyMgmt` named for its own stream, so its SRTCP and ours would share key,
    /// SSRC and index.
    pub fn shares_our_keystream(&self, ssrc: u32) -> bool {
        self.decided() == Some(KeySource::Ours) && self.device_ssrc == Some(ssrc)
    }

    /// Packets dropped so far (RTP and RTCP).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether a new key of ours waits for the device's first packet under it.
    pub fn rekey_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Our new `key` goes to the device (a re-keying): from the first of its RTP packets
    /// that carries the key's MKI and authenticates under it, only that key opens its
    /// packets (`docs/secure-streaming-and-discovery.md` §1.6: the old key is dropped
    /// then). A device that uses its own key is not concerned, nor is a stream whose last
    /// new key is not in use yet (one at a time): false, nothing changes.
    pub fn rekey(&mut self, key: &SrtpKey) -> bool {
        if self.pending.is_some() {
            return false;
        }
        let ours = self.decided.is_none_or(|i| {
            self.candidates
                .get(i)
                .is_some_and(|(s, _)| *s == KeySource::Ours)
        });
        let has_ours = self.candidates.iter().any(|(s, _)| *s == KeySource::Ours);
        if !ours || !has_ours || key.mki.is_none() {
            return false;
        }
        self.pending = Some(key.clone());
        true
    }

    /// The device refused the new key: its packets stay under the one they have.
    pub fn cancel_rekey(&mut self) {
        self.pending = None;
    }

    /// One SRTP packet.
    pub fn rtp(&mut self, packet: Vec<u8>) -> Unprotected {
        self.unprotect(packet, 8, |s, p| s.rtp_unprotect(p).ok())
    }

    /// One SRTCP packet.
    pub fn rtcp(&mut self, packet: Vec<u8>) -> Unprotected {
        self.unprotect(packet, 4, |s, p| s.rtcp_unprotect(p).ok())
    }

    /// `ssrc_at`: where the sender's SSRC is in the packet (8 in RTP, 4 in RTCP).
    fn unprotect(
        &mut self,
        packet: Vec<u8>,
        ssrc_at: usize,
        open: impl Fn(&mut RecvSession, Vec<u8>) -> Option<Vec<u8>>,
    ) -> Unprotected {
        if let Some(key) = &self.pending
            && key.mki.as_deref() == mki_of(&packet, key)
        {
            let switched = if ssrc_at == 4 {
                // SRTCP under the new key: opened, but it decides nothing (its index does
                // not depend on the RTP roll-over counter an RTP packet must find).
                fresh(key, None)
                    .ok()
                    .and_then(|mut s| open(&mut s, packet.clone()))
                    .map(|bytes| Unprotected::Packet { bytes, found: None })
            } else {
                self.switch(&packet, ssrc_at, &open)
            };
            if let Some(done) = switched {
                return done;
            }
            // Not under the new key: as any packet (a device key with the same MKI).
        }
        if let Some(i) = self.decided {
            return match self
                .candidates
                .get_mut(i)
                .and_then(|(_, s)| open(s, packet))
            {
                Some(bytes) => Unprotected::Packet { bytes, found: None },
                None => self.drop_one(),
            };
        }
        for (i, (source, session)) in self.candidates.iter_mut().enumerate() {
            if let Some(bytes) = open(session, packet.clone()) {
                let source = *source;
                if source != KeySource::Ours {
                    // The device does not use our key: no new one of ours to follow.
                    self.pending = None;
                }
                self.decided = Some(i);
                self.device_ssrc = bytes
                    .get(ssrc_at..ssrc_at + 4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(u32::from_be_bytes);
                return Unprotected::Packet {
                    bytes,
                    found: Some(Found::Decided(source)),
                };
            }
        }
        self.drop_one()
    }

    /// An RTP packet carrying the MKI of our pending new key: under it, with the
    /// roll-over counter the old key's stream had reached, the next one (a sequence
    /// wrap at the switch), the one before (a packet from before a wrap), or (a device
    /// that restarts it) 0. The first that authenticates replaces our old key; `None`
    /// when none does (the packet goes the usual way, the old key stays).
    fn switch(
        &mut self,
        packet: &[u8],
        ssrc_at: usize,
        open: &impl Fn(&mut RecvSession, Vec<u8>) -> Option<Vec<u8>>,
    ) -> Option<Unprotected> {
        let key = self.pending.clone()?;
        let ours = self
            .candidates
            .iter()
            .position(|(s, _)| *s == KeySource::Ours)?;
        let ssrc = packet
            .get(ssrc_at..ssrc_at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes);
        let roc = match (ssrc, self.candidates.get(ours)) {
            (Some(ssrc), Some((_, old))) => old.get_roc(ssrc).unwrap_or(0),
            _ => 0,
        };
        let mut tries = vec![roc, roc.wrapping_add(1)];
        if roc > 0 {
            tries.extend([roc - 1, 0]);
        }
        for at in tries {
            let Ok(mut session) = fresh(&key, ssrc.filter(|_| at != 0).map(|s| (s, at))) else {
                return None;
            };
            if let Some(bytes) = open(&mut session, packet.to_vec()) {
                if let Some(slot) = self.candidates.get_mut(ours) {
                    slot.1 = session;
                }
                self.decided = Some(ours);
                self.device_ssrc = ssrc;
                self.pending = None;
                return Some(Unprotected::Packet {
                    bytes,
                    found: Some(Found::Switched {
                        roc_restarted: at == 0 && roc != 0,
                    }),
                });
            }
        }
        None
    }

    fn drop_one(&mut self) -> Unprotected {
        self.dropped = self.dropped.saturating_add(1);
        Unprotected::Dropped
    }
}

/// A receiving session under `key` alone, for any SSRC; `at`: an SSRC whose roll-over
/// counter is already this far.
fn fresh(key: &SrtpKey, at: Option<(u32, u32)>) -> Result<RecvSession, libsrtp::SrtpError> {
    let config = config(key);
    let mut session = RecvSession::new();
    session.add_stream(None, &config)?;
    if let Some((ssrc, roc)) = at {
        session.add_stream(Some(ssrc), &config)?;
        session.set_roc(ssrc, roc)?;
    }
    Ok(session)
}

/// The MKI bytes of an SRTP or SRTCP packet under `key`'s suite and MKI length: before
/// the authentication tag (AES-CM) or at the end (GCM: the tag is in the ciphertext).
fn mki_of<'a>(packet: &'a [u8], key: &SrtpKey) -> Option<&'a [u8]> {
    let mki_len = key.mki.as_ref()?.len();
    let tag = profile(key.suite).tag_len();
    let end = packet.len().checked_sub(tag)?;
    packet.get(end.checked_sub(mki_len)?..end)
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
                let found = (i == 0).then_some(Found::Decided(KeySource::Device));
                assert_eq!(
                    r.rtp(cipher),
                    Unprotected::Packet {
                        bytes: plain,
                        found
                    },
                    "{suite:?} packet {i}"
                );
            }
            assert_eq!(r.decided(), Some(KeySource::Device));
            assert_eq!(r.device_ssrc(), Some(0x0B0E_7C01));
            assert!(!r.shares_our_keystream(0x0B0E_7C01), "not under our key");
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
                    found: Some(Found::Decided(KeySource::Ours))
                }
            );
            // Our reports from the device's SSRC under our key would repeat its keystream.
            assert!(r.shares_our_keystream(0x0B0E_7C01));
            assert!(!r.shares_our_keystream(0x0B0E_7C02));
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
                found: Some(Found::Decided(KeySource::Device))
            }
        );
        assert_eq!(r.rtp(cipher), Unprotected::Dropped, "a replay");
        assert_eq!(r.dropped(), 4);
    }

    /// Our key has the suite's lengths, a 4-byte MKI and our SSRC; what [`Sender`]
    /// protects under it (a receiver report, a backchannel packet) a receiver holding the
    /// same key opens, and one holding another key does not.
    #[test]
    fn test_our_key_protects_reports_and_packets() {
        let random: [u8; KEY_RANDOM] = std::array::from_fn(|i| i as u8);
        for (suite, k, s) in [
            (Suite::AesCm128HmacSha1_80, 16, 14),
            (Suite::AeadAes128Gcm, 16, 12),
            (Suite::AeadAes256Gcm, 32, 12),
        ] {
            let ours = our_key(suite, &random, Some(0x2F), 0xABCD_0001);
            assert_eq!((ours.master_key.len(), ours.master_salt.len()), (k, s));
            assert_eq!(ours.mki.as_deref(), Some(&[0, 0, 0, 0x2F][..]));
            assert_eq!((ours.ssrc, ours.roc), (0xABCD_0001, 0));
            let mut tx = Sender::new(&ours).unwrap();
            // An empty receiver report of SSRC 0xABCD0001.
            let rr = vec![0x80, 201, 0, 1, 0xAB, 0xCD, 0, 1];
            let protected = tx.rtcp(rr.clone()).expect("protected");
            assert!(protected.len() > rr.len() + 4, "index, MKI and tag added");
            let mut rx = Receiver::new(&[(KeySource::Ours, ours.clone())]).unwrap();
            match rx.rtcp(protected.clone()) {
                Unprotected::Packet { bytes, .. } => assert_eq!(bytes, rr, "{suite:?}"),
                Unprotected::Dropped => panic!("{suite:?}: our report does not open"),
            }
            let mut other = Receiver::new(&[(KeySource::Device, key(suite, 3, None))]).unwrap();
            assert_eq!(other.rtcp(protected), Unprotected::Dropped);
            let rtp = sent(&key(suite, 0, None), 1).remove(0).0;
            let protected = tx.rtp(rtp.clone()).expect("protected");
            match rx.rtp(protected) {
                Unprotected::Packet { bytes, .. } => assert_eq!(bytes, rtp, "{suite:?}"),
                Unprotected::Dropped => panic!("{suite:?}: our packet does not open"),
            }
            assert_eq!(tx.rtcp(vec![1, 2, 3]), None, "not RTCP");
        }
    }

    /// The backchannel's packets go from our SSRC with our numbers: an application whose
    /// payloader starts again (its numbers far behind) is still protected and opened,
    /// where the sender alone refuses the index it has seen.
    #[test]
    fn test_outgoing_packets_are_renumbered_from_our_ssrc() {
        let random: [u8; KEY_RANDOM] = std::array::from_fn(|i| i as u8);
        let ours = our_key(Suite::AesCm128HmacSha1_80, &random, Some(1), 0xABCD_0001);
        let app = |seq: u16| {
            let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&[0xFF; 160]);
            p
        };
        let mut out = Outgoing::new(Sender::new(&ours).unwrap(), 0xABCD_0001, 500);
        let mut rx = Receiver::new(&[(KeySource::Ours, ours.clone())]).unwrap();
        for (i, seq) in [7000u16, 7001, 10, 11].into_iter().enumerate() {
            let sent = out.protect(app(seq)).expect("protected");
            match rx.rtp(sent) {
                Unprotected::Packet { bytes, .. } => {
                    assert_eq!(bytes[2..4], (500 + i as u16).to_be_bytes());
                    assert_eq!(bytes[8..12], 0xABCD_0001u32.to_be_bytes());
                }
                Unprotected::Dropped => panic!("packet {i} refused"),
            }
        }
        // The sender alone refuses the restarted numbers (the first 7000 seen, 10 is
        // taken for an old index).
        let mut bare = Sender::new(&ours).unwrap();
        let mut p = app(7000);
        p[8..12].copy_from_slice(&0xABCD_0001u32.to_be_bytes());
        assert!(bare.rtp(p).is_some());
        let mut p = app(10);
        p[8..12].copy_from_slice(&0xABCD_0001u32.to_be_bytes());
        assert_eq!(bare.rtp(p), None, "an index behind the window");
        assert_eq!(out.protect(vec![0x80; 5]), None, "not RTP");
    }

    /// A device that has sent 2^16 packets or more before we joined says its roll-over
    /// counter in the MIKEY's crypto session; its packets open only with it.
    #[test]
    fn test_the_device_roll_over_counter_is_used() {
        let suite = Suite::AesCm128HmacSha1_80;
        let mut device = key(suite, 5, None);
        let p = profile(suite);
        let mut tx = SendSession::new();
        tx.add_stream(
            Some(0x0B0E_7C01),
            &StreamConfig::new(
                vec![MasterKey::new(
                    &device.master_key,
                    &device.master_salt,
                    &None,
                )],
                &p,
                &p,
            ),
        )
        .unwrap();
        // 65536 + 100 packets sent: ROC 1, sequence 100.
        for i in 0..=(65536u32 + 100) {
            let mut plain = vec![0x80, 96];
            plain.extend_from_slice(&(i as u16).to_be_bytes());
            plain.extend_from_slice(&i.to_be_bytes());
            plain.extend_from_slice(&0x0B0E_7C01u32.to_be_bytes());
            plain.push(1);
            let cipher = tx.rtp_protect(plain).unwrap();
            if i == 65536 + 100 {
                let mut without = Receiver::new(&[(KeySource::Device, device.clone())]).unwrap();
                assert_eq!(without.rtp(cipher.clone()), Unprotected::Dropped);
                device.ssrc = 0x0B0E_7C01;
                device.roc = 1;
                let mut with = Receiver::new(&[(KeySource::Device, device.clone())]).unwrap();
                assert!(matches!(with.rtp(cipher), Unprotected::Packet { .. }));
            }
        }
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

#[cfg(test)]
#[path = "srtp_rekey_tests.rs"]
mod rekey_tests;
