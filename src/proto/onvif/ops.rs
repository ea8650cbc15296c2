// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF operations the element uses: request bodies and answer parsers.
//!
//! Each request body is a standalone element that declares its own namespaces, so that it
//! validates on its own against the official schemas (`tests/schema.rs`). Answers are
//! matched by namespace URI (`docs/onvif-reference.md` §1.1).

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

fn request(ns: &str, operation: &'static str, body: String) -> Request {
    Request {
        operation,
        action: format!("{ns}/{operation}"),
        body,
    }
}

fn empty(prefix: &str, ns: &str, operation: &'static str) -> Request {
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

pub const NS_TPTZ: &str = "http://www.onvif.org/ver20/ptz/wsdl";
pub const NS_TMD: &str = "http://www.onvif.org/ver10/deviceIO/wsdl";

/// `xs:duration` for a millisecond count: `PT2.5S`.
pub fn duration_ms(ms: u32) -> String {
    if ms.is_multiple_of(1000) {
        format!("PT{}S", ms / 1000)
    } else {
        format!("PT{}.{:03}S", ms / 1000, ms % 1000)
    }
}

/// Formats a coordinate for an XML attribute (finite, at most 6 decimals).
fn coord(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" || s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Writes a `tt:PTZVector`/`tt:PTZSpeed`-shaped element (values are attributes).
fn ptz_vector(w: &mut XmlWriter, name: &str, pan: f64, tilt: f64, zoom: f64) {
    let (x, y, z) = (coord(pan), coord(tilt), coord(zoom));
    w.start(name, &[])
        .empty("tt:PanTilt", &[("x", &x), ("y", &y)])
        .empty("tt:Zoom", &[("x", &z)])
        .end(name);
}

fn ptz_request(
    operation: &'static str,
    profile: &str,
    body: impl FnOnce(&mut XmlWriter),
) -> Request {
    let mut w = XmlWriter::new();
    let name = format!("tptz:{operation}");
    w.start(&name, &[("xmlns:tptz", NS_TPTZ), ("xmlns:tt", NS_TT)])
        .leaf("tptz:ProfileToken", profile);
    body(&mut w);
    w.end(&name);
    request(NS_TPTZ, operation, w.finish())
}

/// `tptz:ContinuousMove` with a velocity in the generic space and a safety timeout.
pub fn ptz_continuous_move(
    profile: &str,
    pan: f64,
    tilt: f64,
    zoom: f64,
    timeout_ms: u32,
) -> Request {
    ptz_request("ContinuousMove", profile, |w| {
        ptz_vector(w, "tptz:Velocity", pan, tilt, zoom);
        if timeout_ms > 0 {
            w.leaf("tptz:Timeout", &duration_ms(timeout_ms));
        }
    })
}

/// `tptz:Stop` of pan, tilt and zoom.
pub fn ptz_stop(profile: &str) -> Request {
    ptz_request("Stop", profile, |w| {
        w.leaf("tptz:PanTilt", "true").leaf("tptz:Zoom", "true");
    })
}

/// `tptz:AbsoluteMove` to a position in the generic space.
pub fn ptz_absolute_move(profile: &str, pan: f64, tilt: f64, zoom: f64) -> Request {
    ptz_request("AbsoluteMove", profile, |w| {
        ptz_vector(w, "tptz:Position", pan, tilt, zoom)
    })
}

/// `tptz:RelativeMove` by a translation in the generic space.
pub fn ptz_relative_move(profile: &str, pan: f64, tilt: f64, zoom: f64) -> Request {
    ptz_request("RelativeMove", profile, |w| {
        ptz_vector(w, "tptz:Translation", pan, tilt, zoom)
    })
}

/// `tptz:GotoPreset`.
pub fn ptz_goto_preset(profile: &str, preset: &str) -> Request {
    ptz_request("GotoPreset", profile, |w| {
        w.leaf("tptz:PresetToken", preset);
    })
}

/// `tptz:GetPresets`.
pub fn ptz_get_presets(profile: &str) -> Request {
    ptz_request("GetPresets", profile, |_| {})
}

/// `tptz:GetStatus`.
pub fn ptz_get_status(profile: &str) -> Request {
    ptz_request("GetStatus", profile, |_| {})
}

/// `tds:SendAuxiliaryCommand` (device service), e.g. `tt:Wiper|On`.
pub fn send_auxiliary_command(command: &str) -> Request {
    let mut w = XmlWriter::new();
    w.start("tds:SendAuxiliaryCommand", &[("xmlns:tds", NS_TDS)])
        .leaf("tds:AuxiliaryCommand", command)
        .end("tds:SendAuxiliaryCommand");
    request(NS_TDS, "SendAuxiliaryCommand", w.finish())
}

/// `tmd:GetDigitalInputs` (DeviceIO). Its soapAction is spelled with a lower-case `io`
/// in the WSDL, unlike the namespace (`onvif-reference.md` §15 item 1).
pub fn get_digital_inputs() -> Request {
    let mut w = XmlWriter::new();
    w.empty("tmd:GetDigitalInputs", &[("xmlns:tmd", NS_TMD)]);
    Request {
        operation: "GetDigitalInputs",
        action: "http://www.onvif.org/ver10/deviceio/wsdl/GetDigitalInputs".into(),
        body: w.finish(),
    }
}

/// `tds:GetRelayOutputs` (device service: present on every device with relays).
pub fn get_relay_outputs() -> Request {
    empty("tds", NS_TDS, "GetRelayOutputs")
}

/// `tds:SetRelayOutputState`.
pub fn set_relay_output_state(token: &str, active: bool) -> Request {
    let mut w = XmlWriter::new();
    w.start("tds:SetRelayOutputState", &[("xmlns:tds", NS_TDS)])
        .leaf("tds:RelayOutputToken", token)
        .leaf(
            "tds:LogicalState",
            if active { "active" } else { "inactive" },
        )
        .end("tds:SetRelayOutputState");
    request(NS_TDS, "SetRelayOutputState", w.finish())
}

/// A pan/tilt/zoom position.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PtzPosition {
    pub pan: f64,
    pub tilt: f64,
    pub zoom: f64,
}

fn position_of(el: Option<&Element>) -> Option<PtzPosition> {
    let el = el?;
    let f = |e: Option<&Element>, a: &str| {
        e.and_then(|e| e.attr(a))
            .and_then(|v| v.parse::<f64>().ok())
    };
    let pt = el.child(NS_TT, "PanTilt");
    let z = el.child(NS_TT, "Zoom");
    Some(PtzPosition {
        pan: f(pt, "x").unwrap_or(0.0),
        tilt: f(pt, "y").unwrap_or(0.0),
        zoom: f(z, "x").unwrap_or(0.0),
    })
}

/// A PTZ preset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preset {
    pub token: String,
    pub name: String,
    pub position: Option<PtzPosition>,
}

