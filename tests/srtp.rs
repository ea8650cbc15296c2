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

/// The debug lines containing one of `needles` that the element `f` runs logs (`f` gives
/// its result and the element's name: tests running beside it log too).
fn debug_lines<T>(
    needles: &'static [&'static str],
    f: impl FnOnce() -> (T, String),
) -> (T, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let l = lines.clone();
    gst::log::set_threshold_for_name("onvifhttpssrc", gst::DebugLevel::Debug);
    gst::log::set_active(true);
    let hook = gst::log::add_log_function(move |_cat, _lvl, _file, _fn, _line, obj, msg| {
        if let Some(m) = msg.get()
            && needles.iter().any(|n| m.contains(n))
        {
            let who = obj.map(|o| o.to_string()).unwrap_or_default();
            l.lock().unwrap().push((who, m.to_string()));
        }
    });
    let (r, name) = f();
    gst::log::remove_log_function(hook);
    let lines = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|(who, _)| *who == name)
        .map(|(_, m)| m.clone())
        .collect();
    (r, lines)
}

/// Collects `n` buffers of the pads of `run`, with the element's name.
fn collect_named(run: &MultiRun, pads: &[&str], n: usize) -> (MultiOutcome, String) {
    (run.collect(pads, n, WAIT), run.src.name().to_string())
}

/// The keys the element says a device uses.
const DEVICE_KEY: &str = "the device's key (its SDP's a=key-mgmt)";
const OUR_KEY: &str = "the key the element sent (KeyMgmt)";

/// Video and audio over `rtsps-srtp` from a camera with `device`: a clean run (no error or
/// warning, 60 buffers a pad with the camera's caps, H.264 in clear) in which both streams
/// were found to use `key`. The camera, for what it saw.
fn plays_with_key(device: Device, key: &str) -> Camera {
    let (cam, ca) = camera(Config {
        device,
        ..Config::default()
    });
    let loc = cam.https_url();
    let (out, mut lines) = debug_lines(&["the device encrypts with"], || {
        let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
        collect_named(&run, &["video_0", "audio_0"], 60)
    });
    assert_camera_av(&out, 60);
    assert_h264_in_clear(&out, key);
    // The streams decide in the order their packets come.
    lines.sort();
    assert_eq!(
        lines,
        [0, 1].map(|i| format!("stream {i}: the device encrypts with {key}"))
    );
    cam
}

/// The video pad got H.264 (decrypted, not ciphertext: SRTP leaves the RTP header in
/// clear, so only the payload tells): every packet's NAL unit type (RFC 6184 §5.2) is one
/// x264enc and rtph264pay write, single NAL units (1, 5, 6, 7, 8, 9), STAP-A (24) and
/// FU-A (28); ciphertext gives any (26 and 27 among them).
fn assert_h264_in_clear(out: &MultiOutcome, what: &str) {
    let types: std::collections::BTreeSet<u8> = out.pads["video_0"]
        .iter()
        .map(|(s, _)| {
            let map = s.buffer().unwrap().map_readable().unwrap();
            let csrc = usize::from(map[0] & 0x0F) * 4;
            map[12 + csrc] & 0x1F
        })
        .collect();
    assert!(
        types.iter().all(|t| [1, 5, 6, 7, 8, 9, 24, 28].contains(t)),
        "{what}: {types:?}"
    );
}

/// Video and audio over SRTP with every check on: the caps of the RTSPS and tunnel pads,
/// H.264 that parses (decrypted, not ciphertext: SRTP leaves the RTP header in clear, so
/// only the payload tells), no warning, the device's key found to be the one it uses.
#[test]
fn test_rtsps_srtp_plays_video_and_audio_with_checks_on() {
    let cam = plays_with_key(
        Device {
            srtp: true,
            ..Device::default()
        },
        DEVICE_KEY,
    );
    let rtsp = cam.stats.rtsp_requests.lock().unwrap().clone();
    assert_eq!(
        rtsp,
        ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY", "TEARDOWN"],
        "one RTSP session, on the RTSPS server"
    );
}

