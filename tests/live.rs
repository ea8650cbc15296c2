// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `rtp-rtsp-http-tcp`: RTSP tunnelled over HTTPS from the virtual camera (whose media
//! engine is gst-rtsp-server) into RTP pads.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gst::prelude::*;

const PW: &str = "password";
const WAIT: Duration = Duration::from_secs(20);

fn live_props<'a>(loc: &'a str, ca: &'a TempFile) -> Vec<(&'a str, Box<dyn ToValue + 'a>)> {
    vec![
        ("location", Box::new(loc.to_string())),
        ("user-id", Box::new("admin")),
        ("user-pw", Box::new(PW)),
        ("tls-ca-file", Box::new(ca.as_str().to_string())),
        ("timeout", Box::new(5u32)),
    ]
}

/// PTS of a pad's samples never go back, and span the time they took to arrive.
fn assert_pts_follow_real_time(samples: &[(gst::Sample, Instant)], what: &str) {
    let pts: Vec<u64> = samples
        .iter()
        .map(|(s, _)| s.buffer().unwrap().pts().expect("PTS set").nseconds())
        .collect();
    for w in pts.windows(2) {
        assert!(w[1] >= w[0], "{what}: PTS go back: {} then {}", w[0], w[1]);
    }
    let span_pts = Duration::from_nanos(pts[pts.len() - 1] - pts[0]);
    let span_wall = samples[samples.len() - 1].1 - samples[0].1;
    let diff = span_pts.abs_diff(span_wall);
    assert!(
        diff < Duration::from_millis(400),
        "{what}: PTS span {span_pts:?} vs arrival span {span_wall:?}"
    );
}

#[test]
fn test_video_over_https_tunnel() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = multi(live_props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 150, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert_eq!(
        out.pads.keys().collect::<Vec<_>>(),
        vec!["video_0"],
        "only the video pad"
    );
    let v = &out.pads["video_0"];
    assert!(v.len() >= 150, "{} buffers", v.len());
    let s = caps_of(v);
    assert_eq!(s.name(), "application/x-rtp");
    assert_eq!(s.get::<&str>("media").unwrap(), "video");
    assert_eq!(s.get::<&str>("encoding-name").unwrap(), "H264");
    assert_eq!(s.get::<i32>("clock-rate").unwrap(), 90000);
    assert_eq!(s.get::<i32>("payload").unwrap(), 96);
    assert_eq!(s.get::<&str>("packetization-mode").unwrap(), "1");
    assert_pts_follow_real_time(v, "video");
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert_eq!(
        heads.iter().filter(|h| h.ends_with("(tunnel)")).count(),
        2,
        "one GET and one POST: {heads:?}"
    );
    assert!(
        heads
            .iter()
            .filter(|h| h.ends_with("(tunnel)"))
            .all(|h| h.starts_with("https ")),
        "{heads:?}"
    );
}

#[test]
fn test_video_and_audio_pads_synchronised() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[("streams", &"video+audio")]);
    let out = run.collect(&["video_0", "audio_0"], 60, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.count("video_0") >= 60 && out.count("audio_0") >= 60,
        "video {} audio {}",
        out.count("video_0"),
        out.count("audio_0")
    );
    let a = &out.pads["audio_0"];
    let s = caps_of(a);
    assert_eq!(s.get::<&str>("media").unwrap(), "audio");
    assert_eq!(s.get::<&str>("encoding-name").unwrap(), "MPEG4-GENERIC");
    assert_eq!(s.get::<i32>("clock-rate").unwrap(), 16000);
    assert_eq!(s.get::<&str>("mode").unwrap(), "AAC-hbr");
    assert_pts_follow_real_time(a, "audio");
    assert_pts_follow_real_time(&out.pads["video_0"], "video");
    // Both started from the same running time: their first PTS are close.
    let first = |p: &str| out.pads[p][0].0.buffer().unwrap().pts().unwrap();
    let gap = first("video_0")
        .nseconds()
        .abs_diff(first("audio_0").nseconds());
    assert!(gap < 500_000_000, "audio and video start {gap} ns apart");
}

#[test]
fn test_plain_http_tunnel_when_https_disabled_warns() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = multi(live_props(&loc, &ca), &[("https-enable", &false)]);
    let out = run.collect(&["video_0"], 20, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("everything travels in clear")),
        "{:?}",
        out.warnings
    );
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(heads.iter().all(|h| h.starts_with("http ")), "{heads:?}");
}

/// `https-enable=false` with a plain-RTSP method: one warning, that everything is in
/// clear, and none that claims ONVIF stays on HTTPS.
#[test]
fn test_https_disabled_warnings_match_the_settings() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = multi(
        live_props(&loc, &ca),
        &[
            ("https-enable", &false),
            ("streaming-method", &"rtp-rtsp-tcp"),
        ],
    );
    let out = run.collect(&["video_0"], 5, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    let ours: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| w.contains("https-enable") || w.contains("streaming-method"))
        .collect();
    assert_eq!(ours.len(), 1, "{:?}", out.warnings);
    assert!(ours[0].contains("everything travels in clear"), "{ours:?}");
    assert!(
        !out.warnings.iter().any(|w| w.contains("HTTPS")),
        "{:?}",
        out.warnings
    );
}

