// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! MIKEY as ONVIF uses it for SRTP keys (RFC 3830 pre-shared key, NULL-encrypted KEMAC,
//! RFC 4567 in RTSP and SDP; `docs/secure-streaming-and-discovery.md` §1.4): a message
//! parsed into its parts, the SRTP key it carries read by the rules that make both
//! flavours work (ONVIF 26.06 / Genetec and GStreamer's), and our own `KeyMgmt` built.
//! Sans-I/O; every length is checked against the bytes there (`fuzz/mikey`).

use base64::Engine;

/// Payload types (RFC 3830 §6.1).
const LAST: u8 = 0;
const KEMAC: u8 = 1;
const T: u8 = 5;
const SP: u8 = 10;
const RAND: u8 = 11;
const KEY_DATA: u8 = 20;

/// A MIKEY message is small (a key, a policy); anything larger is not one.
pub const MAX_MESSAGE: usize = 4096;

/// The SRTP protection suites ONVIF names (`SecureStreamingProtocolAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 3711), the default.
    AesCm128HmacSha1_80,
    /// `AEAD_AES_128_GCM` (RFC 7714).
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714).
    AeadAes256Gcm,
}

impl Suite {
    /// Master key and salt lengths.
    pub fn lengths(self) -> (usize, usize) {
        match self {
            Suite::AesCm128HmacSha1_80 => (16, 14),
            Suite::AeadAes128Gcm => (16, 12),
            Suite::AeadAes256Gcm => (32, 12),
        }
    }

    /// The ONVIF name.
    pub fn onvif_name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Suite::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// The suite of an ONVIF name (`SecureStreamingProtocolAlgorithms`).
    pub fn from_onvif_name(name: &str) -> Option<Suite> {
        [
            Suite::AesCm128HmacSha1_80,
            Suite::AeadAes128Gcm,
            Suite::AeadAes256Gcm,
        ]
        .into_iter()
        .find(|s| s.onvif_name().eq_ignore_ascii_case(name.trim()))
    }

    /// The security policy parameters (RFC 3830 §6.10.1, RFC 7714 for GCM) as ONVIF
    /// 26.06 writes them: encryption, key length, authentication, authentication key
    /// length, salt length, SRTP and SRTCP encryption and SRTP authentication on, tag
    /// length.
    fn policy(self) -> Vec<(u8, u8)> {
        let (key, salt) = self.lengths();
        let (key, salt) = (key as u8, salt as u8);
        match self {
            Suite::AesCm128HmacSha1_80 => vec![
                (0, 1),
                (1, key),
                (2, 1),
                (3, 20),
                (4, salt),
                (7, 1),
                (8, 1),
                (10, 1),
                (11, 10),
            ],
            Suite::AeadAes128Gcm | Suite::AeadAes256Gcm => vec![
                (0, 6),
                (1, key),
                (2, 0),
                (4, salt),
                (7, 1),
                (8, 1),
                (10, 1),
                (20, 16),
            ],
        }
    }
}

/// One crypto session of the header's map: the policy it uses, its SSRC and ROC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoSession {
    pub policy: u8,
    pub ssrc: u32,
    pub roc: u32,
}

/// A Key Data sub-payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyData {
    /// 0 TGK, 1 TGK+SALT, 2 TEK, 3 TEK+SALT.
    pub kind: u8,
    pub key: Vec<u8>,
    pub salt: Option<Vec<u8>>,
    /// The SPI (KV type 1): the MKI of SRTP packets.
    pub mki: Option<Vec<u8>>,
}

/// A security policy payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub number: u8,
    /// 0: SRTP.
    pub protocol: u8,
    /// Parameters: type and value.
    pub params: Vec<(u8, Vec<u8>)>,
}

/// A parsed MIKEY message (the parts ONVIF's profile uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// 0: pre-shared key init.
    pub data_type: u8,
    pub csb_id: u32,
    pub sessions: Vec<CryptoSession>,
    pub policies: Vec<Policy>,
    pub keys: Vec<KeyData>,
}

/// Why bytes are not a MIKEY message the element can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MikeyError {
    /// Ended inside the named part.
    Truncated(&'static str),
    /// A value the element does not take: what it is.
    Unsupported(String),
    /// Base64 that does not decode, or a message over [`MAX_MESSAGE`].
    Encoding(String),
}

