// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The action signals of spec §8 and the structures they return. Each signal blocks its
//! caller while the element's control client talks to the camera
//! ([`OnvifHttpsSrc::control`], at the end of this file).

use std::sync::{Arc, Mutex, PoisonError};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::imp::OnvifHttpsSrc;
use crate::client::onvif::control::{Answer, Command, Control};
use crate::error::Error;
use crate::log::CAT;
use crate::runtime;

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
    p: Option<crate::proto::onvif::ops::PtzPosition>,
) -> gst::structure::Builder {
    match p {
        Some(p) => b
            .field("pan", p.pan)
            .field("tilt", p.tilt)
            .field("zoom", p.zoom),
        None => b,
    }
}

fn presets_structure(p: &[crate::proto::onvif::ops::Preset]) -> gst::Structure {
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

fn status_structure(st: &crate::proto::onvif::ops::PtzStatus) -> gst::Structure {
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

pub(super) type SignalWaits = Mutex<Vec<Arc<Mutex<runtime::Canceller>>>>;

/// Takes a signal's canceller off the list when the signal returns, however it returns.
struct Unregister<'a>(&'a SignalWaits, Arc<Mutex<runtime::Canceller>>);

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|c| !Arc::ptr_eq(c, &self.1));
    }
}

impl OnvifHttpsSrc {
    /// Runs one action-signal command, blocking the caller up to a bound. Failures post a
    /// warning with the cause and give `None`.
    pub(super) fn control(&self, signal: &str, cmd: Command) -> Option<Answer> {
        // A panic must not unwind through GLib's C marshaller: FALSE/NULL and a warning.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.control_inner(signal, cmd)
        })) {
            Ok(answer) => answer,
            Err(payload) => {
                let msg = runtime::panic_message(payload.as_ref());
                let obj = self.obj();
                gst::error!(CAT, imp = self, "{signal} panicked: {msg}");
                let _ = obj.post_message(
                    gst::message::Warning::builder(
                        gst::LibraryError::Failed,
                        &format!("{signal}: internal error ({msg}), please report this"),
                    )
                    .src(&*obj)
                    .build(),
                );
                None
            }
        }
    }

    fn control_inner(&self, signal: &str, cmd: Command) -> Option<Answer> {
        let obj = self.obj();
        if obj.current_state() < gst::State::Ready {
            let _ = obj.post_message(
                gst::message::Warning::builder(
                    gst::CoreError::StateChange,
                    &format!("{signal}: the element must be in READY or above"),
                )
                .src(&*obj)
                .build(),
            );
            return None;
        }
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let start = match settings.start_settings(&obj) {
            Ok((mut start, _)) => {
                // Counted in the `stats` of the start under way, if any.
                if let Some(w) = self
                    .watched
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_ref()
                {
                    start.stats = w.stats.clone();
                }
                start
            }
            Err(e) => {
                let _ = obj.post_message(e.warning_message(obj.upcast_ref(), signal));
                return None;
            }
        };
        // Start-up plus the call, each exchange bounded by `timeout`.
        let bound = start.timeout * 8;
        // The device, never the location as written (it may hold user:password@).
        let peer = format!(
            "{}:{}",
            start.location.host_str().unwrap_or(""),
            start.location.port_or_known_default().unwrap_or(0)
        );
        let slot = self.control.clone();
        let stale = self.control_stale.clone();
        let weak = obj.downgrade();
        // Registered so that going to NULL cancels the wait (the caller blocks on it).
        let canceller = Arc::new(Mutex::new(runtime::Canceller::default()));
        self.signal_waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(canceller.clone());
        let _unregister = Unregister(&self.signal_waits, canceller.clone());
        // Going to NULL between the READY check above and the registration: give up now.
        if obj.pending_state() == gst::State::Null || obj.current_state() < gst::State::Ready {
            return None;
        }
        let work = async move {
            crate::runtime::maybe_panic("signal", &start.location);
            let mut guard = slot.lock().await;
            if stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
                *guard = None;
            }
            if guard.is_none() {
                let warn = |w: &str| {
                    if let Some(e) = weak.upgrade() {
                        gst::element_imp_warning!(
                            e.imp(),
                            gst::ResourceError::Settings,
                            ("{}", w),
                            ["{}", w]
                        );
                    }
                };
                *guard = Some(Control::connect(&start, &warn).await?);
            }
            let Some(ctl) = guard.as_mut() else {
                unreachable!("set above");
            };
            let r = ctl.execute(cmd).await;
            // A broken connection is rebuilt on the next call.
            if matches!(
                r,
                Err(Error::Io { .. }
                    | Error::TimedOut { .. }
                    | Error::Connect { .. }
                    | Error::Tls { .. })
            ) {
                *guard = None;
            }
            r
        };
        let work = crate::log::as_element(obj.upcast_ref(), work);
        let res = runtime::wait(&canceller, Some(bound), work);
        match res {
            Ok(a) => Some(a),
            Err(runtime::WaitError::Failed(e)) => {
                gst::warning!(CAT, imp = self, "{signal}: {e}");
                let _ = obj.post_message(e.warning_message(obj.upcast_ref(), signal));
                None
            }
            Err(runtime::WaitError::TimedOut) => {
                let e = crate::error::Context::new(peer, signal).timed_out(bound);
                let _ = obj.post_message(e.warning_message(obj.upcast_ref(), signal));
                None
            }
            Err(runtime::WaitError::Cancelled) => None,
        }
    }
}