/// Everything between the element and the camera goes through a relay that records it:
/// with HTTPS nothing readable crosses the wire.
#[test]
fn test_nothing_readable_crosses_the_wire() {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[("streams", &"video+audio")]);
    let out = run.collect(&["video_0", "audio_0"], 50, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(out.count("audio_0") >= 50, "audio {}", out.count("audio_0"));
    drop(run);
    let snap = run_with(snapshot_props(&loc, &ca, PW), &[]);
    let s = snap.collect(2, WAIT);
    assert_eq!(s.samples.len(), 2, "{}", s.error_text());
    drop(snap);

    let up = relay.to_target.lock().unwrap().clone();
    let down = relay.to_client.lock().unwrap().clone();
    assert!(
        down.len() > 50_000,
        "media went through the relay: {} bytes",
        down.len()
    );
    assert_eq!(
        cam.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        cam.stats
            .https_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        "all over HTTPS"
    );
    let needles: &[&[u8]] = &[
        b"RTSP/1.0",
        b"Envelope",
        b"x-rtsp-tunnelled",
        b"application/sdp",
        b"m=video",
        b"JFIF\0\x01", // a JPEG's APP0 (four bytes alone turn up in ciphertext)
        b"T1BUSU9OUyBydHNw",
        b"admin",
        b"Authorization",
        b"onvif/",
    ];
    for (dir, bytes) in [("element to camera", &up), ("camera to element", &down)] {
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == *n),
                "{:?} readable on the wire ({dir})",
                String::from_utf8_lossy(n)
            );
        }
    }
}

/// A camera (or network) that drops the tunnel mid-stream, with `reconnect=false`: an
/// error, never a hang.
#[test]
fn test_get_closed_midstream_is_an_error_not_a_hang() {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[("reconnect", &false)]);
    let out = run.collect(&["video_0"], 20, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    relay.cut_all();
    let cut = Instant::now();
    let out = run.collect(&["never"], 1, Duration::from_secs(10));
    assert_eq!(
        out.resource_error(),
        Some(gst::ResourceError::Read),
        "{}",
        out.error_text()
    );
    assert!(
        cut.elapsed() < Duration::from_secs(5),
        "noticed in {:?}",
        cut.elapsed()
    );
}

#[test]
fn test_wrong_location_path_is_not_found() {
    let (cam, ca) = camera(Config::default());
    let loc = format!("{}/wrong/path", cam.https_url());
    let run = multi(live_props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(gst::ResourceError::NotFound, &["HTTP 404"]);
}

/// GStreamer's own rtspsrc (`rtspsh://`) and FFmpeg (`-rtsp_transport https`) play the
/// virtual camera's tunnel too: it is a real peer, not one shaped after our client.
#[test]
fn test_rtspsrc_and_ffprobe_play_the_camera_tunnel() {
    init();
    let (cam, _ca) = camera(Config::default());
    let url = format!("rtspsh://127.0.0.1:{}/media/Profile_1", cam.https_port());
    let n = pull_launched(
        &format!(
            "rtspsrc location={url} user-id=admin user-pw={PW} tls-validation-flags=0 \
             ! rtph264depay ! appsink name=sink sync=false"
        ),
        10,
        WAIT,
    )
    .len();
    assert_eq!(n, 10, "rtspsrc got H.264 through the camera's HTTPS tunnel");

    let ffprobe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-rtsp_transport",
            "https",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
        ])
        .arg(format!(
            "rtsp://admin:{PW}@127.0.0.1:{}/media/Profile_1",
            cam.https_port()
        ))
        .output();
    match ffprobe {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            assert_eq!(
                text.lines().collect::<Vec<_>>(),
                // The metadata track is a data stream ffprobe has no codec for.
                vec!["h264", "aac", "unknown"],
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Err(e) => assert!(!tool_required(), "ffprobe missing: {e}"),
    }
}

fn unencrypted_method(method: &str) {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = multi(
        live_props(&loc, &ca),
        &[("streaming-method", &method), ("streams", &"video+audio")],
    );
    let out = run.collect(&["video_0", "audio_0"], 50, WAIT);
    assert!(out.error.is_none(), "{method}: {}", out.error_text());
    assert!(
        out.count("video_0") >= 50 && out.count("audio_0") >= 50,
        "{method}: video {} audio {}",
        out.count("video_0"),
        out.count("audio_0")
    );
    let s = caps_of(&out.pads["video_0"]);
    assert_eq!(s.get::<&str>("encoding-name").unwrap(), "H264");
    assert_pts_follow_real_time(&out.pads["video_0"], method);
    let warnings: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| w.contains("unencrypted"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "{method}: one warning naming the method: {:?}",
        out.warnings
    );
    assert!(
        warnings[0].contains(&format!("streaming-method={method}")),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("rtp-rtsp-http-tcp"),
        "names the fix: {}",
        warnings[0]
    );
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(
        !heads.iter().any(|h| h.ends_with("(tunnel)")),
        "{method}: no tunnel: {heads:?}"
    );
    // The bootstrap: GetSystemDateAndTime, GetNetworkProtocols anonymous then with a
    // digest; nothing else over plain HTTP.
    assert!(
        heads.iter().filter(|h| h.starts_with("http ")).count() <= 3,
        "{method}: SOAP stays on HTTPS: {heads:?}"
    );
}

#[test]
fn test_rtp_rtsp_tcp_plays_and_warns() {
    unencrypted_method("rtp-rtsp-tcp");
}

#[test]
fn test_rtp_udp_plays_and_warns() {
    unencrypted_method("rtp-udp");
}

