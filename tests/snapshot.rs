// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `http-snapshot` end to end against the virtual camera, with every check on.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

const PW: &str = "password";

fn assert_jpeg_run(out: &Outcome, n: usize) {
    assert!(
        out.error.is_none(),
        "no error expected: {}",
        out.error_text()
    );
    assert_eq!(out.samples.len(), n, "buffer count");
    assert_eq!(
        out.pad_names,
        vec!["video_0".to_string()],
        "one video_0 pad"
    );
    let caps = out.samples[0].caps().expect("caps").to_owned();
    let s = caps.structure(0).unwrap();
    assert_eq!(s.name(), "image/jpeg");
    assert_eq!(s.get::<i32>("width").unwrap(), 320);
    assert_eq!(s.get::<i32>("height").unwrap(), 240);
    assert_eq!(
        s.get::<gst::Fraction>("framerate").unwrap(),
        gst::Fraction::new(10, 1)
    );
    let mut last = None;
    for sample in &out.samples {
        let buf = sample.buffer().unwrap();
        let map = buf.map_readable().unwrap();
        assert_eq!(&map[..2], &[0xFF, 0xD8], "JPEG start of image");
        let pts = buf.pts().expect("live buffers are timestamped");
        if let Some(prev) = last {
            assert!(pts > prev, "PTS increase: {prev} then {pts}");
        }
        last = Some(pts);
    }
}

/// The main path: `location=http://` (as a VMS adds a camera), clock and HTTPS port read
/// over HTTP, everything else over HTTPS with certificate and hostname checks on.
#[test]
fn test_snapshots_over_https_from_http_location() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let out = run.collect(3, Duration::from_secs(15));
    assert_jpeg_run(&out, 3);
    let first = out.samples[0]
        .buffer()
        .unwrap()
        .map_readable()
        .unwrap()
        .to_vec();
    let last = out.samples[2]
        .buffer()
        .unwrap()
        .map_readable()
        .unwrap()
        .to_vec();
    assert_ne!(first, last, "the camera's images change over time");
    drop(run);

    let heads = cam.stats.heads.lock().unwrap().clone();
    let plain: Vec<&String> = heads.iter().filter(|h| h.starts_with("http ")).collect();
    assert_eq!(
        plain.len(),
        3,
        "only GetSystemDateAndTime and GetNetworkProtocols (anonymous, then with a \
         PasswordDigest token) over plain HTTP: {heads:?}"
    );
    assert!(
        heads
            .iter()
            .any(|h| h.starts_with("https GET /onvif/snapshot?profile=Profile_1")),
        "{heads:?}"
    );
    let log = cam.stats.log.lock().unwrap().clone();
    assert_eq!(
        log[0],
        ("GetSystemDateAndTime".to_string(), "none".to_string())
    );
    // GetNetworkProtocols anonymously first; its authenticated retry is not refused:
    // the clock offset signs the first token.
    assert_eq!(
        log[1],
        ("GetNetworkProtocols".to_string(), "refused".to_string())
    );
    assert_eq!(log[2].0, "GetNetworkProtocols");
    assert_ne!(
        log[2].1, "refused",
        "the clock offset signs the first token"
    );
    assert_eq!(
        cam.stats
            .tls_handshakes
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "SOAP and snapshots share one keep-alive TLS connection"
    );
}

