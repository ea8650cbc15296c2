// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The HTTPS port (spec §4.1, §4.2): read from the device, or set on it with
//! SetNetworkProtocols, with a warning when the device refuses or silently ignores it.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;

const WAIT: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn test_port_read_from_device_no_set_when_equal() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let port = u32::from(cam.https_port());
    let run = run_with(
        snapshot_props(&loc, &ca, "password"),
        &[("https-port", &port)],
    );
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    drop(run);
    assert!(
        !camera_ops(&cam).contains(&"SetNetworkProtocols".to_string()),
        "{:?}",
        camera_ops(&cam)
    );
}

/// `https-port` moves the device's port: read anonymously when the device allows it
/// (`open`), else the strict way of [`strict_device_ports_are_found_safely`].
fn accepted(open: bool) {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            set_protocols: SetProtocols::Accept,
            open_network_protocols: open,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let old = cam.https_port();
    let want = free_port();
    let loc = cam.http_url();
    let run = run_with(
        snapshot_props(&loc, &ca, "password"),
        &[("https-port", &u32::from(want))],
    );
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    drop(run);
    assert_ne!(old, want);
    assert_eq!(cam.https_port(), want, "the camera moved");
    let o = camera_ops(&cam);
    let set = o
        .iter()
        .position(|x| x == "SetNetworkProtocols")
        .expect("set called");
    assert_eq!(
        o[set + 1],
        "GetNetworkProtocols",
        "re-read after set: {o:?}"
    );
    strict_device_ports_are_found_safely(&cam, open);
}

/// What went where: SetNetworkProtocols only ever over HTTPS; over plain HTTP with
/// credentials at most GetNetworkProtocols (and the clock it may need), and only on a
/// device that refused it anonymously and whose HTTPS port was not found over HTTPS.
fn strict_device_ports_are_found_safely(cam: &Camera, open: bool) {
    let https = cam.stats.https_ops.lock().unwrap().clone();
    assert!(
        https.iter().any(|o| o == "SetNetworkProtocols"),
        "{https:?}"
    );
    let clear = cam.stats.plain_http_credential_ops.lock().unwrap().clone();
    if open {
        assert!(clear.is_empty(), "{clear:?}");
    } else {
        // Nothing at https-port or 443: one GetNetworkProtocols with a password digest
        // over HTTP was the last way left.
        assert_eq!(clear, ["GetNetworkProtocols"]);
    }
    let log = cam.stats.log.lock().unwrap().clone();
    assert!(
        !log.iter().any(|(_, m)| m == "basic" || m == "text"),
        "never the password itself: {log:?}"
    );
}

#[test]
fn test_set_port_accepted_moves_to_new_port() {
    accepted(true);
}

/// Issue 22 point 2: a device that refuses GetNetworkProtocols without credentials (most)
/// still has its port moved (seed behaviour, spec §4.2).
#[test]
fn test_set_port_accepted_on_a_device_that_refuses_anonymous_calls() {
    accepted(false);
}

fn refused_or_ignored(mode: SetProtocols, phrase: &str, open: bool) {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            set_protocols: mode,
            open_network_protocols: open,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let device_port = cam.https_port();
    let want = free_port();
    let loc = cam.http_url();
    let run = run_with(
        snapshot_props(&loc, &ca, "password"),
        &[("https-port", &u32::from(want))],
    );
    let out = run.expect_error(WAIT);
    let warning = out
        .warnings
        .iter()
        .find(|w| w.contains(phrase))
        .unwrap_or_else(|| panic!("warning with {phrase:?} expected: {:?}", out.warnings));
    assert!(warning.contains(&format!("https-port={want}")), "{warning}");
    assert!(
        warning.contains(&device_port.to_string()),
        "names the device's port: {warning}"
    );
    assert!(warning.contains("Fix:"), "{warning}");
    // Going on with the configured port fails, and the error says why.
    assert_eq!(
        out.resource_error(),
        Some(gst::ResourceError::OpenRead),
        "{}",
        out.error_text()
    );
    let text = out.error_text();
    assert!(
        text.contains(&format!(
            "the device's HTTPS port is {device_port}, not {want}"
        )),
        "{text}"
    );
    assert_eq!(cam.https_port(), device_port);
    drop(run);
    strict_device_ports_are_found_safely(&cam, open);
}