/// Security review: the UDP ports took RTP from anyone. Datagrams that do not come from
/// the device's address and server ports are dropped and counted now.
#[test]
fn test_rtp_udp_takes_packets_only_from_the_device() {
    let mut config = Config::default();
    // A persona puts the camera's RTSP front in the path, which records SETUP transports.
    onvif_virtual_camera::persona::Persona::StrictAuth.apply(&mut config);
    let (cam, ca) = camera(config);
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[("streaming-method", &"rtp-udp")]);
    let before = run.collect(&["video_0"], 10, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    let transport = cam.stats.setup_transports.lock().unwrap()[0].clone();
    let port: u16 = transport
        .split(';')
        .find_map(|p| p.strip_prefix("client_port="))
        .and_then(|p| p.split('-').next())
        .and_then(|p| p.parse().ok())
        .expect("client_port");
    // RTP version 2, PT 96, an SSRC of our own, from a port that is not the server's.
    let intruder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut fake = vec![0x80, 96, 0, 1, 0, 0, 0, 1, 0xBA, 0xD0, 0xBA, 0xD0];
    fake.extend_from_slice(&[0x65; 100]);
    for _ in 0..50 {
        intruder.send_to(&fake, ("127.0.0.1", port)).unwrap();
    }
    let after = run.collect(&["video_0"], 40, WAIT);
    assert!(after.error.is_none(), "{}", after.error_text());
    let ssrc = |s: &gst::Sample| {
        let b = s.buffer().unwrap().map_readable().unwrap();
        u32::from_be_bytes([b[8], b[9], b[10], b[11]])
    };
    assert!(
        after.pads["video_0"]
            .iter()
            .all(|(s, _)| ssrc(s) != 0xBAD0_BAD0),
        "a foreign packet reached the pad"
    );
    let from = intruder.local_addr().unwrap().to_string();
    assert!(
        after
            .warnings
            .iter()
            .any(|w| w.contains("did not come from the device") && w.contains(&from)),
        "{:?}",
        after.warnings
    );
}

/// An SDP the grammar refuses is STREAM/DECODE, and names the line of the device's text
/// (issue 13 point 5), so that a capture shows where.
#[test]
fn test_a_broken_sdp_names_its_line() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            broken_sdp: true,
            ..Faults::default()
        },
        ..Config::default()
    });
    let run = multi(live_props(&cam.http_url(), &ca), &[("reconnect", &false)]);
    let out = run.collect(&["video_0"], 1, WAIT);
    let line = cam
        .stats
        .broken_sdp_line
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(line > 1, "the camera broke a media line: {line}");
    out.assert_stream_error(
        gst::StreamError::Decode,
        &[&format!(
            "sent a malformed answer to RTSP DESCRIBE at line {line} of its SDP: SDP not parsed: missing field Media port"
        )],
    );
}

/// `rtp-udp` where no RTP arrives (a firewall drops UDP): an error within `timeout`
/// seconds of PLAY naming UDP, the ports and the methods that avoid it; with `reconnect`,
/// the same words as the reconnect cause. (rtspsrc: "Could not receive any UDP packets".)
#[test]
fn test_rtp_udp_with_nothing_arriving_says_so() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            udp_blocked: true,
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = cam.http_url();
    let udp = [
        ("streaming-method", &"rtp-udp" as &dyn ToValue),
        ("timeout", &2u32),
    ];
    let run = multi(
        live_props(&loc, &ca),
        &[udp[0], udp[1], ("reconnect", &false)],
    );
    let start = Instant::now();
    let out = run.collect(&["video_0"], 1, WAIT);
    let took = start.elapsed();
    assert_eq!(out.count("video_0"), 0);
    out.assert_resource_error(
        gst::ResourceError::Read,
        &[
            "no RTP arrived on UDP ports ",
            "within 2 s of PLAY",
            "streaming-method=rtp-rtsp-http-tcp",
        ],
    );
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(5)).contains(&took),
        "{took:?}"
    );
    drop(run);

    let run = multi(live_props(&loc, &ca), &udp);
    let out = run.collect(&["video_0"], 1, Duration::from_secs(4));
    assert!(out.error.is_none(), "{}", out.error_text());
    let causes = reconnect_causes(&out);
    assert!(!causes.is_empty(), "reconnecting");
    assert!(
        causes[0].contains("no RTP arrived on UDP ports "),
        "{causes:?}"
    );
}

/// Keep-alives go out on a timer while media flows (rtspsrc before 1.28 relied on RTCP,
/// and some cameras drop such sessions); TEARDOWN goes out at stop.
#[test]
fn test_keepalive_while_data_flows_and_teardown_at_stop() {
    let (cam, ca) = camera(Config {
        device: Device {
            session_timeout: Some(4),
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[]);
    let start = Instant::now();
    // Eight seconds: twice the session timeout.
    let out = run.collect(&["none"], 1, Duration::from_secs(8));
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        start.elapsed() > Duration::from_secs(7),
        "ran {:?}",
        start.elapsed()
    );
    let last = out.pads["video_0"].last().unwrap().1;
    assert!(
        last - start > Duration::from_secs(7),
        "media still flowing after the session timeout"
    );
    drop(run);
    let reqs = cam.stats.rtsp_requests.lock().unwrap().clone();
    let keepalives = reqs.iter().filter(|r| *r == "GET_PARAMETER").count();
    assert!(keepalives >= 2, "a keep-alive about every 3.2 s: {reqs:?}");
    assert_eq!(
        reqs.last().map(String::as_str),
        Some("TEARDOWN"),
        "{reqs:?}"
    );
}

#[test]
fn test_latency_query_answers_latency_property() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[("latency", &350u32)]);
    let out = run.collect(&["video_0"], 5, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    let mut q = gst::query::Latency::new();
    let pad = run.src.static_pad("video_0").expect("video_0");
    assert!(pad.query(&mut q), "latency query answered");
    let (live, min, _max) = q.result();
    assert!(live, "a live source");
    assert_eq!(min, gst::ClockTime::from_mseconds(350));
}

