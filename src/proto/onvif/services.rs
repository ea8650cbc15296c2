// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Which service is where: the namespace ONVIF gives each service the element uses, the
//! namespaces devices list them under by mistake, and where GetCapabilities keeps their
//! addresses (`docs/onvif-reference.md` §1.2).
//!
//! Devices misfile services in GetServices: a server built on a third-party crate lists PTZ
//! (a ver20 service) under `http://www.onvif.org/ver10/ptz/wsdl`, others write DeviceIO as
//! `deviceio`, add a trailing slash or white space. ONVIF clients that work with them accept
//! the other version's namespace and fall back to GetCapabilities, which every Profile S
//! device answers; so does the element, and says which it used.

use super::events::NS_TEV;
use super::ops::{NS_TDS, NS_TMD, NS_TPTZ, NS_TR2, NS_TRT, NS_TT, ParseError, expect};
use super::recording::{NS_TRC, NS_TRP, NS_TSE};
use super::xml::Element;

/// A service the element looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Media,
    Media2,
    Ptz,
    Events,
    DeviceIo,
    Recording,
    Search,
    Replay,
}

/// How a device listed a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Under its own namespace, as ONVIF writes it.
    Exact,
    /// Under another spelling (case, trailing slash, white space) or the other version's
    /// namespace.
    Misfiled,
}

impl Service {
    pub const ALL: [Service; 8] = [
        Service::Media,
        Service::Media2,
        Service::Ptz,
        Service::Events,
        Service::DeviceIo,
        Service::Recording,
        Service::Search,
        Service::Replay,
    ];

    /// The service's namespace, as ONVIF writes it.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Media => NS_TRT,
            Service::Media2 => NS_TR2,
            Service::Ptz => NS_TPTZ,
            Service::Events => NS_TEV,
            Service::DeviceIo => NS_TMD,
            Service::Recording => NS_TRC,
            Service::Search => NS_TSE,
            Service::Replay => NS_TRP,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Media => "Media",
            Service::Media2 => "Media2",
            Service::Ptz => "PTZ",
            Service::Events => "event",
            Service::DeviceIo => "DeviceIO",
            Service::Recording => "recording",
            Service::Search => "recording search",
            Service::Replay => "replay",
        }
    }

    /// Whether GetCapabilities can give its address (Media2's it cannot).
    pub fn in_capabilities(self) -> bool {
        self.capability().is_some()
    }

    /// Where GetCapabilities keeps its address (`None`: Media2 has no entry there).
    fn capability(self) -> Option<&'static [&'static str]> {
        match self {
            Service::Media => Some(&["Media"]),
            Service::Media2 => None,
            Service::Ptz => Some(&["PTZ"]),
            Service::Events => Some(&["Events"]),
            Service::DeviceIo => Some(&["Extension", "DeviceIO"]),
            Service::Recording => Some(&["Extension", "Recording"]),
            Service::Search => Some(&["Extension", "Search"]),
            Service::Replay => Some(&["Extension", "Replay"]),
        }
    }

    /// Whether `listed` (a GetServices namespace) names this service, and how.
    pub fn listed_as(self, listed: &str) -> Option<Listing> {
        let want = self.namespace();
        if listed == want {
            return Some(Listing::Exact);
        }
        let got = normalise(listed);
        let want = normalise(want);
        if got == want {
            return Some(Listing::Misfiled);
        }
        // The other version's namespace: ver10 and ver20 of Media are two services, of the
        // others one (the second never came, or replaced the first).
        if matches!(self, Service::Media | Service::Media2) {
            return None;
        }
        let other = match (want.find("/ver10/"), want.find("/ver20/")) {
            (Some(_), _) => want.replacen("/ver10/", "/ver20/", 1),
            (_, Some(_)) => want.replacen("/ver20/", "/ver10/", 1),
            _ => return None,
        };
        (got == other).then_some(Listing::Misfiled)
    }

    /// The service in `listed` (`(namespace, XAddr)` pairs): the first entry under its
    /// own namespace, else the first misfiled one, with the namespace it was found under.
    pub fn find(self, listed: &[(String, String)]) -> Option<(&str, &str, Listing)> {
        let exact = listed
            .iter()
            .find(|(ns, _)| self.listed_as(ns) == Some(Listing::Exact));
        let found = exact.or_else(|| listed.iter().find(|(ns, _)| self.listed_as(ns).is_some()));
        let (ns, x) = found?;
        Some((ns.as_str(), x.as_str(), self.listed_as(ns)?))
    }
}

