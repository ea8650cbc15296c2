// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The action signals of spec §8 (PTZ, aux commands, digital inputs, relay outputs) change
//! the virtual camera's state as asked, from READY upwards; failures give FALSE/NULL and a
//! warning message with the cause.

mod common;

use common::*;
use gst::prelude::*;

struct Ready {
    pipeline: gst::Pipeline,
    src: gst::Element,
}

impl Ready {
    fn new(cam: &Camera, ca: &TempFile) -> Ready {
        let loc = cam.http_url();
        let ca = ca.as_str().to_string();
        let src = make_src(&[
            ("location", &loc),
            ("user-id", &"admin"),
            ("user-pw", &"password"),
            ("tls-ca-file", &ca),
            ("timeout", &5u32),
        ]);
        let pipeline = gst::Pipeline::new();
        pipeline.add(&src).unwrap();
        pipeline.set_state(gst::State::Ready).unwrap();
        Ready { pipeline, src }
    }

    fn warnings(&self) -> Vec<(glib::Error, String)> {
        let bus = self.pipeline.bus().unwrap();
        let mut out = Vec::new();
        while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Warning]) {
            if let gst::MessageView::Warning(w) = msg.view() {
                out.push((
                    w.error(),
                    w.debug().map(|d| d.to_string()).unwrap_or_default(),
                ));
            }
        }
        out
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

use gst::glib;

fn close(a: (f64, f64, f64), b: (f64, f64, f64)) -> bool {
    (a.0 - b.0).abs() < 1e-3 && (a.1 - b.1).abs() < 1e-3 && (a.2 - b.2).abs() < 1e-3
}

#[test]
fn test_ptz_signals_move_the_camera() {
    let (cam, ca) = camera(Config::default());
    let r = Ready::new(&cam, &ca);
    assert!(
        r.src
            .emit_by_name::<bool>("ptz-absolute-move", &[&0.3f64, &0.2f64, &0.5f64])
    );
    assert!(
        close(cam.ptz_position(), (0.3, 0.2, 0.5)),
        "{:?}",
        cam.ptz_position()
    );
    assert!(
        r.src
            .emit_by_name::<bool>("ptz-relative-move", &[&0.1f64, &-0.1f64, &0.0f64])
    );
    assert!(
        close(cam.ptz_position(), (0.4, 0.1, 0.5)),
        "{:?}",
        cam.ptz_position()
    );

    let status = r
        .src
        .emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[])
        .expect("status");
    assert_eq!(status.name(), "onvif-ptz-status");
    assert!(
        (status.get::<f64>("pan").unwrap() - 0.4).abs() < 1e-3,
        "{status}"
    );
    assert_eq!(status.get::<&str>("pan-tilt-status").unwrap(), "IDLE");

    let presets = r
        .src
        .emit_by_name::<Option<gst::Structure>>("ptz-get-presets", &[])
        .expect("presets");
    let list = presets.get::<gst::Array>("presets").unwrap();
    let names: Vec<String> = list
        .iter()
        .map(|v| {
            v.get::<gst::Structure>()
                .unwrap()
                .get::<String>("name")
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["Gate", "Door"]);
    assert!(r.src.emit_by_name::<bool>("ptz-goto-preset", &[&"2"]));
    assert!(
        close(cam.ptz_position(), (-0.5, 0.1, 0.5)),
        "{:?}",
        cam.ptz_position()
    );

    assert!(r.src.emit_by_name::<bool>(
        "ptz-continuous-move",
        &[&1.0f64, &0.0f64, &0.0f64, &60_000u32]
    ));
    assert!(cam.ptz_moving(), "moving after ContinuousMove");
    assert!(r.src.emit_by_name::<bool>("ptz-stop", &[]));
    assert!(!cam.ptz_moving(), "stopped after Stop");
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
}