/// An unlinked pad does not stop the others: its not-linked is combined with the linked
/// pad's OK (a `UniqueFlowCombiner`), and no error is posted.
#[test]
fn test_unlinked_pad_does_not_stop_the_others() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.https_url();
    let base = live_props(&loc, &ca);
    let mut props: Vec<(&str, &dyn ToValue)> = base.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    props.push(("streams", &"video+audio"));
    let run = MultiRun::linking(&props, |name| name == "video_0");
    let out = run.collect(&["video_0"], 40, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.count("video_0") >= 40,
        "video_0: {} ({:?})",
        out.count("video_0"),
        out.states
    );
    let audio = run.src.static_pad("audio_0").expect("audio_0 added");
    assert!(!audio.is_linked(), "audio_0 stays unlinked");
    assert_eq!(out.count("audio_0"), 0);
}

/// A sink that has had enough (`fakesink num-buffers`) answers EOS: like basesrc, the
/// element then sends EOS down its pads, so the pipeline posts EOS and gst-launch ends.
#[test]
fn test_eos_from_downstream_ends_the_pipeline() {
    init();
    let (cam, ca) = camera(Config::default());
    let pipeline = gst::parse::launch(&format!(
        "onvifhttpssrc location={} user-id=admin user-pw={PW} tls-ca-file={} \
         ! fakesink num-buffers=20",
        cam.https_url(),
        ca.as_str()
    ))
    .expect("the pipeline parses");
    let bus = pipeline.bus().expect("a bus");
    pipeline.set_state(gst::State::Playing).expect("PLAYING");
    let msg = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(WAIT.as_secs()),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    pipeline.set_state(gst::State::Null).expect("NULL");
    let msg = msg.expect("EOS within the wait, not a hang");
    match msg.view() {
        gst::MessageView::Eos(_) => {}
        gst::MessageView::Error(e) => panic!("an error instead of EOS: {}", e.error()),
        other => panic!("unexpected {other:?}"),
    }
}

/// The metadata track: RTP payloads up to each marker bit form one `tt:MetadataStream`
/// document (ONVIF Streaming §5.2.1.1), alongside video and audio.
#[test]
fn test_metadata_track_reassembles_into_documents() {
    let (cam, ca) = camera(Config {
        device: Device {
            metadata: true,
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(
        live_props(&loc, &ca),
        &[("streams", &"video+audio+metadata")],
    );
    let out = run.collect(&["video_0", "audio_0", "metadata_0"], 4, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    for p in ["video_0", "audio_0", "metadata_0"] {
        assert!(
            out.count(p) >= 4,
            "{p}: {} ({:?}, {:?})",
            out.count(p),
            out.states,
            out.warnings
        );
    }
    let md = &out.pads["metadata_0"];
    let s = caps_of(md);
    assert_eq!(s.get::<&str>("media").unwrap(), "application");
    assert_eq!(
        s.get::<&str>("encoding-name").unwrap(),
        "VND.ONVIF.METADATA"
    );
    assert_eq!(s.get::<i32>("clock-rate").unwrap(), 90000);
    let mut docs = Vec::new();
    let mut cur = Vec::new();
    for (sample, _) in md {
        let buf = sample.buffer().unwrap();
        let map = buf.map_readable().unwrap();
        let h = gstonvifhttps::testing::rtp::parse_header(&map).expect("RTP");
        cur.extend_from_slice(&map[12..]);
        if h.marker {
            docs.push(std::mem::take(&mut cur));
        }
    }
    assert!(
        !docs.is_empty(),
        "at least one whole document in {} packets",
        md.len()
    );
    for d in &docs {
        let root = gstonvifhttps::testing::onvif::xml::parse(d).expect("well-formed document");
        assert!(
            root.is("http://www.onvif.org/ver10/schema", "MetadataStream"),
            "{}",
            root.name
        );
        assert!(String::from_utf8_lossy(d).contains("tns1:Device/Trigger/DigitalInput"));
    }
}

/// A camera that demands HTTP authentication on the tunnel: the GET is retried once with
/// Digest, and the POST carries it from the start.
#[test]
fn test_401_on_tunnel_get_retried_with_digest() {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            tunnel_auth: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 20, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    let tunnel: Vec<&String> = heads.iter().filter(|h| h.contains("(tunnel")).collect();
    assert_eq!(tunnel.len(), 3, "{tunnel:?}");
    assert!(
        tunnel[0].starts_with("https GET") && tunnel[0].ends_with("(tunnel 401)"),
        "{tunnel:?}"
    );
    assert!(
        tunnel[1].starts_with("https GET") && tunnel[1].ends_with("(tunnel)"),
        "{tunnel:?}"
    );
    assert!(
        tunnel[2].starts_with("https POST") && tunnel[2].ends_with("(tunnel)"),
        "{tunnel:?}"
    );
}

/// Spec §9: NULL returns within one second even when the camera stops answering in the
/// middle of the stream (the TEARDOWN goes unanswered).
#[test]
fn test_null_within_a_second_when_camera_stalls_midstream() {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[("streams", &"video+audio")]);
    let out = run.collect(&["video_0", "audio_0"], 10, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    relay.stall();
    drop(run); // asserts NULL within one second
}

/// RTSP Basic is answered inside TLS (the HTTPS tunnel) and never over plain TCP, where
/// the camera then refuses us: the password does not travel in clear.
#[test]
fn test_rtsp_basic_only_inside_tls() {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            rtsp_basic: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(
        out.error.is_none(),
        "Basic inside TLS: {}",
        out.error_text()
    );
    drop(run);
    let run = multi(
        live_props(&loc, &ca),
        &[("streaming-method", &"rtp-rtsp-tcp")],
    );
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::NotAuthorized,
        &[
            "wants credentials for RTSP DESCRIBE",
            "never over rtp-rtsp-tcp",
        ],
    );
}

/// Security review: Basic went to any TLS peer, so a man in the middle accepted with
/// `https-validate-hostname=false` (or with the certificate check off) answered 401 Basic
/// and read the password. Basic now goes only to an authenticated peer: both checks on,
/// or a pinned certificate.
#[test]
fn test_rtsp_basic_only_to_an_authenticated_peer() {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            rtsp_basic: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    for (certificate, hostname) in [(true, false), (false, true), (false, false)] {
        let run = multi(
            live_props(&loc, &ca),
            &[
                ("https-validate-certificate", &certificate),
                ("https-validate-hostname", &hostname),
            ],
        );
        let out = run.collect(&["video_0"], 1, WAIT);
        out.assert_resource_error(
            gst::ResourceError::NotAuthorized,
            &[
                "wants credentials for RTSP DESCRIBE",
                "tls-certificate-sha256",
            ],
        );
    }
    let pin = onvif_virtual_camera::certs::leaf_sha256_hex(&cam.identity_chain_pem());
    let run = multi(
        live_props(&loc, &ca),
        &[
            ("https-validate-certificate", &false),
            ("https-validate-hostname", &false),
            ("tls-certificate-sha256", &pin),
        ],
    );
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(out.error.is_none(), "pinned: {}", out.error_text());
}

/// The benchmark's stream (`make bench`): through the HTTPS tunnel, consecutive RTP of
/// whole H.264 frames (a marker closes each, the timestamp moves only after it), in both
/// framings; and the start it measures costs 3 TLS handshakes and 4 SOAP round trips.
#[test]
fn test_bench_stream_is_what_the_benchmark_measures() {
    use onvif_virtual_camera::bench::{Bench, Framing};
    for framing in [Framing::PerPacket, Framing::Coalesced] {
        let (cam, ca) = camera(Config {
            bench: Some(Bench {
                mbps: 8.0,
                framing,
                srtp: false,
            }),
            ..Config::default()
        });
        let loc = cam.https_url();
        let props = live_props(&loc, &ca);
        let props: Vec<(&str, &dyn ToValue)> =
            props.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        let run = Run::new(&props);
        let out = run.collect(300, WAIT);
        assert!(out.error.is_none(), "{}", out.error_text());
        assert_eq!(out.samples.len(), 300, "{framing:?}");
        let caps = out.first_caps();
        assert_eq!(caps.get::<&str>("encoding-name").unwrap(), "H264");
        let headers: Vec<gstonvifhttps::testing::rtp::Header> = out
            .samples
            .iter()
            .map(|s| {
                let map = s.buffer().unwrap().map_readable().unwrap();
                assert!(map.len() <= 1400, "{} bytes", map.len());
                gstonvifhttps::testing::rtp::parse_header(&map).expect("RTP")
            })
            .collect();
        for w in headers.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1), "{framing:?}");
            assert_eq!(
                w[1].timestamp != w[0].timestamp,
                w[0].marker,
                "{framing:?} {w:?}"
            );
            if w[0].marker {
                assert_eq!(w[1].timestamp.wrapping_sub(w[0].timestamp), 3600, "25 fps");
            }
        }
        drop(run);
        let requests = cam.stats.requests.load(std::sync::atomic::Ordering::SeqCst);
        let tunnels = cam
            .stats
            .tunnel_connections
            .load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(tunnels, 2, "GET and POST");
        assert_eq!(requests - tunnels, 4, "SOAP round trips");
        assert_eq!(
            cam.stats
                .tls_handshakes
                .load(std::sync::atomic::Ordering::SeqCst),
            3
        );
    }
}