impl std::fmt::Display for MikeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MikeyError::Truncated(part) => write!(f, "the MIKEY message ends inside its {part}"),
            MikeyError::Unsupported(what) => write!(f, "MIKEY: {what}"),
            MikeyError::Encoding(what) => write!(f, "MIKEY: {what}"),
        }
    }
}

/// Reads big-endian fields off a byte slice, never past its end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, part: &'static str) -> Result<&'a [u8], MikeyError> {
        if n > self.bytes.len() {
            return Err(MikeyError::Truncated(part));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u8(&mut self, part: &'static str) -> Result<u8, MikeyError> {
        Ok(self.take(1, part)?[0])
    }

    fn u16(&mut self, part: &'static str) -> Result<u16, MikeyError> {
        let b = self.take(2, part)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, part: &'static str) -> Result<u32, MikeyError> {
        let b = self.take(4, part)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Parses a MIKEY message.
pub fn parse(bytes: &[u8]) -> Result<Message, MikeyError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(MikeyError::Encoding(format!(
            "a message of {} bytes (at most {MAX_MESSAGE})",
            bytes.len()
        )));
    }
    let mut r = Reader { bytes };
    let version = r.u8("common header")?;
    if version != 1 {
        return Err(MikeyError::Unsupported(format!("version {version}")));
    }
    let data_type = r.u8("common header")?;
    let mut next = r.u8("common header")?;
    let _v_prf = r.u8("common header")?;
    let csb_id = r.u32("common header")?;
    let count = r.u8("common header")?;
    let map_type = r.u8("common header")?;
    if map_type != 0 {
        return Err(MikeyError::Unsupported(format!(
            "crypto session map type {map_type} (only SRTP-ID, 0)"
        )));
    }
    let mut sessions = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        sessions.push(CryptoSession {
            policy: r.u8("crypto session map")?,
            ssrc: r.u32("crypto session map")?,
            roc: r.u32("crypto session map")?,
        });
    }
    let mut msg = Message {
        data_type,
        csb_id,
        sessions,
        policies: Vec::new(),
        keys: Vec::new(),
    };
    while next != LAST {
        let this = next;
        next = r.u8("payload header")?;
        match this {
            T => {
                let ts_type = r.u8("timestamp")?;
                let len = match ts_type {
                    0 | 1 => 8,
                    2 => 4,
                    t => return Err(MikeyError::Unsupported(format!("timestamp type {t}"))),
                };
                r.take(len, "timestamp")?;
            }
            RAND => {
                let len = r.u8("RAND")?;
                r.take(usize::from(len), "RAND")?;
            }
            SP => {
                let number = r.u8("security policy")?;
                let protocol = r.u8("security policy")?;
                let len = r.u16("security policy")?;
                let mut params = Reader {
                    bytes: r.take(usize::from(len), "security policy")?,
                };
                let mut list = Vec::new();
                while !params.bytes.is_empty() {
                    let kind = params.u8("security policy parameter")?;
                    let n = params.u8("security policy parameter")?;
                    let value = params.take(usize::from(n), "security policy parameter")?;
                    list.push((kind, value.to_vec()));
                }
                msg.policies.push(Policy {
                    number,
                    protocol,
                    params: list,
                });
            }
            KEMAC => {
                let encryption = r.u8("KEMAC")?;
                if encryption != 0 {
                    return Err(MikeyError::Unsupported(format!(
                        "KEMAC encryption {encryption} (only NULL: the key travels inside TLS)"
                    )));
                }
                let len = r.u16("KEMAC")?;
                let data = r.take(usize::from(len), "KEMAC")?;
                msg.keys = key_data(data)?;
                let mac = r.u8("KEMAC")?;
                match mac {
                    0 => {}
                    1 => {
                        r.take(20, "KEMAC")?;
                    }
                    m => return Err(MikeyError::Unsupported(format!("KEMAC MAC {m}"))),
                }
                // The KEMAC's "next payload" comes first; it is usually the last one.
            }
            other => {
                return Err(MikeyError::Unsupported(format!("payload type {other}")));
            }
        }
    }
    Ok(msg)
}

