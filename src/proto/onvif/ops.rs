// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF operations the element uses: request bodies and answer parsers.
//!
//! Each request body is a standalone element that declares its own namespaces, so that it
//! validates on its own against the official schemas (`tests/schema.rs`). Answers are
//! matched by namespace URI (`docs/onvif-reference.md` §1.1).

// The action signals' operations (PTZ, auxiliary command, DeviceIO) live in `control.rs`.
pub use super::control::*;
use super::soap::XmlWriter;
use super::xml::Element;
use crate::proto::clock;

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

/// `tds:GetSystemDateAndTime` (PRE_AUTH).
pub fn get_system_date_and_time() -> Request {
    empty("tds", NS_TDS, "GetSystemDateAndTime")
}

/// `tds:GetDeviceInformation`.
pub fn get_device_information() -> Request {
    empty("tds", NS_TDS, "GetDeviceInformation")
}

/// `tds:GetServices` without capabilities (PRE_AUTH).
pub fn get_services() -> Request {
    let mut w = XmlWriter::new();
    w.start("tds:GetServices", &[("xmlns:tds", NS_TDS)])
        .leaf("tds:IncludeCapability", "false")
        .end("tds:GetServices");
    request(NS_TDS, "GetServices", w.finish())
}

/// `tds:GetCapabilities` for all categories (PRE_AUTH), the fallback of GetServices.
pub fn get_capabilities() -> Request {
    let mut w = XmlWriter::new();
    w.start("tds:GetCapabilities", &[("xmlns:tds", NS_TDS)])
        .leaf("tds:Category", "All")
        .end("tds:GetCapabilities");
    request(NS_TDS, "GetCapabilities", w.finish())
}

/// `tds:GetNetworkProtocols`.
pub fn get_network_protocols() -> Request {
    empty("tds", NS_TDS, "GetNetworkProtocols")
}

/// One `tt:NetworkProtocol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkProtocol {
    /// `HTTP`, `HTTPS` or `RTSP`.
    pub name: String,
    pub enabled: bool,
    pub ports: Vec<u16>,
}

/// `tds:SetNetworkProtocols` with the given protocols.
pub fn set_network_protocols(protocols: &[NetworkProtocol]) -> Request {
    let mut w = XmlWriter::new();
    w.start(
        "tds:SetNetworkProtocols",
        &[("xmlns:tds", NS_TDS), ("xmlns:tt", NS_TT)],
    );
    for p in protocols {
        w.start("tds:NetworkProtocols", &[])
            .leaf("tt:Name", &p.name)
            .leaf("tt:Enabled", if p.enabled { "true" } else { "false" });
        for port in &p.ports {
            w.leaf("tt:Port", &port.to_string());
        }
        w.end("tds:NetworkProtocols");
    }
    w.end("tds:SetNetworkProtocols");
    request(NS_TDS, "SetNetworkProtocols", w.finish())
}

/// `GetProfiles`: Media2 with `Type=All` (without it devices return profiles without
/// configurations), or Media1.
pub fn get_profiles(media2: bool) -> Request {
    if media2 {
        let mut w = XmlWriter::new();
        w.start("tr2:GetProfiles", &[("xmlns:tr2", NS_TR2)])
            .leaf("tr2:Type", "All")
            .end("tr2:GetProfiles");
        request(NS_TR2, "GetProfiles", w.finish())
    } else {
        empty("trt", NS_TRT, "GetProfiles")
    }
}

/// The transport a stream URI is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamTransport {
    /// RTSP tunnelled over HTTP(S): Media1 `HTTP`, Media2 `RtspOverHttp`.
    Http,
    /// RTSP with interleaved RTP: Media1 `RTSP`, Media2 `RTSP`.
    Rtsp,
    /// RTP over UDP: Media1 `UDP`, Media2 `RtspUnicast`.
    Udp,
}

