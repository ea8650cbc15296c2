// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The method sequence against the exchanges of `docs/rtsp-urls-and-vendors.md` §2, as
//! bytes: each vendor's header shapes (Hikvision's spaces in `Session`, Dahua's relative
//! `RTP-Info`, Reolink's Content-Base without the port, the GW server's `; timeout=`,
//! VStarcam's missing Content-Base and RTP-Info). Addresses and ids are ours.

use super::*;
use crate::proto::rtsp::exchange::Exchange;
use crate::proto::rtsp::framing::{self, Frame};
use crate::proto::rtsp::session::{Command, Event, Fault as SessionFault, Session};
use std::time::{Duration, Instant};

fn resp(wire: &[u8]) -> Response {
    match framing::next(wire) {
        Ok(Some((Frame::Response(r), _))) => r,
        other => panic!("{other:?}"),
    }
}

fn plan(uri: &str, kinds: &[(sdp::Kind, &'static str)]) -> Plan {
    Plan {
        uri: uri.into(),
        kinds: kinds.to_vec(),
        udp: false,
        srtp: false,
        require: Vec::new(),
        play: vec![("Range".into(), "npt=0.000-".into())],
        backchannel: false,
    }
}

const VIDEO: (sdp::Kind, &str) = (sdp::Kind::Video, "video");
const AUDIO: (sdp::Kind, &str) = (sdp::Kind::Audio, "audio");
const METADATA: (sdp::Kind, &str) = (sdp::Kind::Metadata, "metadata");

/// What a run saw: the request lines with their CSeq and Session, and the events.
#[derive(Debug, Default)]
struct Run {
    requests: Vec<String>,
    events: Vec<Step>,
}

impl Run {
    fn set_up(&self) -> Vec<(&'static str, String, (u8, u8))> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Step::SetUp(s) => Some((s.prefix, s.control.clone(), s.channels)),
                _ => None,
            })
            .collect()
    }

    fn played(&self) -> &Played {
        match self.events.last() {
            Some(Step::Playing(p)) => p,
            other => panic!("not playing: {other:?}"),
        }
    }
}

/// Drives a session playing `plan` up to PLAY: each request goes as bytes to `server`,
/// whose answer (with the request's CSeq put in for `{cseq}`) comes back as bytes.
fn drive(plan: Plan, server: impl FnMut(&str, &str) -> String) -> (Run, Result<(), Fault>) {
    let (run, r, _) = drive_session(plan, server);
    (run, r)
}

/// [`drive`], and the session (playing, unless it failed) at the time it played.
fn drive_session(
    plan: Plan,
    mut server: impl FnMut(&str, &str) -> String,
) -> (Run, Result<(), Fault>, Session) {
    let now = Instant::now();
    let mut session = Session::new(plan, None, (Some(true), true), TIMEOUT, now);
    let mut run = Run::default();
    let mut port = 50_000u16;
    loop {
        while let Some(ev) = session.poll_event() {
            match ev {
                Event::Start(Step::BindUdp(key)) => {
                    // An SRTP stream's "MIKEY message": two bytes that say its MKI.
                    let mikey = key.map(|k| vec![0xAB, u8::from(k.mki)]);
                    session.bound(port, mikey, now);
                    run.events.push(Step::BindUdp(key));
                    port = port.saturating_add(2);
                }
                Event::Start(step) => run.events.push(step),
                Event::Failed(SessionFault::Start(f)) => return (run, Err(f), session),
                Event::Failed(f) => panic!("{f:?}"),
                _ => {}
            }
        }
        let Some(t) = session.poll_transmit(now) else {
            return (run, Ok(()), session);
        };
        run.requests.push(line_of(&t.bytes));
        let wire = String::from_utf8(t.bytes).expect("text");
        let method = wire.split(' ').next().unwrap_or("").to_string();
        let answer = server(&method, &wire).replace("{cseq}", &cseq_of(&wire).to_string());
        session.handle_response(resp(answer.as_bytes()), now);
    }
}

/// How long an answer may take in these runs.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The CSeq of a request on the wire.
fn cseq_of(wire: &str) -> u32 {
    wire.lines()
        .find_map(|l| l.strip_prefix("CSeq: "))
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0)
}

