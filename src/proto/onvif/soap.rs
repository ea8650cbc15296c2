// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! SOAP 1.2 envelopes, WS-Security UsernameToken and SOAP faults, without I/O.
//!
//! Bodies are written with an XML writer so that every value is escaped (a user name with
//! `<&"` must not break the envelope). Answers are read with the bounded reader of
//! [`super::xml`] and matched by namespace URI.

use base64::Engine;
use quick_xml::events::{BytesText, Event};
use sha1::{Digest, Sha1};

use super::xml::{self, Element, XmlError};

/// SOAP 1.2 envelope namespace.
pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Security extension namespace (UsernameToken).
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-Security utility namespace (`wsu:Created`).
pub const NS_WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const PASSWORD_DIGEST_TYPE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
const NONCE_ENCODING: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

pub use super::xml::XmlWriter;

/// A WS-Security UsernameToken with PasswordDigest (ONVIF Core, "Username token profile").
#[derive(Clone, PartialEq, Eq)]
pub struct UsernameToken {
    pub username: String,
    pub digest: String,
    pub nonce_b64: String,
    pub created: String,
}

impl std::fmt::Debug for UsernameToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsernameToken")
            .field("username", &self.username)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl UsernameToken {
    /// `digest = Base64(SHA1(nonce || created || password))`, with the raw nonce bytes.
    pub fn new(username: &str, password: &str, nonce: &[u8], created: &str) -> Self {
        let mut h = Sha1::new();
        h.update(nonce);
        h.update(created.as_bytes());
        h.update(password.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD;
        Self {
            username: username.to_string(),
            digest: b64.encode(h.finalize()),
            nonce_b64: b64.encode(nonce),
            created: created.to_string(),
        }
    }
}

/// Wraps a body fragment into a SOAP 1.2 envelope, with a UsernameToken header if given.
///
/// `mustUnderstand` is left out on purpose: some cameras in HTTPS-only mode answer HTTP 500
/// to it (Apra-Labs ODM PR #8), and it is optional.
pub fn envelope(body: &str, token: Option<&UsernameToken>) -> String {
    envelope_with_header(body, token, None)
}

/// As [`envelope`], with more header children (WS-Addressing for the event service),
/// written by an [`XmlWriter`].
pub fn envelope_with_header(
    body: &str,
    token: Option<&UsernameToken>,
    header: Option<&str>,
) -> String {
    let mut w = XmlWriter::new();
    w.decl();
    match token {
        Some(_) => w.start(
            "s:Envelope",
            &[
                ("xmlns:s", NS_SOAP),
                ("xmlns:wsse", NS_WSSE),
                ("xmlns:wsu", NS_WSU),
            ],
        ),
        None => w.start("s:Envelope", &[("xmlns:s", NS_SOAP)]),
    };
    if token.is_some() || header.is_some() {
        w.start("s:Header", &[]);
    }
    if let Some(h) = header {
        w.raw(h);
    }
    if let Some(t) = token {
        w.start("wsse:Security", &[])
            .start("wsse:UsernameToken", &[])
            .leaf("wsse:Username", &t.username)
            .start("wsse:Password", &[("Type", PASSWORD_DIGEST_TYPE)]);
        w.ev(Event::Text(BytesText::new(&t.digest)));
        w.end("wsse:Password")
            .start("wsse:Nonce", &[("EncodingType", NONCE_ENCODING)]);
        w.ev(Event::Text(BytesText::new(&t.nonce_b64)));
        w.end("wsse:Nonce")
            .leaf("wsu:Created", &t.created)
            .end("wsse:UsernameToken")
            .end("wsse:Security");
    }
    if token.is_some() || header.is_some() {
        w.end("s:Header");
    }
    w.start("s:Body", &[])
        .raw(body)
        .end("s:Body")
        .end("s:Envelope");
    w.finish()
}

/// A SOAP 1.2 fault: code, subcodes (outermost first) and reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fault {
    /// `s:Code/s:Value` as sent, e.g. `s:Sender`.
    pub code: String,
    /// `s:Subcode/s:Value` chain as sent, e.g. `["ter:InvalidArgVal", "ter:NoProfile"]`.
    pub subcodes: Vec<String>,
    /// First `s:Reason/s:Text`.
    pub reason: String,
}

fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

