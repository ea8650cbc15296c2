// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `onvifdeviceprovider` (issue 26 point 3) against the virtual camera's WS-Discovery
//! target, by unicast Probes to 127.0.0.1 (a test never probes another network): the
//! camera is listed with what its ProbeMatch says, and the element the device creates
//! plays it once given credentials, which discovery never carries.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

#[test]
fn test_the_provider_lists_the_camera_and_its_element_plays() {
    init();
    let (cam, ca) = camera(Config::default());
    let provider = gst::DeviceProviderFactory::by_name("onvifdeviceprovider").expect("registered");
    assert_eq!(provider.metadata("klass"), Some("Source/Network"));
    // Nothing answers: an empty list within the probe's bound, not a hang. (One provider
    // per process: GStreamer keeps it, so both cases are in this one test.)
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    provider.set_property(
        "targets",
        format!("127.0.0.1:{}", silent.local_addr().unwrap().port()),
    );
    let began = std::time::Instant::now();
    assert_eq!(provider.devices().len(), 0);
    assert!(began.elapsed() < Duration::from_secs(5));

    provider.set_property("targets", format!("127.0.0.1:{}", cam.discovery_port()));
    // Not started: probe() runs a bounded discovery.
    let began = std::time::Instant::now();
    let devices: Vec<gst::Device> = provider.devices().into_iter().collect();
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(devices.len(), 1);
    let d = &devices[0];
    assert_eq!(d.display_name(), "Virtual Camera");
    assert_eq!(d.device_class(), "Source/Network");
    let props = d.properties().expect("properties");
    let https = format!(
        "https://127.0.0.1:{}/onvif/device_service",
        cam.https_port()
    );
    assert_eq!(props.get::<&str>("onvif.location").unwrap(), https);
    assert_eq!(props.get::<&str>("onvif.hardware").unwrap(), "virtual");
    assert_eq!(props.get::<&str>("onvif.profiles").unwrap(), "Streaming T");
    assert!(
        props
            .get::<&str>("onvif.endpoint")
            .unwrap()
            .starts_with("urn:uuid:")
    );
    // Three Probe shapes, sent twice: each answered, one device all the same.
    assert_eq!(cam.probes_answered(), 6);

    // Started (gst-device-monitor's way): the camera comes as DEVICE_ADDED on the
    // provider's bus, and goes when it stops.
    let bus = provider.bus();
    provider.start().expect("started");
    let added = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(10),
            &[gst::MessageType::DeviceAdded],
        )
        .expect("a device added");
    let gst::MessageView::DeviceAdded(added) = added.view() else {
        unreachable!()
    };
    assert_eq!(added.device().display_name(), "Virtual Camera");
    provider.stop();
    assert_eq!(provider.devices().len(), 1, "not started: a probe again");

    let src = d.create_element(Some("found")).expect("an element");
    assert_eq!(src.factory().unwrap().name(), "onvifhttpssrc");
    assert_eq!(
        src.property::<Option<String>>("location").as_deref(),
        Some(https.as_str())
    );
    assert_eq!(
        src.property::<Option<String>>("user-id"),
        None,
        "no credentials"
    );
    src.set_property("user-id", "admin");
    src.set_property("user-pw", "password");
    src.set_property("tls-ca-file", ca.as_str());
    let pipeline = gst::Pipeline::new();
    let sink = gst_app::AppSink::builder().sync(false).build();
    pipeline.add_many([&src, sink.upcast_ref()]).unwrap();
    let sink_pad = sink.static_pad("sink").unwrap();
    src.connect_pad_added(move |_, pad| {
        let _ = pad.link(&sink_pad);
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    assert_eq!(pull(&sink, 5, Duration::from_secs(20)), 5);
    null_within_a_second(&pipeline);
}
