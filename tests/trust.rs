// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The trust store (issue 26 point 1) against the virtual camera, whose certificate no
//! check vouches for here (its CA is not given): trust on first use records each
//! `host:port` the element connects to, later runs need the same key and say nothing, a
//! changed key is refused before any request naming both keys, the file and its line,
//! and a store that cannot be read stops the start.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;
use gstonvifhttps::testing::{tls, trust};

const WAIT: Duration = Duration::from_secs(20);

/// A store path of its own in the temporary directory (no file yet), removed at the end.
struct Store(std::path::PathBuf);

impl Store {
    fn new() -> Store {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Store(
            std::env::temp_dir().join(format!("onvifhttps-test-{}-{n}.trust", std::process::id())),
        )
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(format!("{}.lock", self.0.display()));
    }
}

fn props<'a>(
    loc: &'a str,
    store: &'a str,
    first_use: bool,
    method: &'a str,
) -> Vec<(&'a str, Box<dyn gst::prelude::ToValue + 'a>)> {
    vec![
        ("location", Box::new(loc.to_string())),
        ("user-id", Box::new("admin")),
        ("user-pw", Box::new("password")),
        ("timeout", Box::new(5u32)),
        ("reconnect", Box::new(false)),
        ("streaming-method", Box::new(method.to_string())),
        ("tls-trust-store", Box::new(store.to_string())),
        ("tls-trust-on-first-use", Box::new(first_use)),
    ]
}

/// The `onvif-certificate-trusted` messages: (port, SPKI, certificate, line).
fn trusted(elements: &[gst::Structure]) -> Vec<(u32, String, String, u32)> {
    elements
        .iter()
        .filter(|s| s.name() == "onvif-certificate-trusted")
        .map(|s| {
            assert_eq!(s.get::<&str>("host").unwrap(), "127.0.0.1");
            assert!(s.get::<&str>("subject").unwrap().contains("CN="), "{s}");
            assert!(s.get::<&str>("not-after").unwrap().ends_with('Z'), "{s}");
            (
                s.get::<u32>("port").unwrap(),
                s.get::<String>("spki-sha256").unwrap(),
                s.get::<String>("certificate-sha256").unwrap(),
                s.get::<u32>("line").unwrap(),
            )
        })
        .collect()
}