/// The presets of `GetPresetsResponse`.
pub fn parse_presets(el: &Element) -> Result<Vec<Preset>, ParseError> {
    let el = expect(el, NS_TPTZ, "GetPresetsResponse")?;
    Ok(el
        .children_named(NS_TPTZ, "Preset")
        .map(|p| Preset {
            token: p.attr("token").unwrap_or_default().to_string(),
            name: p
                .child(NS_TT, "Name")
                .map(|n| n.text().to_string())
                .unwrap_or_default(),
            position: position_of(p.child(NS_TT, "PTZPosition")),
        })
        .collect())
}

/// What `GetStatusResponse` says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PtzStatus {
    pub position: Option<PtzPosition>,
    pub pan_tilt_status: String,
    pub zoom_status: String,
    pub utc_time: String,
}

pub fn parse_ptz_status(el: &Element) -> Result<PtzStatus, ParseError> {
    let el = expect(el, NS_TPTZ, "GetStatusResponse")?;
    let st = el.child(NS_TPTZ, "PTZStatus").ok_or("no PTZStatus")?;
    let mv = st.child(NS_TT, "MoveStatus");
    let text = |e: Option<&Element>| e.map(|e| e.text().to_string()).unwrap_or_default();
    Ok(PtzStatus {
        position: position_of(st.child(NS_TT, "Position")),
        pan_tilt_status: text(mv.and_then(|m| m.child(NS_TT, "PanTilt"))),
        zoom_status: text(mv.and_then(|m| m.child(NS_TT, "Zoom"))),
        utc_time: text(st.child(NS_TT, "UtcTime")),
    })
}

/// The answer of `SendAuxiliaryCommandResponse`.
pub fn parse_aux_response(el: &Element) -> Result<String, ParseError> {
    let el = expect(el, NS_TDS, "SendAuxiliaryCommandResponse")?;
    Ok(el
        .child(NS_TDS, "AuxiliaryCommandResponse")
        .map(|e| e.text().to_string())
        .unwrap_or_default())
}