#[test]
fn test_set_port_refused_warns_then_port_error() {
    refused_or_ignored(SetProtocols::Fault, "refused to change it", true);
}

#[test]
fn test_set_port_silently_ignored_warns_then_port_error() {
    refused_or_ignored(SetProtocols::Ignore, "kept HTTPS port", true);
}

#[test]
fn test_set_port_refused_by_a_strict_device_warns() {
    refused_or_ignored(SetProtocols::Fault, "refused to change it", false);
}

#[test]
fn test_set_port_ignored_by_a_strict_device_warns() {
    refused_or_ignored(SetProtocols::Ignore, "kept HTTPS port", false);
}

/// When the port cannot be read at all (anonymous refused, nothing at `https-port` or
/// 443, and the digest over HTTP refused too: a Digest challenge without qop is not
/// answered in clear), a RESOURCE/SETTINGS warning says why and how, instead of silence.
#[test]
fn test_a_port_that_cannot_be_read_is_a_warning_saying_how() {
    let (cam, ca) = camera(Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        quirks: Quirks {
            digest_without_qop: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    if std::net::TcpStream::connect(("127.0.0.1", 443)).is_ok() {
        panic!("something listens on 127.0.0.1:443; this test needs it free");
    }
    let want = free_port();
    let run = run_with(
        snapshot_props(&cam.http_url(), &ca, "password"),
        &[("https-port", &u32::from(want))],
    );
    let out = run.expect_error(WAIT);
    let warning = out
        .warnings
        .iter()
        .find(|w| w.contains("could not be read"))
        .unwrap_or_else(|| panic!("a warning that says why: {:?}", out.warnings));
    for part in [
        &format!("https-port={want}"),
        "anonymous over HTTP",
        &format!("over HTTPS at port {want}"),
        "over HTTPS at port 443",
        "with a password digest over HTTP",
        "https:// location",
    ] {
        assert!(warning.contains(part), "{part:?} in {warning}");
    }
    drop(run);
    // The one request with a password digest over HTTP (a WS-UsernameToken); the Digest
    // challenge without qop that answered it is not answered in clear.
    assert_eq!(
        *cam.stats.plain_http_credential_ops.lock().unwrap(),
        ["GetNetworkProtocols"]
    );
    let log = cam.stats.log.lock().unwrap().clone();
    assert!(!log.iter().any(|(_, m)| m == "digest"), "{log:?}");
}

/// Over plain HTTP no password travels in clear: the bootstrap uses a digest only.
#[test]
fn test_plain_http_bootstrap_carries_no_password() {
    let (cam, ca) = camera(Config {
        device: Device {
            password: "Pl41nText-Never".into(),
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, "Pl41nText-Never"), &[]);
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    drop(run);
    let log = cam.stats.log.lock().unwrap().clone();
    // Anonymous first; the credentials only once refused, as the refusal's Digest
    // challenge (qop=auth, SHA-256 preferred), never Basic.
    assert_eq!(
        log[1],
        ("GetNetworkProtocols".into(), "refused".into()),
        "{log:?}"
    );
    assert_eq!(
        log[2],
        ("GetNetworkProtocols".into(), "digest".into()),
        "{log:?}"
    );
}

/// Security review: the bootstrap carried credentials over plain HTTP although the HTTPS
/// port was known (`https-port` set). Now nothing authenticated goes over HTTP then: the
/// element reads what it can anonymously and goes to `https-port`.
#[test]
fn test_no_credentials_over_http_when_https_port_is_set() {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            strict_pre_auth: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let port = u32::from(cam.https_port());
    let run = run_with(
        snapshot_props(&loc, &ca, "password"),
        &[("https-port", &port)],
    );
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(heads.iter().any(|h| h.starts_with("http ")), "{heads:?}");
    assert_eq!(
        cam.stats.plain_http_credential_ops.lock().unwrap().len(),
        0,
        "nothing authenticated over HTTP: {heads:?}"
    );
    let log = cam.stats.log.lock().unwrap().clone();
    let https_authenticated = log
        .iter()
        .filter(|(_, m)| m == "wsse" || m == "digest")
        .count();
    assert!(https_authenticated > 0, "{log:?}");
}

/// The plain-HTTP bootstrap runs once per element: media, events and the action signals
/// share the HTTPS port it found, also after a reconnection.
#[test]
fn test_plain_http_bootstrap_runs_once_per_element() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, "password"), &[("events", &true)]);
    let out = run.collect(3, WAIT);
    assert_eq!(out.samples.len(), 3, "{}", out.error_text());
    let _ = run
        .src
        .emit_by_name::<Option<gst::Structure>>("ptz-get-status", &[]);
    drop(run);
    let http = cam.stats.requests.load(std::sync::atomic::Ordering::SeqCst)
        - cam
            .stats
            .https_requests
            .load(std::sync::atomic::Ordering::SeqCst);
    // GetSystemDateAndTime, GetNetworkProtocols refused, GetNetworkProtocols: once.
    assert_eq!(http, 3, "{:?}", cam.stats.heads.lock().unwrap());
}