impl Fault {
    /// Whether the device says the credentials are wrong. Devices vary: the subcode
    /// `NotAuthorized`, or only a reason such as "Authority failure" (Tapo) or "Sender not
    /// Authorized" (onvif-zeep-async `is_auth_error`).
    ///
    /// WS-Security's own faults (`wsse:FailedAuthentication`, `InvalidSecurity`,
    /// `InvalidSecurityToken`) and reasons that speak of the security header or the
    /// password count too ("An error was discovered processing the <wsse:Security>
    /// header", Vivotek).
    pub fn is_auth(&self) -> bool {
        let reason = self.reason.to_ascii_lowercase();
        self.subcodes.iter().any(|s| {
            matches!(
                local(s),
                "NotAuthorized"
                    | "FailedAuthentication"
                    | "InvalidSecurity"
                    | "InvalidSecurityToken"
                    | "FailedCheck"
                    | "SecurityTokenUnavailable"
            )
        }) || [
            "auth",
            "security",
            "wsse",
            "password",
            "credential",
            "login",
        ]
        .iter()
        .any(|w| reason.contains(w))
    }

    /// Whether the fault says a token the element asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        self.subcodes.iter().any(|s| {
            matches!(
                local(s),
                "NoProfile" | "InvalidProfileToken" | "NoRecording" | "InvalidToken" | "NoSource"
            )
        })
    }

    /// Whether the device does not implement the operation.
    pub fn is_not_supported(&self) -> bool {
        self.subcodes.iter().any(|s| {
            matches!(
                local(s),
                "ActionNotSupported" | "NoSuchService" | "UnknownAction"
            )
        })
    }

    fn from_element(el: &Element) -> Self {
        let code_el = el.child(NS_SOAP, "Code");
        let code = code_el
            .and_then(|c| c.child(NS_SOAP, "Value"))
            .map(|v| v.text().to_string())
            .unwrap_or_default();
        let mut subcodes = Vec::new();
        let mut cur = code_el.and_then(|c| c.child(NS_SOAP, "Subcode"));
        while let Some(sc) = cur {
            if let Some(v) = sc.child(NS_SOAP, "Value") {
                subcodes.push(v.text().to_string());
            }
            cur = sc.child(NS_SOAP, "Subcode");
        }
        let reason = el
            .child(NS_SOAP, "Reason")
            .and_then(|r| r.child(NS_SOAP, "Text"))
            .map(|t| t.text().to_string())
            .unwrap_or_default();
        Fault {
            code,
            subcodes,
            reason,
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code)?;
        for s in &self.subcodes {
            write!(f, "/{s}")?;
        }
        if !self.reason.is_empty() {
            write!(f, " ({})", self.reason)?;
        }
        Ok(())
    }
}

/// What a SOAP answer turned out to be, when it is not a normal response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapError {
    /// Not well-formed or refused XML.
    Xml(XmlError),
    /// Well-formed, but not a SOAP 1.2 envelope with a body.
    NotSoap(String),
    /// A SOAP fault.
    Fault(Fault),
}

impl std::fmt::Display for SoapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SoapError::Xml(e) => e.fmt(f),
            SoapError::NotSoap(s) => write!(f, "not a SOAP 1.2 envelope: {s}"),
            SoapError::Fault(fault) => write!(f, "SOAP fault {fault}"),
        }
    }
}

impl SoapError {
    /// The byte of the answer where it stops being well-formed XML.
    pub fn position(&self) -> Option<u64> {
        match self {
            SoapError::Xml(e) => e.position(),
            _ => None,
        }
    }
}

