// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! One RTSP connection's exchange of requests and answers, without I/O: what a request
//! is on the wire and what its answer means. It owns the CSeq, the authorization (through the one
//! policy, [`Policy::for_exchange`]), the session id and its timeout, the methods the
//! server lists, and the rule for servers that read RTCP reports into their requests. It
//! takes answers and the time (never its own clock) and gives bytes to send and its next
//! deadline: the keep-alive (GET_PARAMETER, or OPTIONS when `Public` does not list it)
//! and the receiver reports. The [`super::session::Session`] composes it with the method
//! sequence ([`super::sequence`]) and a seek ([`super::seek`]).

use std::time::{Duration, Instant};

use crate::proto::auth::{Attempt, Credentials, HttpAuth, Policy, Verdict};
use crate::proto::rtsp::{self, HeaderInjection, Response};

/// The request whose answer is awaited.
#[derive(Debug, Clone)]
struct Waiting {
    method: String,
    uri: String,
    extra: Vec<(String, String)>,
    /// Its body's type and bytes (`SET_PARAMETER`'s), sent again with it.
    body: Option<(String, Vec<u8>)>,
    cseq: u32,
    /// Its way through challenges (one answered at most).
    attempt: Attempt,
    /// It was sent again after a refusal that followed a report.
    resent: bool,
}

/// What an answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The answer to the awaited request, whatever its status (see `Rtsp::check`).
    Done(Response),
    /// The request goes again as `bytes` (new CSeq `cseq`), because of `why`.
    Again {
        cseq: u32,
        bytes: Vec<u8>,
        why: Again,
    },
    /// Not the answer to the awaited request (another CSeq, or nothing awaited).
    Other(Response),
}

/// Why a request goes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// The server asked for credentials; they go with it now.
    Challenge,
    /// The server refused it (400 or 405) right after an RTCP report written on a tunnel's
    /// POST: it read the report as the start of the request, as live555 does. No report
    /// goes on this connection any more; `first` when this is the first such refusal.
    RefusedAfterReport { refused_cseq: u32, first: bool },
}

/// Why no request could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A header value (from the device, or the URI) with a line break.
    Injection(HeaderInjection),
    /// A challenge this connection does not answer (the reason, for the error).
    Withheld(&'static str),
}

/// How often receiver reports go back to the camera (RFC 3550 §6.2 allows 5 s minimum).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// Why a playing session is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// The keep-alive with this CSeq (`method`) had no answer before the next was due.
    KeepAliveUnanswered {
        method: &'static str,
        cseq: u32,
        after: Duration,
    },
    /// The keep-alive could not be made.
    Refused(&'static str, Refused),
}

/// What is due at a deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    /// A keep-alive to write: its CSeq and bytes.
    pub keepalive: Option<(u32, Vec<u8>)>,
    /// Receiver reports are due (the driver builds them: [`Exchange::report`] for
    /// interleaved channels).
    pub reports: bool,
}

/// The timers of a playing session.
#[derive(Debug, Clone)]
struct Timers {
    /// Where keep-alives go (the aggregate URL).
    uri: String,
    method: &'static str,
    period: Duration,
    keepalive: Instant,
    reports: Instant,
}

/// One RTSP connection's requests and answers.
#[derive(Debug)]
pub struct Exchange {
    cseq: u32,
    creds: Option<Credentials>,
    auth: HttpAuth,
    /// Inside TLS, and whether the peer is authenticated; `None`: in clear (chosen by the
    /// user: `rtp-rtsp-tcp`, `rtp-udp`, `https-enable=false`).
    tls: Option<bool>,
    /// Requests go on a tunnel's POST (where a server may read reports into them).
    tunnel: bool,
    /// `Session` id and timeout from the SETUP answer.
    id: Option<(String, Option<u32>)>,
    /// Methods the server lists in `Public`.
    public: Vec<String>,
    waiting: Option<Waiting>,
    /// An RTCP report was written since the last request.
    report_pending: bool,
    /// The CSeq of the last request written after a report.
    after_report: Option<u32>,
    /// No more reports on this connection.
    reports_off: bool,
    /// Keep-alive and report deadlines, from PLAY on.
    timers: Option<Timers>,
}

impl Exchange {
    pub fn new(creds: Option<Credentials>, tls: Option<bool>, tunnel: bool) -> Self {
        Exchange {
            cseq: 0,
            creds,
            auth: HttpAuth::None,
            tls,
            tunnel,
            id: None,
            public: Vec::new(),
            waiting: None,
            report_pending: false,
            after_report: None,
            reports_off: false,
            timers: None,
        }
    }