/// The Key Data sub-payloads of a NULL-encrypted KEMAC.
fn key_data(bytes: &[u8]) -> Result<Vec<KeyData>, MikeyError> {
    let mut r = Reader { bytes };
    let mut keys = Vec::new();
    let mut next = KEY_DATA;
    while next == KEY_DATA && !r.bytes.is_empty() {
        next = r.u8("key data")?;
        let type_kv = r.u8("key data")?;
        let (kind, kv) = (type_kv >> 4, type_kv & 0x0f);
        let len = r.u16("key data")?;
        let key = r.take(usize::from(len), "key data")?.to_vec();
        let salt = if kind == 1 || kind == 3 {
            let n = r.u16("key data salt")?;
            Some(r.take(usize::from(n), "key data salt")?.to_vec())
        } else {
            None
        };
        let mki = match kv {
            0 => None,
            1 => {
                let n = r.u8("key data SPI")?;
                Some(r.take(usize::from(n), "key data SPI")?.to_vec())
            }
            2 => {
                let from = r.u8("key validity")?;
                r.take(usize::from(from), "key validity")?;
                let to = r.u8("key validity")?;
                r.take(usize::from(to), "key validity")?;
                None
            }
            k => return Err(MikeyError::Unsupported(format!("key validity type {k}"))),
        };
        keys.push(KeyData {
            kind,
            key,
            salt,
            mki,
        });
    }
    Ok(keys)
}

/// The SRTP key a MIKEY message gives, ready for a context. Its `Debug` leaves the key
/// and salt out: a log line must never carry them.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKey {
    pub suite: Suite,
    pub master_key: Vec<u8>,
    pub master_salt: Vec<u8>,
    /// The MKI every packet carries, when the key has one.
    pub mki: Option<Vec<u8>>,
    /// The sender's SSRC (0: not known yet) and roll-over counter.
    pub ssrc: u32,
    pub roc: u32,
}

impl SrtpKey {
    /// Its MKI as a number, when it has one of 4 bytes (ours: [`super::srtp::our_key`]).
    pub fn mki_number(&self) -> Option<u32> {
        let mki = <[u8; 4]>::try_from(self.mki.as_deref()?).ok()?;
        Some(u32::from_be_bytes(mki))
    }
}

impl std::fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpKey")
            .field("suite", &self.suite)
            .field("mki", &self.mki)
            .field("ssrc", &self.ssrc)
            .field("roc", &self.roc)
            .finish_non_exhaustive()
    }
}

impl Message {
    /// The first SRTP key, read leniently where the flavours differ (the doc's parser
    /// rules): the suite from the policy (parameter 0: 1 AES-CM, 6 AES-GCM; 1 the key
    /// length; parameter 3 is a tag length in GStreamer's messages and a key length in
    /// ONVIF's, and is not needed), the key's salt appended or already in a TEK of the
    /// suite's key and salt lengths, the MKI from the SPI.
    pub fn srtp_key(&self) -> Result<SrtpKey, MikeyError> {
        let key = self
            .keys
            .first()
            .ok_or_else(|| MikeyError::Unsupported("no key data".into()))?;
        if key.kind != 2 && key.kind != 3 {
            return Err(MikeyError::Unsupported(format!(
                "key type {} (a TGK; SRTP needs a TEK)",
                key.kind
            )));
        }
        let session = self.sessions.first().copied().unwrap_or(CryptoSession {
            policy: 0,
            ssrc: 0,
            roc: 0,
        });
        let params = self
            .policies
            .iter()
            .find(|p| p.number == session.policy && p.protocol == 0)
            .or_else(|| self.policies.first())
            .map(|p| p.params.as_slice())
            .unwrap_or_default();
        let param = |t: u8| {
            params
                .iter()
                .find(|(k, _)| *k == t)
                .and_then(|(_, v)| v.first().copied())
        };
        let suite = match (param(0), param(1)) {
            (None | Some(1), None | Some(16)) => Suite::AesCm128HmacSha1_80,
            (Some(6), None | Some(16)) => Suite::AeadAes128Gcm,
            (Some(6), Some(32)) => Suite::AeadAes256Gcm,
            (e, k) => {
                return Err(MikeyError::Unsupported(format!(
                    "encryption {e:?} with a {k:?}-byte key (ONVIF's suites: AES-CM-128, AES-GCM-128 and -256)"
                )));
            }
        };
        let (key_len, salt_len) = suite.lengths();
        let (master_key, master_salt) = match &key.salt {
            Some(salt) if key.key.len() == key_len && salt.len() == salt_len => {
                (key.key.clone(), salt.clone())
            }
            None if key.key.len() == key_len + salt_len => {
                let (k, s) = key.key.split_at(key_len);
                (k.to_vec(), s.to_vec())
            }
            _ => {
                return Err(MikeyError::Unsupported(format!(
                    "a key of {} bytes{} for {} ({key_len} and {salt_len} of salt)",
                    key.key.len(),
                    key.salt
                        .as_ref()
                        .map(|s| format!(" and {} of salt", s.len()))
                        .unwrap_or_default(),
                    suite.onvif_name()
                )));
            }
        };
        Ok(SrtpKey {
            suite,
            master_key,
            master_salt,
            mki: key.mki.clone(),
            ssrc: session.ssrc,
            roc: session.roc,
        })
    }
}

