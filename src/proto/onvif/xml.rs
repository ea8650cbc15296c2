// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A bounded, namespace-aware XML reader that builds a small element tree.
//!
//! SOAP answers from cameras are small, but a hostile or broken device can send anything:
//! this reader refuses a `DOCTYPE` (no entity expansion, so no billion-laughs), undefined
//! entities, documents deeper than [`MAX_DEPTH`] or with more than [`MAX_ELEMENTS`]
//! elements, and trees that would take more than [`MAX_TREE_FACTOR`] times the document's
//! size (plus [`TREE_FLOOR`]) in memory. Namespace URIs are interned once per document
//! (each element holds a shared reference, not a copy: one 8,000-byte URI on 100,000
//! elements cost 1.6 GB before). The size of the input itself is capped by the HTTP layer.
//! Elements are matched by namespace URI and local name, never by prefix (devices use any
//! prefix they like).

use std::sync::Arc;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Deepest nesting accepted; ONVIF answers are under 15 levels deep.
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document; a GetProfiles answer of a 16-channel NVR has a
/// few thousand.
pub const MAX_ELEMENTS: usize = 200_000;
/// Most attributes (namespace declarations included) on one element: Hikvision declares
/// about 40 namespaces on its Envelope. Bounds quick-xml's duplicate-attribute check,
/// which is quadratic in the attributes of one tag.
pub const MAX_ATTRIBUTES: usize = 128;
/// Most namespace declarations in scope at once: bounds every prefix lookup.
pub const MAX_SCOPE_DECLARATIONS: usize = 256;
/// The tree may take at most this many times the document's size in memory (counted as
/// it is built: each element's own size, its name, text and attributes, namespace
/// declarations and interned URIs) ...
pub const MAX_TREE_FACTOR: usize = 8;
/// ... plus this much, so that a small document of many tiny elements still parses.
pub const TREE_FLOOR: usize = 256 * 1024;

/// The namespace declarations of one element, linked to its parent's scope: an element
/// that declares nothing shares its parent's, one that declares shares the rest.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// `(prefix, URI)` declared on the element ("" is the default namespace).
    decls: Vec<(String, String)>,
    parent: Option<Arc<Scope>>,
    /// Declarations in this scope and every enclosing one.
    total: usize,
}

impl Scope {
    fn root() -> Arc<Scope> {
        Arc::new(Scope {
            decls: vec![(
                "xml".to_string(),
                "http://www.w3.org/XML/1998/namespace".to_string(),
            )],
            parent: None,
            total: 1,
        })
    }

    /// The URI `prefix` is bound to here, innermost declaration first.
    pub fn lookup(&self, prefix: &str) -> Option<&str> {
        let mut cur = Some(self);
        while let Some(s) = cur {
            if let Some((_, uri)) = s.decls.iter().rev().find(|(p, _)| p == prefix) {
                return Some(uri);
            }
            cur = s.parent.as_deref();
        }
        None
    }

    /// The enclosing scope, for tests of the sharing.
    pub fn parent(&self) -> Option<&Arc<Scope>> {
        self.parent.as_ref()
    }
}

