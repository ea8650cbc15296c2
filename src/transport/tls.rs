// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The one rustls `ClientConfig` every connection of an element uses (spec §4.3).
//!
//! | validate-certificate | validate-hostname | accepted |
//! |---|---|---|
//! | true | true | chain to a system root or `tls-ca-file`, in its validity period, issued for the host |
//! | true | false | chain to a `tls-ca-file` root (not the system roots: a public CA vouches for names, and the name is not checked), in its validity period, any host |
//! | false | true | any chain, but issued for the host |
//! | false | false | anything |
//!
//! With `tls-certificate-sha256` set (one pin or a comma-separated list, for certificate
//! rotation), only a certificate with one of those fingerprints is accepted, whatever the
//! two switches; the others are not consulted. The peer counts as authenticated (so that
//! HTTP Basic may be answered) only with both checks on or a pin. The handshake
//! signature is always checked, so the peer must hold the certificate's key. Verification
//! runs inside the handshake, before any HTTP byte is written. A refusal carries a
//! [`CertRefused`] with the reason and the fingerprint, which [`refusal`] extracts.
//!
//! With a trust store (`tls-trust-store`, [`super::trust`]), a certificate the checks
//! refuse is accepted when the store's entry for its `host:port` has its public key, and
//! refused naming both keys when the entry has another; with `tls-trust-on-first-use`, a
//! `host:port` the store does not know is learned (and said through [`Notify`]). A
//! certificate the checks accept needs no entry; a pin still decides alone. The
//! configuration is then one per port ([`TlsConfig::for_port`]): the verifier is told
//! only the name.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use sha2::{Digest, Sha256};

use super::trust::TrustStore;
use crate::proto::clock;

#[path = "tls_trust.rs"]
mod by_store;
use by_store::Shared;
pub use by_store::{Notify, Trusted};
#[path = "tls_facts.rs"]
mod facts;
use facts::SharedFacts;
pub use facts::{Decided, Handshake};

/// The checks asked for by the element's properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub validate_certificate: bool,
    pub validate_hostname: bool,
    /// PEM file of extra trusted roots.
    pub ca_file: Option<String>,
    /// SHA-256 fingerprints of the only certificates accepted (empty: no pin).
    pub pins: Vec<[u8; 32]>,
    /// The trust store, and whether an unknown `host:port` is learned (trust on first
    /// use).
    pub trust: Option<(TrustStore, bool)>,
}

impl TlsSettings {
    /// Whether an accepted peer has been authenticated: both checks on, or a pin.
    pub fn authenticates_peer(&self) -> bool {
        !self.pins.is_empty() || (self.validate_certificate && self.validate_hostname)
    }
}

/// The configurations made for each port.
type PerPort = HashMap<u16, Arc<ClientConfig>>;

/// The rustls configuration of an element's connections, and whether it authenticates
/// the peer (HTTP Basic is only answered to an authenticated peer).
pub struct TlsConfig {
    pub rustls: Arc<ClientConfig>,
    /// Both checks on, or a pin: an accepted peer is authenticated (but see
    /// [`TlsConfig::authenticates`]).
    peer_authenticated: bool,
    /// With a trust store: the verifier to copy for each port, and the configurations
    /// made so far.
    per_port: Option<(Verifier, Mutex<PerPort>)>,
    /// What the trust store learned through this configuration.
    learning: Shared,
    store: Option<TrustStore>,
    /// What each port's connections were (the element's `stats`).
    facts: SharedFacts,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("peer_authenticated", &self.peer_authenticated)
            .field("per_port", &self.per_port.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// The configuration of a connection to `port`: the one of every port, unless a trust
    /// store keys its entries by port.
    pub fn for_port(&self, port: u16) -> Arc<ClientConfig> {
        let Some((verifier, made)) = &self.per_port else {
            return self.rustls.clone();
        };
        let mut made = made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = made.get(&port) {
            return c.clone();
        }
        let v = Verifier {
            port,
            ..verifier.clone()
        };
        // The same provider and versions as the element's configuration, built already.
        match rustls_config(self.rustls.crypto_provider().clone(), v) {
            Ok(c) => made.entry(port).or_insert(Arc::new(c)).clone(),
            Err(_) => self.rustls.clone(),
        }
    }
}

/// Why a certificate was refused, carried through rustls as `CertificateError::Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRefused {
    pub reason: String,
    /// Colon-separated upper-case hex SHA-256 of the end-entity certificate.
    pub fingerprint: String,
    /// What to do about it, when not the usual (a CA file or a pin).
    pub hint: Option<String>,
}

