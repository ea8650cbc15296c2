// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `streaming-method=rtsps` (issue 25 point 1): RTSP over TLS on the device's RTSPS port,
//! found through Media2 (`SecureRTSPStreaming`, `GetStreamUri` with `RtspsUnicast`), the
//! media interleaved inside TLS. The camera's RTSPS server is gst-rtsp-server doing TLS
//! itself (GnuTLS through glib-networking), a TLS stack we did not write; rtspsrc and
//! ffprobe play it too.

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;
use onvif_virtual_camera::RtspsUriPort;

const PW: &str = "password";
const WAIT: Duration = Duration::from_secs(20);

fn props<'a>(loc: &'a str, ca: &'a str) -> Vec<(&'a str, Box<dyn ToValue + 'a>)> {
    vec![
        ("location", Box::new(loc.to_string())),
        ("user-id", Box::new("admin")),
        ("user-pw", Box::new(PW)),
        ("tls-ca-file", Box::new(ca.to_string())),
        ("timeout", Box::new(5u32)),
        ("streaming-method", Box::new("rtsps")),
    ]
}

/// Video and audio over RTSPS with every check on: the pads, caps and timestamps of the
/// tunnel, no warning, and no tunnel or plain RTSP connection to the camera.
#[test]
fn test_rtsps_plays_video_and_audio_with_checks_on() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.https_url();
    let run = multi(props(&loc, ca.as_str()), &[("streams", &"video+audio")]);
    let out = run.collect(&["video_0", "audio_0"], 60, WAIT);
    assert_camera_av(&out, 60);
    for pad in ["video_0", "audio_0"] {
        let pts: Vec<u64> = out.pads[pad]
            .iter()
            .map(|(s, _)| s.buffer().unwrap().pts().expect("PTS").nseconds())
            .collect();
        assert!(pts.windows(2).all(|w| w[1] >= w[0]), "{pad}: PTS go back");
    }
    drop(run);
    let heads = cam.stats.heads.lock().unwrap().clone();
    assert!(
        !heads.iter().any(|h| h.ends_with("(tunnel)")),
        "no tunnel: {heads:?}"
    );
    let ops = camera_ops(&cam);
    assert!(ops.iter().any(|o| o == "GetServiceCapabilities"), "{ops:?}");
    let rtsp = cam.stats.rtsp_requests.lock().unwrap().clone();
    assert_eq!(
        rtsp,
        ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY", "TEARDOWN"],
        "one RTSP session, on the RTSPS server"
    );
}

/// A tap that tries to read RTP interleaved in RTSP (`$`, channel, length, an RTP version
/// 2 header) from a captured byte stream: the number of frames it finds that are followed
/// at once by two more such frames. Ciphertext looks like a chain of two now and then
/// (about once in 10^9 positions); a chain of three, never.
fn interleaved_rtp_frames(bytes: &[u8]) -> usize {
    let frame_at = |i: usize| -> Option<usize> {
        let head = bytes.get(i..i + 5)?;
        if head[0] != b'$' || head[1] > 7 || head[4] >> 6 != 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        (len >= 12).then_some(i + 4 + len)
    };
    (0..bytes.len())
        .filter(|&i| frame_at(i).and_then(frame_at).and_then(frame_at).is_some())
        .count()
}

/// A camera whose `rtsps://` URIs point at a relay in front of its RTSPS port, and an
/// element playing its video over RTSPS.
fn relayed_rtsps() -> (Camera, TempFile, Relay, MultiRun) {
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.rtsps_port().expect("an RTSPS port"));
    cam.set_rtsps_uri_port(RtspsUriPort::Port(relay.port));
    let run = multi(props(&cam.https_url(), ca.as_str()), &[]);
    (cam, ca, relay, run)
}