    /// Starts the keep-alives to `uri` and the receiver reports at `now` (PLAY
    /// answered): the first of each is due a period later. The keep-alive period follows
    /// the session timeout ([`super::keepalive_secs`]).
    pub fn start_timers(&mut self, uri: &str, now: Instant) {
        let timeout = self.id.as_ref().and_then(|(_, t)| *t);
        let period = Duration::from_secs_f64(super::keepalive_secs(timeout));
        self.timers = Some(Timers {
            uri: uri.to_string(),
            method: self.keepalive_method(),
            period,
            keepalive: now + period,
            reports: now + REPORT_INTERVAL,
        });
    }

    /// GET_PARAMETER when the server lists it in `Public`, else OPTIONS (FFmpeg's rule).
    pub fn keepalive_method(&self) -> &'static str {
        if self.supports("GET_PARAMETER") {
            "GET_PARAMETER"
        } else {
            "OPTIONS"
        }
    }

    /// The next deadline, once the timers run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.as_ref().map(|t| t.keepalive.min(t.reports))
    }

    /// What is due at `now`. A keep-alive still unanswered when the next is due loses
    /// the session.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<Due, Lost> {
        let Some(t) = self.timers.clone() else {
            return Ok(Due::default());
        };
        let mut due = Due::default();
        if now >= t.reports {
            due.reports = true;
            // A late wake-up (a suspended machine, a starved runtime) does not fire a
            // burst: the next deadline is a period after now at the earliest.
            let next = (t.reports + REPORT_INTERVAL).max(now + REPORT_INTERVAL);
            self.set_timer(|timers| timers.reports = next);
        }
        if now >= t.keepalive {
            if let Some(cseq) = self.awaited() {
                return Err(Lost::KeepAliveUnanswered {
                    method: t.method,
                    cseq,
                    after: t.period,
                });
            }
            let req = self
                .request(t.method, &t.uri, &[])
                .map_err(|r| Lost::Refused(t.method, r))?;
            due.keepalive = Some(req);
            let next = (t.keepalive + t.period).max(now + t.period);
            self.set_timer(|timers| timers.keepalive = next);
        }
        Ok(due)
    }

    fn set_timer(&mut self, f: impl FnOnce(&mut Timers)) {
        if let Some(t) = self.timers.as_mut() {
            f(t);
        }
    }

    /// A request's bytes and its CSeq; its answer is awaited from now on.
    pub fn request(
        &mut self,
        method: &str,
        uri: &str,
        extra: &[(&str, &str)],
    ) -> Result<(u32, Vec<u8>), Refused> {
        self.request_with_body(method, uri, extra, None)
    }

    /// [`Exchange::request`] with a body: its type and bytes.
    pub fn request_with_body(
        &mut self,
        method: &str,
        uri: &str,
        extra: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<(u32, Vec<u8>), Refused> {
        let waiting = Waiting {
            method: method.to_string(),
            uri: uri.to_string(),
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            body: body.map(|(t, b)| (t.to_string(), b.to_vec())),
            cseq: 0,
            attempt: Attempt::default(),
            resent: false,
        };
        self.send(waiting)
    }

    fn send(&mut self, mut waiting: Waiting) -> Result<(u32, Vec<u8>), Refused> {
        self.cseq = self.cseq.wrapping_add(1).max(1);
        let cseq = self.cseq;
        // Only a tunnel's POST: on a plain connection servers take interleaved frames out
        // before their parser (live555 too), so a refusal there is the server's answer.
        self.after_report =
            (std::mem::take(&mut self.report_pending) && self.tunnel).then_some(cseq);
        let auth = self
            .auth
            .authorization(self.creds.as_ref(), &waiting.method, &waiting.uri);
        let mut headers: Vec<(&str, &str)> = waiting
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        if let Some((id, _)) = &self.id {
            headers.push(("Session", id));
        }
        let body = waiting
            .body
            .as_ref()
            .map(|(t, b)| (t.as_str(), b.as_slice()));
        let bytes =
            rtsp::build_request_with_body(&waiting.method, &waiting.uri, cseq, &headers, body)
                .map_err(Refused::Injection)?;
        waiting.cseq = cseq;
        self.waiting = Some(waiting);
        Ok((cseq, bytes))
    }

    /// An RTCP report as an interleaved frame on `channel`, unless reports are off on this
    /// connection (or it does not fit a frame).
    pub fn report(&mut self, channel: u8, report: &[u8]) -> Option<Vec<u8>> {
        if self.reports_off {
            return None;
        }
        let frame = super::framing::interleaved(channel, report)?;
        self.report_pending = true;
        Some(frame)
    }

    /// What `resp` means for the awaited request.
    pub fn answer(&mut self, resp: Response) -> Result<Answer, Refused> {
        let Some(waiting) = self.waiting.take() else {
            return Ok(Answer::Other(resp));
        };
        // A server that leaves out CSeq answers in order: take it.
        if resp.cseq().is_some_and(|c| c != waiting.cseq) {
            self.waiting = Some(waiting);
            return Ok(Answer::Other(resp));
        }
        if !waiting.resent && self.refused_after_report(&resp) {
            self.after_report = None;
            let first = !std::mem::replace(&mut self.reports_off, true);
            let refused_cseq = waiting.cseq;
            let (cseq, bytes) = self.send(Waiting {
                resent: true,
                ..waiting
            })?;
            return Ok(Answer::Again {
                cseq,
                bytes,
                why: Again::RefusedAfterReport {
                    refused_cseq,
                    first,
                },
            });
        }
        if resp.status == 401 {
            // RTSP is in clear only where the user chose it.
            let policy = Policy::for_exchange(self.tls, true);
            let mut attempt = waiting.attempt;
            match attempt.on_401(
                &mut self.auth,
                self.creds.is_some(),
                resp.headers_named("www-authenticate"),
                policy,
            ) {
                Verdict::Again => {
                    let (cseq, bytes) = self.send(Waiting { attempt, ..waiting })?;
                    return Ok(Answer::Again {
                        cseq,
                        bytes,
                        why: Again::Challenge,
                    });
                }
                Verdict::Withheld(reason) => return Err(Refused::Withheld(reason)),
                // `check` makes it NotAuthorized.
                Verdict::NoCredentials | Verdict::NoChallenge | Verdict::Refused => {}
            }
        }
        Ok(Answer::Done(resp))
    }

    /// Whether `resp` is the refusal of a request written on a tunnel's POST right after
    /// an RTCP report (`405 Method Not Allowed`, or `400 Bad Request` without CSeq, as
    /// live555 answers behind Reolink and many other cameras).
    fn refused_after_report(&self, resp: &Response) -> bool {
        self.after_report.is_some_and(|cseq| {
            matches!(resp.status, 400 | 405) && resp.cseq().is_none_or(|c| c == cseq)
        })
    }

    /// Whether RTCP reports still go on this connection.
    pub fn reports_on(&self) -> bool {
        !self.reports_off
    }

    /// The CSeq of the request whose answer is awaited.
    pub fn awaited(&self) -> Option<u32> {
        self.waiting.as_ref().map(|w| w.cseq)
    }

    /// Takes the session id and timeout of a SETUP answer (the first one's stays).
    pub fn established(&mut self, resp: &Response) {
        if self.id.is_none()
            && let Some(v) = resp.header("session")
        {
            self.id = Some(rtsp::parse_session(v));
        }
    }

    /// The authentication requests carry: `HTTP Digest`, `HTTP Basic`, or `none`.
    pub fn auth_name(&self) -> &'static str {
        self.auth.name().unwrap_or("none")
    }

    /// The session id and the timeout the server gave.
    pub fn id(&self) -> Option<&(String, Option<u32>)> {
        self.id.as_ref()
    }

    /// Takes the methods an OPTIONS answer lists in `Public`.
    pub fn options(&mut self, resp: &Response) {
        self.public = resp
            .header("public")
            .map(|p| {
                p.split(',')
                    .map(|m| m.trim().to_ascii_uppercase())
                    .collect()
            })
            .unwrap_or_default();
    }

    /// Whether the server listed `method` in `Public`.
    pub fn supports(&self, method: &str) -> bool {
        self.public.iter().any(|m| m == method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(wire: &[u8]) -> Response {
        match crate::proto::rtsp::framing::next(wire) {
            Ok(Some((crate::proto::rtsp::framing::Frame::Response(r), _))) => r,
            other => panic!("{other:?}"),
        }
    }

    fn creds() -> Option<Credentials> {
        Some(Credentials {
            user: "admin".into(),
            password: "password".into(),
        })
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// gst-rtsp-server and live555: Digest without qop, answered once, in clear only
    /// because RTSP in clear is the user's choice.
    #[test]
    fn test_a_challenge_is_answered_once() {
        let mut s = Exchange::new(creds(), None, false);
        let (c1, b1) = s.request("DESCRIBE", "rtsp://cam/s", &[]).expect("request");
        assert!(text(&b1).starts_with("DESCRIBE rtsp://cam/s RTSP/1.0\r\nCSeq: 1\r\n"));
        assert!(!text(&b1).contains("Authorization"));
        let challenge = resp(
            b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\
              WWW-Authenticate: Digest realm=\"cam\", nonce=\"abc\"\r\n\r\n",
        );
        let Answer::Again { cseq, bytes, why } = s.answer(challenge.clone()).expect("answered")
        else {
            panic!("sent again")
        };
        assert_eq!((c1, cseq, why), (1, 2, Again::Challenge));
        let again = text(&bytes);
        assert!(again.contains("CSeq: 2\r\n"), "{again}");
        assert!(
            again.contains("Authorization: Digest username=\"admin\", realm=\"cam\""),
            "{again}"
        );
        assert!(!again.contains("password"));
        // A second 401 is the answer (the element's NOT_AUTHORIZED).
        let mut second = challenge;
        second.headers[0].1 = "2".into();
        assert!(matches!(s.answer(second), Ok(Answer::Done(r)) if r.status == 401));
        assert_eq!(s.awaited(), None);
    }

    /// Basic goes only inside TLS to an authenticated peer; in clear it is withheld.
    #[test]
    fn test_basic_is_withheld_in_clear() {
        let basic = b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\
              WWW-Authenticate: Basic realm=\"cam\"\r\n\r\n";
        let mut s = Exchange::new(creds(), None, false);
        s.request("DESCRIBE", "rtsp://cam/s", &[]).expect("request");
        assert!(matches!(s.answer(resp(basic)), Err(Refused::Withheld(_))));
        let mut s = Exchange::new(creds(), Some(true), true);
        s.request("DESCRIBE", "rtsp://cam/s", &[]).expect("request");
        let Ok(Answer::Again { bytes, .. }) = s.answer(resp(basic)) else {
            panic!("answered inside TLS")
        };
        assert!(text(&bytes).contains("Authorization: Basic "));
    }

    /// The session id of the first SETUP answer goes with every later request; a line
    /// break in it is refused, never sent.
    #[test]
    fn test_the_session_id_goes_with_later_requests() {
        let mut s = Exchange::new(None, Some(true), true);
        s.request(
            "SETUP",
            "rtsp://cam/s/track1",
            &[("Transport", "RTP/AVP/TCP")],
        )
        .expect("request");
        let setup = resp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: 12AB;timeout=30\r\n\r\n");
        s.established(&setup);
        assert!(matches!(s.answer(setup), Ok(Answer::Done(_))));
        assert_eq!(s.id(), Some(&("12AB".to_string(), Some(30))));
        let (_, play) = s.request("PLAY", "rtsp://cam/s", &[]).expect("request");
        assert!(text(&play).contains("\r\nSession: 12AB\r\n"));
        let mut s = Exchange::new(None, Some(true), true);
        s.id = Some(("x\r\nEvil: 1".into(), None));
        assert!(matches!(
            s.request("PLAY", "rtsp://cam/s", &[]),
            Err(Refused::Injection(_))
        ));
    }

    /// Answers to other requests are not taken for the awaited one; an answer without
    /// CSeq is (servers that leave it out answer in order).
    #[test]
    fn test_answers_are_matched_by_cseq() {
        let mut s = Exchange::new(None, Some(true), true);
        s.request("OPTIONS", "*", &[]).expect("request");
        s.request("GET_PARAMETER", "rtsp://cam/s", &[])
            .expect("request");
        let late = resp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
        assert!(matches!(s.answer(late), Ok(Answer::Other(_))));
        assert_eq!(s.awaited(), Some(2));
        let bare = resp(b"RTSP/1.0 200 OK\r\n\r\n");
        assert!(matches!(s.answer(bare), Ok(Answer::Done(_))));
        assert!(matches!(
            s.answer(resp(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n")),
            Ok(Answer::Other(_))
        ));
    }

    /// live555's tunnel: a request written after a report on the POST is refused (405, or
    /// 400 without CSeq); it goes once more, clean, and reports stop. On a plain connection,
    /// or without a report before, the refusal is the answer.
    #[test]
    fn test_a_refusal_after_a_report_on_a_tunnel_is_sent_again() {
        let mut s = Exchange::new(None, Some(true), true);
        assert!(s.report(1, &[0x81, 201, 0, 1, 0, 0, 0, 1]).is_some());
        s.request("GET_PARAMETER", "rtsp://cam/s", &[])
            .expect("request");
        let refused = resp(b"RTSP/1.0 400 Bad Request\r\n\r\n");
        let Ok(Answer::Again { cseq, why, .. }) = s.answer(refused.clone()) else {
            panic!("sent again")
        };
        assert_eq!(
            (cseq, why),
            (
                2,
                Again::RefusedAfterReport {
                    refused_cseq: 1,
                    first: true
                }
            )
        );
        assert_eq!(s.report(1, &[0x81]), None, "no more reports");
        assert!(matches!(s.answer(refused), Ok(Answer::Done(r)) if r.status == 400));
        // Plain connection: the refusal is the server's answer.
        let mut s = Exchange::new(None, None, false);
        s.report(1, &[0x81]).expect("report");
        s.request("GET_PARAMETER", "rtsp://cam/s", &[])
            .expect("request");
        let refused = resp(b"RTSP/1.0 405 Method Not Allowed\r\nCSeq: 1\r\n\r\n");
        assert!(matches!(s.answer(refused), Ok(Answer::Done(r)) if r.status == 405));
        assert!(s.report(1, &[0x81]).is_some(), "reports stay on");
    }

    /// Keep-alives every 55 s for a 60 s session (GET_PARAMETER when listed), reports
    /// every 5 s; an unanswered keep-alive loses the session when the next is due. A
    /// fake clock: nothing sleeps.
    #[test]
    fn test_keepalive_and_report_deadlines() {
        let t0 = Instant::now();
        let s60 = |public: &[u8]| {
            let mut s = Exchange::new(None, Some(true), true);
            s.options(&resp(public));
            s.established(&resp(
                b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: 77;timeout=60\r\n\r\n",
            ));
            s.start_timers("rtsp://cam/s/", t0);
            s
        };
        let mut s = s60(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, GET_PARAMETER\r\n\r\n");
        assert_eq!(s.poll_timeout(), Some(t0 + REPORT_INTERVAL));
        let mut reports = 0;
        let mut now = t0;
        let mut keepalive = None;
        while keepalive.is_none() {
            now = s.poll_timeout().expect("deadline");
            let due = s.handle_timeout(now).expect("due");
            reports += usize::from(due.reports);
            keepalive = due.keepalive;
        }
        assert_eq!(now, t0 + Duration::from_secs(55));
        assert_eq!(reports, 11, "every 5 s up to 55 s");
        let (cseq, bytes) = keepalive.expect("keep-alive");
        assert!(
            text(&bytes).starts_with("GET_PARAMETER rtsp://cam/s/ RTSP/1.0\r\nCSeq: 1\r\n"),
            "{}",
            text(&bytes)
        );
        assert!(text(&bytes).contains("\r\nSession: 77\r\n"));
        // Answered: the next goes 55 s later.
        let ok = resp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
        assert!(matches!(s.answer(ok), Ok(Answer::Done(_))));
        let due = s
            .handle_timeout(now + Duration::from_secs(55))
            .expect("due");
        assert_eq!(due.keepalive.map(|k| k.0), Some(cseq + 1));
        // Unanswered at the next deadline: lost, naming the CSeq.
        assert_eq!(
            s.handle_timeout(now + Duration::from_secs(110)),
            Err(Lost::KeepAliveUnanswered {
                method: "GET_PARAMETER",
                cseq: 2,
                after: Duration::from_secs(55)
            })
        );
        // OPTIONS when Public does not list GET_PARAMETER; 8 s for a 10 s session.
        let mut s = Exchange::new(None, None, false);
        s.established(&resp(
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: 9;timeout=10\r\n\r\n",
        ));
        s.start_timers("rtsp://cam/s/", t0);
        let due = s.handle_timeout(t0 + Duration::from_secs(8)).expect("due");
        assert!(due.reports);
        assert!(text(&due.keepalive.expect("keep-alive").1).starts_with("OPTIONS "));
        // A wake-up a minute late sends one keep-alive and one round of reports, and the
        // next are a period after it: no burst, and the keep-alive just sent is not
        // taken for a lost one.
        let ok = resp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
        assert!(matches!(s.answer(ok), Ok(Answer::Done(_))));
        let late = t0 + Duration::from_secs(68);
        let due = s.handle_timeout(late).expect("due");
        assert!(due.reports && due.keepalive.is_some());
        assert_eq!(
            s.poll_timeout(),
            Some(late + REPORT_INTERVAL),
            "reports 5 s on, keep-alive 8 s on"
        );
        assert_eq!(s.handle_timeout(late), Ok(Due::default()));
        // No timers before PLAY.
        let mut s = Exchange::new(None, None, false);
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.handle_timeout(t0), Ok(Due::default()));
    }

    #[test]
    fn test_public_methods() {
        let mut s = Exchange::new(None, None, false);
        s.options(&resp(
            b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, get_parameter\r\n\r\n",
        ));
        assert!(s.supports("GET_PARAMETER"));
        assert!(!s.supports("SET_PARAMETER"));
    }
}