impl std::fmt::Display for CertRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (SHA-256 {})", self.reason, self.fingerprint)
    }
}

impl std::error::Error for CertRefused {}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trust roots, loaded once per process (the call is expensive).
static NATIVE_ROOTS: LazyLock<Vec<CertificateDer<'static>>> = LazyLock::new(|| {
    let res = rustls_native_certs::load_native_certs();
    res.certs
});

/// Formats a SHA-256 digest as `AB:CD:...`.
pub fn format_fingerprint(digest: &[u8]) -> String {
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `tls-certificate-sha256`: one fingerprint or a comma-separated list.
pub fn parse_pins(s: &str) -> Option<Vec<[u8; 32]>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_fingerprint)
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty())
}

/// Parses a pin: 64 hex digits, with or without `:` separators, any case.
pub fn parse_fingerprint(s: &str) -> Option<[u8; 32]> {
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn fingerprint(cert: &CertificateDer<'_>) -> [u8; 32] {
    Sha256::digest(cert.as_ref()).into()
}

/// Builds the client configuration. Fails when `tls-ca-file` cannot be read or holds no
/// certificate, or the trust store cannot be read. `notify` is told of each `host:port`
/// trusted on first use.
pub fn client_config(s: &TlsSettings, notify: Option<Notify>) -> Result<Arc<TlsConfig>, String> {
    if let Some((store, _)) = &s.trust {
        store.entries().map_err(|e| e.0)?;
    }
    let provider = provider();
    let mut roots = RootCertStore::empty();
    // Without the name check, a public CA's certificate for any name would pass.
    if s.validate_hostname {
        roots.add_parsable_certificates(NATIVE_ROOTS.iter().cloned());
    }
    if let Some(path) = &s.ca_file {
        let pem =
            std::fs::read(path).map_err(|e| format!("tls-ca-file {path:?} cannot be read: {e}"))?;
        let mut found = 0;
        for cert in rustls_pemfile_certs(&pem) {
            if roots.add(cert).is_ok() {
                found += 1;
            }
        }
        if found == 0 {
            return Err(format!(
                "tls-ca-file {path:?} holds no usable PEM certificate"
            ));
        }
    }
    let webpki = if roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("cannot build the certificate verifier: {e}"))?,
        )
    };
    let verifier = Verifier {
        webpki,
        settings: s.clone(),
        provider: provider.clone(),
        port: 0,
        notify,
        learning: Shared::default(),
        facts: SharedFacts::default(),
    };
    let learning = verifier.learning.clone();
    let facts = verifier.facts.clone();
    let per_port = s
        .trust
        .is_some()
        .then(|| (verifier.clone(), Mutex::new(HashMap::new())));
    Ok(Arc::new(TlsConfig {
        rustls: Arc::new(rustls_config(provider, verifier)?),
        peer_authenticated: s.authenticates_peer(),
        per_port,
        learning,
        store: s.trust.as_ref().map(|(store, _)| store.clone()),
        facts,
    }))
}