/// The request line of `bytes`, with its CSeq and Session as [`Run::requests`] has them.
fn line_of(bytes: &[u8]) -> String {
    let wire = String::from_utf8_lossy(bytes);
    let line = wire.lines().next().unwrap_or("").to_string();
    let sess = wire
        .lines()
        .find(|l| l.starts_with("Session: "))
        .map(|l| format!(" [{l}]"))
        .unwrap_or_default();
    format!("{line} #{}{sess}", cseq_of(&wire))
}

/// After PLAY (`session` as [`drive_session`] left it): the first keep-alive the
/// session's timers send (answered by `answer`, the request's CSeq put in for `{cseq}`),
/// then the TEARDOWN of a stop, whose answer closes the session; their request lines.
fn keepalive_and_teardown(session: &mut Session, answer: impl Fn(&str) -> String) -> Vec<String> {
    assert!(session.is_playing());
    let (keepalive, now) = loop {
        let now = session.poll_timeout().expect("a deadline");
        session.handle_timeout(now);
        if let Some(t) = session.poll_transmit(now) {
            break (t, now);
        }
    };
    assert!(
        keepalive.what == "RTSP GET_PARAMETER" || keepalive.what == "RTSP OPTIONS",
        "{keepalive:?}"
    );
    let mut lines = Vec::new();
    let mut next = Some(keepalive);
    while let Some(t) = next.take() {
        let line = line_of(&t.bytes);
        let cseq = cseq_of(&String::from_utf8_lossy(&t.bytes));
        let wire = answer(&line).replace("{cseq}", &cseq.to_string());
        session.handle_response(resp(wire.as_bytes()), now);
        if lines.is_empty() {
            assert_eq!(session.command(Command::Stop, now), Ok(()));
            next = session.poll_transmit(now);
            assert_eq!(
                next.as_ref().map(|t| t.what.as_str()),
                Some("RTSP TEARDOWN")
            );
        }
        lines.push(line);
    }
    let mut events = Vec::new();
    while let Some(ev) = session.poll_event() {
        events.push(ev);
    }
    assert_eq!(events.last(), Some(&Event::Closed), "{events:?}");
    assert_eq!(session.poll_timeout(), None, "closed");
    lines
}

#[path = "sequence_srtp_tests.rs"]
mod srtp;

#[path = "sequence_persona_tests.rs"]
mod personas;

fn ok(extra: &str, body: &str) -> String {
    let len = if body.is_empty() {
        String::new()
    } else {
        format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n",
            body.len()
        )
    };
    format!("RTSP/1.0 200 OK\r\nCSeq: {{cseq}}\r\n{extra}{len}\r\n{body}")
}

const HIK_SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=Media Presentation\r\nt=0 0\r\n\
a=control:rtsp://10.0.0.5:554/Streaming/Channels/101/?transportmode=unicast&profile=Profile_1\r\n\
m=video 0 RTP/AVP 96\r\na=recvonly\r\n\
a=control:rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1\r\n\
a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n\
m=application 0 RTP/AVP 107\r\na=recvonly\r\n\
a=control:rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=3?transportmode=unicast&profile=Profile_1\r\n\
a=rtpmap:107 vnd.onvif.metadata/90000\r\n";