#[test]
fn test_relays_aux_and_inputs() {
    let (cam, ca) = camera(Config::default());
    let r = Ready::new(&cam, &ca);
    let relays = r
        .src
        .emit_by_name::<Option<gst::Structure>>("get-relay-outputs", &[])
        .expect("relays");
    let tokens: Vec<String> = relays
        .get::<gst::Array>("relays")
        .unwrap()
        .iter()
        .map(|v| {
            v.get::<gst::Structure>()
                .unwrap()
                .get::<String>("token")
                .unwrap()
        })
        .collect();
    assert_eq!(tokens, ["RelayOutput_1", "RelayOutput_2"]);
    assert_eq!(cam.relay_active("RelayOutput_1"), Some(false));
    assert!(
        r.src
            .emit_by_name::<bool>("set-relay-output-state", &[&"RelayOutput_1", &true])
    );
    assert_eq!(cam.relay_active("RelayOutput_1"), Some(true));
    assert!(
        r.src
            .emit_by_name::<bool>("set-relay-output-state", &[&"RelayOutput_1", &false])
    );
    assert_eq!(cam.relay_active("RelayOutput_1"), Some(false));

    assert_eq!(
        r.src
            .emit_by_name::<Option<String>>("send-aux-command", &[&"tt:Wiper|On"])
            .as_deref(),
        Some("tt:Wiper|On")
    );
    assert_eq!(cam.aux_commands(), ["tt:Wiper|On"]);

    let inputs = r
        .src
        .emit_by_name::<Option<gst::Structure>>("get-digital-inputs", &[])
        .expect("inputs");
    let first = inputs
        .get::<gst::Array>("inputs")
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .get::<gst::Structure>()
        .unwrap();
    assert_eq!(first.get::<&str>("token").unwrap(), "DigitalInput_1");
    assert_eq!(first.get::<&str>("idle-state").unwrap(), "open");
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
}

#[test]
fn test_failures_give_false_or_null_and_a_warning_with_the_fault() {
    let (cam, ca) = camera(Config::default());
    let r = Ready::new(&cam, &ca);
    assert!(
        !r.src
            .emit_by_name::<bool>("set-relay-output-state", &[&"NoSuchRelay", &true])
    );
    assert_eq!(
        r.src
            .emit_by_name::<Option<String>>("send-aux-command", &[&"tt:Teleport|Now"]),
        None
    );
    assert!(!r.src.emit_by_name::<bool>("ptz-goto-preset", &[&"99"]));
    let w = r.warnings();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(
        w[0].0.message().contains("set-relay-output-state")
            && w[0].0.message().contains("ter:RelayToken"),
        "{w:?}"
    );
    assert!(
        w[1].0.message().contains("ter:AuxiliaryDataNotSupported"),
        "{w:?}"
    );
    assert!(w[2].0.message().contains("ter:NoToken"), "{w:?}");
    assert_eq!(
        w[2].0.kind::<gst::ResourceError>(),
        Some(gst::ResourceError::OpenRead)
    );
    assert_eq!(
        cam.relay_active("RelayOutput_1"),
        Some(false),
        "nothing changed"
    );
}

#[test]
fn test_signals_need_ready() {
    init();
    let (cam, _ca) = camera(Config::default());
    let loc = cam.http_url();
    let src = make_src(&[("location", &loc)]);
    let pipeline = gst::Pipeline::new();
    pipeline.add(&src).unwrap();
    assert!(!src.emit_by_name::<bool>("ptz-stop", &[]), "NULL: refused");
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .pop_filtered(&[gst::MessageType::Warning])
        .expect("a warning");
    let gst::MessageView::Warning(w) = msg.view() else {
        unreachable!()
    };
    assert!(
        w.error().message().contains("READY"),
        "{}",
        w.error().message()
    );
    assert_eq!(
        cam.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

/// An action signal blocked on a device that accepts and never answers returns FALSE as
/// soon as the element goes to NULL (its wait used to have a canceller nobody could reach).
#[test]
fn test_going_to_null_cancels_a_blocked_signal() {
    init();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loc = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let src = make_src(&[
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("timeout", &30u32),
    ]);
    let pipeline = gst::Pipeline::new();
    pipeline.add(&src).unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let emitter = src.clone();
    std::thread::spawn(move || {
        let answered = emitter.emit_by_name::<bool>("ptz-stop", &[]);
        let _ = tx.send(answered);
    });
    // The signal is blocked once its request reached the silent device.
    let (_conn, _) = listener.accept().unwrap();
    let start = std::time::Instant::now();
    pipeline.set_state(gst::State::Null).unwrap();
    let answered = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the signal returned");
    assert!(!answered);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}