/// Every connection cut mid-stream (`reconnect`, the default): a warning and one
/// `onvif-reconnecting` message naming the cause, then the stream goes on in the same pad
/// with DISCONT on its first buffer after the gap, PTS going on, no EOS, no error.
#[test]
fn test_cut_connections_are_reconnected_without_eos() {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[]);
    let before = run.collect(&["video_0"], 30, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    let soap_before = camera_ops(&cam).len();
    let cut = Instant::now();
    relay.cut_all();
    let after = run.collect(&["video_0"], 60, WAIT);
    assert!(after.error.is_none(), "{}", after.error_text());
    let reconnecting: Vec<&gst::Structure> = after
        .elements
        .iter()
        .filter(|s| s.name() == "onvif-reconnecting")
        .collect();
    assert_eq!(reconnecting.len(), 1, "{reconnecting:?}");
    assert_eq!(reconnecting[0].get::<u32>("attempt").unwrap(), 1);
    assert_eq!(reconnecting[0].get::<u64>("delay-ms").unwrap(), 250);
    let cause = reconnecting[0].get::<String>("cause").unwrap();
    assert!(cause.contains("closed"), "{cause}");
    assert!(
        after
            .warnings
            .iter()
            .any(|w| w.contains("Reconnecting (attempt 1) in 250 ms")),
        "{:?}",
        after.warnings
    );
    let samples = &after.pads["video_0"];
    let discont: Vec<usize> = (0..samples.len())
        .filter(|&i| {
            samples[i]
                .0
                .buffer()
                .unwrap()
                .flags()
                .contains(gst::BufferFlags::DISCONT)
        })
        .collect();
    assert_eq!(discont.len(), 1, "one DISCONT, after the gap: {discont:?}");
    let resumed = samples[discont[0]].1;
    assert!(
        resumed.duration_since(cut) < Duration::from_secs(3),
        "resumed {:?} after the cut",
        resumed.duration_since(cut)
    );
    let all: Vec<(gst::Sample, Instant)> = before.pads["video_0"]
        .iter()
        .chain(samples.iter())
        .cloned()
        .collect();
    assert_pts_follow_real_time(&all, "video across the reconnection");
    // The camera saw a new tunnel after the cut, and no SOAP: only the network failed.
    assert_eq!(
        cam.stats
            .tunnel_connections
            .load(std::sync::atomic::Ordering::SeqCst),
        4
    );
    assert_eq!(
        camera_ops(&cam).len(),
        soap_before,
        "{:?}",
        camera_ops(&cam)
    );
}