/// Through a relay that records the RTSPS connection: no RTSP and no RTP readable on it.
/// The same tap on a plain `rtp-rtsp-tcp` capture finds the packets (it can see them).
#[test]
fn test_nothing_readable_on_the_rtsps_wire() {
    let (cam, _ca, relay, run) = relayed_rtsps();
    let out = run.collect(&["video_0"], 100, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    drop(run);
    let up = relay.to_target.lock().unwrap().clone();
    let down = relay.to_client.lock().unwrap().clone();
    assert!(
        down.len() > 40_000,
        "media went through: {} bytes",
        down.len()
    );
    for (dir, bytes) in [("element to camera", &up), ("camera to element", &down)] {
        for n in [
            &b"RTSP/1.0"[..],
            b"m=video",
            b"Authorization",
            b"admin",
            b"Profile_1",
        ] {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n),
                "{:?} readable ({dir})",
                String::from_utf8_lossy(n)
            );
        }
        assert_eq!(interleaved_rtp_frames(bytes), 0, "RTP in clear ({dir})");
    }

    // The tap on plain RTSP: it finds the interleaved packets.
    let plain = Relay::new(cam.rtsp_port());
    let got = pull_launched(
        &format!(
            "rtspsrc location=rtsp://127.0.0.1:{}{} protocols=tcp user-id=admin \
             user-pw={PW} ! rtph264depay ! appsink name=sink sync=false",
            plain.port,
            cam.stream_path("Profile_1")
        ),
        20,
        WAIT,
    );
    assert_eq!(got.len(), 20);
    let clear = plain.to_client.lock().unwrap().clone();
    assert!(
        interleaved_rtp_frames(&clear) >= 18,
        "the tap sees RTP in clear: {}",
        interleaved_rtp_frames(&clear)
    );
}

