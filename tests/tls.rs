// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The certificate table of spec §4.3: each certificate against each combination of
//! `https-validate-certificate` and `https-validate-hostname`, plus the SHA-256 pin. A
//! refusal must be an OPEN_READ error naming the reason, and the camera must have received
//! no request at all.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use gst::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Expect {
    Accept,
    Refuse(&'static str),
}
use Expect::*;

/// `[(vc, vh) = (true,true), (true,false), (false,true), (false,false)]`
type Row = [Expect; 4];
const SWITCHES: [(bool, bool); 4] = [(true, true), (true, false), (false, true), (false, false)];

fn check(
    name: &str,
    identity: certs::Identity,
    host: &str,
    ca_pem: &str,
    pin: Option<String>,
    row: Row,
) {
    for (i, (vc, vh)) in SWITCHES.iter().enumerate() {
        let cam = Camera::start(Config {
            device: Device {
                identity: Some(identity.clone()),
                ..Device::default()
            },
            ..Config::default()
        })
        .expect("camera starts");
        let ca = TempFile::new("ca.pem", ca_pem);
        let loc = format!("https://{host}:{}", cam.https_port());
        let pin_value = pin.clone().unwrap_or_default();
        let ca_path = ca.as_str().to_string();
        let mut props: Vec<(&str, &dyn ToValue)> = vec![
            ("location", &loc),
            ("user-id", &"admin"),
            ("user-pw", &"password"),
            ("tls-ca-file", &ca_path),
            ("streaming-method", &"http-snapshot"),
            ("https-validate-certificate", vc),
            ("https-validate-hostname", vh),
            ("timeout", &5u32),
        ];
        if pin.is_some() {
            props.push(("tls-certificate-sha256", &pin_value));
        }
        let run = Run::new(&props);
        let out = run.collect(1, Duration::from_secs(15));
        drop(run);
        let what = format!("{name} with validate-certificate={vc} validate-hostname={vh}");
        match row[i] {
            Accept => {
                assert!(
                    out.error.is_none(),
                    "{what}: expected accepted, got {}",
                    out.error_text()
                );
                assert_eq!(out.samples.len(), 1, "{what}: one snapshot");
            }
            Refuse(reason) => {
                assert_eq!(
                    out.resource_error(),
                    Some(gst::ResourceError::OpenRead),
                    "{what}: expected refused, got {} ({} buffers)",
                    out.error_text(),
                    out.samples.len()
                );
                let text = out.error_text();
                assert!(
                    text.contains(reason),
                    "{what}: reason {reason:?} missing in {text}"
                );
                assert!(text.contains("SHA-256 fingerprint is"), "{what}: {text}");
                assert_eq!(
                    cam.stats.requests.load(Ordering::SeqCst),
                    0,
                    "{what}: no request reached the camera"
                );
                assert!(
                    cam.stats.wait_tls_failures(1, Duration::from_secs(2)),
                    "{what}: the handshake was aborted"
                );
            }
        }
    }
}

#[test]
fn test_valid_chain_with_intermediate_ip_san() {
    init();
    let root = certs::Ca::new("Test Root");
    let inter = root.intermediate("Test Intermediate");
    let id = inter.leaf(&["127.0.0.1"], certs::Validity::default());
    check(
        "valid chain",
        id,
        "127.0.0.1",
        &root.pem(),
        None,
        [Accept; 4],
    );
}

#[test]
fn test_valid_dns_name() {
    init();
    let root = certs::Ca::new("Test Root");
    let id = root.leaf(&["localhost"], certs::Validity::default());
    check("DNS name", id, "localhost", &root.pem(), None, [Accept; 4]);
}

#[test]
fn test_expired() {
    init();
    let root = certs::Ca::new("Test Root");
    let id = root.leaf(
        &["127.0.0.1"],
        certs::Validity {
            from_days: -30,
            to_days: -1,
        },
    );
    check(
        "expired",
        id,
        "127.0.0.1",
        &root.pem(),
        None,
        [
            Refuse("it expired on"),
            Refuse("it expired on"),
            Accept,
            Accept,
        ],
    );
}

#[test]
fn test_not_yet_valid() {
    init();
    let root = certs::Ca::new("Test Root");
    let id = root.leaf(
        &["127.0.0.1"],
        certs::Validity {
            from_days: 2,
            to_days: 30,
        },
    );
    check(
        "not yet valid",
        id,
        "127.0.0.1",
        &root.pem(),
        None,
        [
            Refuse("not yet valid"),
            Refuse("not yet valid"),
            Accept,
            Accept,
        ],
    );
}

#[test]
fn test_wrong_host() {
    init();
    let root = certs::Ca::new("Test Root");
    let id = root.leaf(&["camera.example"], certs::Validity::default());
    let r = Refuse("not issued for 127.0.0.1 (it names camera.example)");
    check(
        "wrong host",
        id,
        "127.0.0.1",
        &root.pem(),
        None,
        [r, Accept, r, Accept],
    );
}

#[test]
fn test_self_signed() {
    init();
    let other_root = certs::Ca::new("Unrelated Root");
    let id = certs::self_signed(&["127.0.0.1"]);
    let r = Refuse("self-signed");
    check(
        "self-signed",
        id,
        "127.0.0.1",
        &other_root.pem(),
        None,
        [r, r, Accept, Accept],
    );
}

