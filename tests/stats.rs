// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `stats` and `stats-interval` (issue 26, point 2): each field against a run whose
//! outcome is known: the camera's path drops, duplicates and reorders the video's RTP at
//! fixed places (`RTP_FAULTS`), and what the camera saw (SOAP requests, its certificate)
//! is compared with what the element says.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;
use onvif_virtual_camera::RTP_FAULTS;

const WAIT: Duration = Duration::from_secs(40);
const NAME: &str = "application/x-onvifhttpssrc-stats";

fn props<'a>(loc: &'a str, ca: &'a TempFile) -> Vec<(&'a str, Box<dyn ToValue + 'a>)> {
    vec![
        ("location", Box::new(loc.to_string())),
        ("user-id", Box::new("admin")),
        ("user-pw", Box::new("password")),
        ("tls-ca-file", Box::new(ca.as_str().to_string())),
        ("timeout", Box::new(5u32)),
    ]
}

fn last_stats(elements: &[gst::Structure]) -> Option<&gst::Structure> {
    elements.iter().rev().find(|s| s.name() == NAME)
}

/// The `source-stats` entry of `pad`.
fn source(s: &gst::StructureRef, pad: &str) -> Option<gst::Structure> {
    s.get::<gst::Array>("source-stats")
        .ok()?
        .iter()
        .filter_map(|v| v.get::<gst::Structure>().ok())
        .find(|x| x.get::<&str>("pad").ok() == Some(pad))
}

fn text(s: &gst::StructureRef, field: &str) -> String {
    s.get::<String>(field)
        .unwrap_or_else(|e| panic!("{field}: {e} in {s}"))
}

fn u64_of(s: &gst::StructureRef, field: &str) -> u64 {
    s.get::<u64>(field)
        .unwrap_or_else(|e| panic!("{field}: {e} in {s}"))
}

