// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF operations the element uses: request bodies and answer parsers.
//!
//! Each request body is a standalone element that declares its own namespaces, so that it
//! validates on its own against the official schemas (`tests/schema.rs`). Answers are
//! matched by namespace URI (`docs/onvif-reference.md` §1.1).

// The operations of each service live in its own file: `device.rs`, `media.rs`, and the
// action signals' (PTZ, auxiliary command, DeviceIO) in `control.rs`.
pub use super::control::*;
pub use super::device::*;
pub use super::media::*;
use super::soap::XmlWriter;
use super::xml::Element;

pub const NS_TDS: &str = "http://www.onvif.org/ver10/device/wsdl";
pub const NS_TRT: &str = "http://www.onvif.org/ver10/media/wsdl";
pub const NS_TR2: &str = "http://www.onvif.org/ver20/media/wsdl";
pub const NS_TT: &str = "http://www.onvif.org/ver10/schema";

/// A request ready to be wrapped in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Operation name, for logs and errors.
    pub operation: &'static str,
    /// WSDL `soapAction`, sent as the `action` parameter of `Content-Type`.
    pub action: String,
    /// The body element.
    pub body: String,
}

pub(super) fn request(ns: &str, operation: &'static str, body: String) -> Request {
    Request {
        operation,
        action: format!("{ns}/{operation}"),
        body,
    }
}

pub(super) fn empty(prefix: &str, ns: &str, operation: &'static str) -> Request {
    let mut w = XmlWriter::new();
    w.empty(
        &format!("{prefix}:{operation}"),
        &[(&format!("xmlns:{prefix}"), ns)],
    );
    request(ns, operation, w.finish())
}

/// Why an answer lacks what the element needs.
pub type ParseError = String;

pub(super) fn expect<'a>(el: &'a Element, ns: &str, name: &str) -> Result<&'a Element, ParseError> {
    if el.is(ns, name) {
        Ok(el)
    } else {
        Err(format!(
            "expected {{{ns}}}{name}, got {{{}}}{}",
            el.ns, el.name
        ))
    }
}

pub(super) fn num<T: std::str::FromStr>(el: Option<&Element>, what: &str) -> Result<T, ParseError> {
    let el = el.ok_or_else(|| format!("missing {what}"))?;
    el.text()
        .parse()
        .map_err(|_| format!("{what} is not a number: {:?}", el.text()))
}
