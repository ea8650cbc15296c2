// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! HTTP authentication without I/O: `WWW-Authenticate` challenges (RFC 7235), Digest
//! responses (RFC 2617 and RFC 7616, MD5 and SHA-256, `qop=auth`) and Basic.
//!
//! Used for SOAP, snapshot GETs and (later) RTSP. Basic is only ever offered by the caller
//! inside TLS; this module leaves that decision to the caller through `allow_basic`.

use base64::Engine;
use md5::Md5;
use sha2::{Digest, Sha256};

/// Longest challenge header accepted; real ones are under 300 bytes.
pub const MAX_CHALLENGE_LEN: usize = 4096;

/// The hash of a Digest challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

/// A Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// Whether `qop=auth` was offered (`auth-int` is not supported and ignored).
    pub qop_auth: bool,
    pub algorithm: Algorithm,
    pub stale: bool,
}

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic { realm: String },
    Digest(DigestChallenge),
}

/// Splits `key=value, key="quoted, value"` pairs; keys are lower-cased.
fn parse_params(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        if key.is_empty() || key.contains([' ', ',', '"']) {
            return None;
        }
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => v.push(c),
                }
            }
            let end = end?; // unclosed quote
            value = v;
            rest = &q[end + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.push((key, value));
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// Parses one `WWW-Authenticate` value. Unknown schemes and malformed values give `None`.
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    if value.len() > MAX_CHALLENGE_LEN {
        return None;
    }
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let params = parse_params(rest)?;
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic {
            realm: get("realm").unwrap_or_default(),
        });
    }
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let algorithm = match get("algorithm").as_deref().map(str::to_ascii_uppercase) {
        None => Algorithm::Md5,
        Some(a) if a == "MD5" => Algorithm::Md5,
        Some(a) if a == "SHA-256" => Algorithm::Sha256,
        // MD5-sess, SHA-512-256 and friends: not supported.
        Some(_) => return None,
    };
    let qop_auth = get("qop")
        .map(|q| q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")))
        .unwrap_or(false);
    Some(Challenge::Digest(DigestChallenge {
        realm: get("realm").unwrap_or_default(),
        nonce: get("nonce")?,
        opaque: get("opaque"),
        qop_auth,
        algorithm,
        stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
    }))
}

/// Picks the strongest usable challenge: SHA-256 Digest, then MD5 Digest, then Basic when
/// `allow_basic` (only inside TLS).
pub fn choose<'a, I: IntoIterator<Item = &'a str>>(
    header_values: I,
    allow_basic: bool,
) -> Option<Challenge> {
    let mut best: Option<Challenge> = None;
    let rank = |c: &Challenge| match c {
        Challenge::Digest(d) if d.algorithm == Algorithm::Sha256 => 3,
        Challenge::Digest(_) => 2,
        Challenge::Basic { .. } => 1,
    };
    for v in header_values {
        let Some(c) = parse_challenge(v) else {
            continue;
        };
        if matches!(c, Challenge::Basic { .. }) && !allow_basic {
            continue;
        }
        if best.as_ref().is_none_or(|b| rank(&c) > rank(b)) {
            best = Some(c);
        }
    }
    best
}

fn hex_hash(alg: Algorithm, data: &str) -> String {
    let bytes: Vec<u8> = match alg {
        Algorithm::Md5 => Md5::digest(data.as_bytes()).to_vec(),
        Algorithm::Sha256 => Sha256::digest(data.as_bytes()).to_vec(),
    };
    hex(&bytes)
}

/// Lower-case hex of `b` (digests, client nonces).
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Escapes a value for a quoted-string.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A Digest session: the challenge and the nonce count, so that the next request reuses the
/// nonce without another round trip.
#[derive(Debug, Clone)]
pub struct DigestSession {
    pub challenge: DigestChallenge,
    nc: u32,
}

impl DigestSession {
    pub fn new(challenge: DigestChallenge) -> Self {
        Self { challenge, nc: 0 }
    }

    /// The raw Digest response for the given inputs (exposed for known-answer tests).
    pub fn response(
        &self,
        user: &str,
        password: &str,
        method: &str,
        uri: &str,
        nc: &str,
        cnonce: &str,
    ) -> String {
        let c = &self.challenge;
        let ha1 = hex_hash(c.algorithm, &format!("{user}:{}:{password}", c.realm));
        let ha2 = hex_hash(c.algorithm, &format!("{method}:{uri}"));
        if c.qop_auth {
            hex_hash(
                c.algorithm,
                &format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", c.nonce),
            )
        } else {
            hex_hash(c.algorithm, &format!("{ha1}:{}:{ha2}", c.nonce))
        }
    }