/// A namespace as compared: no surrounding white space, no trailing slash, lower case.
fn normalise(ns: &str) -> String {
    ns.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `(namespace, XAddr)` of the services found in `GetCapabilitiesResponse`, each under its
/// own namespace, the newer ones from `tt:Extension`.
pub fn parse_capabilities(el: &Element) -> Result<Vec<(String, String)>, ParseError> {
    let el = expect(el, NS_TDS, "GetCapabilitiesResponse")?;
    let caps = el.child(NS_TDS, "Capabilities").ok_or("no Capabilities")?;
    let mut out = Vec::new();
    if let Some(x) = caps.path(&[(NS_TT, "Device"), (NS_TT, "XAddr")]) {
        out.push((NS_TDS.to_string(), x.text().trim().to_string()));
    }
    for service in Service::ALL {
        let Some(steps) = service.capability() else {
            continue;
        };
        let mut path: Vec<(&str, &str)> = steps.iter().map(|s| (NS_TT, *s)).collect();
        path.push((NS_TT, "XAddr"));
        if let Some(x) = caps.path(&path) {
            let x = x.text().trim();
            if !x.is_empty() {
                out.push((service.namespace().to_string(), x.to_string()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onvif::xml;

    #[test]
    fn test_each_service_is_found_under_its_own_namespace() {
        for s in Service::ALL {
            assert_eq!(s.listed_as(s.namespace()), Some(Listing::Exact), "{s:?}");
            for other in Service::ALL.iter().filter(|o| **o != s) {
                assert_eq!(other.listed_as(s.namespace()), None, "{other:?} as {s:?}");
            }
        }
    }

    #[test]
    fn test_misfiled_namespaces_are_recognised() {
        let cases = [
            (Service::Ptz, "http://www.onvif.org/ver10/ptz/wsdl"),
            (Service::Events, "http://www.onvif.org/ver20/events/wsdl"),
            (
                Service::DeviceIo,
                "http://www.onvif.org/ver10/deviceio/wsdl",
            ),
            (
                Service::DeviceIo,
                "http://www.onvif.org/ver20/deviceIO/wsdl/",
            ),
            (
                Service::Recording,
                "http://www.onvif.org/ver20/recording/wsdl",
            ),
            (Service::Search, " http://www.onvif.org/ver20/search/wsdl\n"),
            (Service::Replay, "http://www.onvif.org/ver20/replay/wsdl"),
            (Service::Media2, "http://www.onvif.org/ver20/media/wsdl/"),
            (Service::Media, "HTTP://WWW.ONVIF.ORG/ver10/media/wsdl"),
        ];
        for (s, ns) in cases {
            assert_eq!(s.listed_as(ns), Some(Listing::Misfiled), "{s:?} as {ns:?}");
        }
        // Media1 and Media2 are two services: neither is the other misfiled.
        assert_eq!(Service::Media.listed_as(NS_TR2), None);
        assert_eq!(Service::Media2.listed_as(NS_TRT), None);
        assert_eq!(
            Service::Ptz.listed_as("http://www.onvif.org/ver10/ptz"),
            None
        );
    }

    #[test]
    fn test_the_exact_listing_wins_over_a_misfiled_one() {
        let listed = vec![
            (
                "http://www.onvif.org/ver10/ptz/wsdl".to_string(),
                "http://h/old".to_string(),
            ),
            (NS_TPTZ.to_string(), "http://h/ptz".to_string()),
        ];
        assert_eq!(
            Service::Ptz.find(&listed),
            Some((NS_TPTZ, "http://h/ptz", Listing::Exact))
        );
        assert_eq!(
            Service::Ptz.find(&listed[..1]),
            Some((
                "http://www.onvif.org/ver10/ptz/wsdl",
                "http://h/old",
                Listing::Misfiled
            ))
        );
        assert_eq!(Service::Events.find(&listed), None);
    }

    #[test]
    fn test_capabilities_give_every_service_they_hold() {
        let Some(el) = crate::proto::onvif::shared_example("device-GetCapabilities.resp.xml")
        else {
            return;
        };
        let caps = parse_capabilities(&el).unwrap();
        let found: Vec<Service> = Service::ALL
            .into_iter()
            .filter(|s| s.find(&caps).is_some())
            .collect();
        assert_eq!(
            found,
            [
                Service::Media,
                Service::Ptz,
                Service::Events,
                Service::DeviceIo,
                Service::Recording,
                Service::Search,
                Service::Replay
            ]
        );
        assert_eq!(
            Service::Replay.find(&caps).map(|(_, x, _)| x),
            Some("https://192.0.2.10/onvif/replay_service")
        );
    }

    #[test]
    fn test_capabilities_without_extension() {
        let el = xml::parse(
            br#"<tds:GetCapabilitiesResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><tds:Capabilities><tt:Media><tt:XAddr> http://h/media </tt:XAddr></tt:Media><tt:PTZ><tt:XAddr></tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>"#,
        )
        .unwrap();
        let caps = parse_capabilities(&el).unwrap();
        assert_eq!(caps, [(NS_TRT.to_string(), "http://h/media".to_string())]);
        let other = xml::parse(b"<x:Other xmlns:x=\"urn:x\"/>").unwrap();
        assert!(parse_capabilities(&other).is_err());
    }
}
