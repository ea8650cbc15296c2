// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Every failure ends in one error message with the domain and code of spec §10.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

const PW: &str = "password";
const WAIT: Duration = Duration::from_secs(15);

#[test]
fn test_wrong_password_is_not_authorized_ws_security() {
    let (_cam, out) = snapshot_failure(Config::default(), false, "wrong", &[]);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &["check user-id and user-pw"],
    );
}

/// The error message records the place that raised the error (issue 13 point 5: the
/// ONVIF client's refusal, the transport's failed connect), not `error.rs`'s own line nor
/// the session that gave up.
#[test]
fn test_error_messages_record_the_place_that_raised_them() {
    let (_cam, out) = snapshot_failure(Config::default(), false, "wrong", &[]);
    let (_, debug) = out.error.as_ref().expect("an error");
    assert!(debug.starts_with("src/client/onvif/soap.rs("), "{debug}");
    let (_, out) = snapshot_of_a_closed_port();
    let (_, debug) = out.error.as_ref().expect("an error");
    assert!(debug.starts_with("src/transport/net.rs("), "{debug}");
    assert!(
        debug.contains("Connect {"),
        "the variant and its fields: {debug}"
    );
    assert!(
        debug.contains("ConnectionRefused"),
        "and the OS error it came from: {debug}"
    );
}

#[test]
fn test_wrong_password_is_not_authorized_digest() {
    let config = Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        ..Config::default()
    };
    let (_cam, out) = snapshot_failure(config, true, "wrong", &[]);
    out.assert_resource_error(gst::ResourceError::NotAuthorized, &["HTTP 401"]);
}

/// A snapshot run against a port nobody listens on (bound, then closed): its error.
fn snapshot_of_a_closed_port() -> (u16, Outcome) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let loc = format!("https://127.0.0.1:{port}");
    let run = Run::new(&[("location", &loc), ("streaming-method", &"http-snapshot")]);
    (port, run.expect_error(WAIT))
}

#[test]
fn test_unreachable_host_is_open_read() {
    init();
    let (port, out) = snapshot_of_a_closed_port();
    assert_eq!(
        out.resource_error(),
        Some(gst::ResourceError::OpenRead),
        "{}",
        out.error_text()
    );
    assert!(
        out.error_text().contains(&format!("127.0.0.1:{port}")),
        "{}",
        out.error_text()
    );
}

/// A server that accepts and never answers.
#[test]
fn test_silent_device_times_out_as_read() {
    init();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loc = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = held.clone();
    let accept = std::thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            h.lock().unwrap().push(s);
        }
    });
    let run = Run::new(&[
        ("location", &loc),
        ("streaming-method", &"http-snapshot"),
        ("timeout", &1u32),
    ]);
    let started = std::time::Instant::now();
    let out = run.expect_error(Duration::from_secs(10));
    out.assert_resource_error(gst::ResourceError::Read, &["GetSystemDateAndTime"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout property"
    );
    accept.join().unwrap();
}

#[test]
fn test_refused_certificate_is_open_read_with_fingerprint() {
    let (cam, _ca) = camera(Config::default());
    let loc = cam.https_url();
    let run = Run::new(&[
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &PW),
        ("streaming-method", &"http-snapshot"),
    ]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::OpenRead,
        &["unknown issuer", "tls-certificate-sha256="],
    );
    assert_eq!(
        cam.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing sent"
    );
}

#[test]
fn test_profile_not_found() {
    let (_cam, out) = snapshot_failure(
        Config::default(),
        false,
        PW,
        &[("profile", &"NoSuchProfile")],
    );
    out.assert_resource_error(gst::ResourceError::NotFound, &["Profile_1 (mainStream)"]);
}

#[test]
fn test_malformed_xml_is_stream_decode() {
    let config = Config {
        faults: Faults {
            garbage_on: Some("GetProfiles".into()),
            ..Faults::default()
        },
        ..Config::default()
    };
    let (_cam, out) = snapshot_failure(config, false, PW, &[]);
    // Where the document breaks, to find it in a capture (issue 13 point 5).
    out.assert_stream_error(
        gst::StreamError::Decode,
        &["GetProfiles at byte 99 of its body: XML not well-formed"],
    );
}

#[test]
fn test_soap_fault_names_code_and_operation() {
    let config = Config {
        faults: Faults {
            fault_on: Some("GetSnapshotUri".into()),
            ..Faults::default()
        },
        ..Config::default()
    };
    let (_cam, out) = snapshot_failure(config, false, PW, &[]);
    assert_eq!(
        out.resource_error(),
        Some(gst::ResourceError::OpenRead),
        "{}",
        out.error_text()
    );
    let text = out.error_text();
    assert!(text.contains("GetSnapshotUri"), "{text}");
    assert!(
        text.contains("s:Receiver/ter:Action/ter:ActionFailed"),
        "{text}"
    );
}

/// Spec §2: Audio OUT is not supported over HTTPS, and the error says exactly that, and
/// names the encrypted way (issue 25: RTSPS).
#[test]
fn test_backchannel_with_https_is_settings_error() {
    init();
    let run = Run::new(&[
        ("location", &"http://127.0.0.1:1"),
        ("backchannel", &"onvif"),
    ]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &[
            "backchannel=onvif",
            "https-enable=true",
            "not supported over HTTPS",
            "streaming-method=rtsps",
        ],
    );
}

#[test]
fn test_snapshot_with_audio_is_settings_error() {
    init();
    let run = Run::new(&[
        ("location", &"http://127.0.0.1:1"),
        ("streaming-method", &"http-snapshot"),
        ("streams", &"video+audio"),
    ]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &["http-snapshot", "streams=video+audio"],
    );
}