/// One XML element: namespace, local name, attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Namespace URI, empty when unbound (shared by every element of the document in it).
    pub ns: Arc<str>,
    /// Local name, without prefix.
    pub name: String,
    /// Attributes as (namespace URI or empty, local name, value).
    pub attrs: Vec<(Arc<str>, String, String)>,
    /// The concatenated character data directly inside this element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Namespace prefixes in scope here, linked to the parent's (shared when the element
    /// declares none). Resolves QNames in text (topics, fault codes).
    pub scope: Arc<Scope>,
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        &*self.ns == ns && self.name == name
    }

    /// First child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// All children `{ns}name`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// First child with this local name, whatever its namespace. Used only where devices
    /// are known to get the namespace wrong.
    pub fn child_local(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Follows a path of `(ns, name)` steps from this element.
    pub fn path(&self, steps: &[(&str, &str)]) -> Option<&Element> {
        let mut cur = self;
        for (ns, name) in steps {
            cur = cur.child(ns, name)?;
        }
        Some(cur)
    }

    /// Trimmed text of the element.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// Value of an unqualified attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, n, _)| ns.is_empty() && n == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// Resolves a `prefix:local` QName written in this element's text or attributes to
    /// `(namespace URI, local)`; `None` for an undeclared prefix.
    pub fn resolve_qname<'a>(&self, qname: &'a str) -> Option<(String, &'a str)> {
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        self.scope
            .lookup(prefix)
            .map(|uri| (uri.to_string(), local))
    }

    /// Writes the element (and its subtree) as XML, declaring each namespace it uses.
    pub fn write(&self, w: &mut XmlWriter) {
        self.write_with(w, 0);
    }

    fn write_with(&self, w: &mut XmlWriter, depth: usize) {
        let prefix = format!("n{depth}");
        let name = if self.ns.is_empty() {
            self.name.clone()
        } else {
            format!("{prefix}:{}", self.name)
        };
        let decl = format!("xmlns:{prefix}");
        let mut attrs: Vec<(String, String)> = Vec::new();
        if !self.ns.is_empty() {
            attrs.push((decl, self.ns.to_string()));
        }
        for (i, (ans, an, av)) in self.attrs.iter().enumerate() {
            if ans.is_empty() {
                attrs.push((an.clone(), av.clone()));
            } else {
                let ap = format!("a{depth}x{i}");
                attrs.push((format!("xmlns:{ap}"), ans.to_string()));
                attrs.push((format!("{ap}:{an}"), av.clone()));
            }
        }
        let refs: Vec<(&str, &str)> = attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        w.start(&name, &refs);
        if !self.text().is_empty() {
            w.text(self.text());
        }
        for c in &self.children {
            c.write_with(w, depth + 1);
        }
        w.end(&name);
    }

    /// Depth-first search for the first descendant `{ns}name` (including self).
    pub fn find(&self, ns: &str, name: &str) -> Option<&Element> {
        if self.is(ns, name) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(ns, name))
    }
}

/// A small wrapper over quick-xml's writer: every text and attribute value is escaped.
pub struct XmlWriter {
    w: Writer<Vec<u8>>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// A writer with no XML declaration, for a body fragment.
    pub fn new() -> Self {
        Self {
            w: Writer::new(Vec::with_capacity(512)),
        }
    }

    pub(crate) fn ev(&mut self, ev: Event<'_>) {
        // Writing into a Vec<u8> cannot fail.
        self.w
            .write_event(ev)
            .expect("writing XML into memory cannot fail");
    }

    /// Writes the `<?xml ...?>` declaration.
    pub fn decl(&mut self) -> &mut Self {
        self.ev(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        self
    }

    /// Opens `<name attr="value"...>`.
    pub fn start(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut s = BytesStart::new(name);
        for a in attrs {
            s.push_attribute(*a);
        }
        self.ev(Event::Start(s));
        self
    }

    /// Closes `</name>`.
    pub fn end(&mut self, name: &str) -> &mut Self {
        self.ev(Event::End(BytesEnd::new(name)));
        self
    }

    /// Writes `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut s = BytesStart::new(name);
        for a in attrs {
            s.push_attribute(*a);
        }
        self.ev(Event::Empty(s));
        self
    }

