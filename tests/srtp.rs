// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `streaming-method=rtsps-srtp` (issue 25 point 2): RTSP over TLS on the RTSPS port, the
//! media as SRTP over UDP, against the virtual camera's gst-rtsp-server offering RTP/SAVP
//! (libsrtp2 through `srtpenc`, its key in the SDP): what the pads get, the key the device
//! is found to use, our receiver reports opened by its `srtpdec`, damaged packets dropped
//! and counted, and what cannot be encrypted as asked refused.

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
        ("streams", Box::new("video+audio")),
    ]
}

fn srtp_camera(bad_tag: bool) -> (Camera, TempFile) {
    camera(Config {
        device: Device {
            srtp: true,
            srtp_bad_tag: bad_tag,
            ..Device::default()
        },
        ..Config::default()
    })
}

/// The element's debug lines that contain `needle`, while `f` runs.
fn debug_lines<T>(needle: &'static str, f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = lines.clone();
    gst::log::set_threshold_for_name("onvifhttpssrc", gst::DebugLevel::Debug);
    gst::log::set_active(true);
    let hook = gst::log::add_log_function(move |_cat, _lvl, _file, _fn, _line, _obj, msg| {
        if let Some(m) = msg.get()
            && m.contains(needle)
        {
            l.lock().unwrap().push(m.to_string());
        }
    });
    let r = f();
    gst::log::remove_log_function(hook);
    let lines = lines.lock().unwrap().clone();
    (r, lines)
}

/// The NAL unit type of an H.264 RTP packet's payload (RFC 6184 §5.2).
fn nal_type(sample: &gst::Sample) -> u8 {
    let map = sample.buffer().unwrap().map_readable().unwrap();
    let csrc = usize::from(map[0] & 0x0F) * 4;
    map[12 + csrc] & 0x1F
}

/// Video and audio over SRTP with every check on: the caps of the RTSPS and tunnel pads,
/// H.264 that parses (decrypted, not ciphertext: SRTP leaves the RTP header in clear, so
/// only the payload tells), no warning, the device's key found to be the one it uses, and
/// our receiver reports opened by the camera's `srtpdec` under the key we sent.
#[test]
fn test_rtsps_srtp_plays_video_and_audio_with_checks_on() {
    let (cam, ca) = srtp_camera(false);
    let loc = cam.https_url();
    let (out, lines) = debug_lines("stream", || {
        let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
        run.collect(&["video_0", "audio_0"], 60, WAIT)
    });
    assert_camera_av(&out, 60);
    // Single NAL units (1, 5, 6, 7, 8, 9), STAP-A (24) and FU-A (28) are what x264enc
    // and rtph264pay write; ciphertext gives any type (26 and 27 among them).
    let types: std::collections::BTreeSet<u8> = out.pads["video_0"]
        .iter()
        .map(|(s, _)| nal_type(s))
        .collect();
    assert!(
        types.iter().all(|t| [1, 5, 6, 7, 8, 9, 24, 28].contains(t)),
        "{types:?}"
    );
    for i in 0..2 {
        let said =
            format!("stream {i}: the device encrypts with the device's key (its SDP's a=key-mgmt)");
        assert!(lines.contains(&said), "{said}: {lines:?}");
    }
    let rtsp = cam.stats.rtsp_requests.lock().unwrap().clone();
    assert_eq!(
        rtsp,
        ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY", "TEARDOWN"],
        "one RTSP session, on the RTSPS server"
    );
}

/// A device whose audio packets fail authentication (their tag damaged on the way out):
/// every one is dropped before the pad, a warning says it once, and the count is said at
/// the end; the video plays on.
#[test]
fn test_packets_that_fail_authentication_are_dropped_and_counted() {
    let (cam, ca) = srtp_camera(true);
    let loc = cam.https_url();
    let (out, lines) = debug_lines("SRTP packet(s) failed", || {
        let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
        let out = run.collect(&["video_0"], 60, WAIT);
        drop(run);
        out
    });
    assert!(out.error.is_none(), "{}", out.error_text());
    assert_eq!(out.count("audio_0"), 0, "no damaged packet reaches the pad");
    let drops: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| w.contains("fail authentication"))
        .collect();
    assert_eq!(drops.len(), 1, "one warning: {:?}", out.warnings);
    assert!(
        drops[0].starts_with("stream 1: dropping SRTP packets"),
        "{}",
        drops[0]
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    let n: u64 = lines[0]
        .strip_prefix("stream 1: ")
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // The audio sends about 15 packets a second: some arrived while the video played.
    assert!(n >= 1, "{}", lines[0]);
}

/// What cannot be encrypted as asked stops the start naming the way that works:
/// `rtsps` on a camera offering its streams as RTP/SAVP only (gst-rtsp-server set up for
/// SRTP), and `rtsps-srtp` on one offering RTP/AVP only.
#[test]
fn test_what_cannot_be_encrypted_as_asked_is_refused() {
    let (cam, ca) = srtp_camera(false);
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps"), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &[
            "offers its video stream only as RTP/SAVP",
            "streaming-method=rtsps-srtp",
        ],
    );
    drop((run, cam));
    let (cam, ca) = camera(Config::default());
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps-srtp"), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &[
            "offers its video stream only as plain RTP/AVP",
            "streaming-method=rtsps ",
        ],
    );
}