/// A device whose audio packets fail authentication (their tag damaged on the way out):
/// every one is dropped before the pad, a warning says it once, the count goes into the
/// element's QoS messages (as the queue's drops do) and is said at the end; the video
/// plays on.
#[test]
fn test_packets_that_fail_authentication_are_dropped_and_counted() {
    let (cam, ca) = srtp_camera(true);
    let loc = cam.https_url();
    let mut stats = None;
    let (out, lines) = debug_lines(&["SRTP packet(s) failed"], || {
        let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
        // Dropped after the collection: the count is said when the session ends.
        let r = collect_named(&run, &["video_0"], 60);
        stats = Some(run.src.property::<gst::Structure>("stats"));
        r
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
    // The first drop posts a QoS message at once; nothing else is dropped here.
    let (_, dropped) = *out.qos.first().expect("a QoS message");
    assert!(dropped >= 1 && dropped <= n, "{:?} of {n}", out.qos);
    // `stats`: srtpdec's name for the drops, per stream; how the media travelled.
    let stats = stats.expect("stats read");
    let drops: Vec<u32> = stats
        .get::<gst::Array>("source-stats")
        .unwrap()
        .iter()
        .map(|v| {
            v.get::<gst::Structure>()
                .unwrap()
                .get::<u32>("recv-drop-count")
                .unwrap()
        })
        .collect();
    assert_eq!(drops.len(), 2, "{stats}");
    assert_eq!(drops[0], 0, "the video is not damaged: {stats}");
    assert!(
        drops[1] >= 1 && u64::from(drops[1]) <= n,
        "{drops:?} of {n}"
    );
    assert_eq!(
        stats.get::<&str>("transport").unwrap(),
        "rtsps/tcp+srtp/udp"
    );
    assert_eq!(
        stats.get::<&str>("media-peer").unwrap(),
        format!("127.0.0.1:{}", cam.rtsps_port().unwrap())
    );
    assert_eq!(
        stats.get::<gst::Array>("tls-connections").unwrap().len(),
        2,
        "the HTTPS and RTSPS ports: {stats}"
    );
}

/// What cannot be encrypted as asked stops the start naming the way that works:
/// `rtsps` on a camera offering its streams as RTP/SAVP only (gst-rtsp-server set up for
/// SRTP), `rtsps-srtp` on one offering RTP/AVP only, and on one without RTSPS.
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
    drop((run, cam));
    // No RTSPS at all: the Media2 capability says so, before any RTSP.
    let (cam, ca) = camera(Config {
        device: Device {
            rtsps: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps-srtp"), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &["rtsps-srtp need RTSP over TLS", "SecureRTSPStreaming=false"],
    );
    assert!(cam.stats.rtsp_requests.lock().unwrap().is_empty());
}

/// A camera that encrypts with the key the client sent in `KeyMgmt` (Axis, Genetec-style
/// devices), its SDP key left in the SDP: the element's key decides, said for each stream,
/// and the media plays as with the device's key.
#[test]
fn test_a_camera_using_the_client_key_plays() {
    plays_with_key(
        Device {
            srtp: true,
            srtp_client_keys: true,
            ..Device::default()
        },
        OUR_KEY,
    );
}

/// An Axis-shaped camera: no key in its SDP, every stream encrypted with the key the
/// client sent. The element's key then carries a 4-byte MKI (ONVIF 26.06), which the
/// camera's libsrtp2 puts in every packet and the element's receiver requires: the media
/// plays only if the MKI went both ways.
#[test]
fn test_an_axis_shaped_camera_uses_our_key_and_its_mki() {
    plays_with_key(
        Device {
            srtp: true,
            srtp_client_keys: true,
            srtp_sdp_keys: false,
            ..Device::default()
        },
        OUR_KEY,
    );
}

/// A device that encrypts with a key it gave nobody (no key in its SDP, the client's
/// ignored): every packet fails authentication, and the error says that, not that UDP
/// is blocked.
#[test]
fn test_a_device_using_an_unknown_key_is_said_so() {
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: true,
            srtp_sdp_keys: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let run = multi(
        props(&cam.https_url(), ca.as_str(), "rtsps-srtp"),
        &[("reconnect", &false)],
    );
    let out = run.collect(&["video_0"], 1, WAIT);
    assert_eq!(out.count("video_0"), 0);
    out.assert_resource_error(
        gst::ResourceError::Read,
        &[
            "SRTP packet(s) arrived on UDP ports",
            "none authenticated",
            "streaming-method=rtsps ",
        ],
    );
}

/// The camera's SRTP checked by a client we did not write: rtspsrc 1.22 (`rtsps://`, the
/// CA as its `tls-database`, `protocols=udp`) decrypts its video with the SDP's key.
#[test]
fn test_rtspsrc_plays_the_camera_srtp() {
    init();
    let (cam, ca) = srtp_camera(false);
    let url = format!(
        "rtsps://127.0.0.1:{}/media/Profile_1",
        cam.rtsps_port().expect("an RTSPS port")
    );
    assert_eq!(rtspsrc_video_over("udp", &url, &ca, 10, WAIT), 10, "{url}");
}

/// The three suites, with the device's key and with the client's: the suite is the one
/// the profile's video encoder is configured with, the key the first that authenticates,
/// and the media plays with each.
#[test]
fn test_every_suite_plays_with_device_and_client_keys() {
    for suite in [
        "AES_CM_128_HMAC_SHA1_80",
        "AEAD_AES_128_GCM",
        "AEAD_AES_256_GCM",
    ] {
        for client_keys in [false, true] {
            let what = format!("{suite}, client keys {client_keys}");
            let (cam, ca) = camera(Config {
                device: Device {
                    srtp: true,
                    srtp_suite: Some(suite),
                    srtp_client_keys: client_keys,
                    ..Device::default()
                },
                ..Config::default()
            });
            let loc = cam.https_url();
            let (out, lines) = debug_lines(&["SRTP with", "the device encrypts with"], || {
                let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
                collect_named(&run, &["video_0", "audio_0"], 20)
            });
            assert!(out.error.is_none(), "{what}: {}", out.error_text());
            assert!(out.warnings.is_empty(), "{what}: {:?}", out.warnings);
            assert!(
                out.count("video_0") >= 20 && out.count("audio_0") >= 20,
                "{what}"
            );
            let key = if client_keys { OUR_KEY } else { DEVICE_KEY };
            // The streams decide in the order their packets come.
            let mut lines = lines;
            lines.sort();
            assert_eq!(
                lines,
                [
                    format!("SRTP with {suite} (the video encoder is configured with {suite})"),
                    format!("stream 0: the device encrypts with {key}"),
                    format!("stream 1: the device encrypts with {key}"),
                ],
                "{what}"
            );
            assert_h264_in_clear(&out, &what);
        }
    }
}

/// Without a configured suite the element takes AES-128-GCM when the options list it,
/// and a device that lists only `NONE` is refused before any RTSP, naming `rtsps`.
#[test]
fn test_the_suite_follows_the_options() {
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: true,
            srtp_algorithms: Some("AES_CM_128_HMAC_SHA1_80 AEAD_AES_128_GCM"),
            ..Device::default()
        },
        ..Config::default()
    });
    let loc = cam.https_url();
    let (out, lines) = debug_lines(&["SRTP with"], || {
        let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
        collect_named(&run, &["video_0"], 10)
    });
    assert!(out.error.is_none(), "{}", out.error_text());
    assert_eq!(
        lines,
        [
            "SRTP with AEAD_AES_128_GCM (the device offers AES_CM_128_HMAC_SHA1_80 \
          AEAD_AES_128_GCM)"
        ]
    );
    assert!(
        camera_ops(&cam)
            .iter()
            .any(|o| o == "GetVideoEncoderConfigurationOptions")
    );
    drop(cam);
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: true,
            srtp_algorithms: Some("NONE"),
            ..Device::default()
        },
        ..Config::default()
    });
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps-srtp"), &[]);
    let out = run.collect(&["video_0"], 1, WAIT);
    out.assert_resource_error(
        gst::ResourceError::Settings,
        &["cannot stream SRTP", "\"NONE\"", "streaming-method=rtsps "],
    );
    assert!(cam.stats.rtsp_requests.lock().unwrap().is_empty());
}