/// A fingerprint as the element writes it: upper case, colons between bytes.
fn colons(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|b| String::from_utf8_lossy(b).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// A camera whose RTSPS port presents another certificate than its HTTPS port, made by
/// `rtsps` from the CA of `ca`, and that CA's file.
fn camera_with_rtsps_identity(
    ca: &certs::Ca,
    rtsps: certs::Identity,
) -> (Camera, TempFile, String, String) {
    let https = ca.leaf(&["127.0.0.1"], certs::Validity::default());
    let pins = (
        certs::leaf_sha256_hex(&https.chain_pem),
        certs::leaf_sha256_hex(&rtsps.chain_pem),
    );
    let cam = Camera::start(Config {
        device: Device {
            identity: Some(https),
            rtsps_identity: Some(rtsps),
            ..Device::default()
        },
        ..Config::default()
    })
    .expect("camera");
    let file = TempFile::new("ca.pem", &ca.pem());
    (cam, file, pins.0, pins.1)
}

/// The RTSPS port is checked as every other connection: a certificate from a CA the user
/// did not give, or for another name, is refused there (the HTTPS port passing), naming
/// the RTSPS port and the certificate's fingerprint; a pin must match the RTSPS port's
/// certificate too; with the name check off a name mismatch plays, with the warning.
#[test]
fn test_the_rtsps_port_is_checked_as_every_connection() {
    let ca = certs::Ca::new("Camera CA");
    let other = certs::Ca::new("Someone else");
    // Another CA on the RTSPS port.
    let (cam, file, _, rtsps_pin) =
        camera_with_rtsps_identity(&ca, other.leaf(&["127.0.0.1"], certs::Validity::default()));
    let rtsps = format!("127.0.0.1:{}", cam.rtsps_port().unwrap());
    let run = multi(props(&cam.https_url(), file.as_str()), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(gst::ResourceError::OpenRead, &[&rtsps, &colons(&rtsps_pin)]);
    drop((run, cam));

    // A name the RTSPS certificate does not carry.
    let (cam, file, https_pin, rtsps_pin) = camera_with_rtsps_identity(
        &ca,
        ca.leaf(&["camera.example"], certs::Validity::default()),
    );
    let rtsps = format!("127.0.0.1:{}", cam.rtsps_port().unwrap());
    let run = multi(props(&cam.https_url(), file.as_str()), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(gst::ResourceError::OpenRead, &[&rtsps]);
    drop(run);
    let run = multi(
        props(&cam.https_url(), file.as_str()),
        &[("https-validate-hostname", &false)],
    );
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("https-validate-hostname")),
        "{:?}",
        out.warnings
    );
    drop(run);

    // Pins: the HTTPS certificate's alone refuses the RTSPS port; both play.
    let run = multi(
        props(&cam.https_url(), file.as_str()),
        &[("tls-certificate-sha256", &https_pin)],
    );
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(gst::ResourceError::OpenRead, &[&rtsps, &colons(&rtsps_pin)]);
    drop(run);
    let both = format!("{https_pin},{rtsps_pin}");
    let run = multi(
        props(&cam.https_url(), file.as_str()),
        &[("tls-certificate-sha256", &both)],
    );
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
}

/// A device without RTSPS says so through Media2, or has no Media2: a RESOURCE/SETTINGS
/// error naming Media2, SecureRTSPStreaming and the encrypted way that works, before any
/// RTSP.
#[test]
fn test_a_device_without_rtsps_is_a_settings_error_naming_media2() {
    for (device, why) in [
        (
            Device {
                rtsps: false,
                ..Device::default()
            },
            "SecureRTSPStreaming=false",
        ),
        (
            Device {
                media2: false,
                ..Device::default()
            },
            "Media1 only",
        ),
    ] {
        let (cam, ca) = camera(Config {
            device,
            ..Config::default()
        });
        let run = multi(props(&cam.https_url(), ca.as_str()), &[]);
        let out = run.collect(&["video_0"], 1, WAIT);
        out.assert_resource_error(
            gst::ResourceError::Settings,
            &[
                why,
                "Media2",
                "RtspsUnicast",
                "streaming-method=rtp-rtsp-http-tcp",
            ],
        );
        assert!(
            cam.stats.rtsp_requests.lock().unwrap().is_empty(),
            "no RTSP"
        );
    }
}

/// An `rtsps://` URI without a port means IANA's 322 (not 554, where rtspsrc goes).
#[test]
fn test_an_rtsps_uri_without_a_port_means_322() {
    let (cam, ca) = camera(Config::default());
    cam.set_rtsps_uri_port(RtspsUriPort::Omitted);
    let run = multi(
        props(&cam.https_url(), ca.as_str()),
        &[("reconnect", &false)],
    );
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(gst::ResourceError::OpenRead, &["127.0.0.1:322"]);
}

/// A cut RTSPS connection is reconnected without EOS, as the tunnel is.
#[test]
fn test_a_cut_rtsps_connection_is_reconnected() {
    let (_cam, _ca, relay, run) = relayed_rtsps();
    let before = run.collect(&["video_0"], 30, WAIT);
    assert!(before.error.is_none(), "{}", before.error_text());
    relay.cut_all();
    let after = run.collect(&["video_0"], 30, WAIT);
    assert!(after.error.is_none(), "{}", after.error_text());
    let causes = reconnect_causes(&after);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert!(
        any_discont(&after.pads["video_0"]),
        "DISCONT after the reconnection"
    );
}

/// The camera's RTSPS checked by clients we did not write: rtspsrc (`rtsps://`, the CA as
/// its `tls-database`, TCP) and ffprobe get H.264 from it.
#[test]
fn test_rtspsrc_and_ffprobe_play_the_camera_rtsps() {
    init();
    let (cam, ca) = camera(Config::default());
    let url = format!(
        "rtsps://127.0.0.1:{}/media/Profile_1",
        cam.rtsps_port().expect("an RTSPS port")
    );
    let n = rtspsrc_video(&url, &ca, 10, WAIT);
    assert_eq!(n, 10, "rtspsrc on {url}");

    let url = url.replace("rtsps://", &format!("rtsps://admin:{PW}@"));
    if let Some((codecs, errors)) = ffprobe_codecs("tcp", &url) {
        assert_eq!(
            codecs,
            ["h264", "aac", "unknown"],
            "ffprobe over RTSPS: {errors}"
        );
    }
}

/// SOAP in clear (`https-enable=false`) with RTSPS: the media stays inside TLS, and the
/// one warning says what travels in clear and what does not.
#[test]
fn test_rtsps_with_https_disabled_keeps_the_media_in_tls() {
    let (cam, ca) = camera(Config::default());
    let loc = cam.http_url();
    let run = multi(props(&loc, ca.as_str()), &[("https-enable", &false)]);
    let out = run.collect(&["video_0"], 20, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("ONVIF exchanges travel in clear")
            && out.warnings[0].contains("stay inside TLS"),
        "{}",
        out.warnings[0]
    );
}

/// RTSP Basic is answered inside RTSPS to an authenticated peer only: with the name check
/// off the password is withheld, naming the pin that would make the peer known.
#[test]
fn test_rtsp_basic_over_rtsps_only_to_an_authenticated_peer() {
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            rtsp_basic: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let run = multi(props(&cam.https_url(), ca.as_str()), &[]);
    let out = run.collect(&["video_0"], 10, WAIT);
    assert!(
        out.error.is_none(),
        "Basic inside RTSPS: {}",
        out.error_text()
    );
    drop(run);
    let run = multi(
        props(&cam.https_url(), ca.as_str()),
        &[("https-validate-hostname", &false)],
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