/// Security review: a stream whose media stops with the connections left open was only
/// noticed by the next keep-alive (48 s with a 60 s session). No media for `timeout`
/// seconds while playing is a reconnect cause now.
#[test]
fn test_media_that_stops_is_a_reconnect_cause() {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[("timeout", &3u32)]);
    let before = run.collect(&["video_0"], 10, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    relay.stall();
    let out = run.collect(&["none"], 1, Duration::from_secs(5));
    let causes = reconnect_causes(&out);
    assert!(
        causes
            .first()
            .is_some_and(|c| c.contains("no media for 3 s while playing")),
        "{causes:?} {}",
        out.error_text()
    );
    // `stats` counts the reconnection and names its cause.
    let stats = run.src.property::<gst::Structure>("stats");
    assert_eq!(
        stats.get::<u64>("reconnects").unwrap(),
        causes.len() as u64,
        "{stats}"
    );
    let last = stats.get::<String>("last-reconnect-cause").unwrap();
    assert!(
        last.starts_with("media: ") && last.contains("no media for 3 s while playing"),
        "{last}"
    );
}

/// Security review: a device that accepts PLAY and hangs up at once was reconnected every
/// 250 ms forever (the count started over at each PLAY). The waits grow now, and start
/// over only after media flowed for 10 s.
#[test]
fn test_a_device_that_hangs_up_after_play_is_backed_off() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            hang_up_after_play: true,
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[("reconnect", &true)]);
    let out = run.collect(&["none"], 1, Duration::from_millis(2500));
    assert!(out.error.is_none(), "{}", out.error_text());
    let delays: Vec<u64> = out
        .elements
        .iter()
        .filter(|s| s.name() == "onvif-reconnecting")
        .map(|s| s.get::<u64>("delay-ms").unwrap())
        .collect();
    assert!(delays.len() >= 3, "{delays:?}");
    assert_eq!(delays[..3], [250, 500, 1000], "{delays:?}");
}

/// The other half of the rule: after media flowed for 10 s (`HEALTHY_PLAY`) the waits start
/// over. A device that drops each session 13 s after PLAY is reconnected after 250 ms
/// every time, attempt 1 (without the reset the second wait would be 500 ms). 13 s, not
/// 10.5: a stall of the camera's encoder near the end must not make a session look short.
#[test]
fn test_a_session_that_played_for_10_s_starts_the_waits_over() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            hang_up_while_playing: Some(Duration::from_secs(13)),
            ..Faults::default()
        },
        ..Config::default()
    });
    let run = multi(live_props(&cam.https_url(), &ca), &[("reconnect", &true)]);
    let reconnects = |out: &MultiOutcome| -> Vec<(u32, u64)> {
        out.elements
            .iter()
            .filter(|s| s.name() == "onvif-reconnecting")
            .map(|s| {
                (
                    s.get::<u32>("attempt").unwrap(),
                    s.get::<u64>("delay-ms").unwrap(),
                )
            })
            .collect()
    };
    // Two losses: at about 13 s and 26 s.
    let out = run.collect_until(Duration::from_secs(45), |o| reconnects(o).len() >= 2);
    assert!(out.error.is_none(), "{}", out.error_text());
    let got = reconnects(&out);
    assert!(got.len() >= 2, "two losses within 45 s: {:?}", out.elements);
    assert_eq!(got[..2], [(1, 250), (1, 250)], "waits start over: {got:?}");
}

/// A camera config with an identity of its own (kept across a restart, as a rebooted
/// device keeps its certificate) and its CA file.
fn fixed_identity(name: &str) -> (Config, TempFile) {
    let ca = onvif_virtual_camera::certs::Ca::new(&format!("{name} test CA"));
    let identity = ca.leaf(
        &["127.0.0.1"],
        onvif_virtual_camera::certs::Validity::default(),
    );
    let ca_file = TempFile::new(&format!("{name}-ca.pem"), &ca.pem());
    let config = Config {
        device: Device {
            identity: Some(identity),
            ..Device::default()
        },
        ..Config::default()
    };
    (config, ca_file)
}

/// A device that reboots: every connection refused for a while, then back on the same
/// ports with the same certificate and a new RTSP server. The element keeps trying with
/// growing delays, starts again from the ONVIF start, and the stream goes on in the same
/// pad with DISCONT after the gap.
#[test]
fn test_rebooting_device_is_reconnected() {
    let (config, ca_file) = fixed_identity("reboot");
    let cam = Camera::start(config.clone()).expect("camera starts");
    let (http_port, https_port) = (cam.http_port(), cam.https_port());
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca_file), &[]);
    let before = run.collect(&["video_0"], 20, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    drop(cam);
    let down = Instant::now();
    // Down for a while: at least two attempts fail (250 ms, then 500 ms later).
    let while_down = run.collect(&["never"], 1, Duration::from_millis(1500));
    assert!(while_down.error.is_none(), "{}", while_down.error_text());
    let cam = Camera::start(Config {
        device: Device {
            http_port,
            https_port,
            ..config.device.clone()
        },
        ..config
    })
    .expect("camera comes back on its ports");
    let after = run.collect(&["video_0"], 20, WAIT);
    assert!(after.error.is_none(), "{}", after.error_text());
    let attempts: Vec<u32> = while_down
        .elements
        .iter()
        .chain(&after.elements)
        .filter(|s| s.name() == "onvif-reconnecting")
        .map(|s| s.get::<u32>("attempt").unwrap())
        .collect();
    assert!(attempts.len() >= 3, "{attempts:?}");
    assert_eq!(attempts, (1..=attempts.len() as u32).collect::<Vec<_>>());
    let samples = &after.pads["video_0"];
    let first = samples
        .iter()
        .position(|(s, _)| {
            s.buffer()
                .unwrap()
                .flags()
                .contains(gst::BufferFlags::DISCONT)
        })
        .expect("DISCONT after the reboot");
    assert!(samples[first].1.duration_since(down) < Duration::from_secs(10));
    // The new device saw a whole ONVIF start: the clock first.
    assert_eq!(
        camera_ops(&cam).first().map(String::as_str),
        Some("GetSystemDateAndTime")
    );
}

