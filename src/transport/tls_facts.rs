// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What the TLS connections of a configuration were, port by port, for the element's
//! `stats`: the version and cipher suite negotiated, the leaf certificate's fingerprint
//! and expiry, and what decided to trust it ([`Decided`], told by the verifier).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{TlsConfig, Verifier, fingerprint, format_fingerprint};

/// What accepted a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// `tls-certificate-sha256` named it.
    Pin,
    /// It chains to a trusted root (with the name checked when asked).
    Chain,
    /// Only the name was checked (`https-validate-certificate=false`).
    Hostname,
    /// Nothing was checked (both switches off, no store entry).
    Unchecked,
    /// The trust store's entry for its `host:port` has its public key.
    TrustStore,
    /// Learned now, on first use.
    FirstUse,
}

impl Decided {
    /// The `tls-trust` value of the element's `stats`.
    pub fn name(self) -> &'static str {
        match self {
            Decided::Pin => "pin",
            Decided::Chain => "chain",
            Decided::Hostname => "hostname",
            Decided::Unchecked => "unchecked",
            Decided::TrustStore => "trust-store",
            Decided::FirstUse => "first-use",
        }
    }
}

/// The last TLS connection to one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub port: u16,
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The IANA name, `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// SHA-256 of the leaf certificate, `AB:CD:...`.
    pub certificate_sha256: String,
    /// SHA-256 of its public key (SubjectPublicKeyInfo), as the trust store keeps it.
    pub spki_sha256: String,
    /// Its subject, and the end of its validity, RFC 3339 UTC (empty when they cannot be
    /// read).
    pub subject: String,
    pub not_after: String,
    /// What accepted it (`None`: a resumed session whose decision is forgotten).
    pub trust: Option<Decided>,
}

/// The decisions the verifiers of one configuration made, and its connections.
#[derive(Default)]
pub(super) struct Facts {
    /// The latest decisions: `(port, certificate SHA-256, what decided)`.
    decisions: Vec<(u16, [u8; 32], Decided)>,
    handshakes: BTreeMap<u16, Handshake>,
}

/// Decisions remembered (a few ports, a certificate each, and a rotation).
const MAX_DECISIONS: usize = 16;
/// Ports remembered (a device has two or three).
const MAX_PORTS: usize = 16;

pub(super) type SharedFacts = Arc<Mutex<Facts>>;

fn locked(f: &SharedFacts) -> std::sync::MutexGuard<'_, Facts> {
    f.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Verifier {
    /// The certificate `fp` is accepted, because of `how`.
    pub(super) fn decided(&self, fp: &[u8; 32], how: Decided) {
        let mut f = locked(&self.facts);
        f.decisions
            .retain(|(p, c, _)| !(*p == self.port && c == fp));
        if f.decisions.len() >= MAX_DECISIONS {
            f.decisions.remove(0);
        }
        f.decisions.push((self.port, *fp, how));
    }

    /// The last decision on the certificate `fp` at this verifier's port.
    #[cfg(test)]
    pub(super) fn last_decision(&self, fp: &[u8; 32]) -> Option<Decided> {
        locked(&self.facts)
            .decisions
            .iter()
            .rev()
            .find(|(p, c, _)| *p == self.port && c == fp)
            .map(|(_, _, d)| *d)
    }

    /// What the two switches alone accept.
    pub(super) fn by_switches(&self) -> Decided {
        if self.settings.validate_certificate {
            Decided::Chain
        } else if self.settings.validate_hostname {
            Decided::Hostname
        } else {
            Decided::Unchecked
        }
    }
}

/// A certificate's public key SHA-256, subject and expiry (empty what cannot be read).
fn read(der: &[u8]) -> (String, String, String) {
    let spki = crate::transport::trust::fingerprints(der)
        .map(|(spki, _)| format_fingerprint(&spki))
        .unwrap_or_default();
    let (subject, _, not_after) = super::by_store::described(der).unwrap_or_default();
    (spki, subject, not_after)
}

/// `TLSv1.3` for rustls's `TLSv1_3`.
fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => format!("{other:?}"),
    }
}

impl TlsConfig {
    /// Records what the connection to `port` negotiated and presented.
    pub fn record_handshake(&self, port: u16, conn: &rustls::ClientConnection) {
        let Some(leaf) = conn.peer_certificates().and_then(|c| c.first()) else {
            return;
        };
        let fp = fingerprint(leaf);
        let certificate_sha256 = format_fingerprint(&fp);
        let mut f = locked(&self.facts);
        let trust = f
            .decisions
            .iter()
            .rev()
            .find(|(p, c, _)| *c == fp && (*p == port || *p == 0))
            .map(|(_, _, d)| *d);
        // Read once per certificate.
        let (spki_sha256, subject, not_after) = match f.handshakes.get(&port) {
            Some(h) if h.certificate_sha256 == certificate_sha256 => (
                h.spki_sha256.clone(),
                h.subject.clone(),
                h.not_after.clone(),
            ),
            _ => read(leaf.as_ref()),
        };
        let h = Handshake {
            port,
            version: conn
                .protocol_version()
                .map(version_name)
                .unwrap_or_default(),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            certificate_sha256,
            spki_sha256,
            subject,
            not_after,
            trust,
        };
        if f.handshakes.len() >= MAX_PORTS && !f.handshakes.contains_key(&port) {
            return;
        }
        f.handshakes.insert(port, h);
    }

    /// The last connection to each port, by port.
    pub fn handshakes(&self) -> Vec<Handshake> {
        locked(&self.facts).handshakes.values().cloned().collect()
    }
}