/// Issue 13 point 4: what a device answered is remembered per device. A second element
/// for the same camera (its sub stream, say) uses the HTTPS port the first one's
/// bootstrap found and sends nothing over plain HTTP; once neither lives, the next element
/// learns it again.
#[test]
fn test_a_second_element_for_the_same_device_skips_the_bootstrap() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let http = || {
        cam.stats.requests.load(std::sync::atomic::Ordering::SeqCst)
            - cam
                .stats
                .https_requests
                .load(std::sync::atomic::Ordering::SeqCst)
    };
    let first = run_with(snapshot_props(&loc, &ca, "password"), &[]);
    let out = first.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    // GetSystemDateAndTime, GetNetworkProtocols refused, GetNetworkProtocols.
    assert_eq!(http(), 3, "{:?}", cam.stats.heads.lock().unwrap());
    let second = run_with(snapshot_props(&loc, &ca, "password"), &[]);
    let out = second.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert_eq!(http(), 3, "nothing more over HTTP");
    drop(first);
    drop(second);
    let third = run_with(snapshot_props(&loc, &ca, "password"), &[]);
    let out = third.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert_eq!(http(), 6, "learnt again once no element held it");
}

/// The elements of one device share its bootstrap, but a start waits for another's at
/// most its own `timeout`. The first element's GetNetworkProtocols is answered 6 s late; a
/// second element with `timeout=1` bootstraps alone after 1 s instead of waiting 6 s for
/// the first one's port.
#[test]
fn test_a_start_waits_for_another_elements_bootstrap_at_most_its_timeout() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            slow_once: Some(("GetNetworkProtocols".into(), Duration::from_secs(6))),
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let first = run_with(
        snapshot_props(&loc, &ca, "password"),
        &[("timeout", &30u32)],
    );
    first
        .pipeline
        .set_state(gst::State::Playing)
        .expect("the first element starts");
    assert!(
        cam.stats.wait_slowed(Duration::from_secs(10)),
        "the first element's bootstrap reached GetNetworkProtocols"
    );
    let started = std::time::Instant::now();
    let second = run_with(snapshot_props(&loc, &ca, "password"), &[("timeout", &1u32)]);
    let out = second.collect(1, WAIT);
    let took = started.elapsed();
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert!(
        (Duration::from_secs(1)..Duration::from_millis(4500)).contains(&took),
        "waited its own timeout, not the first element's 6 s: {took:?}"
    );
}

