// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The action signals of spec §8 and the structures they return. Each signal blocks its
//! caller while the element's control client talks to the camera (`imp::control`).

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use crate::control::{Answer, Command};

/// Every action signal of the element.
pub(super) fn list() -> Vec<glib::subclass::Signal> {
    use glib::subclass::Signal;
    fn imp(args: &[glib::Value]) -> super::OnvifHttpsSrc {
        args[0].get::<super::OnvifHttpsSrc>().expect("signal arg")
    }
    fn f(args: &[glib::Value], i: usize) -> f64 {
        args[i].get::<f64>().expect("signal arg")
    }
    fn done(a: Option<Answer>) -> glib::Value {
        matches!(a, Some(Answer::Done)).to_value()
    }
    let d = f64::static_type();
    vec![
        /**
         * GstOnvifHttpsSrc::ptz-continuous-move:
         * @pan: pan velocity, -1..1
         * @tilt: tilt velocity, -1..1
         * @zoom: zoom velocity, -1..1
         * @timeout_ms: the camera stops by itself after this (0: no timeout)
         *
         * Starts a continuous move (ONVIF PTZ ContinuousMove). Returns TRUE when the
         * camera accepted it; FALSE with a warning message otherwise.
         */
        Signal::builder("ptz-continuous-move")
            .param_types([d, d, d, u32::static_type()])
            .return_type::<bool>()
            .action()
            .class_handler(|args| {
                let cmd = Command::ContinuousMove {
                    pan: f(args, 1),
                    tilt: f(args, 2),
                    zoom: f(args, 3),
                    timeout_ms: args[4].get::<u32>().expect("signal arg"),
                };
                Some(done(imp(args).imp().control("ptz-continuous-move", cmd)))
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::ptz-stop:
         *
         * Stops pan, tilt and zoom (ONVIF PTZ Stop).
         */
        Signal::builder("ptz-stop")
            .return_type::<bool>()
            .action()
            .class_handler(|args| Some(done(imp(args).imp().control("ptz-stop", Command::Stop))))
            .build(),
        /**
         * GstOnvifHttpsSrc::ptz-absolute-move:
         * @pan: -1..1
         * @tilt: -1..1
         * @zoom: 0..1
         *
         * Moves to a position in the generic space (ONVIF PTZ AbsoluteMove).
         */
        Signal::builder("ptz-absolute-move")
            .param_types([d, d, d])
            .return_type::<bool>()
            .action()
            .class_handler(|args| {
                let cmd = Command::AbsoluteMove { pan: f(args, 1), tilt: f(args, 2), zoom: f(args, 3) };
                Some(done(imp(args).imp().control("ptz-absolute-move", cmd)))
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::ptz-relative-move:
         * @pan: -1..1
         * @tilt: -1..1
         * @zoom: -1..1
         *
         * Moves by a translation in the generic space (ONVIF PTZ RelativeMove).
         */
        Signal::builder("ptz-relative-move")
            .param_types([d, d, d])
            .return_type::<bool>()
            .action()
            .class_handler(|args| {
                let cmd = Command::RelativeMove { pan: f(args, 1), tilt: f(args, 2), zoom: f(args, 3) };
                Some(done(imp(args).imp().control("ptz-relative-move", cmd)))
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::ptz-goto-preset:
         * @token: the preset token (from ptz-get-presets)
         *
         * Moves to a preset (ONVIF PTZ GotoPreset).
         */
        Signal::builder("ptz-goto-preset")
            .param_types([String::static_type()])
            .return_type::<bool>()
            .action()
            .class_handler(|args| {
                let token = args[1].get::<Option<String>>().expect("signal arg").unwrap_or_default();
                Some(done(imp(args).imp().control("ptz-goto-preset", Command::GotoPreset(token))))
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::ptz-get-presets:
         *
         * Returns `onvif-ptz-presets, presets=<preset, token=, name=, pan=, tilt=, zoom=>`,
         * or NULL with a warning message.
         */
        Signal::builder("ptz-get-presets")
            .return_type::<Option<gst::Structure>>()
            .action()
            .class_handler(|args| {
                let s = match imp(args).imp().control("ptz-get-presets", Command::GetPresets) {
                    Some(Answer::Presets(p)) => Some(presets_structure(&p)),
                    _ => None,
                };
                Some(s.to_value())
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::ptz-get-status:
         *
         * Returns `onvif-ptz-status, pan=, tilt=, zoom=, pan-tilt-status=,
         * zoom-status=, utc-time=`, or NULL with a warning message.
         */
        Signal::builder("ptz-get-status")
            .return_type::<Option<gst::Structure>>()
            .action()
            .class_handler(|args| {
                let s = match imp(args).imp().control("ptz-get-status", Command::GetStatus) {
                    Some(Answer::Status(st)) => Some(status_structure(&st)),
                    _ => None,
                };
                Some(s.to_value())
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::send-aux-command:
         * @command: e.g. `tt:Wiper|On`, `tt:IRLamp|Auto`
         *
         * Sends an auxiliary command (device service SendAuxiliaryCommand); returns
         * the camera's answer, or NULL with a warning message.
         */
        Signal::builder("send-aux-command")
            .param_types([String::static_type()])
            .return_type::<Option<String>>()
            .action()
            .class_handler(|args| {
                let c = args[1].get::<Option<String>>().expect("signal arg").unwrap_or_default();
                let r = match imp(args).imp().control("send-aux-command", Command::Aux(c)) {
                    Some(Answer::Aux(a)) => Some(a),
                    _ => None,
                };
                Some(r.to_value())
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::get-digital-inputs:
         *
         * Returns `onvif-digital-inputs, inputs=<input, token=, idle-state=>`, or NULL
         * with a warning message. State changes arrive as `onvif-event` messages.
         */
        Signal::builder("get-digital-inputs")
            .return_type::<Option<gst::Structure>>()
            .action()
            .class_handler(|args| {
                let s = match imp(args).imp().control("get-digital-inputs", Command::GetDigitalInputs) {
                    Some(Answer::Inputs(i)) => Some(list_structure(
                        "onvif-digital-inputs",
                        "inputs",
                        i.iter().map(|(t, idle)| {
                            gst::Structure::builder("input").field("token", t).field("idle-state", idle).build()
                        }),
                    )),
                    _ => None,
                };
                Some(s.to_value())
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::get-relay-outputs:
         *
         * Returns `onvif-relay-outputs, relays=<relay, token=, mode=, delay-time=,
         * idle-state=>`, or NULL with a warning message.
         */
        Signal::builder("get-relay-outputs")
            .return_type::<Option<gst::Structure>>()
            .action()
            .class_handler(|args| {
                let s = match imp(args).imp().control("get-relay-outputs", Command::GetRelayOutputs) {
                    Some(Answer::Relays(r)) => Some(list_structure(
                        "onvif-relay-outputs",
                        "relays",
                        r.iter().map(|r| {
                            gst::Structure::builder("relay")
                                .field("token", &r.token)
                                .field("mode", &r.mode)
                                .field("delay-time", &r.delay_time)
                                .field("idle-state", &r.idle_state)
                                .build()
                        }),
                    )),
                    _ => None,
                };
                Some(s.to_value())
            })
            .build(),
        /**
         * GstOnvifHttpsSrc::set-relay-output-state:
         * @token: the relay output token
         * @active: TRUE for active, FALSE for inactive
         *
         * Sets a relay output (device service SetRelayOutputState).
         */
        Signal::builder("set-relay-output-state")
            .param_types([String::static_type(), bool::static_type()])
            .return_type::<bool>()
            .action()
            .class_handler(|args| {
                let token = args[1].get::<Option<String>>().expect("signal arg").unwrap_or_default();
                let active = args[2].get::<bool>().expect("signal arg");
                Some(done(imp(args).imp().control(
                    "set-relay-output-state",
                    Command::SetRelayOutputState { token, active },
                )))
            })
            .build(),
    ]
}

fn position_fields(
    b: gst::structure::Builder,
    p: Option<crate::onvif::ops::PtzPosition>,
) -> gst::structure::Builder {
    match p {
        Some(p) => b
            .field("pan", p.pan)
            .field("tilt", p.tilt)
            .field("zoom", p.zoom),
        None => b,
    }
}

fn presets_structure(p: &[crate::onvif::ops::Preset]) -> gst::Structure {
    list_structure(
        "onvif-ptz-presets",
        "presets",
        p.iter().map(|p| {
            position_fields(
                gst::Structure::builder("preset")
                    .field("token", &p.token)
                    .field("name", &p.name),
                p.position,
            )
            .build()
        }),
    )
}

fn status_structure(st: &crate::onvif::ops::PtzStatus) -> gst::Structure {
    position_fields(gst::Structure::builder("onvif-ptz-status"), st.position)
        .field("pan-tilt-status", &st.pan_tilt_status)
        .field("zoom-status", &st.zoom_status)
        .field("utc-time", &st.utc_time)
        .build()
}

/// `name, field=<s1, s2, ...>`: a structure holding an array of structures.
fn list_structure(
    name: &str,
    field: &str,
    items: impl Iterator<Item = gst::Structure>,
) -> gst::Structure {
    let array = gst::Array::new(items.map(|s| s.to_send_value()));
    gst::Structure::builder(name).field(field, array).build()
}