fn rustls_config(
    provider: Arc<CryptoProvider>,
    verifier: Verifier,
) -> Result<ClientConfig, String> {
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    if std::env::var_os("SSLKEYLOGFILE").is_some() {
        config.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    Ok(config)
}

/// Certificates of a PEM file, via the pki-types PEM reader.
fn rustls_pemfile_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

#[derive(Clone)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    settings: TlsSettings,
    provider: Arc<CryptoProvider>,
    /// The port connected to (0: any; only a trust store needs it).
    port: u16,
    notify: Option<Notify>,
    learning: Shared,
    facts: SharedFacts,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("settings", &self.settings)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    fn refuse(&self, reason: String, fp: &[u8; 32]) -> rustls::Error {
        self.refuse_hinted(reason, fp, None)
    }

    fn refuse_hinted(&self, reason: String, fp: &[u8; 32], hint: Option<String>) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            CertRefused {
                reason,
                fingerprint: format_fingerprint(fp),
                hint,
            },
        ))))
    }

    /// Whether the certificate verifies against itself as the only root.
    fn is_self_signed(&self, end_entity: &CertificateDer<'_>, now: UnixTime) -> bool {
        let mut roots = RootCertStore::empty();
        if roots.add(end_entity.clone().into_owned()).is_err() {
            return false;
        }
        let Ok(parsed) = ParsedCertificate::try_from(end_entity) else {
            return false;
        };
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &roots,
            &[],
            now,
            self.provider.signature_verification_algorithms.all,
        )
        .is_ok()
    }

    fn explain(
        &self,
        err: &rustls::Error,
        end_entity: &CertificateDer<'_>,
        now: UnixTime,
    ) -> String {
        let rustls::Error::InvalidCertificate(ce) = err else {
            return err.to_string();
        };
        let date = |t: &UnixTime| clock::format_utc(t.as_secs() as i64);
        match ce {
            CertificateError::ExpiredContext { not_after, .. } => {
                format!("it expired on {}", date(not_after))
            }
            CertificateError::Expired => "it has expired".into(),
            CertificateError::NotValidYetContext { not_before, .. } => {
                format!("it is not yet valid (valid from {})", date(not_before))
            }
            CertificateError::NotValidYet => "it is not yet valid".into(),
            CertificateError::UnknownIssuer => {
                if self.is_self_signed(end_entity, now) {
                    "it is self-signed (unknown issuer)".into()
                } else {
                    "it is issued by an unknown authority (unknown issuer)".into()
                }
            }
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => {
                let names = if presented.is_empty() {
                    "no names".to_string()
                } else {
                    presented
                        .iter()
                        .map(|n| presented_name(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!(
                    "it is not issued for {} (it names {names})",
                    server_name_str(expected)
                )
            }
            CertificateError::NotValidForName => "it is not issued for this host".into(),
            CertificateError::BadSignature => "its signature is bad".into(),
            other => format!("{other:?}"),
        }
    }
}

/// rustls reports presented names as `DnsName("x")` or `IpAddress(1.2.3.4)`; users want
/// `x` and `1.2.3.4`.
fn presented_name(n: &str) -> String {
    match (n.find('('), n.rfind(')')) {
        (Some(a), Some(b)) if b > a => n[a + 1..b].trim_matches('"').to_string(),
        _ => n.to_string(),
    }
}

fn server_name_str(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = fingerprint(end_entity);
        if !self.settings.pins.is_empty() {
            // A pin restricts: nothing else is accepted, whatever the switches.
            if self.settings.pins.contains(&fp) {
                self.decided(&fp, Decided::Pin);
                return Ok(ServerCertVerified::assertion());
            }
            let expected: Vec<String> = self
                .settings
                .pins
                .iter()
                .map(|p| format_fingerprint(p))
                .collect();
            return Err(self.refuse(
                format!(
                    "it is not the pinned certificate (tls-certificate-sha256 expects {}, the \
                     device presented {})",
                    expected.join(" or "),
                    format_fingerprint(&fp)
                ),
                &fp,
            ));
        }
        let checked = self.checks(
            &fp,
            (end_entity, intermediates),
            (server_name, ocsp_response),
            now,
        );
        let Some((store, first_use)) = &self.settings.trust else {
            return self.accepted_by_switches(checked, &fp);
        };
        // Full validation (both checks, and they passed) needs no entry; anything less is
        // the store's to decide (a relaxed switch would let any certificate by).
        let full = self.settings.validate_certificate && self.settings.validate_hostname;
        if full && checked.is_ok() {
            return self.accepted_by_switches(checked, &fp);
        }
        self.trust(store, *first_use, (end_entity, server_name), checked, &fp)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let valid = rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        );
        self.proven(valid, cert)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let valid = rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        );
        self.proven(valid, cert)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl Verifier {
    /// What the switches said (`checked`), the decision recorded when they accept.
    fn accepted_by_switches(
        &self,
        checked: Result<ServerCertVerified, rustls::Error>,
        fp: &[u8; 32],
    ) -> Result<ServerCertVerified, rustls::Error> {
        if checked.is_ok() {
            self.decided(fp, self.by_switches());
        }
        checked
    }

    /// The two switches' checks (spec §4.3) of the certificate whose fingerprint is `fp`.
    fn checks(
        &self,
        fp: &[u8; 32],
        (end_entity, intermediates): (&CertificateDer<'_>, &[CertificateDer<'_>]),
        (server_name, ocsp_response): (&ServerName<'_>, &[u8]),
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let s = &self.settings;
        if s.validate_certificate {
            let res = match &self.webpki {
                Some(v) => {
                    v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                }
                None => Err(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer,
                )),
            };
            match res {
                Ok(v) => Ok(v),
                // The chain was checked before the name: only the name failed.
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) if !s.validate_hostname => Ok(ServerCertVerified::assertion()),
                Err(e) => Err(self.refuse(self.explain(&e, end_entity, now), fp)),
            }
        } else if s.validate_hostname {
            let parsed = ParsedCertificate::try_from(end_entity)
                .map_err(|e| self.refuse(format!("it cannot be parsed: {e}"), fp))?;
            verify_server_name(&parsed, server_name)
                .map(|_| ServerCertVerified::assertion())
                .map_err(|e| self.refuse(self.explain(&e, end_entity, now), fp))
        } else {
            Ok(ServerCertVerified::assertion())
        }
    }
}