    /// Writes `<name>text</name>`, escaping the text.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.start(name, &[]);
        self.ev(Event::Text(BytesText::new(text)));
        self.end(name)
    }

    /// Writes escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.ev(Event::Text(BytesText::new(text)));
        self
    }

    /// Appends an already-written, well-formed fragment (a body built by this writer).
    pub fn raw(&mut self, fragment: &str) -> &mut Self {
        self.w.get_mut().extend_from_slice(fragment.as_bytes());
        self
    }

    /// The document as a string.
    pub fn finish(self) -> String {
        // Only `&str` input was written, so the output is UTF-8.
        String::from_utf8(self.w.into_inner()).expect("writer output is UTF-8")
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed, with the byte position.
    Syntax { position: u64, detail: String },
    /// A `<!DOCTYPE>`: refused, entity definitions are an attack vector.
    DocType,
    /// An entity other than the five predefined ones and character references.
    UnknownEntity(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A tree larger than [`MAX_TREE_FACTOR`] times the document (plus [`TREE_FLOOR`]).
    TooLarge,
    /// More than [`MAX_ELEMENTS`] elements.
    TooManyElements,
    /// More than [`MAX_ATTRIBUTES`] attributes on one element, or more than
    /// [`MAX_SCOPE_DECLARATIONS`] namespace declarations in scope.
    TooManyAttributes,
    /// No root element.
    Empty,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The position is for the error that carries this one (`Error::Malformed`).
            XmlError::Syntax { detail, .. } => write!(f, "XML not well-formed: {detail}"),
            XmlError::DocType => write!(f, "XML with a DOCTYPE is refused"),
            XmlError::UnknownEntity(e) => write!(f, "XML uses the undefined entity &{e};"),
            XmlError::TooDeep => write!(f, "XML nested deeper than {MAX_DEPTH} levels"),
            XmlError::TooManyElements => write!(f, "XML has more than {MAX_ELEMENTS} elements"),
            XmlError::TooLarge => write!(
                f,
                "XML whose tree would take more than {MAX_TREE_FACTOR} times its size in memory"
            ),
            XmlError::TooManyAttributes => write!(
                f,
                "XML has an element with more than {MAX_ATTRIBUTES} attributes or more than \
                 {MAX_SCOPE_DECLARATIONS} namespace declarations in scope"
            ),
            XmlError::Empty => write!(f, "XML document has no root element"),
        }
    }
}

impl std::error::Error for XmlError {}

impl XmlError {
    /// The byte of the document where it stops being well-formed.
    pub fn position(&self) -> Option<u64> {
        match self {
            XmlError::Syntax { position, .. } => Some(*position),
            _ => None,
        }
    }
}

/// The namespace URIs of one document, each stored once, and the memory the tree takes.
struct Builder {
    uris: std::collections::HashMap<Vec<u8>, Arc<str>>,
    empty: Arc<str>,
    /// Bytes the tree holds so far (as counted by [`Builder::charge`]).
    bytes: usize,
    /// What it may hold.
    limit: usize,
}

impl Builder {
    fn new(input: usize) -> Builder {
        Builder {
            uris: std::collections::HashMap::new(),
            empty: Arc::from(""),
            bytes: 0,
            limit: input
                .saturating_mul(MAX_TREE_FACTOR)
                .saturating_add(TREE_FLOOR),
        }
    }

    /// The shared URI of a resolved name (the empty one when unbound).
    fn ns_of(&mut self, r: &ResolveResult<'_>) -> Result<Arc<str>, XmlError> {
        let ResolveResult::Bound(ns) = r else {
            return Ok(self.empty.clone());
        };
        if let Some(uri) = self.uris.get(ns.as_ref()) {
            return Ok(uri.clone());
        }
        let uri: Arc<str> = Arc::from(String::from_utf8_lossy(ns.as_ref()));
        self.charge(
            uri.len()
                .saturating_add(2 * std::mem::size_of::<Arc<str>>()),
        )?;
        self.uris.insert(ns.as_ref().to_vec(), uri.clone());
        Ok(uri)
    }

    /// Counts `n` more bytes of tree; an error past the limit.
    fn charge(&mut self, n: usize) -> Result<(), XmlError> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limit {
            return Err(XmlError::TooLarge);
        }
        Ok(())
    }
}

