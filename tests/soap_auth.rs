// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! SOAP authentication against strict and odd devices (`docs/rtsp-urls-and-vendors.md`
//! §3): every shape of refusal of an anonymous PRE_AUTH request is retried once with
//! credentials, the method that worked is kept for the device's later calls, and a
//! refusal of credentials reads as RESOURCE/NOT_AUTHORIZED in the device's own words.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;
use onvif_virtual_camera::Refusal;

const PW: &str = "password";
const WAIT: Duration = Duration::from_secs(15);

/// `(operation, method)` pairs of the SOAP requests the camera logged: the method is
/// `none`, `wsse`, `digest` or `refused` (snapshot GETs left out).
fn camera_log(cam: &Camera) -> Vec<(String, String)> {
    let log = cam.stats.log.lock().unwrap().clone();
    log.into_iter().filter(|(op, _)| op != "snapshot").collect()
}

/// Snapshots from a camera with `config` and the right password: three JPEGs, no error.
fn snapshots_work(config: Config) -> Camera {
    let (cam, ca) = camera(config);
    let loc = cam.https_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let out = run.collect(2, WAIT);
    assert!(out.error.is_none(), "no error: {}", out.error_text());
    assert_eq!(out.samples.len(), 2, "two snapshots");
    drop(run);
    cam
}

/// The refusals of a device built on a third-party ONVIF server library: HTTP 500
/// `env:Sender` with free text and no subcode, also for GetSystemDateAndTime.
fn library_device() -> Config {
    Config {
        device: Device {
            auth: AuthMode::WsSecurity,
            ..Device::default()
        },
        quirks: Quirks {
            strict_pre_auth: true,
            anonymous_refusal: Some(Refusal::fault(
                500,
                "env:Sender",
                None,
                "WS-Security header required but not provided",
            )),
            credentials_refusal: Some(Refusal::fault(
                500,
                "env:Sender",
                None,
                "Authentication failed",
            )),
            ..Quirks::default()
        },
        ..Config::default()
    }
}

#[test]
fn test_http_500_sender_refusal_is_retried_with_credentials() {
    let cam = snapshots_work(library_device());
    let log = camera_log(&cam);
    // One anonymous try, refused; then credentials on every call, PRE_AUTH ones too.
    assert_eq!(
        log[..2],
        [
            ("GetSystemDateAndTime".to_string(), "refused".to_string()),
            ("GetSystemDateAndTime".to_string(), "wsse".to_string()),
        ],
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|(_, m)| m == "refused").count(),
        1,
        "the refusal is remembered: {log:?}"
    );
    assert!(
        log.iter().any(|(op, m)| op == "GetServices" && m == "wsse"),
        "{log:?}"
    );
}

#[test]
fn test_http_500_sender_wrong_password_is_not_authorized() {
    let (cam, out) = snapshot_failure(library_device(), true, "wrong", &[]);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &[
            "GetSystemDateAndTime",
            "Authentication failed",
            "to our credentials (WS-UsernameToken)",
            "check user-id and user-pw",
        ],
    );
    let log = camera_log(&cam);
    assert_eq!(
        log,
        vec![
            ("GetSystemDateAndTime".to_string(), "refused".to_string()),
            ("GetSystemDateAndTime".to_string(), "refused".to_string()),
        ],
        "one anonymous try and one with credentials"
    );
}

/// A device that wants WS-Security on everything and answers HTTP 401 with a SOAP fault
/// `s:Receiver` "Sender not authorized" and no `WWW-Authenticate`.
fn no_challenge_401() -> Config {
    let r = Refusal::fault(401, "s:Receiver", None, "Sender not authorized");
    Config {
        device: Device {
            auth: AuthMode::WsSecurity,
            ..Device::default()
        },
        quirks: Quirks {
            strict_pre_auth: true,
            anonymous_refusal: Some(r.clone()),
            credentials_refusal: Some(r),
            ..Quirks::default()
        },
        ..Config::default()
    }
}

#[test]
fn test_401_without_challenge_is_retried_with_ws_security() {
    let cam = snapshots_work(no_challenge_401());
    let log = camera_log(&cam);
    assert_eq!(log[0], ("GetSystemDateAndTime".into(), "refused".into()));
    assert_eq!(log[1], ("GetSystemDateAndTime".into(), "wsse".into()));
}

#[test]
fn test_401_without_challenge_wrong_password_names_the_device() {
    let (_cam, out) = snapshot_failure(no_challenge_401(), true, "wrong", &[]);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &[
            "GetSystemDateAndTime",
            "HTTP 401, SOAP fault s:Receiver (Sender not authorized) to our credentials",
        ],
    );
}

