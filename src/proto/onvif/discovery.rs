// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! WS-Discovery (2005/04, SOAP 1.2 over UDP) as ONVIF devices speak it
//! (`docs/secure-streaming-and-discovery.md` §7), without I/O: the Probes a client sends,
//! and what a datagram from a device says (ProbeMatches, Hello, Bye), read leniently
//! where devices differ. Types are matched by namespace and local name, never by prefix;
//! devices are told apart by their EndpointReference address (some echo the Probe's
//! MessageID, so it is no key); the XAddrs are split, and those no client can reach
//! (`0.0.0.0`, link-local without a zone) are left out or put on the datagram's source.

use std::net::IpAddr;

use super::xml::{self, Element};

pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const NS_ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
pub const NS_DISCOVERY: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery";
/// `dn:NetworkVideoTransmitter`: what cameras advertise and most clients probe for.
pub const NS_NETWORK: &str = "http://www.onvif.org/ver10/network/wsdl";
/// `tds:Device`: what ONVIF Core requires.
pub const NS_DEVICE: &str = "http://www.onvif.org/ver10/device/wsdl";

/// The multicast group and port of WS-Discovery over IPv4.
pub const MULTICAST_V4: (std::net::Ipv4Addr, u16) =
    (std::net::Ipv4Addr::new(239, 255, 255, 250), 3702);

/// The largest datagram read: a ProbeMatch with many scopes and addresses fits in a few
/// KiB; nothing in discovery needs more.
pub const MAX_DATAGRAM: usize = 16 * 1024;

/// What a Probe asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// No Types: every target answers (some devices answer only this).
    Any,
    /// `dn:NetworkVideoTransmitter`.
    VideoTransmitter,
    /// `tds:Device`.
    Device,
}

/// The Probes a client sends (three shapes, since some devices answer only one), each
/// with its MessageID (`urn:uuid:` of the 16 random bytes given). One line each: a
/// Hikvision answered a Probe with line breaks with a SOAP fault.
pub fn probe(kind: ProbeKind, random: &[u8; 16]) -> (String, Vec<u8>) {
    let id = uuid(random);
    let (declare, types) = match kind {
        ProbeKind::Any => ("", String::new()),
        ProbeKind::VideoTransmitter => (
            " xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\"",
            "<d:Types>dn:NetworkVideoTransmitter</d:Types>".to_string(),
        ),
        ProbeKind::Device => (
            " xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\"",
            "<d:Types>tds:Device</d:Types>".to_string(),
        ),
    };
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope xmlns:s=\"{NS_SOAP}\" \
         xmlns:a=\"{NS_ADDRESSING}\" xmlns:d=\"{NS_DISCOVERY}\"{declare}><s:Header>\
         <a:Action s:mustUnderstand=\"1\">{NS_DISCOVERY}/Probe</a:Action>\
         <a:MessageID>{id}</a:MessageID><a:ReplyTo><a:Address>\
         http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>\
         </a:ReplyTo><a:To s:mustUnderstand=\"1\">urn:schemas-xmlsoap-org:ws:2005:04:discovery\
         </a:To></s:Header><s:Body><d:Probe>{types}</d:Probe></s:Body></s:Envelope>"
    );
    (id, text.into_bytes())
}

/// `urn:uuid:` of 16 random bytes, as a version 4 UUID.
pub fn uuid(random: &[u8; 16]) -> String {
    let mut b = *random;
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A device as a ProbeMatch or a Hello describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// `a:EndpointReference/a:Address` (a stable `urn:uuid:`): the device's key.
    pub endpoint: String,
    /// Its Types, as (namespace, local name).
    pub types: Vec<(String, String)>,
    pub scopes: Vec<String>,
    /// Its XAddrs, split on white space, as given.
    pub xaddrs: Vec<String>,
    pub metadata_version: Option<u32>,
}

impl Target {
    /// An ONVIF device: `tds:Device` or `dn:NetworkVideoTransmitter` among its Types (WSD
    /// printers answer Probes too).
    pub fn is_onvif(&self) -> bool {
        self.types.iter().any(|(ns, name)| {
            (ns == NS_DEVICE && name == "Device")
                || (ns == NS_NETWORK && name == "NetworkVideoTransmitter")
        }) || self
            .scopes
            .iter()
            .any(|s| s.starts_with("onvif://www.onvif.org/"))
    }