/// Parses a whole document into its root element.
pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(input).map_err(|e| XmlError::Syntax {
        position: e.valid_up_to() as u64,
        detail: "not UTF-8".into(),
    })?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    // Its bound of declarations per tag: no more than the attributes a tag may have.
    reader
        .resolver_mut()
        .set_max_declarations_per_element(MAX_ATTRIBUTES);
    let mut tree = Builder::new(input.len());
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let empty_scope = Scope::root();
    let mut count = 0usize;

    // Errors are placed where the event they are in starts (a tag's `<`).
    let syntax = |at: u64, e: &dyn std::fmt::Display| XmlError::Syntax {
        position: at,
        detail: e.to_string(),
    };

    loop {
        let at = reader.buffer_position();
        let step = match reader.read_resolved_event() {
            Ok((resolved, event)) => Ok((tree.ns_of(&resolved)?, event)),
            // quick-xml's own bound on one tag's declarations (set to ours below).
            Err(quick_xml::Error::Namespace(
                quick_xml::name::NamespaceError::TooManyDeclarations(_),
            )) => return Err(XmlError::TooManyAttributes),
            Err(e) => Err(e.to_string()),
        };
        // The reader places its syntax errors itself; others (a namespace error) leave
        // its error position behind this event's start.
        let (element_ns, event) = step.map_err(|detail| XmlError::Syntax {
            position: reader.error_position().max(at),
            detail,
        })?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let parent_scope = stack
                    .last()
                    .map(|p| p.scope.clone())
                    .unwrap_or_else(|| empty_scope.clone());
                let mut el = Element {
                    ns: element_ns,
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    scope: parent_scope,
                    ..Default::default()
                };
                // The element itself is charged where it is kept, in its parent's
                // children (see `Builder::attach`).
                tree.charge(el.name.len())?;
                let mut decls = Vec::new();
                for (i, attr) in start.attributes().enumerate() {
                    if i >= MAX_ATTRIBUTES {
                        return Err(XmlError::TooManyAttributes);
                    }
                    let attr = attr.map_err(|e| syntax(at, &e))?;
                    if let Some(binding) = attr.key.as_namespace_binding() {
                        let prefix = match binding {
                            quick_xml::name::PrefixDeclaration::Default => String::new(),
                            quick_xml::name::PrefixDeclaration::Named(p) => {
                                String::from_utf8_lossy(p).into_owned()
                            }
                        };
                        let uri = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| syntax(at, &e))?;
                        tree.charge(
                            std::mem::size_of::<(String, String)>()
                                .saturating_add(prefix.len())
                                .saturating_add(uri.len()),
                        )?;
                        decls.push((prefix, uri.into_owned()));
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(attr.key);
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| syntax(at, &e))?;
                    let ans = tree.ns_of(&ans)?;
                    let local = String::from_utf8_lossy(local.as_ref()).into_owned();
                    tree.charge(
                        std::mem::size_of::<(Arc<str>, String, String)>()
                            .saturating_add(local.len())
                            .saturating_add(value.len()),
                    )?;
                    el.attrs.push((ans, local, value.into_owned()));
                }
                if !decls.is_empty() {
                    tree.charge(std::mem::size_of::<Scope>())?;
                    let total = el.scope.total.saturating_add(decls.len());
                    if total > MAX_SCOPE_DECLARATIONS {
                        return Err(XmlError::TooManyAttributes);
                    }
                    el.scope = Arc::new(Scope {
                        decls,
                        parent: Some(el.scope.clone()),
                        total,
                    });
                }
                if matches!(event, Event::Empty(_)) {
                    tree.attach(&mut stack, &mut root, el)?;
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| XmlError::Syntax {
                    position: at,
                    detail: "unbalanced end tag".into(),
                })?;
                tree.attach(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    let t = t.decode().map_err(|e| syntax(at, &e))?;
                    tree.charge(t.len())?;
                    cur.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    let t = t.decode().map_err(|e| syntax(at, &e))?;
                    tree.charge(t.len())?;
                    cur.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| syntax(at, &e))?
                        .map(|c| c.to_string())
                } else {
                    let name = r.decode().map_err(|e| syntax(at, &e))?;
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
                };
                let Some(ch) = ch else {
                    let name = String::from_utf8_lossy(&r).into_owned();
                    return Err(XmlError::UnknownEntity(name));
                };
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&ch);
                }
            }
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax {
            position: reader.buffer_position(),
            detail: format!("document ends inside <{}>", stack[stack.len() - 1].name),
        });
    }
    root.ok_or(XmlError::Empty)
}