/// Hikvision: absolute controls with the query, PLAY to the session control, `Session`
/// with spaces before the id, RTP-Info naming the track absolutely.
#[test]
fn test_hikvision() {
    let uri = "rtsp://10.0.0.5:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1";
    let (run, r) = drive(plan(uri, &[VIDEO, METADATA]), |m, _| match m {
        "OPTIONS" => ok(
            "Public: OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER\r\n",
            "",
        ),
        "DESCRIBE" => ok(
            "Content-Base: rtsp://10.0.0.5:554/Streaming/Channels/101/\r\n",
            HIK_SDP,
        ),
        "SETUP" => ok(
            "Session:        708345999;timeout=60\r\n\
             Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=4cacc3d1;mode=\"play\"\r\n",
            "",
        ),
        "PLAY" => ok(
            "Session:        708345999\r\nRTP-Info: url=rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1;seq=24104;rtptime=1270711678\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    let session_control =
        "rtsp://10.0.0.5:554/Streaming/Channels/101/?transportmode=unicast&profile=Profile_1";
    assert_eq!(
        run.requests,
        [
            format!("OPTIONS {uri} RTSP/1.0 #1"),
            format!("DESCRIBE {uri} RTSP/1.0 #2"),
            "SETUP rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1 RTSP/1.0 #3".to_string(),
            "SETUP rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=3?transportmode=unicast&profile=Profile_1 RTSP/1.0 #4 [Session: 708345999]".to_string(),
            format!("PLAY {session_control} RTSP/1.0 #5 [Session: 708345999]"),
        ]
    );
    // The device granted 0-1 twice: what it grants is what the packets carry.
    let set_up = run.set_up();
    assert_eq!(set_up[0].2, (0, 1));
    assert_eq!(set_up[1].2, (0, 1));
    assert_eq!(set_up[1].0, "metadata");
    let played = run.played();
    assert_eq!(played.aggregate, session_control);
    assert_eq!(played.rtp_info.len(), 1);
    assert_eq!(played.rtp_info[0].0, Some("video"));
    assert_eq!(played.rtp_info[0].1.seq, Some(24104));
    assert_eq!(played.rtp_info[0].1.rtptime, Some(1_270_711_678));
}

const DAHUA_SDP: &str = "v=0\r\no=- 2 2 IN IP4 10.0.0.6\r\ns=Media Server\r\nt=0 0\r\n\
a=control:*\r\n\
m=video 0 RTP/AVP 96\r\na=control:trackID=0\r\na=rtpmap:96 H264/90000\r\na=recvonly\r\n\
m=audio 0 RTP/AVP 97\r\na=control:trackID=1\r\na=rtpmap:97 MPEG4-GENERIC/16000/1\r\na=recvonly\r\n\
m=application 0 RTP/AVP 107\r\na=control:trackID=4\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\na=recvonly\r\n";

/// Dahua: Content-Base is the URI with `/` after its query; controls are appended after
/// it; RTP-Info names `trackID=N` relatively; channels asked 0-1, 2-3, 4-5.
#[test]
fn test_dahua() {
    let uri = "rtsp://10.0.0.6:554/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif";
    let base = format!("{uri}/");
    let mut transports = Vec::new();
    let (run, r) = drive(plan(uri, &[VIDEO, AUDIO, METADATA]), |m, wire| match m {
        "OPTIONS" => ok(
            "Public: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n",
            "",
        ),
        "DESCRIBE" => ok(&format!("Content-Base: {base}\r\n"), DAHUA_SDP),
        "SETUP" => {
            let t = wire
                .lines()
                .find_map(|l| l.strip_prefix("Transport: "))
                .unwrap_or("")
                .to_string();
            transports.push(t.clone());
            ok(
                &format!("Session: 634214675641;timeout=60\r\nTransport: {t};ssrc=30A98EE7\r\n"),
                "",
            )
        }
        "PLAY" => ok(
            "Session: 634214675641\r\nRange: npt=0.000000-\r\n\
                 RTP-Info: url=trackID=0;seq=47121;rtptime=3475222385,url=trackID=1;seq=45186;rtptime=2234446919,url=trackID=4;seq=36583;rtptime=816418535\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(
        transports,
        [
            "RTP/AVP/TCP;unicast;interleaved=0-1",
            "RTP/AVP/TCP;unicast;interleaved=2-3",
            "RTP/AVP/TCP;unicast;interleaved=4-5"
        ]
    );
    let set_up = run.set_up();
    assert_eq!(
        set_up,
        [
            ("video", format!("{base}trackID=0"), (0, 1)),
            ("audio", format!("{base}trackID=1"), (2, 3)),
            ("metadata", format!("{base}trackID=4"), (4, 5)),
        ]
    );
    let played = run.played();
    assert_eq!(played.aggregate, base);
    let named: Vec<_> = played.rtp_info.iter().map(|(p, i)| (*p, i.seq)).collect();
    assert_eq!(
        named,
        [
            (Some("video"), Some(47121)),
            (Some("audio"), Some(45186)),
            (Some("metadata"), Some(36583))
        ]
    );
}

const REOLINK_SDP: &str = "v=0\r\no=- 3 1 IN IP4 0.0.0.0\r\ns=Session streamed by \"preview\"\r\nt=0 0\r\n\
a=control:*\r\n\
m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n\
m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000\r\na=control:trackID=2\r\n";

/// Reolink (live555): Content-Base without the port (a request line, never a
/// connection), Transport with source and destination, one Session id for both SETUPs.
#[test]
fn test_reolink() {
    let uri = "rtsp://10.0.0.7:554/h264Preview_01_main";
    let (run, r) = drive(plan(uri, &[VIDEO, AUDIO]), |m, _| match m {
        "OPTIONS" => ok(
            "Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER\r\n",
            "",
        ),
        "DESCRIBE" => ok(
            "Content-Base: rtsp://10.0.0.7/h264Preview_01_main/\r\n",
            REOLINK_SDP,
        ),
        "SETUP" => ok(
            "Transport: RTP/AVP/TCP;unicast;destination=10.0.0.1;source=10.0.0.7;interleaved=0-1\r\nSession: F8F8E425\r\n",
            "",
        ),
        "PLAY" => ok(
            "Range: npt=0.000-\r\nSession: F8F8E425\r\n\
                 RTP-Info: url=trackID=1;seq=16852;rtptime=1070938629;ssrc=dcc4a0d8,url=trackID=2;seq=39409;rtptime=3075976528;ssrc=9fc9fff8\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(
        run.requests[2..],
        [
            "SETUP rtsp://10.0.0.7/h264Preview_01_main/trackID=1 RTSP/1.0 #3",
            "SETUP rtsp://10.0.0.7/h264Preview_01_main/trackID=2 RTSP/1.0 #4 [Session: F8F8E425]",
            "PLAY rtsp://10.0.0.7/h264Preview_01_main/ RTSP/1.0 #5 [Session: F8F8E425]",
        ]
    );
    let p = run.played();
    assert_eq!(
        p.rtp_info
            .iter()
            .map(|(s, i)| (*s, i.rtptime))
            .collect::<Vec<_>>(),
        [
            (Some("video"), Some(1_070_938_629)),
            (Some("audio"), Some(3_075_976_528))
        ]
    );
}

/// The "Rtsp Server 2.0" (GW): a space after `;` in `Session` keeps the timeout (which
/// rtsp-types' typed header drops), controls appended to a base with a query, RTP-Info
/// naming a path no request used (one stream: it is that stream).
#[test]
fn test_gw_session_timeout_with_a_space() {
    let uri = "rtsp://10.0.0.8:5050/main";
    let sdp = "v=0\r\no=- 4 1 IN IP4 10.0.0.8\r\ns=Session\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:video\r\n";
    let mut session_seen = None;
    let (run, r) = drive(plan(uri, &[VIDEO]), |m, _| match m {
        "OPTIONS" => ok("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n", ""),
        "DESCRIBE" => ok("Content-Base: rtsp://10.0.0.8:5050/main?token=1\r\n", sdp),
        "SETUP" => ok(
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 9a90de54; timeout=120\r\n",
            "",
        ),
        "PLAY" => {
            session_seen = Some(());
            ok(
                "Range: npt=0.000-\r\nSession: 9a90de54; timeout=120\r\n\
                 RTP-Info: url=rtsp://10.0.0.8:5050/H264/video;seq=271;rtptime=1621990950\r\n",
                "",
            )
        }
        m => panic!("{m}"),
    });
    r.expect("played");
    assert!(session_seen.is_some());
    assert_eq!(run.set_up()[0].1, "rtsp://10.0.0.8:5050/main?token=1/video");
    assert_eq!(run.played().rtp_info[0].0, Some("video"));
    assert!(
        run.requests[3].ends_with("[Session: 9a90de54]"),
        "{:?}",
        run.requests
    );
}

/// The timeout of the SETUP's `Session` is kept by the session (keep-alives follow it).
#[test]
fn test_session_timeout_is_taken_from_the_setup() {
    let mut seq = Sequence::new(plan("rtsp://h/s", &[VIDEO]));
    let mut session = Exchange::new(None, Some(true), true);
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";
    let mut answers = [
        ok("", ""),
        ok("", sdp),
        ok("Session: 9a90de54; timeout=120\r\n", ""),
    ]
    .into_iter();
    while let Some(step) = seq.poll() {
        let Step::Send(req) = step else { continue };
        // The PLAY is not answered here.
        let Some(answer) = answers.next() else {
            assert_eq!(req.method, "PLAY");
            break;
        };
        seq.answer(&mut session, resp(answer.replace("{cseq}", "1").as_bytes()))
            .expect("answer");
    }
    assert_eq!(session.id(), Some(&("9a90de54".to_string(), Some(120))));
}

/// VStarcam: no Content-Base, no session control, `track0`; everything goes to the
/// request URL (appended), and no RTP-Info.
#[test]
fn test_vstarcam() {
    let uri = "rtsp://10.0.0.9:10554/tcp/av0_0";
    let sdp = "v=0\r\no=- 5 1 IN IP4 10.0.0.9\r\ns=av0_0\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track0\r\n";
    let (run, r) = drive(plan(uri, &[VIDEO]), |m, _| match m {
        "OPTIONS" | "PLAY" => ok("Session: 1\r\n", ""),
        "DESCRIBE" => ok("", sdp),
        "SETUP" => ok(
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(run.set_up()[0].1, "rtsp://10.0.0.9:10554/tcp/av0_0/track0");
    assert_eq!(run.played().aggregate, uri);
    assert!(run.played().rtp_info.is_empty());
}

/// A device offering SRTP beside RTP lists each stream twice (gst-rtsp-server with both
/// profiles, SRTP first): the RTP/AVP one is set up, whatever the order.
#[test]
fn test_the_rtp_stream_is_set_up_when_srtp_is_offered_too() {
    let uri = "rtsps://10.0.0.11:322/media/Profile_1";
    let sdp = "v=0\r\no=- 5 1 IN IP4 10.0.0.11\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\na=key-mgmt:mikey QUJD\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=1\r\n";
    let (run, r) = drive(plan(uri, &[VIDEO]), |m, _| match m {
        "OPTIONS" | "PLAY" => ok("Session: 1\r\n", ""),
        "DESCRIBE" => ok(
            "Content-Base: rtsps://10.0.0.11:322/media/Profile_1/\r\n",
            sdp,
        ),
        "SETUP" => ok(
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n",
            "",
        ),
        m => panic!("{m}"),
    });
    r.expect("played");
    assert_eq!(
        run.set_up()[0].1,
        "rtsps://10.0.0.11:322/media/Profile_1/stream=1"
    );
}

/// A refused SETUP on the appended URL goes once more to the RFC 3986 join (retina#9's
/// camera), with an event saying so; a second refusal is the sequence's fault.
#[test]
fn test_a_refused_setup_tries_the_rfc_join_once() {
    let uri = "rtsp://10.0.0.10/live/ch0";
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n";
    let mut setups = 0;
    let (run, r) = drive(plan(uri, &[VIDEO]), |m, _| match m {
        "SETUP" => {
            setups += 1;
            "RTSP/1.0 404 Not Found\r\nCSeq: {cseq}\r\n\r\n".to_string()
        }
        "DESCRIBE" => ok("", sdp),
        _ => ok("", ""),
    });
    assert_eq!(setups, 2);
    assert_eq!(
        run.requests[2..],
        [
            "SETUP rtsp://10.0.0.10/live/ch0/track1 RTSP/1.0 #3",
            "SETUP rtsp://10.0.0.10/live/track1 RTSP/1.0 #4",
        ]
    );
    assert!(run.events.iter().any(|e| matches!(e,
        Step::Fallback { status: 404, to, .. } if to == "rtsp://10.0.0.10/live/track1")));
    match r {
        Err(Fault::Refused { method, resp }) => assert_eq!((method, resp.status), ("SETUP", 404)),
        other => panic!("{other:?}"),
    }
}

/// UDP: the driver binds a pair before each SETUP; the Transport asks for its ports.
#[test]
fn test_udp_asks_for_the_bound_ports() {
    let mut p = plan("rtsp://h/s", &[VIDEO, AUDIO]);
    p.udp = true;
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n\
        m=audio 0 RTP/AVP 0\r\na=control:a\r\n";
    let mut asked = Vec::new();
    let (run, r) = drive(p, |m, wire| match m {
        "DESCRIBE" => ok("", sdp),
        "SETUP" => {
            let t = wire
                .lines()
                .find_map(|l| l.strip_prefix("Transport: "))
                .unwrap_or("");
            asked.push(t.to_string());
            ok(
                &format!("Transport: {t};server_port=6000-6001;source=10.0.0.3\r\nSession: 7\r\n"),
                "",
            )
        }
        _ => ok("", ""),
    });
    r.expect("played");
    assert_eq!(
        asked,
        [
            "RTP/AVP;unicast;client_port=50000-50001",
            "RTP/AVP;unicast;client_port=50002-50003"
        ]
    );
    let granted: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Step::SetUp(s) => Some((s.granted.server_port, s.granted.source)),
            _ => None,
        })
        .collect();
    let src = "10.0.0.3".parse().ok();
    assert_eq!(
        granted,
        [(Some((6000, 6001)), src), (Some((6000, 6001)), src)]
    );
}

/// A wanted kind the SDP lacks, and a backchannel (sendonly on our side) never chosen.
#[test]
fn test_no_stream_of_a_wanted_kind() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
        m=audio 0 RTP/AVP 0\r\na=sendonly\r\n";
    let (run, r) = drive(plan("rtsp://h/s", &[VIDEO, AUDIO]), |m, _| match m {
        "DESCRIBE" => ok("", sdp),
        _ => ok("", ""),
    });
    assert_eq!(r, Err(Fault::NoStream("audio")));
    assert_eq!(run.requests.len(), 2, "no SETUP: {:?}", run.requests);
}

/// A refusal stops the sequence with the answer; an SDP that cannot be read names its
/// line; steps never come out of turn.
#[test]
fn test_refusals_and_turns() {
    let (_, r) = drive(plan("rtsp://h/s", &[VIDEO]), |m, _| match m {
        "DESCRIBE" => "RTSP/1.0 454 Session Not Found\r\nCSeq: {cseq}\r\n\r\n".into(),
        _ => ok("", ""),
    });
    assert!(matches!(r, Err(Fault::Refused { method: "DESCRIBE", resp }) if resp.status == 454));
    let (_, r) = drive(plan("rtsp://h/s", &[VIDEO]), |m, _| match m {
        "DESCRIBE" => ok("", "v=0\r\nbogus\r\n"),
        _ => ok("", ""),
    });
    assert!(matches!(r, Err(Fault::Sdp(_))), "{r:?}");
    let mut seq = Sequence::new(plan("rtsp://h/s", &[VIDEO]));
    let mut session = Exchange::new(None, None, false);
    let answer = resp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
    assert_eq!(
        seq.answer(&mut session, answer.clone()),
        Err(Fault::OutOfTurn)
    );
    assert!(matches!(seq.poll(), Some(Step::Send(r)) if r.method == "OPTIONS"));
    assert_eq!(seq.poll(), None, "the OPTIONS' answer is awaited");
    seq.answer(&mut session, answer).expect("answer");
    assert!(matches!(seq.poll(), Some(Step::Send(r)) if r.method == "DESCRIBE"));
}

/// A replay's `Require` goes with DESCRIBE and SETUP, its Range and Rate-Control with
/// PLAY (ONVIF Streaming §6).
#[test]
fn test_replay_headers() {
    let mut p = plan("rtsp://h/replay", &[VIDEO]);
    p.require = vec![("Require".into(), "onvif-replay".into())];
    p.play = vec![
        ("Require".into(), "onvif-replay".into()),
        ("Range".into(), "clock=20260101T000000Z-".into()),
        ("Rate-Control".into(), "no".into()),
    ];
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";
    let mut seen = Vec::new();
    let (_, r) = drive(p, |m, wire| {
        seen.push((
            m.to_string(),
            wire.contains("\r\nRequire: onvif-replay\r\n"),
        ));
        if m == "PLAY" {
            assert!(
                wire.contains("\r\nRange: clock=20260101T000000Z-\r\n"),
                "{wire}"
            );
            assert!(wire.contains("\r\nRate-Control: no\r\n"), "{wire}");
        }
        match m {
            "DESCRIBE" => ok("", sdp),
            "SETUP" => ok("Session: 1\r\n", ""),
            _ => ok("", ""),
        }
    });
    r.expect("played");
    assert_eq!(
        seen,
        [
            ("OPTIONS".to_string(), false),
            ("DESCRIBE".to_string(), true),
            ("SETUP".to_string(), true),
            ("PLAY".to_string(), true),
        ]
    );
}