/// UDP datagrams seen on the loopback interface: (source port, destination port, payload).
type Datagrams = Arc<Mutex<Vec<(u16, u16, Vec<u8>)>>>;

/// Captures every UDP datagram on `lo` (a packet socket: needs CAP_NET_RAW, which the
/// namespace's user has) until `stop` is set.
fn capture_udp(
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> (Datagrams, std::thread::JoinHandle<()>) {
    let seen: Datagrams = Arc::default();
    let s = seen.clone();
    // SAFETY: plain socket calls on a descriptor this thread owns and closes.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM,
            i32::from((libc::ETH_P_IP as u16).to_be()),
        )
    };
    assert!(
        fd >= 0,
        "packet socket: {}",
        std::io::Error::last_os_error()
    );
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    // SAFETY: `tv` outlives the call; the size is its own.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::addr_of!(tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0);
    let thread = std::thread::spawn(move || {
        let mut buf = vec![0u8; 70_000];
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            // SAFETY: `buf` is writable for its length.
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            let Ok(n) = usize::try_from(n) else { continue };
            // SOCK_DGRAM on a packet socket: the IP packet without its link header.
            let ip = &buf[..n];
            let ihl = usize::from(ip[0] & 0x0F) * 4;
            if ip[9] != 17 || n < ihl + 8 {
                continue;
            }
            let udp = &ip[ihl..];
            let port = |at: usize| u16::from_be_bytes([udp[at], udp[at + 1]]);
            s.lock()
                .unwrap()
                .push((port(0), port(2), udp[8..].to_vec()));
        }
        // SAFETY: closing the descriptor opened above, once.
        unsafe { libc::close(fd) };
    });
    (seen, thread)
}