/// `GetStreamUri` for a profile and transport.
pub fn get_stream_uri(media2: bool, profile: &str, transport: StreamTransport) -> Request {
    let mut w = XmlWriter::new();
    if media2 {
        let proto = match transport {
            StreamTransport::Http => "RtspOverHttp",
            StreamTransport::Rtsp => "RTSP",
            StreamTransport::Udp => "RtspUnicast",
        };
        w.start("tr2:GetStreamUri", &[("xmlns:tr2", NS_TR2)])
            .leaf("tr2:Protocol", proto)
            .leaf("tr2:ProfileToken", profile)
            .end("tr2:GetStreamUri");
        request(NS_TR2, "GetStreamUri", w.finish())
    } else {
        let proto = match transport {
            StreamTransport::Http => "HTTP",
            StreamTransport::Rtsp => "RTSP",
            StreamTransport::Udp => "UDP",
        };
        w.start(
            "trt:GetStreamUri",
            &[("xmlns:trt", NS_TRT), ("xmlns:tt", NS_TT)],
        )
        .start("trt:StreamSetup", &[])
        .leaf("tt:Stream", "RTP-Unicast")
        .start("tt:Transport", &[])
        .leaf("tt:Protocol", proto)
        .end("tt:Transport")
        .end("trt:StreamSetup")
        .leaf("trt:ProfileToken", profile)
        .end("trt:GetStreamUri");
        request(NS_TRT, "GetStreamUri", w.finish())
    }
}

/// `GetSnapshotUri` for a profile.
pub fn get_snapshot_uri(media2: bool, profile: &str) -> Request {
    let (prefix, ns) = if media2 {
        ("tr2", NS_TR2)
    } else {
        ("trt", NS_TRT)
    };
    let mut w = XmlWriter::new();
    w.start(
        &format!("{prefix}:GetSnapshotUri"),
        &[(&format!("xmlns:{prefix}"), ns)],
    )
    .leaf(&format!("{prefix}:ProfileToken"), profile)
    .end(&format!("{prefix}:GetSnapshotUri"));
    request(ns, "GetSnapshotUri", w.finish())
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

fn num<T: std::str::FromStr>(el: Option<&Element>, what: &str) -> Result<T, ParseError> {
    let el = el.ok_or_else(|| format!("missing {what}"))?;
    el.text()
        .parse()
        .map_err(|_| format!("{what} is not a number: {:?}", el.text()))
}

/// The device's UTC time in Unix seconds, from `GetSystemDateAndTimeResponse`.
pub fn parse_system_date_and_time(el: &Element) -> Result<i64, ParseError> {
    let el = expect(el, NS_TDS, "GetSystemDateAndTimeResponse")?;
    let utc = el
        .path(&[(NS_TDS, "SystemDateAndTime"), (NS_TT, "UTCDateTime")])
        .ok_or("no SystemDateAndTime/UTCDateTime")?;
    let date = utc.child(NS_TT, "Date").ok_or("no UTCDateTime/Date")?;
    let time = utc.child(NS_TT, "Time").ok_or("no UTCDateTime/Time")?;
    let y: i64 = num(date.child(NS_TT, "Year"), "Year")?;
    let mo: u32 = num(date.child(NS_TT, "Month"), "Month")?;
    let d: u32 = num(date.child(NS_TT, "Day"), "Day")?;
    let h: u32 = num(time.child(NS_TT, "Hour"), "Hour")?;
    let mi: u32 = num(time.child(NS_TT, "Minute"), "Minute")?;
    let s: u32 = num(time.child(NS_TT, "Second"), "Second")?;
    clock::unix_from_utc(y, mo, d, h, mi, s)
        .ok_or_else(|| format!("invalid date {y}-{mo}-{d} {h}:{mi}:{s}"))
}

/// `(namespace, XAddr)` of each service from `GetServicesResponse`.
pub fn parse_services(el: &Element) -> Result<Vec<(String, String)>, ParseError> {
    let el = expect(el, NS_TDS, "GetServicesResponse")?;
    Ok(el
        .children_named(NS_TDS, "Service")
        .filter_map(|s| {
            Some((
                s.child(NS_TDS, "Namespace")?.text().to_string(),
                s.child(NS_TDS, "XAddr")?.text().to_string(),
            ))
        })
        .collect())
}

/// The protocols of `GetNetworkProtocolsResponse`.
pub fn parse_network_protocols(el: &Element) -> Result<Vec<NetworkProtocol>, ParseError> {
    let el = expect(el, NS_TDS, "GetNetworkProtocolsResponse")?;
    Ok(el
        .children_named(NS_TDS, "NetworkProtocols")
        .map(|p| NetworkProtocol {
            name: p
                .child(NS_TT, "Name")
                .map(|n| n.text().to_string())
                .unwrap_or_default(),
            enabled: p
                .child(NS_TT, "Enabled")
                .is_some_and(|e| matches!(e.text(), "true" | "1")),
            ports: p
                .children_named(NS_TT, "Port")
                .filter_map(|e| e.text().parse::<u16>().ok())
                .filter(|p| *p != 0)
                .collect(),
        })
        .collect())
}

/// The first enabled HTTPS port among the protocols (`onvif-reference.md` §4).
pub fn https_port(protocols: &[NetworkProtocol]) -> Option<u16> {
    protocols
        .iter()
        .find(|p| p.name == "HTTPS" && p.enabled)
        .and_then(|p| p.ports.first().copied())
}

/// What the element needs to know about a media profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub token: String,
    pub name: String,
    /// Video encoding (`H264`, `H265`, `JPEG`, ...), if the profile has a video encoder.
    pub video: Option<String>,
    /// Audio encoding, if the profile has an audio source and encoder.
    pub audio: Option<String>,
    /// Whether the profile has a metadata configuration.
    pub metadata: bool,
}

