// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The trust store's part of the verifier (`tls-trust-store`, [`super::super::trust`]): what
//! a certificate the checks do not vouch for gets from the store (its entry's key, another
//! one, or learning on first use once the handshake signature proves the peer holds the
//! key), what a configuration learned (whose peers are not authenticated until the next
//! start), and the device's serial written into the entries.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified};
use rustls::pki_types::{CertificateDer, ServerName};

use super::{
    CertRefused, Decided, TlsConfig, Verifier, fingerprint, format_fingerprint, refused_of,
    server_name_str,
};
use crate::proto::clock;
use crate::transport::trust::{self, Learned, TrustStore};

/// A `host:port` trusted on first use: what it presented, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    pub host: String,
    pub port: u16,
    /// `host:port` as the store writes it.
    pub key: String,
    /// SHA-256 of the public key and of the certificate, `AB:CD:...`.
    pub spki: String,
    pub cert: String,
    pub subject: String,
    /// Validity, RFC 3339 UTC.
    pub not_before: String,
    pub not_after: String,
    pub store: String,
    pub line: usize,
}

/// Told each `host:port` trusted on first use (the element's message and warning).
pub type Notify = Arc<dyn Fn(&Trusted) + Send + Sync>;

/// What the verifiers of one configuration learn, shared by the verifiers of every port.
#[derive(Default)]
pub(super) struct Learning {
    /// Keys learned on first use through this configuration, with their public key: their
    /// peer is not authenticated (HTTP Basic is not answered to it).
    learned: Vec<(String, [u8; 32])>,
    /// Those whose entry has no serial yet.
    unserialed: Vec<(String, [u8; 32])>,
    /// The device's host and serial number, once known (written with what is learned
    /// later for that host: its RTSPS port).
    device: Option<(String, String)>,
    /// Certificates accepted for first use whose handshake signature is not checked
    /// yet: the store learns only a key the peer proved it holds.
    pending: Vec<Pending>,
}

/// A certificate waiting for its handshake signature before it is learned.
#[derive(Clone)]
struct Pending {
    cert_fp: [u8; 32],
    key: String,
    host: String,
    spki: [u8; 32],
    der: Vec<u8>,
}

/// At most this many certificates wait for their signature (handshakes under way).
const MAX_PENDING: usize = 16;

pub(super) type Shared = Arc<Mutex<Learning>>;

fn locked(l: &Shared) -> std::sync::MutexGuard<'_, Learning> {
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TlsConfig {
    /// Whether the peer at `host:port` is authenticated (HTTP Basic may be answered):
    /// both checks on or a pin, and not a key this configuration learned on first use
    /// (the first connection is the one unauthenticated moment of trust on first use).
    pub fn authenticates(&self, host: &str, port: u16) -> bool {
        if !self.peer_authenticated {
            return false;
        }
        let key = trust::key(host, port);
        !locked(&self.learning)
            .learned
            .iter()
            .any(|(k, _)| *k == key)
    }

    /// Whether a `host:port` of `host` was trusted on first use and waits for the
    /// device's serial number.
    pub fn wants_serial(&self, host: &str) -> bool {
        let host = trust::host_key(host);
        locked(&self.learning)
            .unserialed
            .iter()
            .any(|(k, _)| trust::host_of(k) == host)
    }

    /// Writes the serial number of the device at `host` into the entries learned on
    /// first use for that host (and into those learned later); a serial too long or not
    /// printable is not kept. What cannot be written is said.
    pub fn record_serial(&self, host: &str, serial: &str) -> Result<(), String> {
        let serial = serial.trim();
        if serial.chars().count() > trust::MAX_SERIAL || serial.chars().any(char::is_control) {
            return Err(format!(
                "the device's serial number is not kept in the trust store: over {} \
                 characters, or not printable",
                trust::MAX_SERIAL
            ));
        }
        let host = trust::host_key(host);
        let keys: Vec<(String, [u8; 32])> = {
            let mut l = locked(&self.learning);
            l.device = Some((host.clone(), serial.to_string()));
            let (mine, others) = std::mem::take(&mut l.unserialed)
                .into_iter()
                .partition(|(k, _)| trust::host_of(k) == host);
            l.unserialed = others;
            mine
        };
        let Some(store) = &self.store else {
            return Ok(());
        };
        for (key, spki) in keys {
            store.set_serial(&key, &spki, serial).map_err(|e| e.0)?;
        }
        Ok(())
    }
}

impl Verifier {
    /// A handshake signature checked (`valid`): a certificate waiting for it is learned
    /// now ([`Verifier::learn_proven`]).
    pub(super) fn proven(
        &self,
        valid: Result<HandshakeSignatureValid, rustls::Error>,
        cert: &CertificateDer<'_>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let valid = valid?;
        self.learn_proven(cert)?;
        Ok(valid)
    }