/// A device whose GetNetworkProtocols fails leaves the element to try 443; when nothing
/// answers there the error says why 443 was tried and how to set the port.
#[test]
fn test_port_443_fallback_failure_says_why_and_what_to_set() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            fault_on: Some("GetNetworkProtocols".into()),
            ..Faults::default()
        },
        ..Config::default()
    });
    // Nothing listens on 127.0.0.1:443 here (the test would be meaningless otherwise).
    if std::net::TcpStream::connect(("127.0.0.1", 443)).is_ok() {
        panic!("something listens on 127.0.0.1:443; this test needs it free");
    }
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, "password"), &[]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::OpenRead,
        &[
            "127.0.0.1:443",
            "port 443 was tried because the device gave no HTTPS port",
            "GetNetworkProtocols failed",
            "set https-port",
        ],
    );
}

/// Over plain HTTP a Digest challenge without qop is not answered (its response is a
/// replayable function of the server's nonce); over HTTPS it is.
#[test]
fn test_digest_without_qop_is_not_answered_in_clear() {
    let (cam, ca) = camera(Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        quirks: Quirks {
            digest_without_qop: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let run = run_with(snapshot_props(&cam.http_url(), &ca, "password"), &[]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &[
            "wants credentials for GetNetworkProtocols",
            "without qop over plain HTTP",
        ],
    );
    drop(run);
    let http_digest = cam
        .stats
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, m)| m == "digest")
        .count();
    assert_eq!(http_digest, 0);
    let run = run_with(snapshot_props(&cam.https_url(), &ca, "password"), &[]);
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "over HTTPS: {}", out.error_text());
    drop(run);
    // Issue 23 point 11, one rule for SOAP and RTSP: where the user chose the exchange in
    // clear (`https-enable=false` here, `rtp-rtsp-tcp` for RTSP) it is answered, as
    // RTSP's challenge without qop always was (most cameras' RTSP servers offer no other).
    let run = run_with(
        snapshot_props(&cam.http_url(), &ca, "password"),
        &[("https-enable", &false)],
    );
    let out = run.collect(1, WAIT);
    assert_eq!(
        out.samples.len(),
        1,
        "https-enable=false: {}",
        out.error_text()
    );
    assert!(
        cam.stats
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m == "digest"),
        "answered with HTTP Digest"
    );
}

/// A device that wants HTTP Digest (with qop) and whose HTTPS port is neither
/// `https-port` nor 443: the one request in clear is the Digest answer to the anonymous
/// request's challenge, not a WS-UsernameToken first and the Digest after.
#[test]
fn test_one_request_in_clear_on_a_digest_device() {
    let (cam, ca) = camera(Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        ..Config::default()
    });
    let want = free_port();
    let run = run_with(
        snapshot_props(&cam.http_url(), &ca, "password"),
        &[("https-port", &u32::from(want))],
    );
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    drop(run);
    assert_eq!(cam.https_port(), want, "the camera moved");
    strict_device_ports_are_found_safely(&cam, false);
    let log = cam.stats.log.lock().unwrap().clone();
    let first_authenticated = log
        .iter()
        .find(|(op, m)| op == "GetNetworkProtocols" && m != "refused")
        .map(|(_, m)| m.as_str());
    assert_eq!(first_authenticated, Some("digest"), "{log:?}");
}

/// An anonymous GetNetworkProtocols that fails for another reason than credentials (a
/// fault) is no reason to send any over HTTP: a warning, and the port asked for.
#[test]
fn test_a_fault_is_no_reason_to_send_credentials_in_clear() {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            open_network_protocols: true,
            ..Quirks::default()
        },
        faults: Faults {
            fault_on: Some("GetNetworkProtocols".into()),
            ..Faults::default()
        },
        ..Config::default()
    });
    let port = u32::from(cam.https_port());
    let run = run_with(
        snapshot_props(&cam.http_url(), &ca, "password"),
        &[("https-port", &port)],
    );
    let out = run.collect(1, WAIT);
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert!(
        out.warnings.iter().any(|w| w.contains("could not be read")),
        "{:?}",
        out.warnings
    );
    drop(run);
    assert!(
        cam.stats
            .plain_http_credential_ops
            .lock()
            .unwrap()
            .is_empty(),
        "{:?}",
        cam.stats.plain_http_credential_ops.lock().unwrap()
    );
}