    /// The next `Authorization` header value; increments the nonce count.
    pub fn authorization(
        &mut self,
        user: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        self.nc = self.nc.wrapping_add(1);
        let nc = format!("{:08x}", self.nc);
        let response = self.response(user, password, method, uri, &nc, cnonce);
        let c = &self.challenge;
        let alg = match c.algorithm {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        };
        let mut h = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm={alg}, response=\"{response}\"",
            quote(user),
            quote(&c.realm),
            quote(&c.nonce),
            quote(uri)
        );
        if c.qop_auth {
            h.push_str(&format!(
                ", qop=auth, nc={nc}, cnonce=\"{}\"",
                quote(cnonce)
            ));
        }
        if let Some(o) = &c.opaque {
            h.push_str(&format!(", opaque=\"{}\"", quote(o)));
        }
        h
    }
}

/// `Authorization: Basic ...` value.
pub fn basic_authorization(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Parses the parameters of an `Authorization: Digest ...` header (used by the tests and
/// by servers).
pub fn parse_authorization(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim().strip_prefix("Digest")?;
    parse_params(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(alg: Algorithm) -> DigestChallenge {
        DigestChallenge {
            realm: "onvif".into(),
            nonce: "5f1c9e0d2b7a4c3e".into(),
            opaque: None,
            qop_auth: true,
            algorithm: alg,
            stale: false,
        }
    }

    /// Known-answer vectors of `docs/onvif-reference.md` §3.4.
    #[test]
    fn test_known_answer_md5_and_sha256() {
        let s = DigestSession::new(challenge(Algorithm::Md5));
        assert_eq!(
            s.response(
                "admin",
                "Secr3t!",
                "POST",
                "/onvif/device_service",
                "00000001",
                "0a4f113b"
            ),
            "5d8bab984ce22ffecb59080ab393e61f"
        );
        let s = DigestSession::new(challenge(Algorithm::Sha256));
        assert_eq!(
            s.response(
                "admin",
                "Secr3t!",
                "POST",
                "/onvif/device_service",
                "00000001",
                "0a4f113b"
            ),
            "0d4f359c5df08e3300b88c9d52f05f643194f757f3a439634c5e87824a26699e"
        );
    }

    #[test]
    fn test_nonce_count_increments() {
        let mut s = DigestSession::new(challenge(Algorithm::Md5));
        let a = s.authorization("admin", "pw", "POST", "/x", "c");
        let b = s.authorization("admin", "pw", "POST", "/x", "c");
        assert!(a.contains("nc=00000001"), "{a}");
        assert!(b.contains("nc=00000002"), "{b}");
        assert!(!a.contains("pw\""), "the password never appears");
    }

    #[test]
    fn test_parse_challenge_with_commas_in_quotes() {
        let c = parse_challenge(
            r#"Digest realm="cam, \"north\"", qop="auth,auth-int", nonce="abc", opaque="o", algorithm=SHA-256, stale=TRUE"#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Digest(DigestChallenge {
                realm: "cam, \"north\"".into(),
                nonce: "abc".into(),
                opaque: Some("o".into()),
                qop_auth: true,
                algorithm: Algorithm::Sha256,
                stale: true,
            })
        );
    }

    #[test]
    fn test_malformed_challenges_rejected() {
        assert_eq!(
            parse_challenge(r#"Digest realm="unclosed, nonce="x""#),
            None
        );
        assert_eq!(
            parse_challenge("Digest realm=\"r\""),
            None,
            "nonce is required"
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(
            parse_challenge("Digest nonce=\"n\", algorithm=MD5-sess"),
            None
        );
        assert_eq!(parse_challenge(&"Digest nonce=\"".repeat(2000)), None);
    }

    #[test]
    fn test_choose_prefers_sha256_and_basic_only_when_allowed() {
        let headers = [
            "Basic realm=\"x\"",
            "Digest realm=\"x\", nonce=\"1\", algorithm=MD5, qop=\"auth\"",
            "Digest realm=\"x\", nonce=\"2\", algorithm=SHA-256, qop=\"auth\"",
        ];
        let Some(Challenge::Digest(d)) = choose(headers, false) else {
            panic!("digest expected");
        };
        assert_eq!(d.algorithm, Algorithm::Sha256);
        assert_eq!(choose(["Basic realm=\"x\""], false), None);
        assert_eq!(
            choose(["Basic realm=\"x\""], true),
            Some(Challenge::Basic { realm: "x".into() })
        );
    }

    #[test]
    fn test_authorization_round_trips_through_parser() {
        let mut s = DigestSession::new(DigestChallenge {
            opaque: Some("op\"q".into()),
            ..challenge(Algorithm::Md5)
        });
        let h = s.authorization("ad\"min", "pw", "GET", "/snap?a=1", "cn");
        let p = parse_authorization(&h).unwrap();
        let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("username"), Some("ad\"min"));
        assert_eq!(get("uri"), Some("/snap?a=1"));
        assert_eq!(get("opaque"), Some("op\"q"));
        assert_eq!(get("nc"), Some("00000001"));
    }
}