    /// A certificate not fully validated (`checked`: what the switches say of it),
    /// decided by the trust store: the entry of its `host:port` has its public key
    /// (accepted), or another (refused naming both, the store's line and the command that
    /// accepts the new one); no entry: with `first_use`, accepted and learned once the
    /// handshake signature proves the peer holds the key ([`Verifier::learn_proven`]),
    /// else what the switches say (a refusal saying how to trust it).
    pub(super) fn trust(
        &self,
        store: &TrustStore,
        first_use: bool,
        (end_entity, server_name): (&CertificateDer<'_>, &ServerName<'_>),
        checked: Result<ServerCertVerified, rustls::Error>,
        fp: &[u8; 32],
    ) -> Result<ServerCertVerified, rustls::Error> {
        let host = server_name_str(server_name);
        if self.port == 0 {
            return Err(self.refuse(
                "internal error: a trust store without the port connected to, please report \
                 this"
                    .into(),
                fp,
            ));
        }
        let key = trust::key(&host, self.port);
        let (spki, cert) =
            trust::fingerprints(end_entity.as_ref()).map_err(|e| self.refuse(e, fp))?;
        let entry = match store.lookup(&key) {
            Err(e) => {
                return Err(self.refuse_hinted(
                    e.0,
                    fp,
                    Some("Fix or delete that line of the trust store.".into()),
                ));
            }
            Ok(Some(entry)) => entry,
            Ok(None) if first_use => {
                let mut l = locked(&self.learning);
                if l.pending.len() >= MAX_PENDING {
                    l.pending.remove(0);
                }
                l.pending.push(Pending {
                    cert_fp: cert,
                    key,
                    host,
                    spki,
                    der: end_entity.as_ref().to_vec(),
                });
                drop(l);
                self.decided(fp, Decided::FirstUse);
                return Ok(ServerCertVerified::assertion());
            }
            Ok(None) => {
                let Err(refused) = checked else {
                    // The switches let it by, and the store has nothing to say.
                    return self.accepted_by_switches(checked, fp);
                };
                let CertRefused { reason, .. } = refused_of(&refused).unwrap_or(CertRefused {
                    reason: refused.to_string(),
                    fingerprint: String::new(),
                    hint: None,
                });
                return Err(self.refuse_hinted(
                    reason,
                    fp,
                    Some(format!(
                        "The trust store {} has no entry for {key}. To trust it, give its CA \
                         in tls-ca-file, pin it with tls-certificate-sha256={}, or trust it \
                         on first use with tls-trust-on-first-use=true",
                        store.path.display(),
                        format_fingerprint(fp)
                    )),
                ));
            }
        };
        self.compare(store, &entry, (spki, cert), fp)
    }

    /// The entry's public key against the presented one.
    fn compare(
        &self,
        store: &TrustStore,
        entry: &trust::Entry,
        (spki, cert): ([u8; 32], [u8; 32]),
        fp: &[u8; 32],
    ) -> Result<ServerCertVerified, rustls::Error> {
        let path = store.path.display().to_string();
        let key = &entry.key;
        if entry.spki == spki {
            crate::log::debug!(
                "{key}: its public key is the one the trust store {path} has (line {})",
                entry.line
            );
            // Learned by this start: what decided is still the first use.
            let learned_now = locked(&self.learning)
                .learned
                .iter()
                .any(|(k, s)| *k == entry.key && *s == spki);
            self.decided(
                fp,
                if learned_now {
                    Decided::FirstUse
                } else {
                    Decided::TrustStore
                },
            );
            return Ok(ServerCertVerified::assertion());
        }
        let accept = trust::Entry {
            spki,
            cert,
            added: clock::format_rfc3339(now_unix_secs()),
            serial: None,
            ..entry.clone()
        };
        let (n, quoted) = (entry.line, shell_quote(&path));
        Err(self.refuse_hinted(
            format!(
                "its public key is not the one the trust store {path} recorded for {key} on \
                 {} (line {n}): the store has SPKI SHA-256 {}, the device presented {}",
                entry.added,
                format_fingerprint(&entry.spki),
                format_fingerprint(&spki)
            ),
            fp,
            Some(format!(
                "The element never replaces an entry. If the camera's key changed on purpose \
                 (a reset, a new certificate), accept the new one with: flock {} sed -i \
                 {} {quoted}; if it did not, something else answers for {key}",
                shell_quote(&format!("{path}.lock")),
                shell_quote(&format!("{n}c {}", accept.to_line()))
            )),
        ))
    }