/// `(token, idle state)` of each input of `GetDigitalInputsResponse`.
pub fn parse_digital_inputs(el: &Element) -> Result<Vec<(String, String)>, ParseError> {
    let el = expect(el, NS_TMD, "GetDigitalInputsResponse")?;
    Ok(el
        .children_named(NS_TMD, "DigitalInputs")
        .map(|d| {
            (
                d.attr("token").unwrap_or_default().to_string(),
                d.attr("IdleState").unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// A relay output of `GetRelayOutputsResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayOutput {
    pub token: String,
    pub mode: String,
    pub delay_time: String,
    pub idle_state: String,
}

pub fn parse_relay_outputs(el: &Element) -> Result<Vec<RelayOutput>, ParseError> {
    let el = expect(el, NS_TDS, "GetRelayOutputsResponse")?;
    Ok(el
        .children_named(NS_TDS, "RelayOutputs")
        .map(|r| {
            let p = r.child(NS_TT, "Properties");
            let t = |n: &str| {
                p.and_then(|p| p.child(NS_TT, n))
                    .map(|e| e.text().to_string())
                    .unwrap_or_default()
            };
            RelayOutput {
                token: r.attr("token").unwrap_or_default().to_string(),
                mode: t("Mode"),
                delay_time: t("DelayTime"),
                idle_state: t("IdleState"),
            }
        })
        .collect())
}

#[cfg(test)]
mod control_tests {
    use super::*;
    use crate::proto::onvif::xml;

    use crate::proto::onvif::shared_example as example;

    #[test]
    fn test_durations_and_coordinates() {
        assert_eq!(duration_ms(2000), "PT2S");
        assert_eq!(duration_ms(2500), "PT2.500S");
        assert_eq!(coord(0.5), "0.5");
        assert_eq!(coord(-0.0), "0");
        assert_eq!(coord(f64::NAN), "0");
        assert_eq!(coord(1.0), "1");
    }

    /// Same elements, namespaces, attributes and text, whatever the prefixes, namespace
    /// declarations and indentation.
    fn same(a: &Element, b: &Element) -> bool {
        a.ns == b.ns
            && a.name == b.name
            && a.attrs == b.attrs
            && a.text() == b.text()
            && a.children.len() == b.children.len()
            && a.children.iter().zip(&b.children).all(|(x, y)| same(x, y))
    }

    #[test]
    fn test_requests_match_shared_examples() {
        let Some(ex) = example("ptz-ContinuousMove.req.xml") else {
            return;
        };
        let built = |r: Request| xml::parse(r.body.as_bytes()).unwrap();
        assert!(same(
            &built(ptz_continuous_move("Profile_1", 0.5, 0.0, 0.0, 2000)),
            &ex
        ));
        assert!(same(
            &built(ptz_stop("Profile_1")),
            &example("ptz-Stop.req.xml").unwrap()
        ));
        assert!(same(
            &built(set_relay_output_state("RelayOutput_1", true)),
            &example("device-SetRelayOutputState.req.xml").unwrap()
        ));
        assert!(same(
            &built(send_auxiliary_command("tt:Wiper|On")),
            &example("device-SendAuxiliaryCommand.req.xml").unwrap()
        ));
        assert!(!same(
            &built(ptz_stop("Profile_2")),
            &example("ptz-Stop.req.xml").unwrap()
        ));
    }

    #[test]
    fn test_parse_control_answers() {
        let Some(el) = example("ptz-GetStatus.resp.xml") else {
            return;
        };
        let st = parse_ptz_status(&el).unwrap();
        assert_eq!(
            st.position,
            Some(PtzPosition {
                pan: 0.3,
                tilt: -0.2,
                zoom: 0.0
            })
        );
        assert_eq!(
            (st.pan_tilt_status.as_str(), st.zoom_status.as_str()),
            ("IDLE", "IDLE")
        );
        let p = parse_presets(&example("ptz-GetPresets.resp.xml").unwrap()).unwrap();
        assert_eq!((p[0].token.as_str(), p[0].name.as_str()), ("1", "Gate"));
        let d =
            parse_digital_inputs(&example("deviceio-GetDigitalInputs.resp.xml").unwrap()).unwrap();
        assert_eq!(
            d,
            vec![
                ("DigitalInput_1".into(), "open".into()),
                ("DigitalInput_2".into(), "closed".into())
            ]
        );
        let r = parse_relay_outputs(&example("device-GetRelayOutputs.resp.xml").unwrap()).unwrap();
        assert_eq!(r[0].token, "RelayOutput_1");
        assert_eq!(
            (r[0].mode.as_str(), r[0].idle_state.as_str()),
            ("Monostable", "open")
        );
        assert_eq!(
            parse_aux_response(&example("device-SendAuxiliaryCommand.resp.xml").unwrap()).unwrap(),
            "tt:Wiper|On"
        );
    }
}