/// Hikvision: HTTP 401 with an HTML page and a Digest challenge, GetSystemDateAndTime
/// included.
#[test]
fn test_html_401_with_challenge_uses_digest() {
    let config = Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        quirks: Quirks {
            strict_pre_auth: true,
            anonymous_refusal: Some(Refusal::html(401, true)),
            ..Quirks::default()
        },
        ..Config::default()
    };
    let cam = snapshots_work(config.clone());
    let log = camera_log(&cam);
    assert_eq!(log[0], ("GetSystemDateAndTime".into(), "refused".into()));
    assert_eq!(log[1], ("GetSystemDateAndTime".into(), "digest".into()));
    assert!(log[2..].iter().all(|(_, m)| m == "digest"), "{log:?}");

    let (_cam, out) = snapshot_failure(config, true, "wrong", &[]);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &["GetSystemDateAndTime", "HTTP 401", "(HTTP Digest)"],
    );
}

/// Dahua: a wrong token is HTTP 400 `ter:NotAuthorized` with a free text.
#[test]
fn test_http_400_not_authorized_wrong_password() {
    let config = Config {
        device: Device {
            auth: AuthMode::WsSecurity,
            ..Device::default()
        },
        quirks: Quirks {
            strict_pre_auth: true,
            anonymous_refusal: Some(Refusal::html(403, false)),
            credentials_refusal: Some(Refusal::fault(
                400,
                "env:Sender",
                Some("ter:NotAuthorized"),
                "Sender not Authorized. Invalid username or password! You still have 24 attempt(s).",
            )),
            ..Quirks::default()
        },
        ..Config::default()
    };
    let cam = snapshots_work(config.clone());
    assert_eq!(
        camera_log(&cam)[..2],
        [
            ("GetSystemDateAndTime".to_string(), "refused".to_string()),
            ("GetSystemDateAndTime".to_string(), "wsse".to_string()),
        ]
    );
    let (_cam, out) = snapshot_failure(config, true, "wrong", &[]);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &["You still have 24 attempt(s)", "ter:NotAuthorized"],
    );
}

/// A refused anonymous GetSystemDateAndTime leaves the clock unknown: the token's
/// `Created` comes from the refusal's Date header, so a camera an hour off still accepts
/// the first authenticated request.
#[test]
fn test_clock_from_the_refusal_date_header() {
    let config = Config {
        device: Device {
            clock_skew_secs: 3600,
            ..Device::default()
        },
        ..library_device()
    };
    let cam = snapshots_work(config);
    let log = camera_log(&cam);
    assert_eq!(
        log.iter().filter(|(_, m)| m == "refused").count(),
        1,
        "{log:?}"
    );
}

/// The same element without credentials: the refusal says none were set.
#[test]
fn test_refusal_without_credentials_says_so() {
    let (cam, ca) = camera(library_device());
    let loc = cam.https_url();
    let mut props = snapshot_props(&loc, &ca, PW);
    props.retain(|(k, _)| *k != "user-id" && *k != "user-pw");
    let run = run_with(props, &[]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &["WS-Security header required", "no user-id/user-pw set"],
    );
}

/// A plain fault to an anonymous PRE_AUTH request that is no refusal at all still costs
/// only one retry, and a device that accepts anonymous calls is never sent credentials for
/// its PRE_AUTH operations.
#[test]
fn test_default_camera_gets_anonymous_pre_auth_calls() {
    let cam = snapshots_work(Config::default());
    let log = camera_log(&cam);
    for (op, m) in &log {
        if op == "GetSystemDateAndTime" || op == "GetServices" {
            assert_eq!(m, "none", "{op}: {log:?}");
        }
    }
    assert!(!log.iter().any(|(_, m)| m == "refused"), "{log:?}");
}

/// Issue 13 point 4: what the device answered is remembered per element. Once the media's
/// start was refused anonymously, the control connection of the same element (a PTZ
/// signal) sends credentials at once instead of being refused again.
#[test]
fn test_an_anonymous_refusal_is_remembered_for_the_elements_next_start() {
    let (cam, ca) = camera(library_device());
    let loc = cam.https_url();
    let run = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let out = run.collect(1, WAIT);
    assert!(out.error.is_none(), "no error: {}", out.error_text());
    let refused = |log: &[(String, String)]| log.iter().filter(|(_, m)| m == "refused").count();
    assert_eq!(refused(&camera_log(&cam)), 1, "{:?}", camera_log(&cam));
    assert!(
        run.src.emit_by_name::<bool>("ptz-stop", &[]),
        "the control connection works"
    );
    let log = camera_log(&cam);
    assert!(
        log.iter().any(|(op, m)| op == "Stop" && m == "wsse"),
        "{log:?}"
    );
    assert_eq!(refused(&log), 1, "no second anonymous try: {log:?}");
    drop(run);
}