    /// The handshake signature of `cert` verified: a certificate accepted for first use
    /// is learned now (a key the peer proved it holds). Another element or process that
    /// learned this `host:port` meanwhile decides (a different key is refused).
    fn learn_proven(&self, cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let Some((store, _)) = &self.settings.trust else {
            return Ok(());
        };
        let fp = fingerprint(cert);
        let (pending, serial) = {
            let mut l = locked(&self.learning);
            let Some(i) = l
                .pending
                .iter()
                .position(|p| p.cert_fp == fp && p.der == cert.as_ref())
            else {
                return Ok(());
            };
            let p = l.pending.remove(i);
            let serial = l
                .device
                .as_ref()
                .filter(|(h, _)| *h == trust::host_of(&p.key))
                .map(|(_, s)| s.clone());
            (p, serial)
        };
        let learned = store.learn(
            &pending.key,
            (pending.spki, fp),
            (&clock::format_rfc3339(now_unix_secs()), serial.as_deref()),
        );
        match learned {
            Err(e) => Err(self.refuse(e.0, &fp)),
            Ok(Learned::Existing(entry)) => self
                .compare(store, &entry, (pending.spki, fp), &fp)
                .map(|_| ()),
            Ok(Learned::Added(entry)) => {
                {
                    let mut l = locked(&self.learning);
                    l.learned.push((pending.key.clone(), pending.spki));
                    if entry.serial.is_none() {
                        l.unserialed.push((pending.key.clone(), pending.spki));
                    }
                }
                if let Some(notify) = &self.notify {
                    // What cannot be read is said so.
                    let (subject, not_before, not_after) = described(&pending.der)
                        .unwrap_or_else(|| ("(unreadable)".into(), String::new(), String::new()));
                    notify(&Trusted {
                        host: pending.host,
                        port: self.port,
                        key: pending.key,
                        spki: format_fingerprint(&pending.spki),
                        cert: format_fingerprint(&fp),
                        subject,
                        not_before,
                        not_after,
                        store: store.path.display().to_string(),
                        line: entry.line,
                    });
                }
                Ok(())
            }
        }
    }
}

/// `s` as one shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Seconds since the Unix epoch, now.
fn now_unix_secs() -> i64 {
    crate::proto::clock::now_unix_millis().div_euclid(1000)
}

/// A certificate's subject and validity (RFC 3339); `None` when it cannot be read.
pub(super) fn described(der: &[u8]) -> Option<(String, String, String)> {
    let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
    let v = c.validity();
    Some((
        c.subject().to_string(),
        clock::format_rfc3339(v.not_before.timestamp()),
        clock::format_rfc3339(v.not_after.timestamp()),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{Decided, SharedFacts, TlsSettings, provider};
    use super::*;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;

    /// A certificate the store has: `trust-store`, unless this start learned it, which
    /// stays `first-use` for the start's later connections (the first run of a camera
    /// reads as trusted on first use throughout).
    #[test]
    fn test_a_key_learned_by_this_start_reads_as_first_use() {
        let ca = onvif_virtual_camera::certs::Ca::new("decisions");
        let id = ca.leaf(
            &["127.0.0.1"],
            onvif_virtual_camera::certs::Validity::default(),
        );
        let der = CertificateDer::pem_slice_iter(id.chain_pem.as_bytes())
            .next()
            .and_then(Result::ok)
            .expect("a certificate");
        let (spki, cert) = trust::fingerprints(der.as_ref()).expect("readable");
        let path = std::env::temp_dir().join(format!(
            "onvifhttps-decisions-{}-{:08x}",
            std::process::id(),
            u32::from_be_bytes(crate::proto::auth::random::<4>())
        ));
        let store = TrustStore::new(&path);
        store
            .learn(
                "127.0.0.1:443",
                (spki, cert),
                ("2026-12-06T00:00:00Z", None),
            )
            .expect("learned");
        let v = Verifier {
            webpki: None,
            settings: TlsSettings {
                validate_certificate: false,
                validate_hostname: false,
                ca_file: None,
                pins: Vec::new(),
                trust: Some((store, true)),
            },
            provider: provider(),
            port: 443,
            notify: None,
            learning: Shared::default(),
            facts: SharedFacts::default(),
        };
        let name = ServerName::try_from("127.0.0.1").expect("an address");
        let now = rustls::pki_types::UnixTime::now();
        assert!(v.verify_server_cert(&der, &[], &name, &[], now).is_ok());
        assert_eq!(v.last_decision(&cert), Some(Decided::TrustStore));
        locked(&v.learning)
            .learned
            .push(("127.0.0.1:443".into(), spki));
        assert!(v.verify_server_cert(&der, &[], &name, &[], now).is_ok());
        assert_eq!(v.last_decision(&cert), Some(Decided::FirstUse));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("lock"));
    }
}
