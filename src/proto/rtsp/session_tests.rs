// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The whole session as bytes with a fake clock (issue 24 point 2): a seek's PAUSE and
//! PLAY with the old position's packets, a challenge in the middle of a session, answers
//! that come late, out of order or never, a device that hangs up, stop and TEARDOWN. The
//! vendors' exchanges up to PLAY, their keep-alive and TEARDOWN go through this session
//! in `sequence_tests.rs` and `sequence_persona_tests.rs`.

use super::*;
use crate::proto::rtsp::framing::{self, Frame};
use crate::proto::rtsp::sdp;

const TIMEOUT: Duration = Duration::from_secs(10);

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
    m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n\
    m=audio 0 RTP/AVP 97\r\na=rtpmap:97 PCMU/8000\r\na=control:trackID=1\r\n";

fn resp(wire: &str) -> Response {
    match framing::next(wire.as_bytes()) {
        Ok(Some((Frame::Response(r), _))) => r,
        other => panic!("{other:?}"),
    }
}

fn plan() -> Plan {
    Plan {
        uri: "rtsp://cam/rec".into(),
        kinds: vec![(sdp::Kind::Video, "video"), (sdp::Kind::Audio, "audio")],
        udp: false,
        srtp: false,
        require: vec![("Require".into(), "onvif-replay".into())],
        play: vec![("Range".into(), "clock=20261205T120000Z-".into())],
        backchannel: false,
    }
}

/// A device and the session talking to it, on a fake clock.
struct Run {
    s: Session,
    now: Instant,
}

impl Run {
    fn new(creds: Option<Credentials>, channel: (Option<bool>, bool)) -> Self {
        let now = Instant::now();
        Run {
            s: Session::new(plan(), creds, channel, TIMEOUT, now),
            now,
        }
    }

    /// The next bytes to send, as text.
    fn sent(&mut self) -> Option<String> {
        self.s
            .poll_transmit(self.now)
            .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
    }

    /// Every event so far.
    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.s.poll_event()).collect()
    }

    /// The device answers `wire` (`{cseq}`: the CSeq of `request`).
    fn answer(&mut self, request: &str, wire: &str) {
        let cseq = request
            .lines()
            .find_map(|l| l.strip_prefix("CSeq: "))
            .unwrap_or("0");
        self.s
            .handle_response(resp(&wire.replace("{cseq}", cseq)), self.now);
    }

    /// The time moves on by `d`; the session's deadlines that passed are handled.
    fn wait(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(at) = self.s.poll_timeout().filter(|at| *at <= until) {
            self.now = at;
            self.s.handle_timeout(at);
            // A deadline handled moves on (else this would spin).
            assert_ne!(self.s.poll_timeout(), Some(at), "the deadline did not move");
        }
        self.now = until;
    }

    /// A device that plays the two streams of [`SDP`] (Session 42, 60 s).
    fn play(&mut self) {
        for _ in 0..5 {
            let req = self.sent().expect("a request");
            let wire = match req.split(' ').next() {
                Some("OPTIONS") => "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\
                    Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, GET_PARAMETER, TEARDOWN\r\n\r\n"
                    .to_string(),
                Some("DESCRIBE") => format!(
                    "RTSP/1.0 200 OK\r\nCSeq: {{cseq}}\r\nContent-Base: rtsp://cam/rec/\r\n\
                     Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
                    SDP.len()
                ),
                Some("SETUP") => "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 42;timeout=60\r\n\
                    Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
                    .to_string(),
                Some("PLAY") => "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 42\r\n\r\n".into(),
                other => panic!("{other:?}: {req}"),
            };
            self.answer(&req, &wire);
        }
        assert!(self.s.is_playing(), "{:?}", self.events());
        assert!(matches!(
            self.events().last(),
            Some(Event::Start(Step::Playing(_)))
        ));
    }
}

fn first_line(req: &str) -> &str {
    req.lines().next().unwrap_or("")
}