/// Our `KeyMgmt` message (ONVIF 26.06, the Genetec flavour): pre-shared key init, one
/// crypto session (`ssrc`, `roc`), an NTP-UTC timestamp, `rand`, the suite's policy, and
/// a NULL-encrypted KEMAC with one TEK holding key and salt, with `mki` as its SPI.
pub fn build(key: &SrtpKey, csb_id: u32, ntp_time: u64, rand: &[u8; 16]) -> Vec<u8> {
    let mut m = vec![1, 0, T, 0];
    m.extend_from_slice(&csb_id.to_be_bytes());
    m.extend_from_slice(&[1, 0, 0]);
    m.extend_from_slice(&key.ssrc.to_be_bytes());
    m.extend_from_slice(&key.roc.to_be_bytes());
    // T: NTP-UTC.
    m.extend_from_slice(&[RAND, 0]);
    m.extend_from_slice(&ntp_time.to_be_bytes());
    // RAND.
    m.extend_from_slice(&[SP, 16]);
    m.extend_from_slice(rand);
    // SP: policy 0, SRTP.
    let params: Vec<u8> = key
        .suite
        .policy()
        .into_iter()
        .flat_map(|(t, v)| [t, 1, v])
        .collect();
    m.extend_from_slice(&[KEMAC, 0, 0]);
    m.extend_from_slice(&(params.len() as u16).to_be_bytes());
    m.extend_from_slice(&params);
    // KEMAC: NULL, one Key Data (TEK, KV = SPI when there is an MKI).
    let mut tek = key.master_key.clone();
    tek.extend_from_slice(&key.master_salt);
    let mut data = vec![LAST, (2 << 4) | u8::from(key.mki.is_some())];
    data.extend_from_slice(&(tek.len() as u16).to_be_bytes());
    data.extend_from_slice(&tek);
    if let Some(mki) = &key.mki {
        data.push(mki.len() as u8);
        data.extend_from_slice(mki);
    }
    m.extend_from_slice(&[LAST, 0]);
    m.extend_from_slice(&(data.len() as u16).to_be_bytes());
    m.extend_from_slice(&data);
    m.push(0);
    m
}