/// The profiles of a Media1 or Media2 `GetProfilesResponse`.
pub fn parse_profiles(el: &Element, media2: bool) -> Result<Vec<Profile>, ParseError> {
    let ns = if media2 { NS_TR2 } else { NS_TRT };
    let el = expect(el, ns, "GetProfilesResponse")?;
    let mut out = Vec::new();
    for p in el.children_named(ns, "Profiles") {
        let token = p.attr("token").unwrap_or_default().to_string();
        let enc = |e: Option<&Element>| {
            e.map(|e| {
                e.child(NS_TT, "Encoding")
                    .map(|x| x.text().to_string())
                    .unwrap_or_default()
            })
        };
        let profile = if media2 {
            let c = p.child(NS_TR2, "Configurations");
            let get = |n: &str| c.and_then(|c| c.child(NS_TR2, n));
            Profile {
                token,
                name: p
                    .child(NS_TR2, "Name")
                    .map(|n| n.text().to_string())
                    .unwrap_or_default(),
                video: enc(get("VideoEncoder")),
                audio: get("AudioSource").and(enc(get("AudioEncoder"))),
                metadata: get("Metadata").is_some(),
            }
        } else {
            let get = |n: &str| p.child(NS_TT, n);
            Profile {
                token,
                name: get("Name")
                    .map(|n| n.text().to_string())
                    .unwrap_or_default(),
                video: enc(get("VideoEncoderConfiguration")),
                audio: get("AudioSourceConfiguration").and(enc(get("AudioEncoderConfiguration"))),
                metadata: get("MetadataConfiguration").is_some(),
            }
        };
        out.push(profile);
    }
    Ok(out)
}