/// First use records the camera's HTTPS `host:port` (the tunnel uses that port too):
/// one message and one warning, the line in the file. A second run, and one without
/// first use, play silently with that entry; the camera's key changed (the entry given
/// another) is refused before any request, naming both keys, the file, its line and the
/// command that removes it.
#[test]
fn test_first_use_is_recorded_then_required() {
    let (cam, _ca) = camera(Config::default());
    let store = Store::new();
    let loc = cam.https_url();
    let (spki, cert) = fingerprints(&cam.identity_chain_pem());
    let port = u32::from(cam.https_port());

    let run = run_with(props(&loc, store.path(), true, "rtp-rtsp-http-tcp"), &[]);
    let first = run.collect(10, WAIT);
    assert!(first.error.is_none(), "{}", first.error_text());
    // What decided, in `stats`: first use, on every connection of this start.
    let stats = run.src.property::<gst::Structure>("stats");
    assert_eq!(
        stats.get::<&str>("tls-trust").unwrap(),
        "first-use",
        "{stats}"
    );
    assert_eq!(stats.get::<&str>("tls-certificate-sha256").unwrap(), cert);
    drop(run);
    assert_eq!(first.samples.len(), 10);
    assert_eq!(
        trusted(&first.elements),
        [(port, spki.clone(), cert.clone(), 2)]
    );
    assert_eq!(first.warnings.len(), 1, "{:?}", first.warnings);
    assert!(
        first.warnings[0].starts_with(&format!("trusted on first use: 127.0.0.1:{port} presented")),
        "{}",
        first.warnings[0]
    );
    let lines: Vec<String> = store.text().lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("# onvifhttpssrc trust store"));
    assert!(
        lines[1].starts_with(&format!(
            "127.0.0.1:{port} spki-sha256={spki} cert-sha256={cert} added=20"
        )),
        "{}",
        lines[1]
    );
    // The device's serial (GetDeviceInformation, asked only because a key was learned).
    assert!(lines[1].ends_with(" serial=VC-0001"), "{}", lines[1]);
    assert_eq!(
        camera_ops(&cam)
            .iter()
            .filter(|o| *o == "GetDeviceInformation")
            .count(),
        1,
        "{:?}",
        camera_ops(&cam)
    );

    for first_use in [true, false] {
        let run = run_with(
            props(&loc, store.path(), first_use, "rtp-rtsp-http-tcp"),
            &[],
        );
        let again = run.collect(10, WAIT);
        assert!(again.error.is_none(), "{}", again.error_text());
        let stats = run.src.property::<gst::Structure>("stats");
        assert_eq!(stats.get::<&str>("tls-trust").unwrap(), "trust-store");
        assert_eq!(again.samples.len(), 10);
        assert_eq!(trusted(&again.elements), []);
        assert_eq!(again.warnings, Vec::<String>::new());
    }
    assert_eq!(store.text().lines().count(), 2, "nothing more written");
    assert_eq!(
        camera_ops(&cam)
            .iter()
            .filter(|o| *o == "GetDeviceInformation")
            .count(),
        1,
        "the serial is asked for once"
    );

    // The camera's key, as far as the store knows, changed.
    let other = tls::format_fingerprint(&[0xAB; 32]);
    std::fs::write(&store.0, store.text().replace(&spki, &other)).unwrap();
    let before = camera_ops(&cam).len();
    let refused =
        run_with(props(&loc, store.path(), true, "rtp-rtsp-http-tcp"), &[]).expect_error(WAIT);
    refused.assert_resource_error(
        gst::ResourceError::OpenRead,
        &[
            &format!("127.0.0.1:{port}"),
            "is not the one the trust store",
            &other,
            &spki,
            store.path(),
            "(line 2)",
            "never replaces an entry",
            "accept the new one with: flock '",
        ],
    );
    assert_eq!(
        camera_ops(&cam).len(),
        before,
        "nothing was sent to the device"
    );
    assert!(store.text().contains(&other), "the entry stays as it was");

    // The command the error gives, run as a user would: the camera plays again, silently.
    let text = refused.error_text();
    let command = text
        .split("accept the new one with: ")
        .nth(1)
        .and_then(|t| t.split("; if it did not").next())
        .expect("a command");
    let ran = std::process::Command::new("sh")
        .args(["-c", command])
        .status()
        .expect("sh");
    assert!(ran.success(), "{command}");
    assert!(store.text().contains(&spki) && !store.text().contains(&other));
    let accepted =
        run_with(props(&loc, store.path(), false, "rtp-rtsp-http-tcp"), &[]).collect(10, WAIT);
    assert!(accepted.error.is_none(), "{}", accepted.error_text());
    assert_eq!(accepted.samples.len(), 10);
    assert_eq!(accepted.warnings, Vec::<String>::new());
}

