// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The method sequence, the keep-alive and TEARDOWN of the virtual camera's other
//! personas, as bytes (issue 24 point 2): Axis, Hanwha, Uniview, TP-Link Tapo and a
//! gst-rtsp-server behind a strict ONVIF library (`virtual-camera/src/persona.rs`,
//! `docs/rtsp-urls-and-vendors.md` §2). `tests/personas.rs` plays each end to end; these
//! pin what goes on the wire. Addresses and ids are ours.

use super::*;

/// Answers every keep-alive and TEARDOWN with 200 and `session`.
fn ok_with(session: &str) -> impl Fn(&str) -> String + '_ {
    move |_| ok(&format!("Session: {session}\r\n"), "")
}

/// The next channel pair's Transport, as a device grants one per SETUP.
fn next_channels(ch: &mut u8) -> String {
    let t = format!("RTP/AVP/TCP;unicast;interleaved={}-{}", *ch, *ch + 1);
    *ch += 2;
    t
}

fn setup_ok(session: &str, transport: &str) -> String {
    ok(
        &format!("Session: {session};timeout=60\r\nTransport: {transport}\r\n"),
        "",
    )
}

const AXIS_SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.7\r\ns=Session streamed with GStreamer\r\nt=0 0\r\n\
a=control:rtsp://10.0.0.7/axis-media/media.amp?Axis-Orig-Sw=true\r\n\
m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
a=control:rtsp://10.0.0.7/axis-media/media.amp/stream=0?Axis-Orig-Sw=true\r\n\
m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000/1\r\n\
a=control:rtsp://10.0.0.7/axis-media/media.amp/stream=1?Axis-Orig-Sw=true\r\n";

