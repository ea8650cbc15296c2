// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Edge storage against the virtual camera: finding the recording and its replay URI over
//! HTTPS with every certificate check on (spec §7).

mod common;

use std::time::Duration;

use common::*;
use gst::prelude::*;
use gstonvifhttps::testing::device;
use gstonvifhttps::testing::edge::{self, ReplayTarget};
use gstonvifhttps::testing::error::Error;
use gstonvifhttps::testing::onvif::recording;
use gstonvifhttps::testing::rtp::{self, ReplayExtension};
use gstonvifhttps::testing::rtsp::sdp;
use gstonvifhttps::testing::rtsp::sequence::{Plan, Step};
use gstonvifhttps::testing::rtsp::session::{Command, Event};
use gstonvifhttps::testing::rtsp_client::Rtsp;
use gstonvifhttps::testing::runtime::RUNTIME;
use gstonvifhttps::testing::tunnel;
use onvif_virtual_camera::{Camera, Config};

fn find(cam: &Camera, ca: &TempFile, token: Option<&str>) -> Result<ReplayTarget, Error> {
    let settings = start_settings(cam, ca);
    RUNTIME.block_on(async {
        let mut started = device::start(&settings, &|_| {}).await?;
        edge::find_replay(&mut started.client, &mut started.services, token).await
    })
}

fn edge_ops(cam: &Camera) -> Vec<String> {
    camera_ops(cam)
        .into_iter()
        .filter(|op| {
            matches!(
                op.as_str(),
                "GetRecordings"
                    | "FindRecordings"
                    | "GetRecordingSearchResults"
                    | "EndSearch"
                    | "GetReplayUri"
            )
        })
        .collect()
}

