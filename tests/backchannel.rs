// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `backchannel=onvif` (issue 25 point 3): Audio OUT as rtspsrc offers it (`select-stream`,
//! `push-backchannel-sample`, `push-backchannel-buffer`), over RTSPS and SRTP (encrypted)
//! and over plain RTSP (with the warning), into the virtual camera's speaker: gst-rtsp-server's
//! ONVIF backchannel decoding PCMU, whose tone the test measures.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use gst::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

fn props<'a>(loc: &'a str, ca: &'a str, method: &'a str) -> Vec<(&'a str, Box<dyn ToValue + 'a>)> {
    vec![
        ("location", Box::new(loc.to_string())),
        ("user-id", Box::new("admin")),
        ("user-pw", Box::new("password")),
        ("tls-ca-file", Box::new(ca.to_string())),
        ("timeout", Box::new(5u32)),
        ("streaming-method", Box::new(method.to_string())),
        ("backchannel", Box::new("onvif")),
    ]
}

/// RTP packets of a `hz` tone in G.711 µ-law, 20 ms each, as an application payloads
/// them for the backchannel.
fn tone(hz: u32, packets: usize) -> Vec<gst::Sample> {
    let out = pull_launched(
        &format!(
            "audiotestsrc freq={hz} samplesperbuffer=160 num-buffers={packets} ! \
             audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay ! appsink name=sink \
             sync=false"
        ),
        packets,
        Duration::from_secs(5),
    );
    assert_eq!(out.len(), packets, "the tone's packets");
    out
}

/// What `select-stream` said: each stream's id and caps.
fn record_offers(src: &gst::Element) -> Arc<Mutex<Vec<(u32, gst::Caps)>>> {
    let offers = Arc::new(Mutex::new(Vec::new()));
    let o = offers.clone();
    src.connect("select-stream", false, move |args| {
        let id = args[1].get::<u32>().unwrap();
        let caps = args[2].get::<gst::Caps>().unwrap();
        o.lock().unwrap().push((id, caps));
        Some(true.to_value())
    });
    offers
}

fn push_sample(src: &gst::Element, id: u32, sample: &gst::Sample) -> gst::FlowReturn {
    src.emit_by_name::<gst::FlowReturn>("push-backchannel-sample", &[&id, sample])
}

/// The element's `onvif-backchannel` message: the stream's id and caps.
fn backchannel_message(out: &MultiOutcome) -> Option<(u32, gst::Caps)> {
    out.elements
        .iter()
        .find(|s| s.name() == "onvif-backchannel")
        .map(|s| {
            (
                s.get::<u32>("id").unwrap(),
                s.get::<gst::Caps>("caps").unwrap(),
            )
        })
}