/// The camera's leaf certificate: its SHA-256 as the element writes it, and its expiry.
fn leaf(chain_pem: &str) -> (String, i64) {
    let (_, fp) = fingerprints(chain_pem);
    let der = leaf_der(chain_pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("a certificate");
    (fp, cert.validity().not_after.timestamp())
}

/// The video's counts reflect the camera's faults exactly; every other field says what
/// the run was: the tunnel over TLS 1.3 checked against the CA, WS-UsernameToken for SOAP
/// (the camera's first choice accepted), Digest for RTSP, no reconnection, SOAP round
/// trips as the camera counted them, events as the bus carried them.
#[test]
fn test_stats_of_a_lossy_tunnel() {
    let mut config = Config::default();
    config.faults.rtp_faults = true;
    let (cam, ca) = camera(config);
    let loc = cam.http_url();
    let run = multi(
        props(&loc, &ca),
        &[
            ("streams", &"video+audio"),
            ("events", &true),
            ("stats-interval", &100u32),
        ],
    );
    // Until the video passed the faults and had a sender report.
    let out = run.collect_until(WAIT, |out| {
        last_stats(&out.elements)
            .and_then(|s| source(s, "video_0"))
            .is_some_and(|v| {
                v.get::<u64>("packets-received").unwrap_or(0) >= 100
                    && v.get::<bool>("have-sr").unwrap_or(false)
            })
    });
    assert!(out.error.is_none(), "{}", out.error_text());
    let s = last_stats(&out.elements).expect("stats messages").clone();
    assert!(
        s.get::<u64>("running-time").is_ok(),
        "messages carry the running time: {s}"
    );
    let https = cam.https_port();
    assert_eq!(text(&s, "streaming-method"), "rtp-rtsp-http-tcp");
    assert_eq!(text(&s, "transport"), "https-tunnel");
    assert_eq!(text(&s, "media-peer"), format!("127.0.0.1:{https}"));
    assert!(s.get::<bool>("https-validate-certificate").unwrap());
    assert!(s.get::<bool>("https-validate-hostname").unwrap());
    let (fp, not_after) = leaf(&cam.identity_chain_pem());
    assert_eq!(text(&s, "tls-version"), "TLSv1.3");
    assert!(
        text(&s, "tls-cipher-suite").starts_with("TLS13_"),
        "{}",
        text(&s, "tls-cipher-suite")
    );
    assert_eq!(text(&s, "tls-certificate-sha256"), fp);
    assert_eq!(
        text(&s, "tls-certificate-not-after"),
        gstonvifhttps::testing::clock::format_rfc3339(not_after)
    );
    assert_eq!(text(&s, "tls-trust"), "chain");
    let conns: Vec<gst::Structure> = s
        .get::<gst::Array>("tls-connections")
        .unwrap()
        .iter()
        .map(|v| v.get::<gst::Structure>().unwrap())
        .collect();
    assert_eq!(conns.len(), 1, "one port: {conns:?}");
    assert_eq!(conns[0].get::<u32>("port").unwrap(), u32::from(https));
    assert_eq!(text(&conns[0], "trust"), "chain");
    assert_eq!(text(&conns[0], "certificate-sha256"), fp);
    assert_eq!(text(&s, "soap-auth"), "WS-UsernameToken");
    assert_eq!(text(&s, "rtsp-auth"), "HTTP Digest");
    assert_eq!(u64_of(&s, "reconnects"), 0);
    assert_eq!(text(&s, "last-reconnect-cause"), "");
    assert_eq!(u64_of(&s, "backchannel-dropped"), 0);

    let v = source(&s, "video_0").unwrap();
    let lost = RTP_FAULTS.dropped.len() as i32 - RTP_FAULTS.doubled.len() as i32;
    assert_eq!(v.get::<i32>("packets-lost").unwrap(), lost, "{v}");
    assert_eq!(
        v.get::<u64>("num-duplicates").unwrap(),
        RTP_FAULTS.doubled.len() as u64,
        "{v}"
    );
    assert_eq!(v.get::<u64>("num-late").unwrap(), 1, "{v}");
    assert_ne!(v.get::<u32>("ssrc").unwrap(), 0);
    assert_eq!(v.get::<u32>("stream").unwrap(), 0);
    assert_eq!(v.get::<u64>("queue-dropped").unwrap(), 0);
    assert!(v.get::<u32>("jitter").is_ok());
    assert!(v.get::<i32>("recv-drop-count").is_err(), "not SRTP: {v}");
    // The sender report's NTP time is about now.
    let sr = v.get::<u64>("sr-ntptime").unwrap();
    let now = gstonvifhttps::testing::rtp::ns_to_ntp(
        u64::try_from(gstonvifhttps::testing::clock::now_unix_millis()).unwrap() * 1_000_000
            + gstonvifhttps::testing::rtp::NTP_UNIX_OFFSET_NS,
    );
    assert!(
        (now >> 32).abs_diff(sr >> 32) < 60,
        "sr-ntptime {sr:#x}, now {now:#x}"
    );
    let a = source(&s, "audio_0").unwrap();
    assert_eq!(a.get::<i32>("packets-lost").unwrap(), 0, "{a}");
    assert_eq!(a.get::<u64>("num-duplicates").unwrap(), 0, "{a}");
    assert_eq!(a.get::<u64>("num-late").unwrap(), 0, "{a}");
    assert_eq!(a.get::<u32>("stream").unwrap(), 1);
    // Every packet came with at least its 12-byte header and its 4-byte frame header.
    let floor: u64 = [&v, &a]
        .iter()
        .map(|x| {
            x.get::<u64>("octets-received").unwrap()
                + 16 * x.get::<u64>("packets-received").unwrap()
        })
        .sum();
    assert!(u64_of(&s, "bytes-received") >= floor, "{s}");

    // After the stop the counts are final: the SOAP requests the camera saw, the events
    // the bus carried.
    run.pipeline.set_state(gst::State::Null).unwrap();
    let bus = run.pipeline.bus().unwrap();
    let mut events = out
        .elements
        .iter()
        .filter(|e| e.name() == "onvif-event")
        .count() as u64;
    while let Some(m) = bus.pop() {
        if let gst::MessageView::Element(e) = m.view()
            && e.structure().is_some_and(|s| s.name() == "onvif-event")
        {
            events += 1;
        }
    }
    let last = run.src.property::<gst::Structure>("stats");
    assert_eq!(last.name(), NAME);
    assert_eq!(
        u64_of(&last, "soap-round-trips"),
        camera_ops(&cam).len() as u64
    );
    assert!(events > 0, "the camera's inputs send events");
    assert_eq!(u64_of(&last, "events-received"), events);
    assert_eq!(u64_of(&last, "events-dropped"), 0);
    let v = source(&last, "video_0").expect("the last counts stay readable");
    assert_eq!(v.get::<u64>("num-duplicates").unwrap(), 2, "{v}");
}

/// Before any start, `stats` is the empty structure; `stats-interval=0` posts nothing.
#[test]
fn test_stats_before_start_and_no_messages_when_off() {
    init();
    let src = make_src(&[]);
    let s = src.property::<gst::Structure>("stats");
    assert_eq!(s.name(), NAME);
    assert_eq!(s.n_fields(), 0);
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = multi(props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 50, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(last_stats(&out.elements).is_none());
    let s = run.src.property::<gst::Structure>("stats");
    let v = source(&s, "video_0").expect("video counts");
    assert!(v.get::<u64>("packets-received").unwrap() >= 50, "{v}");
    assert_eq!(v.get::<i32>("packets-lost").unwrap(), 0, "{v}");
}

/// What decided trust and which scheme SOAP used, as other settings make them: a camera
/// that only takes HTTP Digest, reached with both checks off (nothing checked), then with
/// a pin (the pin decided).
#[test]
fn test_trust_and_auth_follow_the_settings() {
    let (cam, _ca) = camera(Config {
        device: Device {
            auth: AuthMode::Digest,
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let (fp, _) = leaf(&cam.identity_chain_pem());
    let base = |extra: Vec<(&'static str, Box<dyn ToValue>)>| {
        let mut p: Vec<(&str, Box<dyn ToValue>)> = vec![
            ("location", Box::new(loc.clone())),
            ("user-id", Box::new("admin")),
            ("user-pw", Box::new("password")),
            ("timeout", Box::new(5u32)),
        ];
        p.extend(extra);
        p
    };
    for (extra, trust) in [
        (
            vec![
                (
                    "https-validate-certificate",
                    Box::new(false) as Box<dyn ToValue>,
                ),
                ("https-validate-hostname", Box::new(false)),
            ],
            "unchecked",
        ),
        (
            vec![(
                "tls-certificate-sha256",
                Box::new(fp.clone()) as Box<dyn ToValue>,
            )],
            "pin",
        ),
    ] {
        let run = multi(base(extra), &[]);
        let out = run.collect(&["video_0"], 10, WAIT);
        assert!(out.error.is_none(), "{}", out.error_text());
        let s = run.src.property::<gst::Structure>("stats");
        assert_eq!(text(&s, "tls-trust"), trust, "{s}");
        assert_eq!(text(&s, "tls-certificate-sha256"), fp);
        assert_eq!(text(&s, "soap-auth"), "HTTP Digest", "{s}");
        assert_eq!(text(&s, "rtsp-auth"), "HTTP Digest", "{s}");
    }
}

/// `stats` read from a bus sync handler, on the thread that posts: the SRTP path posts
/// its QoS message and warning with the stream's receiver held, and a read that waited
/// for it hung that thread (the review found it). Every message of the element is
/// answered by a read here, and the media plays on.
#[test]
fn test_stats_read_from_a_sync_handler_never_waits_for_the_media() {
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: true,
            srtp_bad_tag: true,
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(
        props(&loc, &ca),
        &[
            ("streaming-method", &"rtsps-srtp"),
            ("streams", &"video+audio"),
        ],
    );
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (r, src) = (reads.clone(), run.src.downgrade());
    run.pipeline.bus().unwrap().set_sync_handler(move |_, msg| {
        if let Some(src) = src.upgrade()
            && msg.src() == Some(src.upcast_ref())
        {
            let s = src.property::<gst::Structure>("stats");
            assert_eq!(s.name(), NAME);
            r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        gst::BusSyncReply::Pass
    });
    let out = run.collect(&["video_0"], 60, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(out.count("video_0") >= 60, "{:?}", out.states);
    assert!(!out.qos.is_empty(), "the damaged audio posts QoS");
    assert!(reads.load(std::sync::atomic::Ordering::SeqCst) > 0);
    // The drops were counted, read after the fact.
    let s = run.src.property::<gst::Structure>("stats");
    let a = source(&s, "audio_0").expect("audio counts");
    assert!(a.get::<u32>("recv-drop-count").unwrap() >= 1, "{a}");
}
