// SPDX-License-Identifier: MPL-2.0
//! XML with many namespace declarations and attributes (the security review's 20 GB
//! document) and long namespace URIs on many elements (issue 23's 1.6 GB one): the bytes
//! steer how many declarations sit on the root and on each child, how long the URIs are,
//! how many attributes each element has, how many children there are and how deep it
//! nests. Parsing must end with a tree or one of the caps, and every QName in scope must
//! resolve.
#![no_main]
use gstonvifhttps::testing::onvif::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let b = |i: usize| usize::from(data.get(i).copied().unwrap_or(0));
    let (root_decls, children, per_child, attrs, depth) =
        (b(0) * 8, b(1) * 64 + b(2), b(3) % 8, b(4), b(5) % 80);
    // Up to 16 KiB of URI; up to 64 x 1,023 children beyond the 255 x 64.
    let uri_len = b(6) * 64;
    let extra_children = b(7) * 1_023;
    let names = data.get(8..).unwrap_or_default();
    let long = "u".repeat(uri_len);
    let name = |i: usize| {
        let c = names.get(i % names.len().max(1)).copied().unwrap_or(b'a');
        if c.is_ascii_alphabetic() { c as char } else { 'n' }
    };
    let mut doc = String::from("<r");
    for i in 0..root_decls {
        doc.push_str(&format!(" xmlns:p{i}=\"urn:{}{long}\"", name(i)));
    }
    for i in 0..attrs {
        doc.push_str(&format!(" a{i}{}=\"v\"", name(i)));
    }
    doc.push('>');
    for d in 0..depth {
        doc.push_str(&format!("<d{d} xmlns=\"urn:d{d}\">"));
    }
    for c in 0..children + extra_children {
        doc.push_str("<c");
        for j in 0..per_child {
            doc.push_str(&format!(" xmlns:q{j}=\"urn:{}\"", name(c + j)));
        }
        doc.push_str(&format!(">p0:{}</c>", name(c)));
    }
    for d in (0..depth).rev() {
        doc.push_str(&format!("</d{d}>"));
    }
    doc.push_str("</r>");
    match xml::parse(doc.as_bytes()) {
        Ok(root) => {
            assert!(root_decls + attrs <= xml::MAX_ATTRIBUTES);
            let mut el = &root;
            while let Some(c) = el.children.first() {
                el = c;
            }
            if root_decls > 0 {
                assert!(el.resolve_qname("p0:x").is_some());
            }
        }
        Err(e) => assert!(matches!(
            e,
            xml::XmlError::TooManyAttributes
                | xml::XmlError::TooDeep
                | xml::XmlError::TooManyElements
                | xml::XmlError::TooLarge
        ), "{e}"),
    }
});