/// The URI of a `GetStreamUriResponse` or `GetSnapshotUriResponse`.
pub fn parse_media_uri(el: &Element, media2: bool, operation: &str) -> Result<String, ParseError> {
    let response = format!("{operation}Response");
    let uri = if media2 {
        expect(el, NS_TR2, &response)?.child(NS_TR2, "Uri")
    } else {
        expect(el, NS_TRT, &response)?.path(&[(NS_TRT, "MediaUri"), (NS_TT, "Uri")])
    };
    let uri = uri.map(|u| u.text()).unwrap_or_default();
    if uri.is_empty() {
        return Err(format!("{response} has no Uri"));
    }
    Ok(uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onvif::xml;

    use crate::proto::onvif::shared_example as example;

    #[test]
    fn test_parse_shared_examples() {
        let Some(el) = example("device-GetSystemDateAndTime.resp.xml") else {
            eprintln!("../shared not present; skipping");
            return;
        };
        assert_eq!(parse_system_date_and_time(&el), Ok(1_741_945_267));

        let el = example("device-GetServices.resp.xml").unwrap();
        let s = parse_services(&el).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[1],
            (
                NS_TR2.to_string(),
                "https://192.0.2.10/onvif/media2_service".to_string()
            )
        );

        let el = example("device-GetNetworkProtocols.resp.xml").unwrap();
        let p = parse_network_protocols(&el).unwrap();
        assert_eq!(https_port(&p), Some(443));
        assert_eq!(p[2].name, "RTSP");

        let el = example("media-GetProfiles.resp.xml").unwrap();
        let p = parse_profiles(&el, false).unwrap();
        assert_eq!(
            p,
            vec![Profile {
                token: "Profile_1".into(),
                name: "mainStream".into(),
                video: Some("H264".into()),
                audio: Some("G711".into()),
                metadata: true,
            }]
        );
        let el = example("media2-GetProfiles.resp.xml").unwrap();
        let p = parse_profiles(&el, true).unwrap();
        assert_eq!(p[0].video.as_deref(), Some("H265"));
        assert_eq!(p[0].audio.as_deref(), Some("PCMU"));
        assert!(p[0].metadata);

        let el = example("media-GetStreamUri.resp.xml").unwrap();
        assert_eq!(
            parse_media_uri(&el, false, "GetStreamUri").unwrap(),
            "http://192.0.2.10:80/onvif-media/media.amp?profile=Profile_1"
        );
        let el = example("media2-GetSnapshotUri.resp.xml").unwrap();
        assert_eq!(
            parse_media_uri(&el, true, "GetSnapshotUri").unwrap(),
            "https://192.0.2.10/onvif/snapshot?profile=Profile_1"
        );
    }

    #[test]
    fn test_request_bodies_match_shared_examples() {
        // Same elements as the schema-valid examples (whitespace aside).
        let norm = |s: &str| s.split_whitespace().collect::<String>();
        let dir = format!(
            "{}/../shared/onvif-wsdl/examples",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(ex) = std::fs::read_to_string(format!("{dir}/media2-GetStreamUri.req.xml")) else {
            return;
        };
        assert_eq!(
            norm(&get_stream_uri(true, "Profile_1", StreamTransport::Http).body),
            norm(&ex)
        );
    }

    /// Security review: a year of 999999999 overflowed the clock offset in milliseconds
    /// (a panic in debug builds); now the answer is refused as malformed.
    #[test]
    fn test_absurd_device_year_is_refused() {
        let doc = |year: &str| {
            format!(
                "<tds:GetSystemDateAndTimeResponse xmlns:tds=\"{NS_TDS}\" xmlns:tt=\"{NS_TT}\">\
                 <tds:SystemDateAndTime><tt:UTCDateTime><tt:Time><tt:Hour>1</tt:Hour>\
                 <tt:Minute>2</tt:Minute><tt:Second>3</tt:Second></tt:Time><tt:Date>\
                 <tt:Year>{year}</tt:Year><tt:Month>1</tt:Month><tt:Day>2</tt:Day></tt:Date>\
                 </tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
            )
        };
        let parse = |y: &str| parse_system_date_and_time(&xml::parse(doc(y).as_bytes()).unwrap());
        assert_eq!(parse("2026"), Ok(1_767_315_723));
        for y in ["999999999", "-5", "99999999999999999999"] {
            assert!(parse(y).is_err(), "{y}");
        }
    }

    #[test]
    fn test_profile_token_escaped() {
        let r = get_snapshot_uri(false, "a<b&\"c");
        assert!(r.body.contains("a&lt;b&amp;&quot;c"), "{}", r.body);
        let el = xml::parse(r.body.as_bytes()).unwrap();
        assert_eq!(el.child(NS_TRT, "ProfileToken").unwrap().text, "a<b&\"c");
    }

    #[test]
    fn test_wrong_answer_element() {
        let el = xml::parse(b"<x:Other xmlns:x=\"urn:x\"/>").unwrap();
        assert!(parse_services(&el).is_err());
    }
}