/// A 400 Hz tone pushed through the element reaches the camera's speaker at 400 Hz, every
/// packet of it; the stream is announced as rtspsrc announces it.
fn tone_reaches_the_speaker(method: &str) {
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: method == "rtsps-srtp",
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = if method.starts_with("rtsps") {
        cam.https_url()
    } else {
        cam.http_url()
    };
    let run = multi(props(&loc, ca.as_str(), method), &[]);
    let offers = record_offers(&run.src);
    let packets = tone(400, 100);
    assert_eq!(
        push_sample(&run.src, 0, &packets[0]),
        gst::FlowReturn::Flushing,
        "{method}: before PLAY"
    );
    let out = run.collect_until(WAIT, |o| {
        backchannel_message(o).is_some() && o.count("video_0") > 0
    });
    assert!(out.error.is_none(), "{method}: {}", out.error_text());
    let (id, caps) = backchannel_message(&out).expect("an onvif-backchannel message");
    let s = caps.structure(0).unwrap();
    assert_eq!(s.name(), "application/x-rtp");
    assert_eq!(s.get::<&str>("media").unwrap(), "audio");
    assert_eq!(s.get::<&str>("encoding-name").unwrap(), "PCMU");
    assert_eq!(s.get::<i32>("payload").unwrap(), 0);
    assert_eq!(s.get::<i32>("clock-rate").unwrap(), 8000);
    // select-stream: every stream of the SDP, the backchannel's with a-sendonly.
    let offers = offers.lock().unwrap().clone();
    let sendonly: Vec<u32> = offers
        .iter()
        .filter(|(_, c)| c.structure(0).is_some_and(|s| s.has_field("a-sendonly")))
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(sendonly, [id], "{method}: {offers:?}");
    assert_eq!(
        offers.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..u32::try_from(offers.len()).unwrap()).collect::<Vec<_>>()
    );
    assert_eq!(
        push_sample(&run.src, id + 1, &packets[0]),
        gst::FlowReturn::Error,
        "another stream's id"
    );
    for p in &packets {
        assert_eq!(
            push_sample(&run.src, id, p),
            gst::FlowReturn::Ok,
            "{method}"
        );
    }
    let speaker = cam.stats.backchannel.clone();
    let heard = run.collect_until(WAIT, |_| {
        speaker.packets.load(std::sync::atomic::Ordering::SeqCst) >= 100
    });
    assert!(heard.error.is_none(), "{method}: {}", heard.error_text());
    assert_eq!(
        speaker.packets.load(std::sync::atomic::Ordering::SeqCst),
        100,
        "{method}: every packet"
    );
    assert_eq!(
        speaker.samples.load(std::sync::atomic::Ordering::SeqCst),
        16_000,
        "{method}: 2 s of audio"
    );
    let hz = speaker.frequency();
    assert!(
        (390.0..410.0).contains(&hz),
        "{method}: the speaker heard {hz} Hz"
    );
    drop(run);
    let rtsp = cam.stats.rtsp_requests.lock().unwrap().clone();
    assert_eq!(
        rtsp,
        ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY", "TEARDOWN"],
        "{method}: video and the backchannel SET UP"
    );
}

#[test]
fn test_a_tone_reaches_the_speaker_over_rtsps() {
    tone_reaches_the_speaker("rtsps");
}

/// Over `rtsps-srtp` the audio goes as SRTP under the key of the element's `KeyMgmt`,
/// which gst-rtsp-server's `srtpdec` opens (a peer we did not write).
#[test]
fn test_a_tone_reaches_the_speaker_over_rtsps_srtp() {
    tone_reaches_the_speaker("rtsps-srtp");
}

/// Over plain RTSP the backchannel works too, and the warning says the audio goes in
/// clear and names RTSPS.
#[test]
fn test_a_tone_reaches_the_speaker_over_plain_rtsp_with_the_warning() {
    tone_reaches_the_speaker("rtp-rtsp-tcp");
    let (cam, ca) = camera(Config::default());
    let run = multi(props(&cam.http_url(), ca.as_str(), "rtp-rtsp-tcp"), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    let w: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| w.contains("unencrypted"))
        .collect();
    assert_eq!(w.len(), 1, "{:?}", out.warnings);
    assert!(
        w[0].contains("backchannel's audio") && w[0].contains("streaming-method=rtsps"),
        "{}",
        w[0]
    );
}

/// Over `rtp-udp` the audio goes as RTP over UDP to the device's port, in clear.
#[test]
fn test_a_tone_reaches_the_speaker_over_rtp_udp() {
    tone_reaches_the_speaker("rtp-udp");
}

