// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Security review: the password must appear nowhere the element writes: not in a bus
//! message (error, warning, element message), not in a debug line at any level up to
//! MEMDUMP, not in an action signal's timeout error, whichever way the credentials were
//! given. The log test turns this process's debug log up to MEMDUMP, and checks on the way
//! that every line of ours names its element.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use gst::prelude::*;

const SECRET: &str = "s3cr3t-Pa55";

fn no_secret(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} holds the password: {text}");
    // Percent-encoded, base64 of user:password, or as a Basic header.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("admin:{SECRET}"));
    assert!(
        !text.contains(&b64),
        "{what} holds user:password in base64: {text}"
    );
}

#[test]
fn test_the_password_is_never_written() {
    init();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    gst::log::remove_default_log_function();
    gst::log::set_default_threshold(gst::DebugLevel::Memdump);
    let anonymous: Arc<Mutex<Vec<String>>> = Arc::default();
    let nameless = anonymous.clone();
    gst::log::add_log_function(move |cat, level, file, func, line, obj, msg| {
        if let Some(m) = msg.get() {
            let text = format!("{} {level:?} {file}:{line} {func}: {m}", cat.name());
            if cat.name() == "onvifhttpssrc" && obj.is_none() {
                nameless.lock().unwrap().push(text.clone());
            }
            sink.lock().unwrap().push(text);
        }
    });
    let (cam, ca) = camera(Config {
        device: Device {
            password: SECRET.into(),
            ..Device::default()
        },
        quirks: Quirks {
            rtsp_basic: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let ca = ca.as_str().to_string();
    let mut messages = Vec::new();
    // Credentials in the URI, over the tunnel (Basic inside verified TLS) and snapshots,
    // with events; then a wrong location port, so that errors name the device.
    for (loc, extra) in [
        (
            format!("http://admin:{SECRET}@127.0.0.1:{}", cam.http_port()),
            vec![("events", true)],
        ),
        (
            format!("https://admin:{SECRET}@127.0.0.1:{}", cam.https_port()),
            vec![],
        ),
    ] {
        let mut props: Vec<(&str, &dyn ToValue)> = vec![
            ("location", &loc),
            ("tls-ca-file", &ca),
            ("streams", &"video+audio+metadata"),
            ("timeout", &3u32),
        ];
        for (k, v) in &extra {
            props.push((k, v));
        }
        let run = MultiRun::new(&props);
        let out = run.collect(&["video_0", "audio_0"], 20, Duration::from_secs(20));
        assert!(out.error.is_none(), "{}", out.error_text());
        messages.extend(out.warnings.clone());
        messages.extend(out.elements.iter().map(|s| s.to_string()));
        // The reported URI and the location property are read back without the password.
        let uri = run
            .src
            .property::<Option<String>>("location")
            .unwrap_or_default();
        messages.push(format!("location property: {uri}"));
        // An action signal that times out names the device, never the location.
        run.src.set_property("timeout", 1u32);
        let _ = run.src.emit_by_name::<bool>("ptz-stop", &[]);
    }
    // A failing start: the error and its debug text.
    let loc = format!("http://admin:{SECRET}@127.0.0.1:1");
    let run = Run::new(&[("location", &loc), ("tls-ca-file", &ca), ("timeout", &2u32)]);
    let out = run.expect_error(Duration::from_secs(20));
    messages.push(out.error_text());
    drop(run);
    for m in &messages {
        no_secret("a bus message", m);
    }
    let lines = lines.lock().unwrap().clone();
    let ours: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("onvifhttpssrc "))
        .collect();
    assert!(
        ours.len() > 100,
        "debug lines were captured: {}",
        ours.len()
    );
    for l in &lines {
        no_secret("a debug line", l);
    }
    // Issue 13 point 5: with 256 cameras in one process, a line that names no element
    // cannot be told apart. Every line of ours names its element (the session's tasks
    // run as the element's work: `crate::log::as_element`).
    let anonymous = anonymous.lock().unwrap().clone();
    assert!(
        anonymous.is_empty(),
        "{} of {} lines name no element, e.g.:\n{}",
        anonymous.len(),
        ours.len(),
        anonymous[..anonymous.len().min(10)].join("\n")
    );
}

#[test]
fn test_start_settings_debug_hides_the_location_password() {
    let s = gstonvifhttps::testing::device::StartSettings {
        location: format!("http://admin:{SECRET}@192.0.2.1:8080/onvif/device_service")
            .parse()
            .unwrap(),
        creds: Some(gstonvifhttps::testing::auth::Credentials {
            user: "admin".into(),
            password: SECRET.into(),
        }),
        https_enable: true,
        https_port: 0,
        tls: None,
        profile: None,
        timeout: Duration::from_secs(1),
        wants: gstonvifhttps::testing::device::Wants {
            video: true,
            audio: false,
            metadata: false,
        },
        boot: Default::default(),
        stats: Default::default(),
    };
    let text = format!("{s:?}");
    no_secret("StartSettings' Debug", &text);
    assert!(text.contains("192.0.2.1:8080"), "{text}");
}

/// Issue 23 point 6: with `GST_DEBUG_DUMP_DOT_DIR` set, gst-launch wrote `user-pw="..."`
/// into every pipeline graph. `user-pw` is write-only, no readable property holds the
/// password, and a graph of a pipeline with credentials has none.
#[test]
fn test_no_readable_property_and_no_graph_holds_the_password() {
    init();
    let src = make_src(&[
        (
            "location",
            &format!("http://admin:{SECRET}@192.0.2.1:8080/onvif/device_service"),
        ),
        ("user-id", &"admin"),
        ("user-pw", &SECRET),
    ]);
    let pspec = src.find_property("user-pw").expect("user-pw");
    assert!(
        !pspec.flags().contains(gst::glib::ParamFlags::READABLE),
        "user-pw is write-only"
    );
    assert!(pspec.flags().contains(gst::glib::ParamFlags::WRITABLE));
    for p in src.list_properties() {
        if p.flags().contains(gst::glib::ParamFlags::READABLE) {
            let v = src.property_value(p.name());
            let text = v
                .serialize()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| format!("{v:?}"));
            no_secret(&format!("property {}", p.name()), &text);
        }
    }
    let pipeline = gst::Pipeline::new();
    pipeline.add(&src).unwrap();
    let dot = pipeline.debug_to_dot_data(gst::DebugGraphDetails::all());
    assert!(dot.contains("onvifhttpssrc"), "a graph of the pipeline");
    no_secret("the pipeline graph", &dot);
}