/// On the wire, SRTP only: in a network namespace the test makes (`unshare -rn`, so that
/// the capture sees this test's packets and nothing else), every UDP datagram between the
/// camera and the element is SRTP or SRTCP. Each RTP packet a pad got went over the wire
/// with the same header, a payload that is not the plain one (of the payloads under 8
/// bytes, which can match by chance, at most one) and the 10-byte tag of
/// AES_CM_128_HMAC_SHA1_80 after it; every RTCP packet carries SRTCP's E flag and index,
/// and its tag. Where a namespace cannot be made, it is skipped saying why.
#[test]
fn test_only_srtp_travels_over_udp() {
    if !inside_own_namespace("test_only_srtp_travels_over_udp", "") {
        return;
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (seen, capture) = capture_udp(stop.clone());
    let (cam, ca) = srtp_camera(false);
    let loc = cam.https_url();
    let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
    let out = run.collect(&["video_0", "audio_0"], 60, WAIT);
    drop(run);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    capture.join().unwrap();
    assert!(out.error.is_none(), "{}", out.error_text());
    let plain: std::collections::HashMap<[u8; 6], Vec<u8>> = out
        .pads
        .values()
        .flatten()
        .map(|(s, _)| {
            let b = s.buffer().unwrap().map_readable().unwrap().to_vec();
            // SSRC and sequence number.
            let mut id = [0u8; 6];
            id[..4].copy_from_slice(&b[8..12]);
            id[4..].copy_from_slice(&b[2..4]);
            (id, b)
        })
        .collect();
    let seen = seen.lock().unwrap();
    let (mut rtp, mut rtcp) = (0, 0);
    let (mut short, mut short_clear) = (0usize, 0usize);
    for (from, to, d) in seen.iter() {
        let what = format!("a datagram {from} -> {to} of {} bytes", d.len());
        assert!(d.len() >= 12 && d[0] >> 6 == 2, "{what}: not SRTP or SRTCP");
        if (200..=204).contains(&d[1]) {
            assert!(d.len() >= 4 + 14, "{what}: too short for SRTCP");
            // SRTCP: the first packet's header in clear (the rest of a compound is
            // encrypted), then E and the index, then the tag.
            let first = (usize::from(u16::from_be_bytes([d[2], d[3]])) + 1) * 4;
            let index = d.len() - 14;
            assert!(first <= index, "{what}: not SRTCP");
            assert!(d[index] & 0x80 != 0, "{what}: SRTCP without its E flag");
            rtcp += 1;
            continue;
        }
        let mut id = [0u8; 6];
        id[..4].copy_from_slice(&d[8..12]);
        id[4..].copy_from_slice(&d[2..4]);
        if let Some(p) = plain.get(&id) {
            assert_eq!(d.len(), p.len() + 10, "{what}: not RTP and its tag");
            assert_eq!(d[..12], p[..12], "{what}: another header");
            // AES-CM XORs the payload with a keystream: a payload of n bytes is equal to
            // its plain text by chance once in 256^n. From 8 bytes on, never; the short
            // ones (an H.264 access unit delimiter is 2 bytes) are judged together.
            let clear = d[12..p.len()] == p[12..];
            if p.len() - 12 >= 8 {
                assert!(!clear, "{what}: the payload in clear");
            } else {
                short += 1;
                short_clear += usize::from(clear);
            }
            rtp += 1;
        }
    }
    assert!(
        rtp >= 120,
        "{rtp} SRTP packets matched ({} datagrams)",
        seen.len()
    );
    assert!(
        short_clear <= 1,
        "{short_clear} of {short} payloads under 8 bytes went in clear"
    );
    eprintln!(
        "{rtp} SRTP packets ({short} of them under 8 bytes of payload) and {rtcp} SRTCP \
         packets checked on the wire"
    );
}

/// What `make bench` measures on the SRTP path: the benchmark stream served as SRTP over
/// UDP with the device's key (`--bench-srtp`) plays through the element and through
/// rtspsrc, decrypted.
#[test]
fn test_the_benchmark_srtp_stream_plays() {
    use onvif_virtual_camera::bench::{Bench, Framing};
    let (cam, ca) = camera(Config {
        bench: Some(Bench {
            mbps: 8.0,
            framing: Framing::PerPacket,
            srtp: true,
        }),
        ..Config::default()
    });
    let run = multi(
        props(&cam.https_url(), ca.as_str(), "rtsps-srtp"),
        &[("streams", &"video")],
    );
    let out = run.collect(&["video_0"], 50, WAIT);
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(out.count("video_0") >= 50);
    assert_h264_in_clear(&out, "bench");
    drop(run);
    let url = format!(
        "rtsps://127.0.0.1:{}/media/Profile_1",
        cam.rtsps_port().expect("an RTSPS port")
    );
    assert_eq!(rtspsrc_video_over("udp", &url, &ca, 10, WAIT), 10, "{url}");
}

/// The `onvif-srtp-rekeyed` messages of a run: (stream, accepted, status, spelling, MKI).
fn rekeyed(out: &MultiOutcome) -> Vec<(u32, bool, u32, String, u32)> {
    let mut all: Vec<_> = out
        .elements
        .iter()
        .filter(|s| s.name() == "onvif-srtp-rekeyed")
        .map(|s| {
            (
                s.get::<u32>("stream").unwrap(),
                s.get::<bool>("accepted").unwrap(),
                s.get::<u32>("status").unwrap(),
                s.get::<String>("spelling").unwrap(),
                s.get::<u32>("mki").unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

/// Re-keying an Axis-shaped camera (our keys, MKI 1) with `rekey-srtp`: each stream's
/// new key (MKI 2) goes by SET_PARAMETER, in the spec's `mikey:` spelling or, where the
/// device answers 451 to it, GStreamer's `KeyMgmt:`; the device encrypts with it from
/// then on, the element follows from its first packet, and not one packet is lost or
/// fails authentication across the switch.
#[test]
fn test_re_keying_switches_both_streams_to_new_keys() {
    for (mode, spelling) in [
        (onvif_virtual_camera::srtp::Rekey::Accept, "mikey"),
        (onvif_virtual_camera::srtp::Rekey::KeyMgmtOnly, "KeyMgmt"),
    ] {
        let (cam, ca) = camera(Config {
            device: Device {
                srtp: true,
                srtp_client_keys: true,
                srtp_sdp_keys: false,
                srtp_rekey: mode,
                ..Device::default()
            },
            ..Config::default()
        });
        let loc = cam.https_url();
        let ((before, after), lines) = debug_lines(
            &["new key", "failed authentication", "not re-keyed"],
            || {
                let run = multi(props(&loc, ca.as_str(), "rtsps-srtp"), &[]);
                let before = run.collect(&["video_0", "audio_0"], 20, WAIT);
                assert!(run.src.emit_by_name::<bool>("rekey-srtp", &[]));
                let after = run.collect_until(WAIT, |out| {
                    rekeyed(out).len() == 2
                        && out.count("video_0") >= 60
                        && out.count("audio_0") >= 60
                });
                ((before, after), run.src.name().to_string())
            },
        );
        assert_camera_av(&before, 20);
        assert_camera_av(&after, 60);
        assert_h264_in_clear(&after, "after re-keying");
        assert_eq!(
            rekeyed(&after),
            [0, 1].map(|i| (i, true, 200, spelling.to_string(), 2)),
            "{spelling}"
        );
        // Each stream switched on the device's first packet under the new key; nothing
        // was dropped (the count is said at the end, when there is one).
        let switched: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("encrypts with the element's new key"))
            .collect();
        assert_eq!(switched.len(), 2, "{lines:#?}");
        for i in 0..2 {
            assert!(
                switched
                    .iter()
                    .any(|l| l.starts_with(&format!("stream {i}: "))),
                "{lines:#?}"
            );
        }
        assert!(
            !lines.iter().any(|l| l.contains("failed authentication")),
            "{lines:#?}"
        );
        assert_eq!(after.warnings, Vec::<String>::new());
    }
}

/// A device that refuses re-keying (gst-rtsp-server's own 451 to both spellings) keeps
/// each stream under its key: a warning per stream, the messages say 451, and the media
/// plays on. An element not started with `rtsps-srtp` has nothing to re-key.
#[test]
fn test_a_refused_re_key_keeps_the_streams_playing() {
    let (cam, ca) = camera(Config {
        device: Device {
            srtp: true,
            srtp_client_keys: true,
            srtp_sdp_keys: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let run = multi(props(&cam.https_url(), ca.as_str(), "rtsps-srtp"), &[]);
    let before = run.collect(&["video_0", "audio_0"], 10, WAIT);
    assert_camera_av(&before, 10);
    assert!(run.src.emit_by_name::<bool>("rekey-srtp", &[]));
    let mut after = run.collect_until(WAIT, |out| {
        rekeyed(out).len() == 2 && out.count("video_0") >= 60 && out.count("audio_0") >= 60
    });
    let warnings = std::mem::take(&mut after.warnings);
    assert_camera_av(&after, 60);
    assert_eq!(
        rekeyed(&after),
        [0, 1].map(|i| (i, false, 451, String::new(), 2))
    );
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    for w in &warnings {
        assert!(
            w.contains(
                "the device refused the new SRTP key (SET_PARAMETER: 451 Parameter Not \
                 Understood); the stream goes on under its key"
            ),
            "{w}"
        );
    }
    let rtsps = make_src(&[("streaming-method", &"rtsps")]);
    assert!(!rtsps.emit_by_name::<bool>("rekey-srtp", &[]));
}
