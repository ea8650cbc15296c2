// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Certificates for the virtual camera and for tests: a CA, intermediates, and leaves with
//! chosen names and validity periods (expired, not yet valid, wrong host, self-signed).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};

/// A server identity: the chain (leaf first) and the private key, PEM.
#[derive(Clone, Debug)]
pub struct Identity {
    pub chain_pem: String,
    pub key_pem: String,
}

/// A certificate authority that signs leaves (and intermediates).
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// PEM of the CAs between this one and the root (this one included when it is an
    /// intermediate), appended to leaf chains.
    chain_tail: String,
}

fn sans(names: &[&str]) -> Vec<SanType> {
    names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*n).try_into().expect("valid DNS name")),
        })
        .collect()
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

/// Validity of a leaf in days relative to now: `(-30, -1)` is expired.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    pub from_days: i64,
    pub to_days: i64,
}

impl Default for Validity {
    fn default() -> Self {
        Self {
            from_days: -1,
            to_days: 365,
        }
    }
}

/// Now plus `days` (negative: in the past).
fn at(days: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + time::Duration::days(days)
}

fn leaf_params(names: &[&str], validity: Validity) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("camera"),
    );
    p.subject_alt_names = sans(names);
    p.is_ca = IsCa::ExplicitNoCa;
    p.not_before = at(validity.from_days);
    p.not_after = at(validity.to_days);
    p
}

impl Ca {
    /// A new root CA.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("key generation");
        let mut p = ca_params(name);
        p.not_before = at(-2);
        p.not_after = at(3650);
        Self {
            issuer: CertifiedIssuer::self_signed(p, key).expect("CA certificate"),
            chain_tail: String::new(),
        }
    }

    /// PEM of this CA's certificate (what a client puts in `tls-ca-file` for a root).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, name: &str) -> Ca {
        let key = KeyPair::generate().expect("key generation");
        let mut p = ca_params(name);
        p.not_before = at(-2);
        p.not_after = at(3650);
        let issuer = CertifiedIssuer::signed_by(p, key, &self.issuer).expect("intermediate");
        let chain_tail = format!("{}{}", issuer.pem(), self.chain_tail);
        Ca { issuer, chain_tail }
    }

    /// A leaf for `names` (DNS names or IP addresses), valid as `validity` says.
    pub fn leaf(&self, names: &[&str], validity: Validity) -> Identity {
        let key = KeyPair::generate().expect("key generation");
        let p = leaf_params(names, validity);
        let cert = p.signed_by(&key, &self.issuer).expect("leaf certificate");
        Identity {
            chain_pem: format!("{}{}", cert.pem(), self.chain_tail),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A self-signed leaf for `names`.
pub fn self_signed(names: &[&str]) -> Identity {
    let key = KeyPair::generate().expect("key generation");
    let p = leaf_params(names, Validity::default());
    let cert = p.self_signed(&key).expect("self-signed certificate");
    Identity {
        chain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// SHA-256 fingerprint of the first certificate of a PEM chain, as 64 hex digits.
pub fn leaf_sha256_hex(chain_pem: &str) -> String {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest;
    let der = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("valid PEM");
    sha2::Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
