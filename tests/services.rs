// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Services a device lists under the wrong namespace, or not at all in GetServices
//! (issue 22 point 3): PTZ, DeviceIO, events, recording, search, replay and Media2 are
//! still found, under the misfiled namespace or through GetCapabilities, with a debug
//! line saying which.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gst::prelude::*;
use gstonvifhttps::testing::device;
use gstonvifhttps::testing::edge;
use gstonvifhttps::testing::runtime::RUNTIME;
use onvif_virtual_camera::ServiceListing;

const WAIT: Duration = Duration::from_secs(20);

fn listing(l: ServiceListing) -> Config {
    Config {
        quirks: Quirks {
            service_listing: l,
            ..Quirks::default()
        },
        ..Config::default()
    }
}

/// An element in READY on `cam` (the signals' state), with `extra` properties.
fn ready(
    cam: &Camera,
    ca: &TempFile,
    extra: &[(&str, &dyn ToValue)],
) -> (gst::Pipeline, gst::Element) {
    let loc = cam.http_url();
    let ca = ca.as_str().to_string();
    let mut props: Vec<(&str, &dyn ToValue)> = vec![
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("tls-ca-file", &ca),
        ("timeout", &5u32),
    ];
    props.extend_from_slice(extra);
    let src = make_src(&props);
    let pipeline = gst::Pipeline::new();
    pipeline.add(&src).unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    (pipeline, src)
}

/// PTZ and DeviceIO through the action signals.
fn signals_work(l: ServiceListing) {
    let (cam, ca) = camera(listing(l));
    let (pipeline, src) = ready(&cam, &ca, &[]);
    assert!(
        src.emit_by_name::<bool>("ptz-absolute-move", &[&0.3f64, &0.2f64, &0.5f64]),
        "{l:?}: PTZ found"
    );
    let status = src
        .emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[])
        .unwrap_or_else(|| panic!("{l:?}: PTZ status"));
    assert!(
        (status.get::<f64>("pan").unwrap() - 0.3).abs() < 1e-3,
        "{status}"
    );
    let inputs = src.emit_by_name::<Option<gst::Structure>>("get-digital-inputs", &[]);
    assert!(inputs.is_some(), "{l:?}: DeviceIO found");
    pipeline.set_state(gst::State::Null).unwrap();
    let ops = camera_ops(&cam);
    let capabilities = ops.iter().filter(|o| *o == "GetCapabilities").count();
    match l {
        // Misfiled: found in GetServices, no GetCapabilities needed.
        ServiceListing::Misfiled => assert_eq!(capabilities, 0, "{ops:?}"),
        // Unlisted: GetCapabilities read once for both services.
        _ => assert_eq!(capabilities, 1, "{ops:?}"),
    }
}

#[test]
fn test_misfiled_ptz_and_deviceio_are_found() {
    signals_work(ServiceListing::Misfiled);
}

#[test]
fn test_unlisted_ptz_and_deviceio_come_from_getcapabilities() {
    signals_work(ServiceListing::Unlisted);
}

/// `events=true` subscribes at the event service wherever it was found.
fn events_arrive(l: ServiceListing) {
    let (cam, ca) = camera(Config {
        device: Device {
            input_period: Some(Duration::from_millis(300)),
            ..Device::default()
        },
        ..listing(l)
    });
    let (pipeline, src) = ready(
        &cam,
        &ca,
        &[("events", &true), ("streaming-method", &"http-snapshot")],
    );
    // The snapshots go to a sink: an unlinked pad would stop the element.
    let sink = gst::ElementFactory::make("fakesink").build().unwrap();
    pipeline.add(&sink).unwrap();
    let sink_pad = sink.static_pad("sink").unwrap();
    src.connect_pad_added(move |_, pad| {
        let _ = pad.link(&sink_pad);
    });
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let end = Instant::now() + WAIT;
    let mut event = None;
    while event.is_none() && Instant::now() < end {
        let Some(msg) = bus.timed_pop_filtered(
            gst::ClockTime::from_mseconds(100),
            &[gst::MessageType::Element, gst::MessageType::Error],
        ) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Element(e)
                if e.structure().is_some_and(|s| s.name() == "onvif-event") =>
            {
                event = e.structure().map(|s| s.to_owned());
            }
            gst::MessageView::Error(e) => panic!("{l:?}: {} ({:?})", e.error(), e.debug()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(event.is_some(), "{l:?}: an onvif-event within {WAIT:?}");
}

#[test]
fn test_misfiled_event_service_is_found() {
    events_arrive(ServiceListing::Misfiled);
}

#[test]
fn test_unlisted_event_service_comes_from_getcapabilities() {
    events_arrive(ServiceListing::Unlisted);
}

/// Edge storage: recording control, search and replay wherever they were found, and the
/// media service used (Media2 when it is listed, even misfiled).
fn edge_and_media(l: ServiceListing, media2: bool) {
    init();
    let (cam, ca) = camera(listing(l));
    let settings = start_settings(&cam, &ca);
    let (media2_used, target) = RUNTIME.block_on(async {
        let mut started = device::start(&settings, &|_| {}).await.expect("started");
        let t = edge::find_replay(&mut started.client, &mut started.services, None)
            .await
            .expect("replay target");
        (started.media.media2, t)
    });
    assert_eq!(media2_used, media2, "{l:?}");
    assert_eq!(target.recording.token, "Recording_1", "{l:?}");
    assert_eq!(
        target.recording.earliest,
        Some(cam.archive().earliest()),
        "{l:?}: the span from the search service"
    );
    assert!(
        target.uri.contains("/onvif-replay/Recording_1"),
        "{l:?}: {}",
        target.uri
    );
}

#[test]
fn test_misfiled_edge_services_and_media2_are_found() {
    edge_and_media(ServiceListing::Misfiled, true);
}

#[test]
fn test_unlisted_edge_services_come_from_getcapabilities() {
    edge_and_media(ServiceListing::Unlisted, true);
}

/// The debug line says what was used.
#[test]
fn test_a_debug_line_names_the_namespace_used() {
    init();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = lines.clone();
    gst::log::set_threshold_for_name("onvifhttpssrc", gst::DebugLevel::Debug);
    gst::log::set_active(true);
    let f = gst::log::add_log_function(move |_cat, _lvl, _file, _fn, _line, _obj, msg| {
        if let Some(m) = msg.get()
            && m.contains("service is")
        {
            l.lock().unwrap().push(m.to_string());
        }
    });
    let (cam, ca) = camera(listing(ServiceListing::Misfiled));
    let (pipeline, src) = ready(&cam, &ca, &[]);
    assert!(
        src.emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[])
            .is_some()
    );
    pipeline.set_state(gst::State::Null).unwrap();
    let (cam2, ca2) = camera(listing(ServiceListing::Unlisted));
    let (pipeline, src) = ready(&cam2, &ca2, &[]);
    assert!(
        src.emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[])
            .is_some()
    );
    pipeline.set_state(gst::State::Null).unwrap();
    gst::log::remove_log_function(f);
    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|m| m.contains(
            "the PTZ service is listed under \"http://www.onvif.org/ver10/ptz/wsdl\", not \
             http://www.onvif.org/ver20/ptz/wsdl: using /onvif/ptz_service"
        )),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|m| m.contains(
            "the PTZ service is not in GetServices (http://www.onvif.org/ver20/ptz/wsdl); \
             GetCapabilities gives /onvif/ptz_service"
        )),
        "{lines:?}"
    );
}