#[test]
fn test_missing_location_and_bad_pin_are_settings_errors() {
    init();
    let run = Run::new(&[("streaming-method", &"http-snapshot")]);
    let out = run.expect_error(WAIT);
    assert_eq!(
        out.resource_error(),
        Some(gst::ResourceError::Settings),
        "{}",
        out.error_text()
    );
    drop(run);
    let run = Run::new(&[
        ("location", &"https://127.0.0.1:1"),
        ("streaming-method", &"http-snapshot"),
        ("tls-certificate-sha256", &"not-a-fingerprint"),
    ]);
    let out = run.expect_error(WAIT);
    out.assert_resource_error(gst::ResourceError::Settings, &["tls-certificate-sha256"]);
}

/// Nothing at any debug level, in any error or warning, shows the password.
#[test]
fn test_password_never_logged() {
    const SECRET: &str = "S3cr3t-Pa55word";
    init();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = lines.clone();
    gst::log::set_threshold_for_name("onvifhttpssrc", gst::DebugLevel::Memdump);
    gst::log::set_active(true);
    let f = gst::log::add_log_function(move |_cat, _lvl, _file, _fn, _line, _obj, msg| {
        if let Some(m) = msg.get() {
            l.lock().unwrap().push(m.to_string());
        }
    });
    let (cam, ca) = camera(Config {
        device: Device {
            password: SECRET.into(),
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let run = run_with(snapshot_props(&loc, &ca, SECRET), &[]);
    let ok = run.collect(2, WAIT);
    assert_eq!(ok.samples.len(), 2, "{}", ok.error_text());
    drop(run);
    let run = run_with(snapshot_props(&loc, &ca, &format!("{SECRET}x")), &[]);
    let bad = run.expect_error(WAIT);
    drop(run);
    gst::log::remove_log_function(f);
    let lines = lines.lock().unwrap();
    assert!(
        lines.len() > 3,
        "debug lines were captured: {}",
        lines.len()
    );
    for line in lines
        .iter()
        .chain([bad.error_text()].iter())
        .chain(bad.warnings.iter())
    {
        assert!(!line.contains(SECRET), "password leaked: {line}");
    }
    // The tests of this file run in parallel and the log function sees every element's
    // lines: the settings line is the one of an element with a password.
    let settings_line = lines
        .iter()
        .find(|l| l.contains("starting with") && l.contains("user_pw: Some"))
        .expect("settings logged");
    assert!(
        settings_line.contains("user_pw: Some(\"***\")"),
        "{settings_line}"
    );
}

/// A device whose every HTTP answer is `head` followed by `body_bytes` of `filler` (sent as
/// long as the client reads). Returns the location and how many bytes went out.
fn hostile_http(
    head: &'static str,
    body_bytes: usize,
    filler: &'static [u8],
) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loc = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let s = sent.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                req.push(byte[0]);
            }
            if conn.write_all(head.as_bytes()).is_err() {
                continue;
            }
            let mut left = body_bytes;
            while left > 0 {
                let n = left.min(filler.len());
                if conn.write_all(&filler[..n]).is_err() {
                    break;
                }
                s.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                left -= n;
            }
        }
    });
    (loc, sent)
}

/// A `Content-Length` of 2^40: refused from the head, nothing more read.
#[test]
fn test_huge_content_length_is_refused_from_the_head() {
    init();
    let (loc, _) = hostile_http(
        "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 1099511627776\r\n\r\n",
        0,
        b"",
    );
    let run = Run::new(&[("location", &loc), ("timeout", &5u32)]);
    let out = run.expect_error(Duration::from_secs(10));
    out.assert_stream_error(
        gst::StreamError::Decode,
        &[
            "GetSystemDateAndTime",
            "Content-Length 1099511627776 is larger than the limit of 4194304 bytes",
        ],
    );
}

/// 50 MiB of XML without a length (chunked would be the same): the element stops reading
/// at its 4 MiB cap with a clear error, and memory stays bounded.
#[test]
fn test_50_mib_answer_is_cut_at_the_cap() {
    init();
    static FILLER: [u8; 65536] = [b'a'; 65536];
    let (loc, sent) = hostile_http(
        "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nConnection: close\r\n\r\n<s:Envelope>",
        50 * 1024 * 1024,
        &FILLER,
    );
    let run = Run::new(&[("location", &loc), ("timeout", &5u32)]);
    let out = run.expect_error(Duration::from_secs(10));
    out.assert_stream_error(
        gst::StreamError::Decode,
        &[
            "GetSystemDateAndTime",
            "body larger than the limit of 4194304 bytes",
        ],
    );
    drop(run);
    let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 16 * 1024 * 1024, "read {sent} bytes of 50 MiB");
}

const ENTITY_BOMB: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol9;</s:Body></s:Envelope>"#;

/// A billion-laughs answer: the DOCTYPE is refused before any entity is expanded.
#[test]
fn test_entity_bomb_is_refused_at_its_doctype() {
    init();
    static HEAD: std::sync::LazyLock<&'static str> = std::sync::LazyLock::new(|| {
        Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: {}\r\n\r\n",
                ENTITY_BOMB.len()
            )
            .into_boxed_str(),
        )
    });
    let (loc, _) = hostile_http(&HEAD, ENTITY_BOMB.len(), ENTITY_BOMB.as_bytes());
    let run = Run::new(&[("location", &loc), ("timeout", &5u32)]);
    let started = std::time::Instant::now();
    let out = run.expect_error(Duration::from_secs(10));
    out.assert_stream_error(
        gst::StreamError::Decode,
        &["GetSystemDateAndTime", "DOCTYPE"],
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