#[test]
fn test_untrusted_ca() {
    init();
    let trusted = certs::Ca::new("Trusted Root");
    let untrusted = certs::Ca::new("Untrusted Root");
    let id = untrusted.leaf(&["127.0.0.1"], certs::Validity::default());
    let r = Refuse("unknown authority");
    check(
        "untrusted CA",
        id,
        "127.0.0.1",
        &trusted.pem(),
        None,
        [r, r, Accept, Accept],
    );
}

#[test]
fn test_pinned_self_signed_accepted_everywhere() {
    init();
    let other_root = certs::Ca::new("Unrelated Root");
    // Pinned and issued for another host: the pin wins in every row.
    let id = certs::self_signed(&["camera.example"]);
    let pin = certs::leaf_sha256_hex(&id.chain_pem).to_uppercase();
    let colons: String = pin
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    check(
        "pinned self-signed",
        id,
        "127.0.0.1",
        &other_root.pem(),
        Some(colons),
        [Accept; 4],
    );
}

/// Security review: a certificate that did not match the pin fell through to the normal
/// checks, and with both checks off a pin accepted anything. A pin restricts now, in every
/// row, and the refusal names the expected and the presented fingerprints.
#[test]
fn test_a_pin_restricts_whatever_the_switches() {
    init();
    let root = certs::Ca::new("Test Root");
    let id = root.leaf(&["127.0.0.1"], certs::Validity::default());
    let other = certs::self_signed(&["127.0.0.1"]);
    let wrong = certs::leaf_sha256_hex(&other.chain_pem);
    check(
        "valid chain, pinned to another certificate",
        id,
        "127.0.0.1",
        &root.pem(),
        Some(wrong),
        [Refuse("it is not the pinned certificate (tls-certificate-sha256 expects "); 4],
    );
}

#[test]
fn test_a_wrong_pin_names_both_fingerprints() {
    init();
    let id = certs::self_signed(&["127.0.0.1"]);
    let presented = certs::leaf_sha256_hex(&id.chain_pem).to_uppercase();
    let wrong = certs::leaf_sha256_hex(&certs::self_signed(&["127.0.0.1"]).chain_pem);
    let cam = Camera::start(Config {
        device: Device {
            identity: Some(id),
            ..Device::default()
        },
        ..Config::default()
    })
    .unwrap();
    let loc = cam.https_url();
    let run = Run::new(&[
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("streaming-method", &"http-snapshot"),
        ("https-validate-certificate", &false),
        ("https-validate-hostname", &false),
        ("tls-certificate-sha256", &wrong),
    ]);
    let out = run.expect_error(Duration::from_secs(15));
    let colons = |hex: &str| {
        hex.to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    out.assert_resource_error(
        gst::ResourceError::OpenRead,
        &[
            &format!("expects {}", colons(&wrong)),
            &format!("the device presented {}", colons(&presented)),
        ],
    );
    assert_eq!(cam.stats.requests.load(Ordering::SeqCst), 0);
}

/// Certificate rotation: a comma-separated list of pins accepts any of them.
#[test]
fn test_pin_list_accepts_each_pin() {
    init();
    let other_root = certs::Ca::new("Unrelated Root");
    let id = certs::self_signed(&["camera.example"]);
    let old = certs::leaf_sha256_hex(&certs::self_signed(&["127.0.0.1"]).chain_pem);
    let new = certs::leaf_sha256_hex(&id.chain_pem);
    check(
        "pin list",
        id,
        "127.0.0.1",
        &other_root.pem(),
        Some(format!("{old}, {new}")),
        [Accept; 4],
    );
}

/// A warning in every combination except both checks on, saying what is not checked.
#[test]
fn test_every_relaxed_combination_warns() {
    init();
    let (cam, ca) = camera(Config::default());
    let loc = cam.https_url();
    for (vc, vh, words) in [
        (true, true, None),
        (true, false, Some("https-validate-hostname=false")),
        (false, true, Some("https-validate-certificate=false")),
        (false, false, Some("the certificate is not checked")),
    ] {
        let run = run_with(
            snapshot_props(&loc, &ca, "password"),
            &[
                ("https-validate-certificate", &vc),
                ("https-validate-hostname", &vh),
            ],
        );
        let out = run.collect(1, Duration::from_secs(15));
        assert_eq!(out.samples.len(), 1, "{}", out.error_text());
        let tls: Vec<&String> = out
            .warnings
            .iter()
            .filter(|w| w.contains("https-validate"))
            .collect();
        match words {
            None => assert!(tls.is_empty(), "{tls:?}"),
            Some(w) => {
                assert_eq!(tls.len(), 1, "{vc} {vh}: {:?}", out.warnings);
                assert!(tls[0].contains(w), "{}", tls[0]);
                assert!(tls[0].contains("not authenticated"), "{}", tls[0]);
            }
        }
    }
}

#[test]
fn test_unauthenticated_connection_warns() {
    init();
    let id = certs::self_signed(&["127.0.0.1"]);
    let cam = Camera::start(Config {
        device: Device {
            identity: Some(id),
            ..Device::default()
        },
        ..Config::default()
    })
    .unwrap();
    let loc = cam.https_url();
    let run = Run::new(&[
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("streaming-method", &"http-snapshot"),
        ("https-validate-certificate", &false),
        ("https-validate-hostname", &false),
    ]);
    let out = run.collect(1, Duration::from_secs(15));
    assert_eq!(out.samples.len(), 1, "{}", out.error_text());
    assert!(
        out.warnings.iter().any(|w| w.contains("not authenticated")),
        "warning expected: {:?}",
        out.warnings
    );
}