    /// The value of an ONVIF scope (`name`, `hardware`, `location`, ...), percent-decoded:
    /// `onvif://www.onvif.org/name/Front%20Door` gives `Front Door` for `name`.
    pub fn scope(&self, what: &str) -> Option<String> {
        let prefix = format!("onvif://www.onvif.org/{what}/");
        self.scopes.iter().find_map(|s| {
            let v = s.strip_prefix(&prefix)?;
            Some(
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
    }

    /// Every value of an ONVIF scope (`Profile`: `Streaming`, `G`, `T`, ...).
    pub fn scopes_of(&self, what: &str) -> Vec<String> {
        let prefix = format!("onvif://www.onvif.org/{what}/");
        self.scopes
            .iter()
            .filter_map(|s| s.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// The device service URL a client should use, for a datagram from `source`: an
    /// `https://` address first, one on the source's own address first; `0.0.0.0` put on
    /// the source, a link-local IPv6 address without a zone left out, as is any URL that
    /// is not http(s).
    pub fn location(&self, source: IpAddr) -> Option<String> {
        let mut usable: Vec<(bool, bool, String)> = Vec::new();
        for x in &self.xaddrs {
            let Ok(mut url) = url::Url::parse(x) else {
                continue;
            };
            let https = match url.scheme() {
                "https" => true,
                "http" => false,
                _ => continue,
            };
            let Some(host) = url.host() else {
                continue;
            };
            let ip = match host {
                url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
                url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
                url::Host::Domain(_) => None,
            };
            if let Some(ip) = ip {
                if ip.is_unspecified() {
                    if url.set_ip_host(source).is_err() {
                        continue;
                    }
                } else if let IpAddr::V6(v6) = ip
                    && v6.is_unicast_link_local()
                {
                    // No zone in a URL's host: unusable as it is.
                    continue;
                }
            }
            let on_source = url
                .host()
                .is_some_and(|h| h.to_string().trim_matches(['[', ']']) == source.to_string());
            usable.push((on_source, https, url.to_string()));
        }
        // On the source first, then https.
        usable.sort_by_key(|(on_source, https, _)| (!on_source, !https));
        usable.into_iter().next().map(|(_, _, u)| u)
    }
}

/// What a datagram says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An answer to a Probe (`RelatesTo`: the Probe's MessageID, when given).
    ProbeMatches {
        relates_to: Option<String>,
        targets: Vec<Target>,
    },
    /// A device joined (or changed).
    Hello(Target),
    /// A device leaves: its endpoint.
    Bye(String),
    /// A Probe (another client's), a fault, anything else: nothing for a client.
    Other,
}

/// Why a datagram is not WS-Discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDiscovery(pub String);

/// Reads one datagram.
pub fn parse(datagram: &[u8]) -> Result<Message, NotDiscovery> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(NotDiscovery(format!(
            "a datagram of {} bytes (at most {MAX_DATAGRAM})",
            datagram.len()
        )));
    }
    let root = xml::parse(datagram).map_err(|e| NotDiscovery(e.to_string()))?;
    if !root.is(NS_SOAP, "Envelope") {
        return Err(NotDiscovery("not a SOAP 1.2 envelope".into()));
    }
    let header = root.child(NS_SOAP, "Header");
    let body = root
        .child(NS_SOAP, "Body")
        .ok_or_else(|| NotDiscovery("no Body".into()))?;
    let relates_to = header
        .and_then(|h| h.child(NS_ADDRESSING, "RelatesTo"))
        .map(|e| e.text().to_string());
    if let Some(matches) = body.child(NS_DISCOVERY, "ProbeMatches") {
        let targets = matches
            .children_named(NS_DISCOVERY, "ProbeMatch")
            .filter_map(target)
            .collect();
        return Ok(Message::ProbeMatches {
            relates_to,
            targets,
        });
    }
    if let Some(hello) = body.child(NS_DISCOVERY, "Hello") {
        return Ok(target(hello).map_or(Message::Other, Message::Hello));
    }
    if let Some(bye) = body.child(NS_DISCOVERY, "Bye") {
        return Ok(endpoint(bye).map_or(Message::Other, Message::Bye));
    }
    Ok(Message::Other)
}

/// The EndpointReference address of a ProbeMatch, Hello or Bye.
fn endpoint(el: &Element) -> Option<String> {
    let a = el.path(&[
        (NS_ADDRESSING, "EndpointReference"),
        (NS_ADDRESSING, "Address"),
    ])?;
    let a = a.text();
    (!a.is_empty()).then(|| a.to_string())
}

/// A ProbeMatch or a Hello; `None` without an endpoint (nothing to key it by).
fn target(el: &Element) -> Option<Target> {
    let words = |name: &str| -> Vec<String> {
        el.child(NS_DISCOVERY, name)
            .map(|e| e.text().split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let types = el
        .child(NS_DISCOVERY, "Types")
        .map(|t| {
            t.text()
                .split_whitespace()
                .filter_map(|q| {
                    let (prefix, local) = q.split_once(':').unwrap_or(("", q));
                    let ns = t.scope.lookup(prefix)?;
                    Some((ns.to_string(), local.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Target {
        endpoint: endpoint(el)?,
        types,
        scopes: words("Scopes"),
        xaddrs: words("XAddrs"),
        metadata_version: el
            .child(NS_DISCOVERY, "MetadataVersion")
            .and_then(|m| m.text().parse().ok()),
    })
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