/// The `CertRefused` inside a verifier's error.
fn refused_of(err: &rustls::Error) -> Option<CertRefused> {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            other.0.downcast_ref::<CertRefused>().cloned()
        }
        _ => None,
    }
}

/// The refusal inside a failed TLS handshake, if the certificate was the cause.
pub fn refusal(err: &std::io::Error) -> Option<CertRefused> {
    let inner = err.get_ref()?;
    refused_of(inner.downcast_ref::<rustls::Error>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_fingerprint_formats_round_trip() {
        let d: [u8; 32] = core::array::from_fn(|i| (i * 7) as u8);
        let s = format_fingerprint(&d);
        assert_eq!(&s[..8], "00:07:0E");
        assert_eq!(parse_fingerprint(&s), Some(d));
        assert_eq!(
            parse_fingerprint(&s.replace(':', "").to_lowercase()),
            Some(d)
        );
        assert_eq!(parse_fingerprint("abcd"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }

    #[test]
    fn test_presented_names_readable() {
        assert_eq!(
            presented_name("DnsName(\"camera.example\")"),
            "camera.example"
        );
        assert_eq!(presented_name("IpAddress(192.0.2.1)"), "192.0.2.1");
        assert_eq!(presented_name("plain"), "plain");
    }

    #[test]
    fn test_missing_ca_file_is_a_settings_error() {
        let s = TlsSettings {
            validate_certificate: true,
            validate_hostname: true,
            ca_file: Some("/nonexistent/ca.pem".into()),
            pins: Vec::new(),
            trust: None,
        };
        let err = client_config(&s, None).unwrap_err();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