/// A device that reboots onto another HTTPS port, with an `http://` location: the HTTPS
/// port the bootstrap found (kept for the element's life) no longer answers, so it is
/// read again and the stream goes on.
#[test]
fn test_rebooted_device_on_another_https_port_is_found_again() {
    let (config, ca_file) = fixed_identity("moved");
    let cam = Camera::start(config.clone()).expect("camera starts");
    let http_port = cam.http_port();
    let loc = cam.http_url();
    let run = multi(live_props(&loc, &ca_file), &[]);
    let before = run.collect(&["video_0"], 20, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    let old_https = cam.https_port();
    drop(cam);
    // Down for a while (as in a reboot), the element trying meanwhile.
    let while_down = run.collect(&["never"], 1, Duration::from_millis(1500));
    assert!(while_down.error.is_none(), "{}", while_down.error_text());
    let cam = Camera::start(Config {
        device: Device {
            http_port,
            ..config.device.clone()
        },
        ..config
    })
    .expect("camera comes back on its HTTP port");
    assert_ne!(cam.https_port(), old_https);
    let after = run.collect(&["video_0"], 20, WAIT);
    assert!(after.error.is_none(), "{}", after.error_text());
    assert!(after.count("video_0") >= 20);
    assert!(
        camera_ops(&cam).contains(&"GetNetworkProtocols".to_string()),
        "the port was read again: {:?}",
        camera_ops(&cam)
    );
}

/// Every byte of the ONVIF start, the TLS handshakes and the media in a TCP write of its
/// own: TLS records and interleaved frames arrive in pieces and are put together.
#[test]
fn test_one_byte_per_write_still_plays() {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    relay.trickle();
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert_eq!(out.count("video_0"), 10);
    let caps = caps_of(&out.pads["video_0"]);
    assert_eq!(caps.get::<&str>("encoding-name").unwrap(), "H264");
}

/// Client connections (kept, in order) and the relay's port: the first `real` go to
/// `cam`, the rest to `intruder`, a man in the middle taking over.
type Clients = std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>;

fn switching_relay(real: usize, cam: u16, intruder: u16) -> (u16, Clients) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let clients: Clients = Default::default();
    let kept = clients.clone();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().flatten().enumerate() {
            let target = if n < real { cam } else { intruder };
            let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            if let Ok(c) = client.try_clone() {
                kept.lock().unwrap().push(c);
            }
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    (port, clients)
}

/// A man in the middle that takes over after the first two connections (the SOAP one and
/// the tunnel's GET): the POST meets another certificate, which is refused like any other
/// (RESOURCE/OPEN_READ with its fingerprint), not retried, and nothing is sent on it.
#[test]
fn test_certificate_changing_between_get_and_post_is_refused() {
    let (cam, ca) = camera(Config::default());
    let (intruder, _) = camera(Config::default());
    let (port, _) = switching_relay(2, cam.https_port(), intruder.https_port());
    let loc = format!("https://127.0.0.1:{port}");
    let run = multi(live_props(&loc, &ca), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::OpenRead,
        &["certificate of 127.0.0.1:", "was refused", "fingerprint"],
    );
    assert_eq!(out.count("video_0"), 0);
    // The intruder completed no handshake and got no request.
    assert_eq!(
        intruder
            .stats
            .tls_handshakes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(
        intruder
            .stats
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

/// Security review: a certificate refused on a reopened POST leg became an I/O error and
/// was retried as transient. The POST is cut while media flows, the element opens a new
/// one and meets another certificate: the refusal is final (no reconnection), as on the
/// first connection.
#[test]
fn test_certificate_refused_on_a_reopened_post_is_final() {
    let (cam, ca) = camera(Config::default());
    let (intruder, _) = camera(Config::default());
    // SOAP, the tunnel's GET and POST reach the camera; what comes after, the intruder.
    let (port, clients) = switching_relay(3, cam.https_port(), intruder.https_port());
    let loc = format!("https://127.0.0.1:{port}");
    let run = multi(live_props(&loc, &ca), &[("reconnect", &true)]);
    let before = run.collect(&["video_0"], 10, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    let post = clients
        .lock()
        .unwrap()
        .get(2)
        .and_then(|c| c.try_clone().ok());
    post.expect("the POST went through the relay")
        .shutdown(std::net::Shutdown::Both)
        .unwrap();
    let out = run.collect(&["none"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::OpenRead,
        &["certificate of 127.0.0.1:", "was refused", "fingerprint"],
    );
    let reconnecting = out
        .elements
        .iter()
        .filter(|s| s.name() == "onvif-reconnecting")
        .count();
    assert_eq!(reconnecting, 0, "a refusal is not retried");
    assert_eq!(
        intruder
            .stats
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

/// A device that stops answering with connections left open (`reconnect` on): the
/// unanswered keep-alive is the loss, a reconnection follows, and once the device answers
/// again the stream goes on with DISCONT.
#[test]
fn test_unanswered_keepalive_is_reconnected() {
    let (cam, ca) = camera(Config {
        device: Device {
            session_timeout: Some(2),
            ..Device::default()
        },
        ..Config::default()
    });
    let relay = Relay::new(cam.https_port());
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let run = multi(live_props(&loc, &ca), &[]);
    let before = run.collect(&["video_0"], 10, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    relay.stall();
    // Until the loss is noticed: at most two keep-alive periods.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut noticed = None;
    while noticed.is_none() && Instant::now() < deadline {
        let out = run.collect(&["never"], 1, Duration::from_millis(200));
        assert!(out.error.is_none(), "{}", out.error_text());
        noticed = out
            .elements
            .iter()
            .find(|s| s.name() == "onvif-reconnecting")
            .and_then(|s| s.get::<String>("cause").ok());
    }
    let cause = noticed.expect("a reconnection within 10 s");
    assert!(cause.contains("keep-alive"), "{cause}");
    relay.resume();
    let after = run.collect(&["video_0"], 30, WAIT);
    assert!(after.error.is_none(), "{}", after.error_text());
    assert!(
        any_discont(&after.pads["video_0"]),
        "DISCONT after the reconnection"
    );
}

/// Downstream slower than the camera (a sink that takes nothing): the element's bounded
/// hand-over queue drops its oldest data instead of growing or stalling the session, says
/// so in QoS messages (live, with the buffers pushed and dropped, at most one a second,
/// the count only growing), and the first buffer after a gap is marked DISCONT.
#[test]
fn test_a_slow_downstream_drops_the_oldest_and_says_so_in_qos() {
    use onvif_virtual_camera::bench::{Bench, Framing};
    init();
    let (cam, ca) = camera(Config {
        bench: Some(Bench {
            mbps: 100.0,
            framing: Framing::PerPacket,
            srtp: false,
        }),
        ..Config::default()
    });
    let pipeline = gst::parse::launch(&format!(
        "onvifhttpssrc name=src location={} user-id=admin user-pw={PW} tls-ca-file={} \
         ! appsink name=sink sync=false max-buffers=1 buffer-list=true",
        cam.https_url(),
        ca.as_str()
    ))
    .expect("the pipeline parses");
    let pipeline = pipeline.downcast::<gst::Pipeline>().expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .expect("the sink")
        .downcast::<gst_app::AppSink>()
        .expect("an appsink");
    let src = pipeline.by_name("src").expect("the source");
    let bus = pipeline.bus().expect("a bus");
    pipeline.set_state(gst::State::Playing).expect("PLAYING");
    // Nothing is pulled: the sink holds one list, the streaming thread blocks on the next,
    // and the queue (4 MiB) fills at 100 Mbit/s within a second.
    let mut qos = Vec::new();
    let end = Instant::now() + WAIT;
    while qos.len() < 2 && Instant::now() < end {
        let Some(msg) = bus.timed_pop_filtered(
            gst::ClockTime::from_mseconds(100),
            &[gst::MessageType::Qos, gst::MessageType::Error],
        ) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Qos(q) => {
                assert_eq!(msg.src(), Some(src.upcast_ref::<gst::Object>()));
                let (live, ..) = q.get();
                assert!(live, "a live source's QoS");
                let (processed, dropped) = q.stats();
                let (
                    gst::GenericFormattedValue::Buffers(Some(processed)),
                    gst::GenericFormattedValue::Buffers(Some(dropped)),
                ) = (processed, dropped)
                else {
                    panic!("stats in buffers: {processed:?} {dropped:?}");
                };
                qos.push((Instant::now(), *processed, *dropped));
            }
            gst::MessageView::Error(e) => {
                let _ = pipeline.set_state(gst::State::Null);
                panic!("an error instead of drops: {} ({:?})", e.error(), e.debug());
            }
            _ => {}
        }
    }
    assert_eq!(qos.len(), 2, "two QoS messages within {WAIT:?}: {qos:?}");
    let ((t0, p0, d0), (t1, p1, d1)) = (qos[0], qos[1]);
    assert!(d0 > 0 && d1 > d0, "drops counted and growing: {qos:?}");
    assert!(
        p0 >= 1 && p1 == p0,
        "nothing pushed while the sink takes nothing: {qos:?}"
    );
    assert!(
        t1.duration_since(t0) >= Duration::from_millis(900),
        "at most one QoS message a second: {:?}",
        t1.duration_since(t0)
    );
    // Taking again: the lists held before the drops, then the first one after the gap,
    // which is marked.
    let mut flags = Vec::new();
    for _ in 0..4 {
        let sample = sink
            .try_pull_sample(gst::ClockTime::from_seconds(5))
            .expect("data flows again");
        let list = sample.buffer_list().expect("lists (buffer-list=true)");
        let first = list.get(0).expect("a list holds packets");
        flags.push(first.flags().contains(gst::BufferFlags::DISCONT));
    }
    pipeline.set_state(gst::State::Null).expect("NULL");
    assert!(
        flags.iter().skip(1).any(|d| *d),
        "a DISCONT list after the gap: {flags:?}"
    );
}

/// Issue 23 point 5: a device whose encoder stalled after 5 RTP packets and whose RTCP
/// stack goes on sending receiver reports every 0.5 s. Those said "alive": the element
/// stayed PLAYING with no buffers, no error, no reconnect. Media inactivity means media:
/// RTP, or a sender report whose packet count advances.
#[test]
fn test_rtcp_alone_does_not_keep_a_dead_stream_alive() {
    let (cam, ca) = camera(Config {
        faults: Faults {
            rtcp_only_after: Some(5),
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let run = multi(live_props(&loc, &ca), &[("timeout", &3u32)]);
    let out = run.collect_until(Duration::from_secs(12), |o| {
        o.elements.iter().any(|s| s.name() == "onvif-reconnecting")
    });
    let causes = reconnect_causes(&out);
    assert!(
        causes
            .first()
            .is_some_and(|c| c.contains("no media for 3 s while playing")),
        "{causes:?} {} ({} video buffers)",
        out.error_text(),
        out.count("video_0")
    );
}