impl Builder {
    /// Puts a finished element into its parent's children (or makes it the root). The
    /// children's buffer is charged as it grows, the old one with the new while both
    /// live, and what a finished element's buffers do not use is given back.
    fn attach(
        &mut self,
        stack: &mut [Element],
        root: &mut Option<Element>,
        mut el: Element,
    ) -> Result<(), XmlError> {
        const SIZE: usize = std::mem::size_of::<Element>();
        let spare = el.children.capacity().saturating_sub(el.children.len());
        el.children.shrink_to_fit();
        el.attrs.shrink_to_fit();
        el.text.shrink_to_fit();
        self.bytes = self.bytes.saturating_sub(spare.saturating_mul(SIZE));
        match stack.last_mut() {
            Some(parent) => {
                let cap = parent.children.capacity();
                if parent.children.len() == cap {
                    let more = cap.max(4);
                    self.charge(cap.saturating_add(more).saturating_mul(SIZE))?;
                    parent.children.reserve_exact(more);
                    self.bytes = self.bytes.saturating_sub(cap.saturating_mul(SIZE));
                }
                parent.children.push(el);
            }
            None => {
                // A second root element is not well-formed; keep the first.
                if root.is_none() {
                    self.charge(SIZE)?;
                    *root = Some(el);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The position is the byte of the markup that breaks the document.
    #[test]
    fn test_a_syntax_error_names_the_byte_of_its_markup() {
        let doc = b"<a><b></a>";
        let e = parse(doc).unwrap_err();
        assert_eq!(e.position(), Some(6), "{e}");
        assert!(e.to_string().starts_with("XML not well-formed: "), "{e}");
        let e = parse(b"<a>\xff</a>").unwrap_err();
        assert_eq!(e.position(), Some(3), "not UTF-8 from byte 3");
        let e = parse(b"<a><b>").unwrap_err();
        assert_eq!(e.position(), Some(6), "ends inside <b>, at the end: {e}");
        // A namespace error (the reader's error position is not set for it).
        let e = parse(b"<r><a xmlns:xml=\"urn:x\"/></r>").unwrap_err();
        assert_eq!(e.position(), Some(3), "at <a: {e}");
        // An attribute error.
        let e = parse(b"<r><a b=\"&bogus;\"/></r>").unwrap_err();
        assert_eq!(e.position(), Some(3), "at <a: {e:?}");
        assert_eq!(XmlError::DocType.position(), None);
    }

    #[test]
    fn test_namespaces_resolved_whatever_the_prefix() {
        let doc = br#"<?xml version="1.0"?>
            <a:Envelope xmlns:a="urn:x" xmlns="urn:default"><b xmlns:q="urn:q" q:k="v&amp;w">t&lt;1&#65;</b></a:Envelope>"#;
        let root = parse(doc).unwrap();
        assert!(root.is("urn:x", "Envelope"));
        let b = root
            .child("urn:default", "b")
            .expect("default namespace applies");
        assert_eq!(b.text(), "t<1A");
        assert_eq!(b.attrs, vec![("urn:q".into(), "k".into(), "v&w".into())]);
    }

    #[test]
    fn test_qname_in_text_resolved_by_scope() {
        let doc = br#"<e:Envelope xmlns:e="urn:env" xmlns:tns1="http://www.onvif.org/ver10/topics"><m xmlns:vendor="urn:v"><t>tns1:Device/Trigger/DigitalInput</t><u>vendor:X</u><w>nope:Y</w></m></e:Envelope>"#;
        let root = parse(doc).unwrap();
        let m = &root.children[0];
        let t = &m.children[0];
        assert_eq!(
            t.resolve_qname(t.text()),
            Some((
                "http://www.onvif.org/ver10/topics".into(),
                "Device/Trigger/DigitalInput"
            ))
        );
        assert_eq!(
            m.children[1].resolve_qname("vendor:X"),
            Some(("urn:v".into(), "X"))
        );
        assert_eq!(m.children[2].resolve_qname("nope:Y"), None);
        assert!(
            root.resolve_qname("vendor:X").is_none(),
            "not in scope at the root"
        );
    }

    #[test]
    fn test_write_round_trips() {
        let doc = br#"<a:SubscriptionId xmlns:a="http://www.axis.com/2009/event" xmlns:b="urn:b" b:k="1&amp;2" plain="p">0<c:x xmlns:c="urn:c">&lt;</c:x></a:SubscriptionId>"#;
        let el = parse(doc).unwrap();
        let mut w = crate::proto::onvif::soap::XmlWriter::new();
        el.write(&mut w);
        let again = parse(w.finish().as_bytes()).unwrap();
        assert_eq!(
            (&*again.ns, again.name.as_str(), again.text()),
            (&*el.ns, el.name.as_str(), "0")
        );
        assert_eq!(again.attrs, el.attrs);
        assert_eq!(&*again.children[0].ns, "urn:c");
        assert_eq!(again.children[0].text, "<");
    }

    #[test]
    fn test_doctype_refused() {
        let doc = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(parse(doc), Err(XmlError::DocType));
    }

    #[test]
    fn test_unknown_entity_refused() {
        assert_eq!(
            parse(b"<a>&foo;</a>"),
            Err(XmlError::UnknownEntity("foo".into()))
        );
    }

    #[test]
    fn test_scopes_are_linked_not_copied() {
        // Security review: 1,000 declarations on the root plus 200,000 children that each
        // declare one cost a copy of the whole scope per child (tens of GB).
        let mut root_decls = String::new();
        for i in 0..100 {
            root_decls.push_str(&format!(" xmlns:p{i}=\"urn:{i}\""));
        }
        let mut doc = format!("<r{root_decls}>");
        // (With some text: 50,000 bare `<c xmlns="u"/>` are refused as costing more
        // than MAX_TREE_FACTOR times their size.)
        for _ in 0..50_000 {
            doc.push_str("<c xmlns=\"u\">a value of the element</c>");
        }
        doc.push_str("</r>");
        let root = parse(doc.as_bytes()).expect("parsed");
        assert_eq!(root.children.len(), 50_000);
        for c in &root.children {
            let parent = c.scope.parent().expect("linked to the root's scope");
            assert!(Arc::ptr_eq(parent, &root.scope), "shared, not copied");
            assert_eq!(c.scope.lookup(""), Some("u"));
            assert_eq!(c.scope.lookup("p99"), Some("urn:99"));
        }
        assert_eq!(
            root.children[0].resolve_qname("p7:x"),
            Some(("urn:7".to_string(), "x"))
        );
    }

    #[test]
    fn test_attributes_and_declarations_capped() {
        let many = |n: usize, f: &dyn Fn(usize) -> String| -> String {
            (0..n).map(f).collect::<Vec<_>>().join("")
        };
        let decls = format!(
            "<r{}/>",
            many(1000, &|i| format!(" xmlns:p{i}=\"urn:{i}\""))
        );
        assert_eq!(parse(decls.as_bytes()), Err(XmlError::TooManyAttributes));
        let attrs = format!(
            "<r{}/>",
            many(MAX_ATTRIBUTES + 1, &|i| format!(" a{i}=\"v\""))
        );
        assert_eq!(parse(attrs.as_bytes()), Err(XmlError::TooManyAttributes));
        let fine = format!("<r{}/>", many(MAX_ATTRIBUTES, &|i| format!(" a{i}=\"v\"")));
        assert_eq!(
            parse(fine.as_bytes()).map(|e| e.attrs.len()),
            Ok(MAX_ATTRIBUTES)
        );
        // Declarations spread over nested elements count together.
        let nested = format!(
            "{}{}",
            many(3, &|d| format!(
                "<e{d}{}>",
                many(100, &|i| format!(" xmlns:q{d}x{i}=\"u\""))
            )),
            many(3, &|d| format!("</e{}>", 2 - d))
        );
        assert_eq!(parse(nested.as_bytes()), Err(XmlError::TooManyAttributes));
    }

    #[test]
    fn test_depth_capped() {
        let mut doc = String::new();
        for _ in 0..(MAX_DEPTH + 1) {
            doc.push_str("<a>");
        }
        for _ in 0..(MAX_DEPTH + 1) {
            doc.push_str("</a>");
        }
        assert_eq!(parse(doc.as_bytes()), Err(XmlError::TooDeep));
    }

    #[test]
    fn test_truncated_refused() {
        assert!(matches!(
            parse(b"<a><b>text</b>"),
            Err(XmlError::Syntax { .. })
        ));
        assert_eq!(parse(b"  "), Err(XmlError::Empty));
    }

    #[test]
    fn test_mismatched_tags_refused() {
        assert!(matches!(
            parse(b"<a><b></a></b>"),
            Err(XmlError::Syntax { .. })
        ));
    }
}