fn expected_tracks() -> Vec<(String, String)> {
    [
        ("VIDEO001", "Video"),
        ("AUDIO001", "Audio"),
        ("METADATA001", "Metadata"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[test]
fn test_first_recording_with_span_and_replay_uri() {
    init();
    let (cam, ca) = camera(Config::default());
    let t = find(&cam, &ca, None).expect("replay target");
    let archive = cam.archive();
    assert_eq!(t.recording.token, "Recording_1");
    assert_eq!(t.recording.tracks, expected_tracks());
    assert_eq!(t.recording.earliest, Some(archive.earliest()));
    assert_eq!(t.recording.latest, Some(archive.latest()));
    assert_eq!(
        t.uri,
        format!(
            "rtsp://127.0.0.1:{}/onvif-replay/Recording_1",
            cam.http_port()
        )
    );
    // GetRecordings for the list, the search for the span, over HTTPS only.
    assert_eq!(
        edge_ops(&cam),
        [
            "GetRecordings",
            "FindRecordings",
            "GetRecordingSearchResults",
            "EndSearch",
            "GetReplayUri"
        ]
    );
    assert_eq!(cam.open_searches(), 0, "the search is ended");
    assert!(
        cam.stats
            .heads
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.contains("/onvif/recording_service")
                || h.contains("/onvif/search_service")
                || h.contains("/onvif/replay_service"))
            .all(|h| h.starts_with("https POST"))
    );
}

#[test]
fn test_search_only_device() {
    init();
    let (cam, ca) = camera(Config {
        device: Device {
            recording_control: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let t = find(&cam, &ca, Some("Recording_1")).expect("replay target");
    assert_eq!(t.recording.tracks, expected_tracks());
    assert_eq!(t.recording.earliest, Some(cam.archive().earliest()));
    assert_eq!(
        edge_ops(&cam),
        [
            "FindRecordings",
            "GetRecordingSearchResults",
            "EndSearch",
            "GetReplayUri"
        ]
    );
}

#[test]
fn test_unknown_recording_token_names_the_ones_there() {
    init();
    let (cam, ca) = camera(Config::default());
    let err = find(&cam, &ca, Some("Recording_9")).expect_err("no such recording");
    let msg = err.to_string();
    assert!(
        msg.contains("no recording \"Recording_9\" (recordings: Recording_1)"),
        "{msg}"
    );
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(!edge_ops(&cam).contains(&"GetReplayUri".to_string()));
}

#[test]
fn test_replay_fault_is_reported_with_its_operation() {
    init();
    let (cam, ca) = camera(Config {
        faults: Faults {
            fault_on: Some("GetReplayUri".into()),
            ..Faults::default()
        },
        ..Config::default()
    });
    let err = find(&cam, &ca, None).expect_err("fault");
    let msg = err.to_string();
    assert!(matches!(err, Error::Fault { .. }), "{err:?}");
    assert!(msg.contains("GetReplayUri"), "{msg}");
    assert!(msg.contains("ActionFailed"), "{msg}");
}

/// One replayed RTP packet: interleaved channel and its 0xABAC extension.
struct Replayed {
    channel: u8,
    ext: ReplayExtension,
}

/// Replays `range` of the recording through the HTTPS tunnel (as a raw RTSP client, to
/// check the camera) until the video track's terminal packet, bounded by 30 s.
fn replay(cam: &Camera, ca: &TempFile, range: &str, scale: Option<&str>) -> Vec<Replayed> {
    let settings = start_settings(cam, ca);
    RUNTIME.block_on(async {
        let mut started = device::start(&settings, &|_| {}).await.unwrap();
        let t = edge::find_replay(&mut started.client, &mut started.services, None)
            .await
            .unwrap();
        let target = gstonvifhttps::testing::onvif::addr::path_and_query(&t.uri).unwrap();
        let origin = started.client.http.origin.clone();
        let channel = tunnel::open(
            &origin,
            started.client.http.tls(),
            &target,
            settings.creds.as_ref(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        let uri = format!("rtsp://{}{target}", origin.host_header());
        let require = ("Require".to_string(), "onvif-replay".to_string());
        let mut play = vec![
            ("Range".to_string(), range.to_string()),
            ("Rate-Control".to_string(), "no".to_string()),
            require.clone(),
        ];
        if let Some(s) = scale {
            play.push(("Scale".to_string(), s.to_string()));
        }
        let plan = Plan {
            uri,
            kinds: vec![
                (sdp::Kind::Video, "video"),
                (sdp::Kind::Audio, "audio"),
                (sdp::Kind::Metadata, "metadata"),
            ],
            udp: false,
            srtp: false,
            require: vec![require],
            play,
            backchannel: false,
        };
        let mut rtsp = Rtsp::new(
            Box::new(channel),
            settings.creds.clone(),
            Duration::from_secs(5),
            plan,
        );
        let mut got = Vec::new();
        let terminal = std::sync::atomic::AtomicBool::new(false);
        let mut on_data = |ch: u8, p: &[u8]| {
            if let Some(ext) = rtp::replay_extension(p) {
                if ch == 0 && ext.terminal {
                    terminal.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                got.push(Replayed { channel: ch, ext });
            }
        };
        // The first packets may come before the PLAY answer.
        let events = rtsp
            .run_until(&mut on_data, |ev| {
                matches!(ev, Event::Start(Step::Playing(_)))
            })
            .await
            .unwrap();
        assert_eq!(
            set_up_encodings(&events),
            ["H264", "MPEG4-GENERIC", "VND.ONVIF.METADATA"]
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let started = std::time::Instant::now();
        // Turns are cancel-safe (and return only when the session has news): read in
        // slices until the video's terminal packet, bounded by 30 s.
        while !terminal.load(std::sync::atomic::Ordering::Relaxed) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no terminal packet within 30 s"
            );
            rtsp.flush().await.unwrap();
            while let Some(ev) = rtsp.session.poll_event() {
                assert!(!matches!(ev, Event::Failed(_) | Event::Closed), "{ev:?}");
            }
            if let Ok(r) =
                tokio::time::timeout(Duration::from_millis(50), rtsp.turn(&mut on_data)).await
            {
                r.unwrap();
            }
        }
        let _ = rtsp
            .session
            .command(Command::Stop, std::time::Instant::now());
        let mut ignore = |_: u8, _: &[u8]| {};
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            rtsp.run_until(&mut ignore, |ev| matches!(ev, Event::Closed)),
        )
        .await;
        eprintln!("replayed {} packets in {:?}", got.len(), started.elapsed());
        got
    })
}

fn unix_s(ext: &ReplayExtension) -> f64 {
    rtp::ntp_to_unix_ns(ext.ntp).unwrap() as f64 / 1e9
}

#[test]
fn test_camera_replays_the_range_with_the_gap_marked() {
    init();
    let (cam, ca) = camera(Config::default());
    let (gap_start, gap_end) = gap(&cam);
    let (from, to) = (gap_start - 4, gap_end + 4);
    let range = recording::clock_range(from * 1000, Some(to * 1000));
    let got = replay(&cam, &ca, &range, None);
    let video: Vec<&ReplayExtension> = got
        .iter()
        .filter(|r| r.channel == 0)
        .map(|r| &r.ext)
        .collect();
    let audio = got.iter().filter(|r| r.channel == 2).count();
    assert!(audio > 0, "audio replayed too");
    // Metadata: one document (one packet) per half second of the range outside the gap,
    // each stamped with its recorded time.
    // D on the first after the seek and the first after the gap.
    let metadata: Vec<(f64, bool)> = got
        .iter()
        .filter(|r| r.channel == 4)
        .map(|r| (unix_s(&r.ext), r.ext.discontinuity))
        .collect();
    let expected: Vec<(f64, bool)> = (0..8)
        .map(|i| (from as f64 + i as f64 * 0.5, i == 0))
        .chain((0..8).map(|i| (gap_end as f64 + i as f64 * 0.5, i == 0)))
        .collect();
    assert_eq!(metadata.len(), expected.len(), "{metadata:?}");
    for (t, e) in metadata.iter().zip(&expected) {
        assert!((t.0 - e.0).abs() < 0.001 && t.1 == e.1, "{metadata:?}");
    }
    let first = unix_s(video[0]);
    let last = unix_s(video[video.len() - 1]);
    assert!((first - from as f64).abs() < 0.1, "first {first} vs {from}");
    assert!(
        last < to as f64 && last > to as f64 - 0.2,
        "last {last} vs {to}"
    );
    assert!(video[0].clean_point, "the replay starts on a key frame");
    // Nothing from the gap; the first packet after it carries D, the last before it E.
    assert!(video.iter().all(|e| {
        let t = unix_s(e);
        t < gap_start as f64 || t >= gap_end as f64
    }));
    let after = video
        .iter()
        .position(|e| unix_s(e) >= gap_end as f64)
        .unwrap();
    assert!(video[after].discontinuity);
    assert!(video[after - 1].end);
    // D also on the first packet of the replay (after the seek), and nowhere else.
    let d: Vec<usize> = (0..video.len())
        .filter(|&i| video[i].discontinuity)
        .collect();
    assert_eq!(d, [0, after]);
    assert!(video[video.len() - 1].terminal && video[video.len() - 1].end);
    assert_eq!(plays(&cam), 1);
}

/// The NTP reference time of a buffer, in Unix seconds.
fn ntp_meta_unix_s(buffer: &gst::BufferRef) -> Option<f64> {
    gstonvifhttps::testing::session::recorded_time(buffer).map(|ns| ns as f64 / 1e9)
}

fn iso(unix_s: i64) -> String {
    onvif_virtual_camera::recording::xsd_datetime(unix_s)
}

/// The element's properties for playback from `cam`, plus `extra`.
fn with_playback_props<R>(
    cam: &Camera,
    ca: &TempFile,
    extra: &[(&str, &dyn ToValue)],
    f: impl FnOnce(&[(&str, &dyn ToValue)]) -> R,
) -> R {
    let loc = format!("http://127.0.0.1:{}", cam.http_port());
    let ca = ca.as_str();
    let mut props: Vec<(&str, &dyn ToValue)> = vec![
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("tls-ca-file", &ca),
        ("mode", &"playback"),
        ("timeout", &5u32),
    ];
    props.extend_from_slice(extra);
    f(&props)
}

fn playback_run(cam: &Camera, ca: &TempFile, extra: &[(&str, &dyn ToValue)]) -> Run {
    with_playback_props(cam, ca, extra, Run::new)
}

/// The archive's gap `[start, end)` in Unix seconds.
fn gap(cam: &Camera) -> (i64, i64) {
    let a = cam.archive();
    (a.spans[0].1, a.spans[1].0)
}

/// One replayed video buffer: PTS, recorded time (Unix s), DISCONT.
type Played = (u64, f64, bool);

/// Plays `from..to` (Unix s) at `speed` through the element; returns the video buffers that
/// carry a recorded time, and the RTSP methods the camera received (after NULL).
fn play_range(
    cam: &Camera,
    ca: &TempFile,
    from: i64,
    to: i64,
    speed: f64,
) -> (Vec<Played>, Vec<String>) {
    let (start, end) = (iso(from), iso(to));
    let run = playback_run(
        cam,
        ca,
        &[
            ("playback-start", &start),
            ("playback-end", &end),
            ("playback-speed", &speed),
        ],
    );
    let out = run.collect(usize::MAX, Duration::from_secs(30));
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.eos,
        "EOS at the end of the range ({} buffers)",
        out.samples.len()
    );
    let caps = out.first_caps();
    assert_eq!(caps.get::<&str>("encoding-name").unwrap(), "H264");
    let played = out
        .samples
        .iter()
        .filter_map(|s| {
            let b = s.buffer()?;
            Some((
                b.pts()?.nseconds(),
                ntp_meta_unix_s(b)?,
                b.flags().contains(gst::BufferFlags::DISCONT),
            ))
        })
        .collect();
    // The session ends itself after the range (the device stays in PLAY); by the time the
    // element is in NULL its TEARDOWN has been answered.
    drop(run);
    let requests = cam.stats.rtsp_requests.lock().unwrap().clone();
    (played, requests)
}

/// Distinct recorded frame times (every RTP packet of a frame carries the extension).
fn frames(played: &[Played]) -> usize {
    let mut f: Vec<i64> = played
        .iter()
        .map(|p| (p.1 * 1000.0).round() as i64)
        .collect();
    f.dedup();
    f.len()
}

/// Checks the frame count and that the replay starts at `from`; returns where DISCONT is.
fn check_frames(
    played: &[Played],
    from: i64,
    count: std::ops::RangeInclusive<usize>,
) -> Vec<usize> {
    assert!(count.contains(&frames(played)), "{} frames", frames(played));
    assert!(
        (played[0].1 - from as f64).abs() < 0.1,
        "starts at {}",
        played[0].1
    );
    (0..played.len()).filter(|&i| played[i].2).collect()
}

fn pts_span_s(played: &[Played]) -> f64 {
    (played[played.len() - 1].0 - played[0].0) as f64 / 1e9
}

#[test]
fn test_element_plays_back_a_range_across_the_gap_at_speed_4() {
    init();
    let (cam, ca) = camera(Config::default());
    let (gap_start, gap_end) = gap(&cam);
    let (from, to) = (gap_start - 2, gap_end + 2);
    let (played, requests) = play_range(&cam, &ca, from, to, 4.0);
    // 25 frames per second of recorded time: 2 s before the gap and 2 s after.
    let discont = check_frames(&played, from, 98..=101);
    assert!(played.iter().all(|p| p.1 >= from as f64 && p.1 < to as f64));
    assert!(
        played
            .iter()
            .all(|p| p.1 < gap_start as f64 || p.1 >= gap_end as f64)
    );
    let after = played.iter().position(|p| p.1 >= gap_end as f64).unwrap();
    assert_eq!(discont, [0, after]);
    // Scale 4: the 24 s of the range, gap included, take a quarter of that in PTS.
    let span = pts_span_s(&played);
    assert!((5.5..6.5).contains(&span), "PTS span {span} s");
    assert_eq!(requests.iter().filter(|m| *m == "PLAY").count(), 1);
    assert_eq!(requests.last().map(String::as_str), Some("TEARDOWN"));
}

#[test]
fn test_element_plays_back_in_real_time_at_speed_1() {
    init();
    let (cam, ca) = camera(Config::default());
    let from = cam.archive().spans[1].0 + 10;
    let (played, requests) = play_range(&cam, &ca, from, from + 2, 1.0);
    let discont = check_frames(&played, from, 49..=51);
    assert_eq!(discont, [0], "one DISCONT, at the start");
    // Recorded times and PTS advance together.
    let span = pts_span_s(&played);
    let recorded = played[played.len() - 1].1 - played[0].1;
    assert!(
        (span - recorded).abs() < 0.2,
        "PTS span {span} s, recorded {recorded} s"
    );
    assert_eq!(requests.last().map(String::as_str), Some("TEARDOWN"));
}

#[test]
fn test_playback_settings_that_make_no_sense_fail_at_start() {
    init();
    let (cam, ca) = camera(Config::default());
    for (extra, needles) in [
        (
            vec![("streaming-method", &"http-snapshot" as &dyn ToValue)],
            &["mode=playback", "streaming-method=http-snapshot"][..],
        ),
        (
            vec![("streaming-method", &"rtp-udp" as &dyn ToValue)],
            &["mode=playback", "streaming-method=rtp-udp"][..],
        ),
        (
            vec![(
                "playback-start",
                &"2025-03-14T09:41:00+02:00" as &dyn ToValue,
            )],
            &[
                "playback-start=\"2025-03-14T09:41:00+02:00\"",
                "ISO 8601 UTC",
            ][..],
        ),
        (
            vec![
                ("playback-start", &"2025-03-14T09:41:00Z" as &dyn ToValue),
                ("playback-end", &"2025-03-14T09:40:00Z" as &dyn ToValue),
            ],
            &["playback-end=2025-03-14T09:40:00Z is not after playback-start"][..],
        ),
    ] {
        let run = playback_run(&cam, &ca, &extra);
        let out = run.expect_error(Duration::from_secs(5));
        out.assert_resource_error(gst::ResourceError::Settings, needles);
    }
    // Refused before anything went to the camera.
    assert!(camera_ops(&cam).is_empty(), "{:?}", camera_ops(&cam));
}

#[test]
fn test_unknown_recording_is_not_found() {
    init();
    let (cam, ca) = camera(Config::default());
    let run = playback_run(&cam, &ca, &[("recording-token", &"Recording_9")]);
    let out = run.expect_error(Duration::from_secs(10));
    out.assert_resource_error(
        gst::ResourceError::NotFound,
        &["no recording \"Recording_9\" (recordings: Recording_1)"],
    );
}

#[test]
fn test_missing_track_names_the_recording() {
    init();
    let (cam, ca) = camera(Config {
        device: Device {
            recording_metadata: false,
            ..Device::default()
        },
        ..Config::default()
    });
    let run = playback_run(&cam, &ca, &[("streams", &"video+metadata")]);
    let out = run.expect_error(Duration::from_secs(10));
    out.assert_resource_error(
        gst::ResourceError::NotFound,
        &["recording Recording_1 has no metadata stream in its SDP (streams=video+metadata)"],
    );
}

/// A camera with `config` replaying from 5 s into its second span (Unix s, returned),
/// and the first 20 buffers.
fn replaying(config: Config) -> (Camera, TempFile, Run, i64, Outcome) {
    let (cam, ca) = camera(config);
    let from = cam.archive().spans[1].0 + 5;
    let start = iso(from);
    let run = playback_run(&cam, &ca, &[("playback-start", &start)]);
    let before = run.collect(20, Duration::from_secs(10));
    assert!(before.error.is_none(), "{}", before.error_text());
    (cam, ca, run, from, before)
}

#[test]
fn test_seek_replays_from_the_new_position() {
    init();
    let (cam, _ca, run, from, before) = replaying(Config::default());
    let t0 = before
        .samples
        .iter()
        .find_map(|s| ntp_meta_unix_s(s.buffer()?))
        .expect("recorded times");
    assert!((t0 - from as f64).abs() < 0.1, "starts at {t0}");

    // 30 s into the replay: the recording 30 s after playback-start.
    seek_lands(&run, from, 30);
    drop(run);
    assert_eq!(plays(&cam), 2);
}

/// A device that drops the replay as it is seeked (the connection closes after the PAUSE
/// answer): the element reconnects and the seek lands anyway, where it was asked, with
/// nothing of the old position in between.
#[test]
fn test_a_seek_lost_with_its_session_lands_after_the_reconnection() {
    init();
    let (cam, _ca, run, from, _) = replaying(Config {
        faults: Faults {
            hang_up_after_pause: 1,
            ..Faults::default()
        },
        ..Config::default()
    });
    seek_lands(&run, from, 30);
    drop(run);
    assert_eq!(
        cam.stats
            .pause_hang_ups
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    // PLAY, PAUSE (cut), PLAY (the reconnection), PAUSE, PLAY (the seek again).
    assert_eq!(plays(&cam), 3);
}

/// A device that drops the replay at every seek: the seek goes again once after the
/// reconnection, then is given up with a warning, and the replay goes on from where it
/// was (before, every attempt would repeat the seek and reconnect for ever).
#[test]
fn test_a_seek_that_keeps_failing_is_given_up() {
    init();
    let (cam, _ca, run, from, _) = replaying(Config {
        faults: Faults {
            hang_up_after_pause: 100,
            ..Faults::default()
        },
        ..Config::default()
    });
    run.pipeline
        .seek_simple(gst::SeekFlags::FLUSH, gst::ClockTime::from_seconds(30))
        .expect("seek accepted");
    let after = run.collect(40, Duration::from_secs(15));
    assert!(after.error.is_none(), "{}", after.error_text());
    assert!(
        after.warnings.iter().any(|w| w.contains("failed twice")),
        "{:?}",
        after.warnings
    );
    let recorded: Vec<f64> = after
        .samples
        .iter()
        .filter_map(|s| ntp_meta_unix_s(s.buffer()?))
        .collect();
    assert!(
        recorded.last().is_some_and(|t| *t < from as f64 + 20.0),
        "goes on near where it was, not at the seek's {}: {recorded:?}",
        from + 30
    );
    drop(run);
    assert_eq!(
        cam.stats
            .pause_hang_ups
            .load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the seek went twice, then no more"
    );
}

/// Seeks `run` to `position` seconds of stream time and checks the first buffer after it:
/// the recording at `from + position`, DISCONT, PTS in the segment the seek started.
fn seek_lands(run: &Run, from: i64, position: u64) {
    run.pipeline
        .seek_simple(
            gst::SeekFlags::FLUSH,
            gst::ClockTime::from_seconds(position),
        )
        .expect("seek accepted");
    let after = run.collect(20, Duration::from_secs(10));
    assert!(after.error.is_none(), "{}", after.error_text());
    let first = after
        .samples
        .iter()
        .find_map(|s| {
            let b = s.buffer()?;
            Some((
                ntp_meta_unix_s(b)?,
                b.flags().contains(gst::BufferFlags::DISCONT),
                b.pts()?,
            ))
        })
        .expect("recorded times after the seek");
    assert!(
        (first.0 - (from as f64 + position as f64)).abs() < 0.1,
        "after the seek to {position} s: {first:?}"
    );
    assert!(first.1, "DISCONT on the first buffer after the seek");
    assert!(
        first.2 >= gst::ClockTime::from_seconds(position),
        "{first:?}"
    );
}

/// A device that sends packets of the old position after answering a seek's PAUSE (as
/// gst-rtsp-server's send queue can): they are dropped by the PLAY answer's RTP-Info seq,
/// and the first buffer after the seek is of the new position.
#[test]
fn test_seek_drops_packets_of_the_old_position_sent_after_pause() {
    init();
    let (cam, _ca, run, from, _) = replaying(Config {
        quirks: Quirks {
            stale_after_pause: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    seek_lands(&run, from, 20);
    drop(run);
    assert_eq!(plays(&cam), 2);
    assert_eq!(
        cam.stats
            .stale_sent
            .load(std::sync::atomic::Ordering::SeqCst),
        8,
        "the camera sent 8 old packets after PAUSE"
    );
}

/// The PLAY requests the camera received.
fn plays(cam: &Camera) -> usize {
    let requests = cam.stats.rtsp_requests.lock().unwrap();
    requests.iter().filter(|m| *m == "PLAY").count()
}

/// A seek back to the start right after the replay began is a seek like any other (the
/// pads' own start-up is not one, and is not mistaken for this).
#[test]
fn test_seek_back_to_the_start_right_away() {
    init();
    let (cam, ca) = camera(Config::default());
    let from = cam.archive().spans[1].0 + 5;
    let start = iso(from);
    let run = playback_run(
        &cam,
        &ca,
        &[("playback-start", &start), ("playback-speed", &4.0f64)],
    );
    // Over a second of recording (video packets), well within two seconds at speed 4.
    let before = run.collect(300, Duration::from_secs(10));
    assert!(before.error.is_none(), "{}", before.error_text());
    let last = before
        .samples
        .iter()
        .rev()
        .find_map(|s| ntp_meta_unix_s(s.buffer()?))
        .expect("recorded times");
    assert!(last >= from as f64 + 1.0, "played up to {last}");
    seek_lands(&run, from, 0);
    drop(run);
    assert_eq!(plays(&cam), 2);
}

/// The `UtcTime` of a `tt:MetadataStream` document, in Unix seconds.
fn document_time(doc: &[u8]) -> f64 {
    let root = gstonvifhttps::testing::onvif::xml::parse(doc).expect("well-formed document");
    assert!(root.is("http://www.onvif.org/ver10/schema", "MetadataStream"));
    let text = String::from_utf8_lossy(doc);
    let at = text.find("UtcTime=\"").expect("a UtcTime") + 9;
    let utc = &text[at..at + text[at..].find('"').expect("closing quote")];
    gstonvifhttps::testing::clock::parse_utc_millis(utc).expect("an ISO 8601 UTC time") as f64 / 1e3
}

/// Video, audio and metadata of `from..to` (Unix s) at speed 4, one appsink per pad.
fn play_all_tracks(cam: &Camera, ca: &TempFile, from: i64, to: i64) -> MultiRun {
    let (start, end) = (iso(from), iso(to));
    with_playback_props(
        cam,
        ca,
        &[
            ("streams", &"video+audio+metadata"),
            ("playback-start", &start),
            ("playback-end", &end),
            ("playback-speed", &4.0f64),
        ],
        MultiRun::new,
    )
}

#[test]
fn test_element_plays_back_metadata_with_video_and_audio() {
    init();
    let (cam, ca) = camera(Config::default());
    let (gap_start, gap_end) = gap(&cam);
    let (from, to) = (gap_start - 2, gap_end + 2);
    let run = play_all_tracks(&cam, &ca, from, to);
    let out = run.collect(&["metadata_0"], 8, Duration::from_secs(20));
    assert!(out.error.is_none(), "{}", out.error_text());
    assert!(
        out.count("video_0") > 0 && out.count("audio_0") > 0,
        "{:?}",
        out.pads.keys()
    );
    // One document per packet (each is under the MTU), every half second of recording
    // outside the gap; the packet's recorded time is the document's own UtcTime.
    let mut got = Vec::new();
    for (sample, _) in &out.pads["metadata_0"] {
        let buf = sample.buffer().unwrap();
        let recorded = ntp_meta_unix_s(buf).expect("a recorded time");
        let map = buf.map_readable().unwrap();
        assert!(
            rtp::parse_header(&map).expect("RTP").marker,
            "a whole document"
        );
        // The payload follows the header and its 0xABAC extension.
        let at = map
            .windows(5)
            .position(|w| w == b"<?xml")
            .expect("a document");
        let doc_time = document_time(&map[at..]);
        assert!(
            (doc_time - recorded).abs() < 0.001,
            "{doc_time} vs {recorded}"
        );
        got.push((recorded, buf.flags().contains(gst::BufferFlags::DISCONT)));
    }
    let g = gap_start as f64;
    let e = gap_end as f64;
    let expected = [
        (g - 2.0, true),
        (g - 1.5, false),
        (g - 1.0, false),
        (g - 0.5, false),
        (e, true),
        (e + 0.5, false),
        (e + 1.0, false),
        (e + 1.5, false),
    ];
    assert!(got.len() >= expected.len(), "{got:?}, gap {g}..{e}");
    for (have, want) in got.iter().zip(&expected) {
        assert!(
            (have.0 - want.0).abs() < 0.001 && have.1 == want.1,
            "{got:?}"
        );
    }
}

/// A device that sends the replay's first packets before its answer to PLAY: they are the
/// start of the range and are delivered, on every pad, with DISCONT.
#[test]
fn test_packets_before_the_play_answer_are_kept() {
    init();
    let (cam, ca) = camera(Config {
        quirks: Quirks {
            media_before_play_answer: true,
            ..Quirks::default()
        },
        ..Config::default()
    });
    let from = cam.archive().spans[1].0 + 10;
    let run = play_all_tracks(&cam, &ca, from, from + 4);
    let pads = ["video_0", "audio_0", "metadata_0"];
    let out = run.collect(&pads, 2, Duration::from_secs(10));
    assert!(out.error.is_none(), "{}", out.error_text());
    for pad in pads {
        let (sample, _) = out.pads.get(pad).and_then(|s| s.first()).expect(pad);
        let buf = sample.buffer().expect("a buffer");
        let recorded = ntp_meta_unix_s(buf).expect("a recorded time");
        assert!(
            (recorded - from as f64).abs() < 0.001,
            "{pad}: the first packet is the start of the range: {recorded} vs {from}"
        );
        assert!(buf.flags().contains(gst::BufferFlags::DISCONT), "{pad}");
    }
}

/// A replay whose connections are cut resumes where the recording was (not from
/// `playback-start` again), with DISCONT, no error, no EOS.
#[test]
fn test_cut_replay_resumes_at_the_last_recorded_time() {
    init();
    let (cam, ca) = camera(Config::default());
    let relay = Relay::new(cam.https_port());
    let from = cam.archive().spans[1].0 + 5;
    let start = iso(from);
    let loc = format!("https://127.0.0.1:{}", relay.port);
    let ca_path = ca.as_str();
    let run = Run::new(&[
        ("location", &loc as &dyn ToValue),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("tls-ca-file", &ca_path),
        ("mode", &"playback"),
        ("timeout", &5u32),
        ("playback-start", &start),
    ]);
    let times = |out: &Outcome| -> Vec<(f64, bool)> {
        out.samples
            .iter()
            .filter_map(|s| {
                let b = s.buffer()?;
                Some((
                    ntp_meta_unix_s(b)?,
                    b.flags().contains(gst::BufferFlags::DISCONT),
                ))
            })
            .collect()
    };
    let before = run.collect(300, Duration::from_secs(10));
    assert!(before.error.is_none(), "{}", before.error_text());
    let before = times(&before);
    let last = before.last().expect("recorded times").0;
    assert!(last > from as f64 + 1.0, "played {last} from {from}");
    relay.cut_all();
    let after = run.collect(60, Duration::from_secs(10));
    assert!(after.error.is_none(), "{}", after.error_text());
    assert!(!after.eos);
    assert!(
        after
            .elements
            .iter()
            .any(|s| s.name() == "onvif-reconnecting"),
        "{:?}",
        after.elements
    );
    let after = times(&after);
    let resumed = after
        .iter()
        .find(|t| t.1)
        .expect("DISCONT after the reconnection")
        .0;
    assert!(
        resumed >= last - 1.0 && resumed <= last + 2.0,
        "resumed at {resumed}, had played up to {last} (start {from})"
    );
}