/// Axis: absolute controls carrying `?Axis-Orig-Sw=true` without the port (mediamtx#683),
/// PLAY and the keep-alive to the session control (the Content-Base is refused), and
/// GET_PARAMETER as the keep-alive since `Public` lists it.
#[test]
fn test_axis() {
    let uri = "rtsp://10.0.0.7:554/axis-media/media.amp?videocodec=h264&resolution=640x360";
    let mut ch = 0u8;
    let (run, r, mut session) = drive_session(plan(uri, &[VIDEO, AUDIO]), |m, _| match m {
        "OPTIONS" => ok(
            "Public: OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN\r\n",
            "",
        ),
        "DESCRIBE" => ok(
            "Content-Base: rtsp://10.0.0.7/axis-media/media.amp/\r\n",
            AXIS_SDP,
        ),
        "SETUP" => setup_ok(
            "0A1B2C3D",
            &format!("{};ssrc=1A2B3C4D;mode=\"PLAY\"", next_channels(&mut ch)),
        ),
        "PLAY" => ok(
            "Session: 0A1B2C3D\r\nRange: npt=0-\r\n\
                 RTP-Info: url=rtsp://10.0.0.7/axis-media/media.amp/stream=0?Axis-Orig-Sw=true;seq=52731;rtptime=2717158498, \
                 url=rtsp://10.0.0.7/axis-media/media.amp/stream=1?Axis-Orig-Sw=true;seq=8611;rtptime=1210447123\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    let control = "rtsp://10.0.0.7/axis-media/media.amp?Axis-Orig-Sw=true";
    assert_eq!(
        run.requests[2..],
        [
            "SETUP rtsp://10.0.0.7/axis-media/media.amp/stream=0?Axis-Orig-Sw=true RTSP/1.0 #3",
            "SETUP rtsp://10.0.0.7/axis-media/media.amp/stream=1?Axis-Orig-Sw=true RTSP/1.0 #4 [Session: 0A1B2C3D]",
            &format!("PLAY {control} RTSP/1.0 #5 [Session: 0A1B2C3D]"),
        ]
    );
    let played = run.played();
    assert_eq!(played.aggregate, control);
    let named: Vec<_> = played.rtp_info.iter().map(|(p, i)| (*p, i.seq)).collect();
    assert_eq!(
        named,
        [(Some("video"), Some(52731)), (Some("audio"), Some(8611))]
    );
    assert_eq!(
        keepalive_and_teardown(&mut session, ok_with("0A1B2C3D")),
        [
            format!("GET_PARAMETER {control} RTSP/1.0 #6 [Session: 0A1B2C3D]"),
            format!("TEARDOWN {control} RTSP/1.0 #7 [Session: 0A1B2C3D]"),
        ]
    );
}

const HANWHA_SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.8\r\ns=Media Presentation\r\nt=0 0\r\n\
a=control:rtsp://10.0.0.8/profile1/media.smp\r\n\
m=video 0 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\na=control:trackID=v\r\n\
m=audio 0 RTP/AVP 0\r\na=control:trackID=a\r\n\
m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\na=control:trackID=m\r\n";

/// Hanwha (iPOLiS): no Content-Base, an absolute session control without the port,
/// relative `trackID=v/a/m` appended to it (FFmpeg's join, which the device takes; the
/// port missing from a request line is no connection's); PLAY, the keep-alive and
/// TEARDOWN to the session control.
#[test]
fn test_hanwha() {
    let uri = "rtsp://10.0.0.8:554/profile1/media.smp";
    let mut ch = 0u8;
    let (run, r, mut session) =
        drive_session(plan(uri, &[VIDEO, AUDIO, METADATA]), |m, _| match m {
            "OPTIONS" => ok(
                "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n",
                "",
            ),
            "DESCRIBE" => ok("", HANWHA_SDP),
            "SETUP" => setup_ok("23D1A0B4", &next_channels(&mut ch)),
            "PLAY" => ok(
                "Session: 23D1A0B4\r\n\
                 RTP-Info: url=rtsp://10.0.0.8/profile1/media.smp/trackID=v;seq=1;rtptime=0\r\n",
                "",
            ),
            m => panic!("{m}"),
        });
    r.expect("played");
    let control = "rtsp://10.0.0.8/profile1/media.smp";
    assert_eq!(
        run.set_up(),
        [
            ("video", format!("{control}/trackID=v"), (0, 1)),
            ("audio", format!("{control}/trackID=a"), (2, 3)),
            ("metadata", format!("{control}/trackID=m"), (4, 5)),
        ]
    );
    let played = run.played();
    assert_eq!(played.aggregate, control);
    assert_eq!(played.rtp_info[0].0, Some("video"));
    assert_eq!(
        keepalive_and_teardown(&mut session, ok_with("23D1A0B4")),
        [
            format!("GET_PARAMETER {control} RTSP/1.0 #7 [Session: 23D1A0B4]"),
            format!("TEARDOWN {control} RTSP/1.0 #8 [Session: 23D1A0B4]"),
        ]
    );
}

const UNIVIEW_SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=RTSP Session\r\nc=IN \r\nt=0 0\r\n\
m=video 0 RTP/AVP 96\r\nc=IN \r\na=rtpmap:96 H264/90000\r\n\
a=control:rtsp://10.0.0.9/media/video1/video\r\n\
m=audio 0 RTP/AVP 8\r\nc=IN \r\na=control:rtsp://10.0.0.9/media/video1/audio\r\n";

/// Uniview: bare `c=IN ` lines (go2rtc#1663), no Content-Base and no session control,
/// absolute media controls without the port; PLAY, keep-alive and TEARDOWN to the request
/// URL.
#[test]
fn test_uniview() {
    let uri = "rtsp://10.0.0.9:554/media/video1";
    let mut ch = 0u8;
    let (run, r, mut session) = drive_session(plan(uri, &[VIDEO, AUDIO]), |m, _| match m {
        "OPTIONS" => ok(
            "Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER\r\n",
            "",
        ),
        "DESCRIBE" => ok("", UNIVIEW_SDP),
        "SETUP" => setup_ok("1694412093", &next_channels(&mut ch)),
        "PLAY" => ok(
            "Session: 1694412093\r\n\
                 RTP-Info: url=rtsp://10.0.0.9/media/video1/video;seq=3;rtptime=6,url=rtsp://10.0.0.9/media/video1/audio;seq=4;rtptime=7\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(
        run.set_up(),
        [
            (
                "video",
                "rtsp://10.0.0.9/media/video1/video".to_string(),
                (0, 1)
            ),
            (
                "audio",
                "rtsp://10.0.0.9/media/video1/audio".to_string(),
                (2, 3)
            ),
        ]
    );
    let played = run.played();
    assert_eq!(played.aggregate, uri);
    let named: Vec<_> = played.rtp_info.iter().map(|(p, i)| (*p, i.seq)).collect();
    assert_eq!(named, [(Some("video"), Some(3)), (Some("audio"), Some(4))]);
    assert_eq!(
        keepalive_and_teardown(&mut session, ok_with("1694412093")),
        [
            format!("GET_PARAMETER {uri} RTSP/1.0 #6 [Session: 1694412093]"),
            format!("TEARDOWN {uri} RTSP/1.0 #7 [Session: 1694412093]"),
        ]
    );
}

const TAPO_SDP: &str = "v=0\r\no=- 14665860 31787219 1 IN IP4 10.0.0.10\r\ns=Session streamed by \"TP-LINK RTSP Server\"\r\nt=0 0\r\n\
m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n\
m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:track2\r\n\
m=application/TP-LINK 0 RTP/AVP smart/1/90000\r\na=rtpmap:95 TP-LINK/90000\r\na=control:track3\r\n";

/// TP-Link Tapo (retina's tplink_sdp, with its vendor-only track): Content-Base without
/// the port, `track1..3`, no session control; the vendor track is not set up.
#[test]
fn test_tapo() {
    let uri = "rtsp://10.0.0.10:554/stream1";
    let base = "rtsp://10.0.0.10/stream1/";
    let mut ch = 0u8;
    let (run, r, mut session) = drive_session(plan(uri, &[VIDEO, AUDIO]), |m, _| match m {
        "OPTIONS" => ok(
            "Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER\r\n",
            "",
        ),
        "DESCRIBE" => ok(&format!("Content-Base: {base}\r\n"), TAPO_SDP),
        "SETUP" => setup_ok("5A3C2B1D", &next_channels(&mut ch)),
        "PLAY" => ok(
            "Session: 5A3C2B1D\r\n\
                 RTP-Info: url=rtsp://10.0.0.10/stream1/track1;seq=9;rtptime=9,url=rtsp://10.0.0.10/stream1/track2;seq=10;rtptime=10\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(
        run.set_up(),
        [
            ("video", format!("{base}track1"), (0, 1)),
            ("audio", format!("{base}track2"), (2, 3)),
        ]
    );
    let played = run.played();
    assert_eq!(played.aggregate, base);
    assert_eq!(
        keepalive_and_teardown(&mut session, ok_with("5A3C2B1D")),
        [
            format!("GET_PARAMETER {base} RTSP/1.0 #6 [Session: 5A3C2B1D]"),
            format!("TEARDOWN {base} RTSP/1.0 #7 [Session: 5A3C2B1D]"),
        ]
    );
}

const GST_SDP: &str = "v=0\r\no=- 1188340656180883 1 IN IP4 10.0.0.11\r\ns=Session streamed with GStreamer\r\n\
i=rtsp-server\r\nt=0 0\r\na=tool:GStreamer\r\na=type:broadcast\r\na=control:*\r\na=range:npt=now-\r\n\
m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\n\
m=audio 0 RTP/AVP 97\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:97 MPEG4-GENERIC/16000/1\r\na=control:stream=1\r\n";

/// gst-rtsp-server behind a strict ONVIF library: the Content-Base drops the request's
/// query, OPTIONS lists no `Public` (locomote#158), so the keep-alive is OPTIONS; SETUP
/// and PLAY go to the Content-Base (PLAY to the request URL is 404 there).
#[test]
fn test_gst_rtsp_server() {
    let uri = "rtsp://10.0.0.11:554/media/Profile_1?transport=unicast";
    let base = "rtsp://10.0.0.11:554/media/Profile_1/";
    let mut ch = 0u8;
    let (run, r, mut session) = drive_session(plan(uri, &[VIDEO, AUDIO]), |m, _| match m {
        "OPTIONS" => ok("", ""),
        "DESCRIBE" => ok(&format!("Content-Base: {base}\r\n"), GST_SDP),
        "SETUP" => setup_ok(
            "kZ3f7x9QfH2pL0aB",
            &format!("{};ssrc=6B8B4567;mode=\"PLAY\"", next_channels(&mut ch)),
        ),
        "PLAY" => ok(
            "Session: kZ3f7x9QfH2pL0aB;timeout=60\r\nRange: npt=now-\r\n\
                 RTP-Info: url=rtsp://10.0.0.11:554/media/Profile_1/stream=0;seq=21336;rtptime=1447392018, \
                 url=rtsp://10.0.0.11:554/media/Profile_1/stream=1;seq=4207;rtptime=3270483720\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(
        run.requests[2..],
        [
            format!("SETUP {base}stream=0 RTSP/1.0 #3"),
            format!("SETUP {base}stream=1 RTSP/1.0 #4 [Session: kZ3f7x9QfH2pL0aB]"),
            format!("PLAY {base} RTSP/1.0 #5 [Session: kZ3f7x9QfH2pL0aB]"),
        ]
    );
    let played = run.played();
    let named: Vec<_> = played.rtp_info.iter().map(|(p, i)| (*p, i.seq)).collect();
    assert_eq!(
        named,
        [(Some("video"), Some(21336)), (Some("audio"), Some(4207))]
    );
    assert_eq!(
        keepalive_and_teardown(&mut session, ok_with("kZ3f7x9QfH2pL0aB")),
        [
            format!("OPTIONS {base} RTSP/1.0 #6 [Session: kZ3f7x9QfH2pL0aB]"),
            format!("TEARDOWN {base} RTSP/1.0 #7 [Session: kZ3f7x9QfH2pL0aB]"),
        ]
    );
}

/// VStarcam spells the header `Cseq`: the keep-alive's and TEARDOWN's answers are matched
/// all the same (a keep-alive answer not matched would lose the session at the next).
#[test]
fn test_vstarcam_keepalive_and_teardown_answers_with_cseq_spelled_so() {
    let uri = "rtsp://10.0.0.9:10554/tcp/av0_0";
    let sdp = "v=0\r\no=- 5 1 IN IP4 10.0.0.9\r\ns=av0_0\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track0\r\n";
    let cseq = |extra: &str| format!("RTSP/1.0 200 OK\r\nCseq: {{cseq}}\r\n{extra}\r\n");
    let (run, r, mut session) = drive_session(plan(uri, &[VIDEO]), |m, _| match m {
        "OPTIONS" => cseq("Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY\r\n"),
        "DESCRIBE" => format!(
            "RTSP/1.0 200 OK\r\nCseq: {{cseq}}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ),
        "SETUP" => cseq("Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n"),
        "PLAY" => cseq("Session: 1\r\n"),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(run.played().aggregate, uri);
    assert_eq!(
        keepalive_and_teardown(&mut session, |_| cseq("Session: 1\r\n")),
        [
            format!("OPTIONS {uri} RTSP/1.0 #5 [Session: 1]"),
            format!("TEARDOWN {uri} RTSP/1.0 #6 [Session: 1]"),
        ]
    );
}