/// A replay seek: PAUSE (the old position's packets are not taken meanwhile), hold, PLAY
/// with the new Range, landed with the first sequence number of each stream; a second
/// seek waits for the first, and one before PLAY comes back.
#[test]
fn test_a_seek_pauses_holds_and_lands() {
    let mut r = Run::new(None, (Some(true), true));
    let early = Command::Seek { play: Vec::new() };
    assert_eq!(r.s.command(early.clone(), r.now), Err(early));
    r.play();
    assert!(r.s.takes_packets());
    let play = vec![
        ("Range".to_string(), "clock=20261205T120500Z-".to_string()),
        ("Require".to_string(), "onvif-replay".to_string()),
    ];
    assert_eq!(r.s.command(Command::Seek { play }, r.now), Ok(()));
    let pause = r.sent().expect("PAUSE");
    assert_eq!(first_line(&pause), "PAUSE rtsp://cam/rec/ RTSP/1.0");
    assert!(pause.contains("\r\nSession: 42\r\n"));
    assert!(
        !r.s.takes_packets(),
        "the old position's packets are dropped"
    );
    let again = Command::Seek { play: Vec::new() };
    assert_eq!(r.s.command(again.clone(), r.now), Err(again));
    r.answer(&pause, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    let play = r.sent().expect("PLAY");
    assert_eq!(first_line(&play), "PLAY rtsp://cam/rec/ RTSP/1.0");
    assert!(play.contains("\r\nRange: clock=20261205T120500Z-\r\n"));
    assert!(r.s.takes_packets(), "held by the streams until landed");
    assert!(r.events().contains(&Event::Hold));
    r.answer(
        &play,
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\
         RTP-Info: url=rtsp://cam/rec/trackID=1;seq=900, url=rtsp://cam/rec/trackID=0;seq=17\r\n\r\n",
    );
    let events = r.events();
    let Some(Event::Landed { first_seq, .. }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(first_seq, &[Some(17), Some(900)], "in SETUP order");
    assert!(r.s.is_playing());
    assert_eq!(r.sent(), None);
}

/// A refused seek ends the session with the refusal (the caller reconnects and seeks
/// again once).
#[test]
fn test_a_refused_seek_fails_the_session() {
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.s.command(Command::Seek { play: Vec::new() }, r.now)
        .expect("seek");
    let pause = r.sent().expect("PAUSE");
    r.answer(&pause, "RTSP/1.0 457 Invalid Range\r\nCSeq: {cseq}\r\n\r\n");
    let events = r.events();
    assert!(
        matches!(
            events.last(),
            Some(Event::Failed(Fault::Seek(seek::Fault::Refused { method: "PAUSE", resp }))) if resp.status == 457
        ),
        "{events:?}"
    );
    assert_eq!(r.s.poll_timeout(), None);
}

/// A challenge in the middle of the session (a device whose nonce expired answers the
/// keep-alive with 401): the keep-alive goes again with Digest, and the session plays on.
/// A Basic challenge on a connection in clear is withheld: the session is lost.
#[test]
fn test_a_challenge_mid_session() {
    let creds = Some(Credentials {
        user: "admin".into(),
        password: "password".into(),
    });
    let mut r = Run::new(creds.clone(), (Some(true), true));
    r.play();
    r.events();
    r.wait(Duration::from_secs(55));
    let keepalive = r.sent().expect("keep-alive");
    assert_eq!(
        first_line(&keepalive),
        "GET_PARAMETER rtsp://cam/rec/ RTSP/1.0"
    );
    assert!(!keepalive.contains("Authorization"));
    r.answer(
        &keepalive,
        "RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n\
         WWW-Authenticate: Digest realm=\"cam\", nonce=\"n2\"\r\n\r\n",
    );
    let again = r.sent().expect("sent again");
    assert_eq!(first_line(&again), "GET_PARAMETER rtsp://cam/rec/ RTSP/1.0");
    assert!(
        again.contains("Authorization: Digest username=\"admin\""),
        "{again}"
    );
    assert!(!again.contains("password"));
    assert!(r.events().contains(&Event::Again(Again::Challenge)));
    r.answer(&again, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    assert!(r.s.is_playing());
    // The next keep-alive carries the answer to the challenge from the start.
    r.wait(Duration::from_secs(55));
    let next = r.sent().expect("keep-alive");
    assert!(next.contains("Authorization: Digest "), "{next}");

    let mut r = Run::new(creds, (None, false));
    r.play();
    r.events();
    r.wait(Duration::from_secs(55));
    let keepalive = r.sent().expect("keep-alive");
    r.answer(
        &keepalive,
        "RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n",
    );
    assert!(
        matches!(
            r.events().last(),
            Some(Event::Failed(Fault::Unmakeable {
                why: Refused::Withheld(_),
                ..
            }))
        ),
        "in clear, Basic is withheld"
    );
    assert_eq!(r.sent(), None);
}

/// A device that never answers: the DESCRIBE fails at its deadline, not before, naming
/// the method; the time a challenge's answer takes starts again.
#[test]
fn test_an_answer_that_never_comes() {
    let mut r = Run::new(None, (Some(true), true));
    let options = r.sent().expect("OPTIONS");
    assert_eq!(r.s.poll_timeout(), Some(r.now + TIMEOUT));
    r.wait(Duration::from_secs(4));
    r.answer(
        &options,
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n",
    );
    let describe = r.sent().expect("DESCRIBE");
    assert!(describe.starts_with("DESCRIBE rtsp://cam/rec RTSP/1.0\r\n"));
    assert_eq!(r.s.poll_timeout(), Some(r.now + TIMEOUT));
    r.wait(TIMEOUT - Duration::from_millis(1));
    assert!(!r.events().iter().any(|e| matches!(e, Event::Failed(_))));
    r.wait(Duration::from_millis(1));
    assert_eq!(
        r.events().last(),
        Some(&Event::Failed(Fault::Unanswered {
            method: "DESCRIBE",
            after: TIMEOUT
        }))
    );
    assert_eq!(r.s.poll_timeout(), None);
    // An answer after that changes nothing.
    r.answer(&describe, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    assert_eq!(r.events(), []);
    assert_eq!(r.sent(), None);
    // A challenge 9 s in: the request that goes again has the whole time again.
    let creds = Some(Credentials {
        user: "admin".into(),
        password: "password".into(),
    });
    let mut r = Run::new(creds, (Some(true), true));
    let options = r.sent().expect("OPTIONS");
    r.wait(Duration::from_secs(9));
    r.answer(
        &options,
        "RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n\
         WWW-Authenticate: Digest realm=\"cam\", nonce=\"n1\"\r\n\r\n",
    );
    assert!(r.sent().expect("again").contains("Authorization: Digest "));
    assert_eq!(r.s.poll_timeout(), Some(r.now + TIMEOUT));
}

/// Answers out of order: one to another CSeq (a late keep-alive's, a confused device) is
/// passed over, the right one taken after it.
#[test]
fn test_answers_out_of_order() {
    let mut r = Run::new(None, (Some(true), true));
    let options = r.sent().expect("OPTIONS");
    r.events();
    r.s.handle_response(resp("RTSP/1.0 200 OK\r\nCSeq: 7\r\n\r\n"), r.now);
    assert_eq!(r.events(), []);
    assert_eq!(r.sent(), None, "still awaiting OPTIONS");
    r.answer(&options, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    assert!(r.sent().expect("next").starts_with("DESCRIBE "));
    // A keep-alive answered after the next was sent: the session plays on.
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.wait(Duration::from_secs(55));
    let first = r.sent().expect("keep-alive");
    r.s.command(Command::Seek { play: Vec::new() }, r.now)
        .expect("seek");
    let pause = r.sent().expect("PAUSE");
    r.answer(&first, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    assert!(!r.s.takes_packets(), "still awaiting PAUSE");
    r.answer(&pause, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    assert!(r.sent().expect("PLAY").starts_with("PLAY "));
}

/// The keep-alive: GET_PARAMETER every 55 s of a 60 s session, reports every 5 s; one
/// unanswered when the next is due loses the session.
#[test]
fn test_keepalive_unanswered_loses_the_session() {
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.wait(Duration::from_secs(55));
    let reports = r
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Reports))
        .count();
    assert_eq!(reports, 11);
    assert!(r.sent().expect("keep-alive").starts_with("GET_PARAMETER "));
    r.wait(Duration::from_secs(55));
    assert!(matches!(
        r.events().last(),
        Some(Event::Failed(Fault::Lost(Lost::KeepAliveUnanswered {
            method: "GET_PARAMETER",
            ..
        })))
    ));
}

/// Stop: nothing to tear down before SETUP; after it TEARDOWN, closed by its answer, by
/// its deadline or by the device hanging up. A device hanging up otherwise fails the
/// session, naming the request it was awaited for.
#[test]
fn test_stop_and_hang_ups() {
    let mut r = Run::new(None, (Some(true), true));
    r.sent();
    r.events();
    r.s.command(Command::Stop, r.now).expect("stop");
    assert_eq!(r.events(), [Event::Closed]);
    assert_eq!(r.sent(), None, "no TEARDOWN before SETUP");

    // Answered.
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.s.command(Command::Stop, r.now).expect("stop");
    let teardown = r.sent().expect("TEARDOWN");
    assert!(teardown.starts_with("TEARDOWN rtsp://cam/rec/ RTSP/1.0\r\n"));
    assert!(teardown.contains("\r\nSession: 42\r\n"));
    assert!(!r.s.takes_packets() && !r.s.is_playing());
    assert_eq!(r.s.poll_timeout(), Some(r.now + TEARDOWN_WAIT));
    r.s.command(Command::Stop, r.now).expect("stop");
    assert_eq!(r.sent(), None, "one TEARDOWN");
    r.answer(
        &teardown,
        "RTSP/1.0 454 Session Not Found\r\nCSeq: {cseq}\r\n\r\n",
    );
    assert_eq!(r.events().last(), Some(&Event::Closed));

    // Unanswered: closed at the deadline.
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.events();
    r.s.command(Command::Stop, r.now).expect("stop");
    r.wait(TEARDOWN_WAIT);
    assert_eq!(r.events(), [Event::Closed]);

    // Hung up on.
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.events();
    r.s.command(Command::Stop, r.now).expect("stop");
    r.s.handle_close();
    assert_eq!(r.events(), [Event::Closed]);
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.events();
    r.s.handle_close();
    assert_eq!(r.events(), [Event::Failed(Fault::Closed { during: None })]);
    let mut r = Run::new(None, (Some(true), true));
    r.s.handle_close();
    assert_eq!(
        r.events(),
        [
            Event::Sent(Request {
                method: "OPTIONS",
                uri: "rtsp://cam/rec".into(),
                headers: Vec::new()
            }),
            Event::Failed(Fault::Closed {
                during: Some("OPTIONS")
            })
        ]
    );
}

/// A 405 is the server's answer, not a garbled request, when no report went before the
/// request, or when the connection is plain RTSP (where live555 too takes `$` frames out
/// before its parser): it is not sent again, and reports stay on. (Moved from the driver:
/// the rule is the session's.)
#[test]
fn test_a_refusal_without_a_report_or_in_the_clear_is_kept() {
    for (channel, report_first) in [((Some(true), true), false), ((None, false), true)] {
        let mut r = Run::new(None, channel);
        r.play();
        if report_first {
            r.s.report(1, &[0x81, 201, 0, 1, 0, 0, 0, 1]);
            assert!(r.sent().expect("report").starts_with('$'));
        }
        r.s.command(Command::Stop, r.now).expect("stop");
        let teardown = r.sent().expect("TEARDOWN");
        r.answer(
            &teardown,
            "RTSP/1.0 405 Method Not Allowed\r\nCSeq: {cseq}\r\n\r\n",
        );
        assert_eq!(r.sent(), None, "not sent again");
        assert_eq!(r.events().last(), Some(&Event::Closed));
        assert!(r.s.reports_on());
    }
}

/// A keep-alive that comes due while a seek's PAUSE is answered waits for the seek (it
/// would take the PAUSE's place as the awaited request, and the PAUSE's answer would be
/// passed over); it goes as soon as the seek has landed, with the reports due.
#[test]
fn test_the_keepalive_waits_for_a_seek() {
    let mut r = Run::new(None, (Some(true), true));
    r.play();
    r.wait(Duration::from_secs(54));
    r.events();
    r.s.command(Command::Seek { play: Vec::new() }, r.now)
        .expect("seek");
    let pause = r.sent().expect("PAUSE");
    r.events();
    assert_eq!(
        r.s.poll_timeout(),
        Some(r.now + TIMEOUT),
        "the PAUSE's deadline"
    );
    r.wait(Duration::from_secs(5));
    assert_eq!(r.sent(), None, "no keep-alive while the PAUSE is answered");
    assert_eq!(r.events(), []);
    r.answer(&pause, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    let play = r.sent().expect("PLAY");
    r.answer(&play, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    assert!(matches!(r.events().last(), Some(Event::Landed { .. })));
    assert!(r.s.poll_timeout().is_some_and(|at| at <= r.now), "overdue");
    r.s.handle_timeout(r.now);
    assert!(r.sent().expect("keep-alive").starts_with("GET_PARAMETER "));
    assert_eq!(r.events(), [Event::Reports]);
}

/// The time for an answer starts when the request is taken to be sent, not when it was
/// made: the driver binds a stream's UDP ports and adds its pad between the two.
#[test]
fn test_an_answer_is_awaited_from_when_its_request_goes() {
    let mut r = Run::new(None, (Some(true), true));
    let made = r.now;
    r.now += Duration::from_secs(3);
    let _options = r.sent().expect("OPTIONS");
    assert_eq!(
        r.s.poll_timeout(),
        Some(made + Duration::from_secs(3) + TIMEOUT)
    );
}

/// A SETUP answered without a Session id (a quirky device) is torn down all the same at
/// stop, as rtspsrc and FFmpeg do.
#[test]
fn test_a_session_without_an_id_is_torn_down() {
    let mut r = Run::new(None, (Some(true), true));
    // OPTIONS, DESCRIBE, two SETUPs, PLAY.
    for _ in 0..5 {
        let req = r.sent().expect("a request");
        let wire = match req.split(' ').next() {
            Some("DESCRIBE") => format!(
                "RTSP/1.0 200 OK\r\nCSeq: {{cseq}}\r\nContent-Type: application/sdp\r\n\
                 Content-Length: {}\r\n\r\n{SDP}",
                SDP.len()
            ),
            Some("SETUP") => "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\
                Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
                .to_string(),
            _ => "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n".to_string(),
        };
        r.answer(&req, &wire);
    }
    assert_eq!(r.s.id(), None);
    r.s.command(Command::Stop, r.now).expect("stop");
    let teardown = r.sent().expect("TEARDOWN");
    assert!(
        teardown.starts_with("TEARDOWN rtsp://cam/rec RTSP/1.0\r\n"),
        "{teardown}"
    );
    assert!(!teardown.contains("Session:"));
}

/// The fuzz target's script (`testing::rtsp_session_script`) over 3,000 pseudo-random
/// scripts: each plays the two streams of [`SDP`] (or stops short of it), then a random
/// tail of answers of every shape (challenges, refusals, no CSeq, another CSeq), time,
/// seeks, re-keyings, stops and hang-ups. No panic, every handled deadline moves, nothing after the
/// end.
#[test]
fn test_random_scripts_keep_the_promises() {
    fn answer(script: &mut Vec<u8>, text: &str) {
        script.push(0);
        let len = u16::try_from(text.len()).expect("short");
        script.extend_from_slice(&len.to_be_bytes());
        script.extend_from_slice(text.as_bytes());
    }
    let describe = format!(
        "RTSP/1.0 200 OK\r\nCSeq: ##\r\nContent-Base: rtsp://cam/s/\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    let shapes = [
        "RTSP/1.0 200 OK\r\nCSeq: ##\r\n\r\n",
        "RTSP/1.0 200 OK\r\nCSeq: ##\r\nSession: 9;timeout=5\r\n\
         Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
        "RTSP/1.0 200 OK\r\nCSeq: ##\r\nRTP-Info: url=trackID=0;seq=5, url=trackID=1\r\n\r\n",
        "RTSP/1.0 401 Unauthorized\r\nCSeq: ##\r\n\
         WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n",
        "RTSP/1.0 401 Unauthorized\r\nCSeq: ##\r\nWWW-Authenticate: Basic realm=\"r\"\r\n\r\n",
        "RTSP/1.0 405 Method Not Allowed\r\nCSeq: ##\r\n\r\n",
        "RTSP/1.0 400 Bad Request\r\n\r\n",
        "RTSP/1.0 454 Session Not Found\r\nCSeq: ##\r\n\r\n",
        "RTSP/1.0 200 OK\r\nCSeq: 4000000000\r\n\r\n",
        "RTSP/1.0 200 OK\r\n\r\n",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // SRTP over UDP: the SDP's streams as RTP/SAVP, SETUPs granted it.
    let savp = describe.replace("RTP/AVP", "RTP/SAVP");
    let savp_setup = "RTSP/1.0 200 OK\r\nCSeq: ##\r\nSession: 9;timeout=5\r\n\
         Transport: RTP/SAVP;unicast;client_port=50000-50001;server_port=6000-6001\r\n\r\n";
    for _ in 0..3_000 {
        // Interleaved, UDP, or SRTP over UDP (the script's first byte).
        let mode = [0u8, 1, 5][usize::try_from(next() % 3).expect("small")];
        let mut script = vec![mode];
        let (sdp, setup) = if mode == 5 {
            (savp.as_str(), savp_setup)
        } else {
            (describe.as_str(), shapes[1])
        };
        // OPTIONS, DESCRIBE, two SETUPs, PLAY: all, or some.
        let played = usize::try_from(next() % 6).expect("small");
        for (i, text) in [shapes[0], sdp, setup, setup, shapes[2]]
            .iter()
            .enumerate()
            .take(played)
        {
            if mode & 1 == 1 && (i == 2 || i == 3) {
                // The UDP pair bound for the SETUP (opcode 7, port 50000).
                script.extend_from_slice(&[7, 0xC3, 0x50]);
            }
            answer(&mut script, text);
        }
        for _ in 0..next() % 24 {
            match next() % 9 {
                0..=2 => {
                    let i = usize::try_from(next() % shapes.len() as u64).expect("small");
                    answer(&mut script, shapes[i]);
                }
                3 | 4 => script.extend_from_slice(&[1, (next() % 120) as u8]),
                5 => script.push(2),
                6 => script.push(3),
                7 => script.push(6),
                _ => script.push(4),
            }
        }
        crate::testing::rtsp_session_script(&script);
    }
}

const BACKCHANNEL_SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
    m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\na=recvonly\r\n\
    m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:stream=1\r\na=sendonly\r\n";

/// The ONVIF backchannel: `Require` on DESCRIBE, the backchannel's SETUP (on the next
/// channel pair), PLAY and TEARDOWN, not on the other SETUP; packets pushed go out as
/// interleaved frames on its channel once playing, not before. A device answering 551
/// gets the DESCRIBE again without it, and the session plays without a backchannel.
#[test]
fn test_the_backchannel_is_asked_for_set_up_fed_and_torn_down() {
    const REQUIRE: &str = "\r\nRequire: www.onvif.org/ver20/backchannel\r\n";
    let plan = Plan {
        uri: "rtsps://cam/live".into(),
        kinds: vec![(sdp::Kind::Video, "video")],
        udp: false,
        srtp: false,
        require: Vec::new(),
        play: vec![("Range".into(), "npt=0.000-".into())],
        backchannel: true,
    };
    let now = Instant::now();
    let mut r = Run {
        s: Session::new(plan.clone(), None, (Some(true), false), TIMEOUT, now),
        now,
    };
    let options = r.sent().expect("OPTIONS");
    assert!(!options.contains(REQUIRE));
    r.answer(&options, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    let describe = r.sent().expect("DESCRIBE");
    assert!(describe.contains(REQUIRE), "{describe}");
    assert!(!r.s.send_backchannel(&[0x80; 12]), "nothing before PLAY");
    r.answer(
        &describe,
        &format!(
            "RTSP/1.0 200 OK\r\nCSeq: {{cseq}}\r\nContent-Base: rtsps://cam/live/\r\n\
             Content-Length: {}\r\n\r\n{BACKCHANNEL_SDP}",
            BACKCHANNEL_SDP.len()
        ),
    );
    let offered = r.events().into_iter().find_map(|e| match e {
        Event::Start(Step::Offered(streams)) => Some(streams),
        _ => None,
    });
    assert_eq!(offered.map(|s| s.len()), Some(2), "every stream is offered");
    let video = r.sent().expect("SETUP of the video");
    assert!(
        video.starts_with("SETUP rtsps://cam/live/stream=0 "),
        "{video}"
    );
    assert!(!video.contains(REQUIRE), "{video}");
    r.answer(
        &video,
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 7\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
    );
    let back = r.sent().expect("SETUP of the backchannel");
    assert!(
        back.starts_with("SETUP rtsps://cam/live/stream=1 "),
        "{back}"
    );
    assert!(back.contains(REQUIRE), "{back}");
    assert!(back.contains("interleaved=2-3"), "{back}");
    r.answer(
        &back,
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 7\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n",
    );
    assert!(
        !r.s.send_backchannel(&[0x80; 12]),
        "nothing before PLAY is answered"
    );
    let play = r.sent().expect("PLAY");
    assert!(play.starts_with("PLAY rtsps://cam/live/ "), "{play}");
    assert!(play.contains(REQUIRE), "{play}");
    assert!(
        !play.contains("Range:"),
        "no Range with a backchannel: {play}"
    );
    r.answer(
        &play,
        "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 7\r\n\r\n",
    );
    assert!(r.s.is_playing());
    let packet = [0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xFF];
    assert!(r.s.send_backchannel(&packet));
    let frame = r.s.poll_transmit(r.now).expect("the frame");
    assert_eq!(&frame.bytes[..4], &[b'$', 2, 0, 13]);
    assert_eq!(&frame.bytes[4..], &packet);
    r.s.command(Command::Stop, r.now).expect("stop");
    let teardown = r.sent().expect("TEARDOWN");
    assert!(teardown.starts_with("TEARDOWN "), "{teardown}");
    assert!(teardown.contains(REQUIRE), "{teardown}");

    // Its SETUP refused (another client talks): PLAY without it, with the Range.
    let mut r = Run {
        s: Session::new(plan.clone(), None, (Some(true), false), TIMEOUT, now),
        now,
    };
    for (method, wire) in [
        (
            "OPTIONS",
            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n".to_string(),
        ),
        (
            "DESCRIBE",
            format!(
                "RTSP/1.0 200 OK\r\nCSeq: {{cseq}}\r\nContent-Base: rtsps://cam/live/\r\n\
                 Content-Length: {}\r\n\r\n{BACKCHANNEL_SDP}",
                BACKCHANNEL_SDP.len()
            ),
        ),
        (
            "SETUP",
            "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 7\r\n\r\n".to_string(),
        ),
        (
            "SETUP",
            "RTSP/1.0 453 Not Enough Bandwidth\r\nCSeq: {cseq}\r\n\r\n".to_string(),
        ),
    ] {
        let req = r.sent().expect(method);
        assert!(req.starts_with(method), "{req}");
        r.answer(&req, &wire);
    }
    let play = r.sent().expect("PLAY");
    assert!(play.starts_with("PLAY "), "{play}");
    assert!(!play.contains(REQUIRE), "{play}");
    assert!(play.contains("\r\nRange: npt=0.000-\r\n"), "{play}");
    assert!(r.events().iter().any(|e| matches!(
        e,
        Event::Start(Step::NoBackchannel(why)) if why == "the device answered SETUP with 453 Not Enough Bandwidth"
    )));

    // 551 to the DESCRIBE that requires it: the DESCRIBE again without.
    let mut r = Run {
        s: Session::new(plan, None, (Some(true), false), TIMEOUT, now),
        now,
    };
    let options = r.sent().expect("OPTIONS");
    r.answer(&options, "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n");
    let describe = r.sent().expect("DESCRIBE");
    r.answer(
        &describe,
        "RTSP/1.0 551 Option not supported\r\nCSeq: {cseq}\r\n\
         Unsupported: www.onvif.org/ver20/backchannel\r\n\r\n",
    );
    let again = r.sent().expect("the DESCRIBE again");
    assert!(again.starts_with("DESCRIBE "), "{again}");
    assert!(!again.contains(REQUIRE), "{again}");
    let told = r.events().into_iter().find_map(|e| match e {
        Event::Start(Step::NoBackchannel(why)) => Some(why),
        _ => None,
    });
    assert_eq!(
        told.as_deref(),
        Some(
            "the device answered DESCRIBE with 551 Option not supported \
             (Unsupported: www.onvif.org/ver20/backchannel)"
        )
    );
}

#[path = "session_rekey_tests.rs"]
mod rekeying;
