// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! ONVIF without I/O: XML reading, SOAP envelopes and faults, the operations the element
//! uses, and address rewriting.

pub mod addr;
pub mod control;
pub mod device;
pub mod discovery;
pub mod events;
pub mod media;
pub mod ops;
pub mod recording;
pub mod services;
pub mod soap;
pub mod xml;

/// The schema-valid example `name` of `../shared/onvif-wsdl/examples/`, parsed; `None` when
/// the shared folder is not there (the tests using it then skip).
#[cfg(test)]
pub(crate) fn shared_example(name: &str) -> Option<xml::Element> {
    let path = format!(
        "{}/../shared/onvif-wsdl/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc = std::fs::read(path).ok()?;
    Some(xml::parse(&doc).expect("shared examples are well-formed"))
}
