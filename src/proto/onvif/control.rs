// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The operations of the action signals: PTZ (ver20), the auxiliary command and DeviceIO
//! (inputs, relays): request bodies and answer parsers, as in [`super::ops`].

use super::ops::{NS_TDS, NS_TT, ParseError, Request, empty, expect, request};
use super::soap::XmlWriter;
use super::xml::Element;

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
