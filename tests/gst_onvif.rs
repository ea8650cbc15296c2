// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `gst-onvif` (issue 26, point 4), run as a user runs it, against two vendor personas of
//! the virtual camera: its report says what the camera is and what the element does with
//! it, the same in text and in JSON; a refused certificate is reported with what each
//! check says; `--discover` lists the camera.

mod common;

use std::process::{Command, Output};

use common::*;
use onvif_virtual_camera::persona::Persona;

fn gst_onvif(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gst-onvif"))
        .args(args)
        .env_remove("GST_ONVIF_PASSWORD")
        .output()
        .expect("gst-onvif runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn persona(p: Persona) -> (Camera, TempFile) {
    let mut config = Config::default();
    p.apply(&mut config);
    camera(config)
}

/// Each line of `want` is a line of `report`, in that order.
fn assert_lines(report: &str, want: &[String]) {
    let mut lines = report.lines();
    for w in want {
        assert!(
            lines.any(|l| l == w),
            "no line {w:?} (in order) in:\n{report}"
        );
    }
}

/// The JSON report's `path` (keys and list indexes), read by Python's json module (a
/// parser we did not write), or `None` where python3 is missing.
fn json_field(json: &str, path: &str) -> Option<String> {
    let script = format!(
        "import json,sys\nv=json.load(sys.stdin)\nfor k in {path:?}.split('/'):\n    \
         v=v[int(k)] if isinstance(v,list) else v[k]\nprint(v)"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child
        .stdin
        .take()?
        .write_all(json.as_bytes())
        .expect("python reads");
    let out = child.wait_with_output().ok()?;
    assert!(
        out.status.success(),
        "python3 could not read {path}: {json}"
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn test_the_report_of_two_personas() {
    for (p, manufacturer, soap_auth, path) in [
        (
            Persona::Axis,
            "AXIS",
            "HTTP Digest",
            "/axis-media/media.amp?videocodec=h264&resolution=640x360",
        ),
        (
            Persona::Hikvision,
            "HIKVISION",
            "WS-UsernameToken",
            "/Streaming/Channels/101?transportmode=unicast&profile=Profile_1",
        ),
    ] {
        let (cam, ca) = persona(p);
        let loc = cam.http_url();
        let args = [
            loc.as_str(),
            "user-id=admin",
            "user-pw=password",
            &format!("tls-ca-file={}", ca.as_str()),
            "streams=video+audio",
        ];
        let out = gst_onvif(&args);
        let report = text(&out);
        assert!(out.status.success(), "{p:?}: {}\n{report}", out.status);
        let https = format!("127.0.0.1:{}", cam.https_port());
        assert_lines(
            &report,
            &[
                format!("location: {loc}"),
                "device:".into(),
                format!("  manufacturer: {manufacturer}"),
                "  serial: VC-0001".into(),
                "https:".into(),
                format!("  origin: {https}"),
                "  found: GetNetworkProtocols".into(),
                "certificate:".into(),
                "  subject: CN=127.0.0.1".into(),
                "  tls-version: TLSv1.3".into(),
                "  chain: passes".into(),
                "  hostname: passes".into(),
                "  pin: -".into(),
                "  accepted-by: chain".into(),
                format!("soap-auth: {soap_auth}"),
                "profiles:".into(),
                "    token: Profile_1".into(),
                "    video: H264".into(),
                "    resolution: 640x360".into(),
                "    chosen: yes".into(),
                "    token: Profile_2".into(),
                "    resolution: 320x240".into(),
                "transports:".into(),
                format!("  rtp-rtsp-http-tcp: {loc}{path}"),
                format!(
                    "  rtsps: rtsps://127.0.0.1:{}/media/Profile_1",
                    cam.rtsps_port().unwrap()
                ),
                "  secure-rtsp-streaming: yes".into(),
                "services:".into(),
                "  events: /onvif/event_service".into(),
                "  ptz: /onvif/ptz_service".into(),
                "media:".into(),
                "  transport: https-tunnel".into(),
                format!("  media-peer: {https}"),
                "  rtsp-auth: HTTP Digest".into(),
                "      name: video_0".into(),
                "      name: audio_0".into(),
                "warnings: none".into(),
            ],
        );
        let (_, fp) = fingerprints(&cam.identity_chain_pem());
        assert_lines(&report, &[format!("  sha256: {fp}")]);
        // The same in JSON, read by another parser.
        let mut json_args = vec!["--json", "--no-play"];
        json_args.extend_from_slice(&args);
        let out = gst_onvif(&json_args);
        assert!(out.status.success(), "{}", text(&out));
        let json = text(&out);
        let Some(m) = json_field(&json, "device/manufacturer") else {
            assert!(!tool_required(), "python3 is needed to read the JSON");
            eprintln!("skipped the JSON half: no python3");
            continue;
        };
        assert_eq!(m, manufacturer);
        assert_eq!(json_field(&json, "soap-auth").unwrap(), soap_auth);
        assert_eq!(json_field(&json, "profiles/1/token").unwrap(), "Profile_2");
        assert_eq!(json_field(&json, "certificate/chain").unwrap(), "passes");
        assert!(!json.contains("\"media\""), "--no-play: {json}");
        assert!(!json.contains("password"), "no password in the report");
    }
}

/// A camera whose certificate the element refuses: the report says why, and what each
/// check says on its own (the name is right, the chain is not); exit status 1.
#[test]
fn test_a_refused_certificate_is_reported_check_by_check() {
    let (cam, _ca) = camera(Config::default());
    let out = gst_onvif(&[&cam.http_url(), "user-id=admin", "user-pw=password"]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("error: The certificate of 127.0.0.1:")
            && report.contains("unknown issuer"),
        "{report}"
    );
    assert_lines(
        &report,
        &[
            "certificate:".into(),
            "  chain: refused: it is issued by an unknown authority (unknown issuer)".into(),
            "  hostname: passes".into(),
            "  accepted-by: -".into(),
        ],
    );
    assert!(!report.contains("media:"), "not played: {report}");
}

/// Usage errors say what is wrong, with status 2; `--discover` lists the camera by a
/// unicast Probe.
#[test]
fn test_usage_and_discover() {
    let out = gst_onvif(&["http://127.0.0.1:1", "no-such-property=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no property \"no-such-property\""));
    let out = gst_onvif(&["http://127.0.0.1:1", "stats=x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    let out = gst_onvif(&[]);
    assert_eq!(out.status.code(), Some(2));

    let (cam, _ca) = camera(Config::default());
    let out = gst_onvif(&["--discover", &format!("127.0.0.1:{}", cam.discovery_port())]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert_lines(
        &report,
        &[
            "-".into(),
            "  name: Virtual Camera".into(),
            "  hardware: virtual".into(),
            format!(
                "  location: https://127.0.0.1:{}/onvif/device_service",
                cam.https_port()
            ),
        ],
    );
}

/// The password from `GST_ONVIF_PASSWORD`, taken as written (a password in quotes is not
/// unquoted as GStreamer's value parser would), reaches the camera and appears nowhere in
/// what gst-onvif prints.
#[test]
fn test_the_password_from_the_environment_is_used_and_never_printed() {
    let password = "\"p@ss\"";
    let (cam, ca) = camera(Config {
        device: Device {
            password: password.into(),
            ..Device::default()
        },
        ..Config::default()
    });
    for json in [false, true] {
        let mut args = vec![];
        if json {
            args.push("--json".to_string());
        }
        args.extend([
            cam.http_url(),
            "user-id=admin".into(),
            format!("tls-ca-file={}", ca.as_str()),
        ]);
        let out = Command::new(env!("CARGO_BIN_EXE_gst-onvif"))
            .args(&args)
            .env("GST_ONVIF_PASSWORD", password)
            .output()
            .expect("gst-onvif runs");
        let (stdout, stderr) = (
            text(&out),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "{stdout}{stderr}");
        assert!(stdout.contains("HTTP Digest") || stdout.contains("WS-UsernameToken"));
        assert!(
            !stdout.contains("p@ss") && !stderr.contains("p@ss"),
            "{stdout}{stderr}"
        );
    }
}
