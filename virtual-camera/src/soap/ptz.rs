// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The PTZ service (`tptz`): moves, presets and the position, on the profiles' one PTZ
//! node.

use super::{Call, Op, Parsed, camera_now, fault, no_profile, ok, profile};
use crate::http::Response;

pub(super) const PATH: &str = "/onvif/ptz_service";
pub(super) const NS: &str = "http://www.onvif.org/ver20/ptz/wsdl";

/// Every PTZ operation names a profile: one the camera does not have is a fault.
macro_rules! on_profile {
    ($name:literal, $f:ident) => {
        Op::now(PATH, NS, $name, |c| {
            if profile(c).is_none() {
                return no_profile("No such profile");
            }
            $f(c)
        })
    };
}

pub(super) const OPS: &[Op] = &[
    on_profile!("ContinuousMove", continuous_move),
    on_profile!("Stop", stop),
    on_profile!("AbsoluteMove", absolute_move),
    on_profile!("RelativeMove", relative_move),
    on_profile!("GotoPreset", goto_preset),
    on_profile!("GetPresets", get_presets),
    on_profile!("GetStatus", get_status),
];

fn continuous_move(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let p = c.p;
    let v = ptz_vector(p, "Velocity");
    let timeout = p.text("Timeout").and_then(crate::state::parse_duration);
    shared.state.lock().unwrap().ptz.continuous(v, timeout);
    ptz_ok("ContinuousMoveResponse")
}

fn stop(c: &Call<'_>) -> Response {
    let shared = c.shared;
    shared.state.lock().unwrap().ptz.stop();
    ptz_ok("StopResponse")
}

fn absolute_move(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let p = c.p;
    let to = ptz_vector(p, "Position");
    shared.state.lock().unwrap().ptz.absolute(to);
    ptz_ok("AbsoluteMoveResponse")
}

fn relative_move(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let p = c.p;
    let by = ptz_vector(p, "Translation");
    shared.state.lock().unwrap().ptz.relative(by);
    ptz_ok("RelativeMoveResponse")
}

fn goto_preset(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let p = c.p;
    let token = p.text("PresetToken").unwrap_or("");
    match crate::state::PRESETS.iter().find(|(t, ..)| *t == token) {
        Some((_, _, pos)) => {
            shared.state.lock().unwrap().ptz.absolute(*pos);
            ptz_ok("GotoPresetResponse")
        }
        None => fault(
            400,
            "s:Sender",
            &["ter:InvalidArgVal", "ter:NoToken"],
            "No such preset",
        ),
    }
}

fn get_presets(_: &Call<'_>) -> Response {
    let mut s = String::from(
        "<tptz:GetPresetsResponse xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\">",
    );
    for (t, name, (x, y, z)) in crate::state::PRESETS {
        s.push_str(&format!(
            "<tptz:Preset token=\"{t}\"><tt:Name>{name}</tt:Name><tt:PTZPosition><tt:PanTilt x=\"{x}\" y=\"{y}\"/><tt:Zoom x=\"{z}\"/></tt:PTZPosition></tptz:Preset>"
        ));
    }
    s.push_str("</tptz:GetPresetsResponse>");
    ok(&s)
}

fn get_status(c: &Call<'_>) -> Response {
    let shared = c.shared;
    let ptz = &shared.state.lock().unwrap().ptz;
    let (x, y, z) = ptz.position();
    let mv = if ptz.moving() { "MOVING" } else { "IDLE" };
    let t = camera_now(shared);
    ok(&format!(
        "<tptz:GetStatusResponse xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\"><tptz:PTZStatus>\
         <tt:Position><tt:PanTilt x=\"{x:.4}\" y=\"{y:.4}\"/><tt:Zoom x=\"{z:.4}\"/></tt:Position>\
         <tt:MoveStatus><tt:PanTilt>{mv}</tt:PanTilt><tt:Zoom>{mv}</tt:Zoom></tt:MoveStatus>\
         <tt:UtcTime>{}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>",
        crate::events::fmt_time(t)
    ))
}

/// `(pan, tilt, zoom)` of a PTZ vector element (`Velocity`, `Position`, `Translation`);
/// absent parts are 0.
fn ptz_vector(p: &Parsed, root: &str) -> (f64, f64, f64) {
    let pan_tilt = format!("{root}/PanTilt");
    (
        p.attr(&pan_tilt, "x").unwrap_or(0.0),
        p.attr(&pan_tilt, "y").unwrap_or(0.0),
        p.attr(&format!("{root}/Zoom"), "x").unwrap_or(0.0),
    )
}

/// The empty answer of a PTZ command.
fn ptz_ok(element: &str) -> Response {
    ok(&format!(
        "<tptz:{element} xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\"/>"
    ))
}
