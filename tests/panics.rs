// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A panic inside the element (injected through the test-only hook) is never silence: a
//! session task's panic is an error message (LIBRARY/FAILED naming the task) and an action
//! signal's is FALSE/NULL with a warning, never an unwind through GLib.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

fn props(cam: &Camera, ca: &TempFile, extra: &[(&str, &dyn ToValue)]) -> Run {
    let loc = cam.http_url();
    let ca = ca.as_str().to_string();
    let mut p: Vec<(&str, &dyn ToValue)> = vec![
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("tls-ca-file", &ca),
        ("timeout", &5u32),
    ];
    p.extend_from_slice(extra);
    Run::new(&p)
}

#[track_caller]
fn assert_library_failed(out: &Outcome, task: &str) {
    let (e, debug) = out.error.as_ref().expect("an error message");
    assert_eq!(
        e.kind::<gst::LibraryError>(),
        Some(gst::LibraryError::Failed),
        "{e} {debug}"
    );
    assert!(
        e.message().contains(&format!("the {task} task panicked")),
        "{}",
        e.message()
    );
    assert!(
        e.message().contains("panic injected by a test"),
        "{}",
        e.message()
    );
}

#[test]
fn test_a_panicking_media_session_is_an_error() {
    init();
    let (cam, ca) = camera(Config::default());
    gstonvifhttps::testing::panic_in("media", &format!("127.0.0.1:{}", cam.http_port()));
    let run = props(&cam, &ca, &[]);
    let out = run.expect_error(WAIT);
    assert_library_failed(&out, "media session");
}

#[test]
fn test_a_panicking_event_task_is_an_error() {
    init();
    let (cam, ca) = camera(Config::default());
    gstonvifhttps::testing::panic_in("events", &format!("127.0.0.1:{}", cam.http_port()));
    let run = props(&cam, &ca, &[("events", &true)]);
    let out = run.expect_error(WAIT);
    assert_library_failed(&out, "event");
}

#[test]
fn test_a_panicking_signal_returns_false_with_a_warning() {
    init();
    let (cam, ca) = camera(Config::default());
    gstonvifhttps::testing::panic_in("signal", &format!("127.0.0.1:{}", cam.http_port()));
    let loc = cam.http_url();
    let ca = ca.as_str().to_string();
    let src = make_src(&[
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("tls-ca-file", &ca),
    ]);
    let pipeline = gst::Pipeline::new();
    pipeline.add(&src).unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    assert!(!src.emit_by_name::<bool>("ptz-stop", &[]));
    assert!(
        src.emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[])
            .is_none()
    );
    let bus = pipeline.bus().unwrap();
    let mut warnings = Vec::new();
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Warning]) {
        if let gst::MessageView::Warning(w) = msg.view() {
            warnings.push(w.error());
        }
    }
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    for w in &warnings {
        assert_eq!(
            w.kind::<gst::LibraryError>(),
            Some(gst::LibraryError::Failed)
        );
        assert!(w.message().contains("internal error"), "{}", w.message());
    }
    pipeline.set_state(gst::State::Null).unwrap();
}