/// `push-backchannel-sample` leaves the caller's reference; `push-backchannel-buffer`
/// takes it (rtspsrc's contract: a C caller does not unref after it).
#[test]
fn test_the_two_push_signals_own_the_sample_as_rtspsrc_does() {
    let (cam, ca) = camera(Config::default());
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps"), &[]);
    let out = run.collect_until(WAIT, |o| backchannel_message(o).is_some());
    let (id, _) = backchannel_message(&out).expect("a backchannel");
    let sample = tone(400, 1).remove(0);
    assert!(sample.is_writable(), "one reference: ours");
    assert_eq!(push_sample(&run.src, id, &sample), gst::FlowReturn::Ok);
    assert!(sample.is_writable(), "the sample stays the caller's, once");
    // A reference handed over, as a C caller of rtspsrc does.
    std::mem::forget(sample.clone());
    assert!(!sample.is_writable(), "two references");
    let flow = run
        .src
        .emit_by_name::<gst::FlowReturn>("push-backchannel-buffer", &[&id, &sample]);
    assert_eq!(flow, gst::FlowReturn::Ok);
    assert!(sample.is_writable(), "the handed-over reference is taken");
    // A buffer that is not RTP is refused, with a warning.
    let raw = gst::Sample::builder()
        .buffer(&gst::Buffer::from_slice(vec![0u8; 160]))
        .build();
    assert_eq!(push_sample(&run.src, id, &raw), gst::FlowReturn::Error);
    let after = run.collect_until(Duration::from_secs(2), |o| {
        o.warnings.iter().any(|w| w.contains("not an RTP packet"))
    });
    assert!(
        after
            .warnings
            .iter()
            .any(|w| w.contains("not an RTP packet")),
        "{:?}",
        after.warnings
    );
}

/// A device without a backchannel answers the DESCRIBE that requires it with 551: the
/// element warns, asks again without, and plays.
#[test]
fn test_a_device_without_a_backchannel_plays_without_it_and_warns() {
    let (cam, ca) = camera(Config {
        device: Device {
            backchannel: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps"), &[]);
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("551") && w.contains("playing without Audio OUT")),
        "{:?}",
        out.warnings
    );
    assert!(backchannel_message(&out).is_none());
    drop(run);
    let rtsp = cam.stats.rtsp_requests.lock().unwrap().clone();
    assert_eq!(
        rtsp,
        ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"],
        "the DESCRIBE refused with 551 is not logged by the camera"
    );
}

/// Through the HTTPS tunnel the backchannel stays refused (spec §2), and the error names
/// the encrypted way.
#[test]
fn test_the_tunnel_refuses_the_backchannel_naming_rtsps() {
    let (cam, ca) = camera(Config::default());
    let run = multi(
        props(&cam.https_url(), ca.as_str(), "rtp-rtsp-http-tcp"),
        &[],
    );
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &["backchannel=onvif", "tunnel", "streaming-method=rtsps"],
    );
}

/// Over SRTP, an application whose payloader starts again (its sequence numbers jump
/// back) still reaches the speaker: SRTP refuses an index it has seen, so the element
/// numbers the packets itself. 50 packets, then 50 numbered 1,000 behind them: all 100
/// are heard.
#[test]
fn test_a_payloader_started_again_is_heard_over_srtp() {
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: true,
            ..Device::default()
        },
        ..Config::default()
    });
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps-srtp"), &[]);
    let out = run.collect_until(WAIT, |o| backchannel_message(o).is_some());
    assert!(out.error.is_none(), "{}", out.error_text());
    let (id, _) = backchannel_message(&out).expect("a backchannel");
    let packets = tone(400, 100);
    for (i, p) in packets.iter().enumerate() {
        let p = if i < 50 {
            p.clone()
        } else {
            // The second run: sequence numbers 1,000 behind the first's.
            let mut buffer = p.buffer().unwrap().copy();
            {
                let mut map = buffer.get_mut().unwrap().map_writable().unwrap();
                let seq = u16::from_be_bytes([map[2], map[3]]).wrapping_sub(1000);
                map[2..4].copy_from_slice(&seq.to_be_bytes());
            }
            let caps = p.caps_owned().unwrap();
            gst::Sample::builder().buffer(&buffer).caps(&caps).build()
        };
        assert_eq!(push_sample(&run.src, id, &p), gst::FlowReturn::Ok);
    }
    let speaker = cam.stats.backchannel.clone();
    let heard = run.collect_until(WAIT, |_| {
        speaker.packets.load(std::sync::atomic::Ordering::SeqCst) >= 100
    });
    assert!(heard.error.is_none(), "{}", heard.error_text());
    assert_eq!(
        speaker.packets.load(std::sync::atomic::Ordering::SeqCst),
        100
    );
}