/// RTSPS: the RTSPS port is a service of its own, with its own entry (a camera may
/// present another certificate there).
#[test]
fn test_each_service_port_has_its_entry() {
    let (cam, _ca) = camera(Config::default());
    let store = Store::new();
    let run = run_with(props(&cam.https_url(), store.path(), true, "rtsps"), &[]);
    let out = run.collect(10, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    let (spki, cert) = fingerprints(&cam.identity_chain_pem());
    let mut ports: Vec<u32> = trusted(&out.elements)
        .into_iter()
        .map(|(p, s, c, _)| {
            assert_eq!((s, c), (spki.clone(), cert.clone()));
            p
        })
        .collect();
    ports.sort();
    let mut want = vec![
        u32::from(cam.https_port()),
        u32::from(cam.rtsps_port().unwrap()),
    ];
    want.sort();
    assert_eq!(ports, want);
    let entries = trust::TrustStore::new(store.0.clone()).entries().unwrap();
    assert_eq!(entries.len(), 2);
}

/// Without first use an unknown `host:port` is refused as before, the error saying the
/// store has no entry and how to trust it; a store with a line that cannot be read stops
/// the start naming it; first use without a store is refused; a pin decides alone (the
/// store is not even read).
#[test]
fn test_what_the_store_refuses_says_why() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.https_url();
    let store = Store::new();
    let out =
        run_with(props(&loc, store.path(), false, "rtp-rtsp-http-tcp"), &[]).expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::OpenRead,
        &[
            "unknown issuer",
            &format!("has no entry for 127.0.0.1:{}", cam.https_port()),
            "tls-trust-on-first-use=true",
        ],
    );
    assert_eq!(store.text(), "", "nothing learned without first use");

    std::fs::write(
        &store.0,
        "# mine\n127.0.0.1:443 spki-sha256=12 cert-sha256=34\n",
    )
    .unwrap();
    let out =
        run_with(props(&loc, store.path(), true, "rtp-rtsp-http-tcp"), &[]).expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &[store.path(), "cannot be used: line 2 has a bad spki-sha256"],
    );

    let out = run_with(
        props(&loc, store.path(), true, "rtp-rtsp-http-tcp"),
        &[("tls-trust-store", &None::<String>)],
    )
    .expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &["tls-trust-on-first-use=true needs tls-trust-store=FILE"],
    );

    let pin = certs::leaf_sha256_hex(&cam.identity_chain_pem());
    let out = run_with(
        props(&loc, store.path(), true, "rtp-rtsp-http-tcp"),
        &[("tls-certificate-sha256", &pin)],
    )
    .collect(5, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert_eq!(out.samples.len(), 5);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("is not consulted: tls-certificate-sha256 is set")),
        "{:?}",
        out.warnings
    );
    drop(ca);
}

/// HTTP Basic goes only to an authenticated peer: not to one trusted on first use in this
/// start (that first connection is not authenticated), but in the next start, which
/// finds the key in the store. The camera's RTSP asks for Basic.
#[test]
fn test_basic_waits_for_a_start_that_finds_the_key() {
    let (cam, _ca) = camera(Config {
        quirks: Quirks {
            rtsp_basic: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let store = Store::new();
    let loc = cam.https_url();
    let first =
        run_with(props(&loc, store.path(), true, "rtp-rtsp-http-tcp"), &[]).expect_error(WAIT);
    first.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &["wants credentials for RTSP DESCRIBE"],
    );
    assert_eq!(trusted(&first.elements).len(), 1, "learned all the same");
    let next =
        run_with(props(&loc, store.path(), true, "rtp-rtsp-http-tcp"), &[]).collect(10, WAIT);
    assert!(next.error.is_none(), "{}", next.error_text());
    assert_eq!(next.samples.len(), 10);
}

/// With the checks relaxed (either switch off), the store still decides: an entry with
/// another key is refused, and first use learns. A relaxed switch would let any
/// certificate by; only full validation needs no entry.
#[test]
fn test_relaxed_checks_do_not_bypass_the_store() {
    let (cam, _ca) = camera(Config::default());
    let loc = cam.https_url();
    let port = cam.https_port();
    let (spki, _) = fingerprints(&cam.identity_chain_pem());
    for (certificate, hostname) in [(false, false), (false, true), (true, false)] {
        let store = Store::new();
        let relaxed: [(&str, &dyn gst::prelude::ToValue); 2] = [
            ("https-validate-certificate", &certificate),
            ("https-validate-hostname", &hostname),
        ];
        let first = run_with(
            props(&loc, store.path(), true, "rtp-rtsp-http-tcp"),
            &relaxed,
        )
        .collect(5, WAIT);
        assert!(first.error.is_none(), "{}", first.error_text());
        assert_eq!(
            trusted(&first.elements).len(),
            1,
            "learned with {certificate}/{hostname}"
        );
        let other = tls::format_fingerprint(&[0xCD; 32]);
        std::fs::write(&store.0, store.text().replace(&spki, &other)).unwrap();
        let out = run_with(
            props(&loc, store.path(), false, "rtp-rtsp-http-tcp"),
            &relaxed,
        )
        .expect_error(WAIT);
        out.assert_resource_error(
            gst::ResourceError::OpenRead,
            &[
                &format!("recorded for 127.0.0.1:{port}"),
                "is not the one the trust store",
            ],
        );
    }
}