/// Parses an answer and returns the first element inside `s:Body`.
pub fn parse_response(doc: &[u8]) -> Result<Element, SoapError> {
    let root = xml::parse(doc).map_err(SoapError::Xml)?;
    if !root.is(NS_SOAP, "Envelope") {
        return Err(SoapError::NotSoap(format!(
            "root element is {{{}}}{}",
            root.ns, root.name
        )));
    }
    let body = root
        .child(NS_SOAP, "Body")
        .ok_or_else(|| SoapError::NotSoap("no Body".into()))?;
    let first = body
        .children
        .first()
        .ok_or_else(|| SoapError::NotSoap("empty Body".into()))?;
    if first.is(NS_SOAP, "Fault") {
        return Err(SoapError::Fault(Fault::from_element(first)));
    }
    Ok(first.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known-answer vector of the ONVIF Application Programmer's Guide.
    #[test]
    fn test_password_digest_programmers_guide_vector() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let nonce = b64.decode("LKqI6G/AikKCQrN0zqZFlg==").unwrap();
        let t = UsernameToken::new("user", "userpassword", &nonce, "2010-09-16T07:50:45Z");
        assert_eq!(t.digest, "tuOSpGlFlIXsozq4HFNeeGeFLEI=");
        assert_eq!(t.nonce_b64, "LKqI6G/AikKCQrN0zqZFlg==");
    }

    #[test]
    fn test_password_digest_reference_envelope_vector() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let nonce = b64.decode("ABEiM0RVZneImaq7zN3u/w==").unwrap();
        let t = UsernameToken::new("admin", "Secr3t!", &nonce, "2025-03-14T09:41:07.000Z");
        assert_eq!(t.digest, "1Kkd+kl/TEHFLnpuqV0NJHLnqL8=");
    }

    #[test]
    fn test_username_with_markup_round_trips() {
        let name = r#"ad<m>&"in'"#;
        let t = UsernameToken::new(name, "pw", b"0123456789abcdef", "2025-01-01T00:00:00Z");
        let env = envelope("<x:Y xmlns:x=\"urn:x\"/>", Some(&t));
        assert!(!env.contains("pw"), "the password never travels: {env}");
        let root = xml::parse(env.as_bytes()).expect("envelope is well-formed");
        let user = root
            .path(&[
                (NS_SOAP, "Header"),
                (NS_WSSE, "Security"),
                (NS_WSSE, "UsernameToken"),
                (NS_WSSE, "Username"),
            ])
            .expect("username element");
        assert_eq!(user.text, name);
        let body = parse_response(env.as_bytes()).unwrap();
        assert!(body.is("urn:x", "Y"));
    }

    #[test]
    fn test_fault_with_two_subcodes() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error">
  <s:Body><s:Fault>
      <s:Code><s:Value>s:Sender</s:Value>
        <s:Subcode><s:Value>ter:InvalidArgVal</s:Value>
          <s:Subcode><s:Value>ter:NoProfile</s:Value></s:Subcode></s:Subcode></s:Code>
      <s:Reason><s:Text xml:lang="en">The requested profile token does not exist</s:Text></s:Reason>
  </s:Fault></s:Body></s:Envelope>"#;
        let Err(SoapError::Fault(f)) = parse_response(doc) else {
            panic!("expected a fault");
        };
        assert_eq!(f.code, "s:Sender");
        assert_eq!(f.subcodes, vec!["ter:InvalidArgVal", "ter:NoProfile"]);
        assert!(f.is_not_found());
        assert!(!f.is_auth());
        assert_eq!(
            f.to_string(),
            "s:Sender/ter:InvalidArgVal/ter:NoProfile (The requested profile token does not exist)"
        );
    }

    #[test]
    fn test_auth_fault_by_reason_only() {
        let f = Fault {
            code: "s:Sender".into(),
            subcodes: vec![],
            reason: "Authority failure".into(),
        };
        assert!(f.is_auth());
        // The refusals of docs/rtsp-urls-and-vendors.md §3, and two that are not.
        for (code, sub, reason, auth) in [
            ("env:Sender", None, "Authentication failed", true),
            ("s:Receiver", None, "Sender not authorized", true),
            (
                "env:Sender",
                Some("ter:NotAuthorized"),
                "Sender not Authorized. Invalid username or password!",
                true,
            ),
            (
                "env:Sender",
                Some("ter:NotAuthorized"),
                "An error was discovered processing the <wsse:Security> header.",
                true,
            ),
            ("s:Sender", Some("wsse:FailedAuthentication"), "", true),
            ("s:Sender", None, "Wsse authorized time check failed.", true),
            (
                "env:Sender",
                None,
                "WS-Security header required but not provided",
                true,
            ),
            (
                "s:Sender",
                Some("ter:InvalidArgVal"),
                "Invalid profile",
                false,
            ),
            ("s:Receiver", Some("ter:ActionNotSupported"), "", false),
        ] {
            let f = Fault {
                code: code.into(),
                subcodes: sub.into_iter().map(String::from).collect(),
                reason: reason.into(),
            };
            assert_eq!(f.is_auth(), auth, "{f}");
        }
    }

    #[test]
    fn test_not_soap() {
        assert!(matches!(
            parse_response(b"<html><body>hi</body></html>"),
            Err(SoapError::NotSoap(_))
        ));
        assert!(matches!(
            parse_response(
                b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>"
            ),
            Err(SoapError::Xml(_))
        ));
    }

    #[test]
    fn test_shared_example_faults_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/onvif-wsdl/examples");
        let Ok(doc) = std::fs::read(format!("{dir}/fault-NotAuthorized.xml")) else {
            eprintln!("../shared not present; skipping");
            return;
        };
        let Err(SoapError::Fault(f)) = parse_response(&doc) else {
            panic!("expected a fault");
        };
        assert!(f.is_auth());
        let doc = std::fs::read(format!("{dir}/fault-ActionNotSupported.xml")).unwrap();
        let Err(SoapError::Fault(f)) = parse_response(&doc) else {
            panic!("expected a fault");
        };
        assert!(f.is_not_supported());
    }
}