/// The message of an SDP `a=key-mgmt:mikey <base64>` value or of a `KeyMgmt` header's
/// `data="<base64>"` (RFC 4567): the base64 decoded.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, MikeyError> {
    let text = text.trim().trim_matches('"');
    if text.len() > MAX_MESSAGE * 4 / 3 + 4 {
        return Err(MikeyError::Encoding(
            "base64 of a message over 4 KiB".into(),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| MikeyError::Encoding(format!("base64: {e}")))
}

/// The `KeyMgmt` header value carrying `message` for the stream at `uri` (RFC 4567 §3.1).
pub fn key_mgmt_header(uri: &str, message: &[u8]) -> String {
    format!(
        "prot=mikey;uri=\"{uri}\";data=\"{}\"",
        base64::engine::general_purpose::STANDARD.encode(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ONVIF 26.06's SETUP example (client-provided key, the Genetec flavour).
    const ONVIF: &str = "AQAFAP1td9ABAADCD1UcAAAAAAoAAdOOGc75XD0BAAAAGAABAQEBEAIBAQMBFAcBAQgBAQoBAQsBCgAAACcAIQAe30C59UrClE0e27UP5h/Wty9UL8+dfzg+2ttmmo3kBAAAAC8A";
    /// gst-rtsp-server 1.22's SDP (device-provided key, GStreamer's parameters, no MKI).
    const GST: &str = "AQAFABPGq/wBAACN19ggAAAAAAsA7r4aNQDrNW0KEBfA7z2oSHoVauI5caw9VJEBAAAAFQABAQEBEAIBAQMBCgcBAQgBAQoBAQAAACIAIAAesiwOw1cFIHnp8zMoII6LFtn9vYnn3/X0+ydEDNR2AA==";

    /// The first policy's parameters, each with its first byte.
    fn first_params(m: &Message) -> Vec<(u8, u8)> {
        m.policies[0]
            .params
            .iter()
            .map(|(t, v)| (*t, v[0]))
            .collect()
    }

    #[test]
    fn test_the_onvif_example() {
        let m = parse(&decode_base64(ONVIF).unwrap()).unwrap();
        assert_eq!(m.data_type, 0);
        assert_eq!(m.csb_id, 0xfd6d77d0);
        assert_eq!(
            m.sessions,
            [CryptoSession {
                policy: 0,
                ssrc: 0xc20f551c,
                roc: 0
            }]
        );
        let params = first_params(&m);
        assert_eq!(
            params,
            [
                (0, 1),
                (1, 16),
                (2, 1),
                (3, 20),
                (7, 1),
                (8, 1),
                (10, 1),
                (11, 10)
            ]
        );
        let k = m.srtp_key().unwrap();
        assert_eq!(k.suite, Suite::AesCm128HmacSha1_80);
        assert_eq!((k.master_key.len(), k.master_salt.len()), (16, 14));
        assert_eq!(k.mki.as_deref(), Some(&[0, 0, 0, 0x2f][..]));
        assert_eq!((k.ssrc, k.roc), (0xc20f551c, 0));
    }

    #[test]
    fn test_the_gst_rtsp_server_example() {
        let m = parse(&decode_base64(GST).unwrap()).unwrap();
        assert_eq!(m.sessions[0].ssrc, 0x8dd7d820);
        let params = first_params(&m);
        // GStreamer writes the tag length (10) as parameter 3.
        assert_eq!(
            params,
            [(0, 1), (1, 16), (2, 1), (3, 10), (7, 1), (8, 1), (10, 1)]
        );
        let k = m.srtp_key().unwrap();
        assert_eq!(k.suite, Suite::AesCm128HmacSha1_80);
        assert_eq!((k.master_key.len(), k.master_salt.len()), (16, 14));
        assert_eq!(k.mki, None);
    }

    /// What we build, each suite, with and without an MKI, parses back to the same key.
    #[test]
    fn test_what_we_build_parses_back() {
        for suite in [
            Suite::AesCm128HmacSha1_80,
            Suite::AeadAes128Gcm,
            Suite::AeadAes256Gcm,
        ] {
            let (kl, sl) = suite.lengths();
            for mki in [None, Some(vec![0, 0, 0, 1])] {
                let key = SrtpKey {
                    suite,
                    master_key: (0..kl as u8).collect(),
                    master_salt: (100..100 + sl as u8).collect(),
                    mki,
                    ssrc: 0x1234_5678,
                    roc: 7,
                };
                let bytes = build(&key, 0xfeed_beef, 0x1122_3344_5566_7788, &[9; 16]);
                let m = parse(&bytes).unwrap();
                assert_eq!(m.csb_id, 0xfeed_beef);
                assert_eq!(m.srtp_key().unwrap(), key, "{suite:?}");
            }
        }
    }

    /// Every prefix of a message is refused as truncated (never a panic), and garbage is
    /// refused naming what.
    #[test]
    fn test_truncations_and_garbage_are_refused() {
        let bytes = decode_base64(ONVIF).unwrap();
        for n in 0..bytes.len() {
            assert!(parse(&bytes[..n]).is_err(), "a prefix of {n} bytes");
        }
        assert_eq!(
            parse(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(MikeyError::Unsupported("version 2".into()))
        );
        // The KEMAC is the last 44 bytes: next, encryption, length 0x27, 39 bytes of key
        // data, MAC algorithm.
        let kemac = bytes.len() - 44;
        assert_eq!(&bytes[kemac..kemac + 4], &[LAST, 0, 0, 0x27]);
        let mut encrypted = bytes.clone();
        encrypted[kemac + 1] = 1;
        assert!(matches!(
            parse(&encrypted),
            Err(MikeyError::Unsupported(w)) if w.contains("KEMAC encryption 1")
        ));
        assert!(decode_base64("!!!").is_err());
        assert!(decode_base64(&"A".repeat(8000)).is_err());
    }

    #[test]
    fn test_key_mgmt_header_and_suite_names() {
        let h = key_mgmt_header("rtsps://cam/s/stream=0", &[1, 2, 3]);
        assert_eq!(h, "prot=mikey;uri=\"rtsps://cam/s/stream=0\";data=\"AQID\"");
        assert_eq!(
            Suite::from_onvif_name(" aead_aes_256_gcm "),
            Some(Suite::AeadAes256Gcm)
        );
        assert_eq!(Suite::from_onvif_name("NONE"), None);
    }
}
