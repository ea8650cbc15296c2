// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Every property spec has a nick, a blurb, the documented default and `mutable_ready`.

mod common;

use gst::glib;
use gst::prelude::*;

#[test]
fn test_every_property_documented_with_default() {
    common::init();
    let e = gst::ElementFactory::make("onvifhttpssrc").build().unwrap();
    let expected: &[(&str, glib::Value)] = &[
        ("location", None::<String>.to_value()),
        ("user-id", None::<String>.to_value()),
        ("user-pw", None::<String>.to_value()),
        ("https-enable", true.to_value()),
        ("https-port", 0u32.to_value()),
        ("https-validate-certificate", true.to_value()),
        ("https-validate-hostname", true.to_value()),
        ("tls-ca-file", None::<String>.to_value()),
        ("tls-certificate-sha256", None::<String>.to_value()),
        (
            "streaming-method",
            gstonvifhttps::StreamingMethod::RtpRtspHttpTcp.to_value(),
        ),
        ("streams", gstonvifhttps::Streams::VIDEO.to_value()),
        ("backchannel", gstonvifhttps::Backchannel::None.to_value()),
        ("mode", gstonvifhttps::Mode::Live.to_value()),
        ("recording-token", None::<String>.to_value()),
        ("playback-start", None::<String>.to_value()),
        ("playback-end", None::<String>.to_value()),
        ("playback-speed", 1.0f64.to_value()),
        ("events", false.to_value()),
        ("profile", None::<String>.to_value()),
        ("snapshot-interval", 1000u32.to_value()),
        ("timeout", 10u32.to_value()),
        ("latency", 200u32.to_value()),
        ("reconnect", true.to_value()),
        ("reconnect-max-delay", 30u32.to_value()),
    ];
    let own: Vec<glib::ParamSpec> = e
        .list_properties()
        .iter()
        .filter(|p| p.owner_type() == e.type_())
        .cloned()
        .collect();
    let names: Vec<&str> = own.iter().map(|p| p.name()).collect();
    let want: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, want, "the property list of this version");
    for (p, (name, default)) in own.iter().zip(expected) {
        assert!(!p.nick().is_empty() && p.nick() != p.name(), "{name}: nick");
        assert!(p.blurb().is_some_and(|b| b.len() > 10), "{name}: blurb");
        assert!(
            p.flags().contains(gst::PARAM_FLAG_MUTABLE_READY),
            "{name}: mutable in READY only"
        );
        assert!(
            p.flags().contains(glib::ParamFlags::READWRITE),
            "{name}: readwrite"
        );
        let spec_default = p.default_value();
        let current = e.property_value(name);
        match default.get::<Option<String>>() {
            Ok(d) => {
                assert_eq!(
                    spec_default.get::<Option<String>>().unwrap(),
                    d,
                    "{name}: spec default"
                );
                assert_eq!(
                    current.get::<Option<String>>().unwrap(),
                    d,
                    "{name}: initial value"
                );
            }
            Err(_) => {
                assert_eq!(
                    format!("{spec_default:?}"),
                    format!("{default:?}"),
                    "{name}: spec default"
                );
                assert_eq!(
                    format!("{current:?}"),
                    format!("{default:?}"),
                    "{name}: initial value"
                );
            }
        }
    }
}

#[test]
fn test_values_round_trip_and_bad_location_refused() {
    common::init();
    let e = gst::ElementFactory::make("onvifhttpssrc").build().unwrap();
    e.set_property("location", "https://[::1]:8443/onvif/device_service");
    assert_eq!(
        e.property::<Option<String>>("location").as_deref(),
        Some("https://[::1]:8443/onvif/device_service")
    );
    e.set_property("location", "rtsp://192.0.2.1/");
    assert_eq!(
        e.property::<Option<String>>("location").as_deref(),
        Some("https://[::1]:8443/onvif/device_service"),
        "an unsupported scheme is refused and the old value kept"
    );
    e.set_property_from_str("streaming-method", "http-snapshot");
    assert_eq!(
        e.property::<gstonvifhttps::StreamingMethod>("streaming-method"),
        gstonvifhttps::StreamingMethod::HttpSnapshot
    );
    e.set_property("https-port", 8443u32);
    assert_eq!(e.property::<u32>("https-port"), 8443);
}

#[test]
fn test_pad_templates() {
    common::init();
    let f = gst::ElementFactory::find("onvifhttpssrc").unwrap();
    let names: Vec<String> = f
        .static_pad_templates()
        .iter()
        .map(|t| format!("{}:{:?}", t.name_template(), t.presence()))
        .collect();
    assert_eq!(
        names,
        [
            "video_%u:Sometimes",
            "audio_%u:Sometimes",
            "metadata_%u:Sometimes"
        ]
    );
}