#[test]
fn test_snapshots_from_https_location_media1_only() {
    let (cam, ca) = camera(Config {
        device: Device {
            media2: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let out = run.collect(2, Duration::from_secs(15));
    assert_jpeg_run(&out, 2);
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(
        heads.iter().all(|h| h.starts_with("https ")),
        "nothing over plain HTTP: {heads:?}"
    );
    assert!(
        heads.iter().any(|h| h.contains("/onvif/media_service")),
        "{heads:?}"
    );
}

#[test]
fn test_digest_only_camera() {
    let (cam, ca) = camera(Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    assert_jpeg_run(&run.collect(2, Duration::from_secs(15)), 2);
    drop(run);
    let log = cam.stats.log.lock().unwrap().clone();
    assert_authenticated(&log, "GetProfiles", "digest");
}

#[test]
fn test_ws_security_only_camera_with_skewed_clock() {
    // One hour ahead: a token signed with the local clock would be refused.
    let (cam, ca) = camera(Config {
        device: Device {
            auth: AuthMode::WsSecurity,
            clock_skew_secs: 3600,
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    // Snapshots are Digest-protected on this camera too; SOAP is WS-Security only.
    assert_jpeg_run(&run.collect(2, Duration::from_secs(15)), 2);
    drop(run);
    let log = cam.stats.log.lock().unwrap().clone();
    // Only the anonymous GetNetworkProtocols (tried first) is refused; no token is.
    let refused: Vec<&str> = log
        .iter()
        .filter(|(op, m)| m == "refused" && op != "snapshot")
        .map(|(op, _)| op.as_str())
        .collect();
    assert_eq!(refused, ["GetNetworkProtocols"], "{log:?}");
    assert_eq!(
        log[2],
        ("GetNetworkProtocols".into(), "wsse".into()),
        "{log:?}"
    );
    assert_authenticated(&log, "GetProfiles", "wsse");
}

#[test]
fn test_profile_chosen_by_token() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[("profile", &"Profile_2")]);
    assert_jpeg_run(&run.collect(1, Duration::from_secs(15)), 1);
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .any(|h| h.ends_with("/onvif/snapshot?profile=Profile_2")),
        "{heads:?}"
    );
}

/// Going to NULL while the start-up is blocked on a silent device returns at once.
#[test]
fn test_null_while_device_silent_returns_fast() {
    init();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loc = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let run = Run::new(&[
        ("location", &loc),
        ("streaming-method", &"http-snapshot"),
        ("timeout", &30u32),
    ]);
    let out = run.collect(1, Duration::from_millis(300));
    assert!(out.error.is_none() && out.samples.is_empty());
    drop(run); // asserts NULL within one second
    drop(listener);
}

/// A user name with XML and header metacharacters survives the WS-Security envelope and
/// the Digest header (spec §5: built with an XML writer, never `format!`).
#[test]
fn test_user_name_with_markup_round_trips() {
    const USER: &str = r#"op<er&"ator"#;
    let (cam, ca) = camera(Config {
        device: Device {
            user: USER.into(),
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[("user-id", &USER)]);
    assert_jpeg_run(&run.collect(1, Duration::from_secs(15)), 1);
    drop(run);
    let log = cam.stats.log.lock().unwrap().clone();
    assert_authenticated(&log, "GetProfiles", "wsse");
    assert_authenticated(&log, "snapshot", "digest");
}

/// An application that sets NULL from inside its own tokio runtime must not make a nested
/// `block_on` panic, and NULL still returns at once.
#[test]
fn test_null_from_inside_a_tokio_runtime() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let out = run.collect(1, Duration::from_secs(15));
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let start = std::time::Instant::now();
        run.pipeline.set_state(gst::State::Null).unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
    });
}

/// Older firmware without GetServices (some Axis, quatanium/python-onvif PR #30): the
/// element falls back to GetCapabilities, which only knows Media1.
#[test]
fn test_get_capabilities_fallback() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            fault_on: Some("GetServices".into()),
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    assert_jpeg_run(&run.collect(1, Duration::from_secs(15)), 1);
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(
        heads.iter().any(|h| h.ends_with("/onvif/media_service")),
        "{heads:?}"
    );
    let ops: Vec<String> = cam
        .stats
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|(o, _)| o.clone())
        .collect();
    assert!(ops.contains(&"GetCapabilities".to_string()), "{ops:?}");
}

/// Media2 listed but broken: Media1 is used.
#[test]
fn test_media2_broken_falls_back_to_media1() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            fault_on: Some("GetProfiles".into()),
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let out = run.collect(1, Duration::from_secs(15));
    drop(run);
    // The camera faults every GetProfiles, so the fallback is tried and then fails.
    assert_eq!(
        out.resource_error(),
        Some(gst::ResourceError::OpenRead),
        "{}",
        out.error_text()
    );
    let heads = cam.stats.heads.lock().unwrap().clone();
    let profiles: Vec<&String> = heads.iter().filter(|h| h.contains("media")).collect();
    assert_eq!(profiles.len(), 2, "Media2 then Media1: {heads:?}");
    assert!(profiles[0].ends_with("/onvif/media2_service"), "{heads:?}");
    assert!(profiles[1].ends_with("/onvif/media_service"), "{heads:?}");
}

/// Asserts that the camera saw `operation` authenticated by `how` (`wsse`, `digest`, ...).
#[track_caller]
fn assert_authenticated(log: &[(String, String)], operation: &str, how: &str) {
    assert!(
        log.iter().any(|(op, m)| op == operation && m == how),
        "{operation} by {how} not in {log:?}"
    );
}
