// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The RTSP session without I/O (`docs/architecture.md` §4; quinn-proto's `Connection`):
//! the one place that knows RTSP, from OPTIONS to TEARDOWN. It composes the exchange
//! ([`Exchange`]: CSeq, authorization through the one policy, the Session id, the
//! keep-alive and report deadlines, the live555 report rule), the method sequence up to
//! PLAY ([`Sequence`]) and a replay's seek ([`Seek`]), and adds what only the whole
//! knows: how long an answer may take, whether packets are taken (not while a seek's
//! PAUSE is answered), and TEARDOWN at stop.
//!
//! It takes answers (framed by the driver's reader), the time and [`Command`]s, and gives
//! bytes to send ([`Session::poll_transmit`]), [`Event`]s ([`Session::poll_event`]) and its
//! next deadline ([`Session::poll_timeout`]). No tokio, no GStreamer, no clock of its own:
//! a driver (`client::rtsp`) moves the bytes and sleeps until the deadline, so every
//! exchange is a unit test with a fake clock (`session_tests.rs`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Response;
use super::exchange::{Again, Answer, Exchange, Lost, Refused};
use super::rekey::{self, Rekey};
use super::seek::{self, Seek};
use super::sequence::{self, Plan, Request, Sequence, Step};
use super::url::{Presentation, RtpInfo};
use crate::proto::auth::Credentials;

/// How long the TEARDOWN's answer is awaited at stop: the element must reach NULL within a
/// second, and the device may be gone already.
pub const TEARDOWN_WAIT: Duration = Duration::from_millis(200);

/// Bytes to send, with what they are (for errors and logs: `RTSP DESCRIBE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub what: String,
    pub bytes: Vec<u8>,
    /// The awaited request: its answer's time starts when it is taken to be sent.
    awaited: bool,
}

/// What the session is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A replay seek: PAUSE, then PLAY with these headers (the new `Range`, the replay's).
    Seek { play: Vec<(String, String)> },
    /// TEARDOWN (its answer awaited [`TEARDOWN_WAIT`] at most), then [`Event::Closed`].
    Stop,
    /// SRTP re-keying: a `SET_PARAMETER` per `(stream URL, MIKEY message)`, each answer
    /// an [`Event::Rekeyed`].
    Rekey { keys: Vec<(String, Vec<u8>)> },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A step of the start-up: [`Step::Described`], [`Step::BindUdp`] (the driver binds a
    /// pair and says [`Session::bound`]), [`Step::Fallback`], [`Step::SetUp`],
    /// [`Step::AllSetUp`], [`Step::Playing`] (never [`Step::Send`]).
    Start(Step),
    /// A request of the sequence or a seek went out (for the log).
    Sent(Request),
    /// The awaited request was answered (for the log; the meaning follows as events).
    Answered {
        method: &'static str,
        uri: String,
        status: u16,
        reason: String,
    },
    /// A request goes again ([`Again`]).
    Again(Again),
    /// A seek's PAUSE is answered: hold every stream's packets until [`Event::Landed`].
    Hold,
    /// A seek's PLAY is answered: the first sequence number of the new position per
    /// stream in SETUP order, and the `RTP-Info` entries.
    Landed {
        first_seq: Vec<Option<u16>>,
        rtp_info: Vec<RtpInfo>,
    },
    /// Receiver reports are due (the driver builds them; [`Session::report`] for the
    /// interleaved channels).
    Reports,
    /// The key `index` of a [`Command::Rekey`] is answered.
    Rekeyed {
        index: usize,
        outcome: rekey::Outcome,
    },
    /// The session ended: TEARDOWN answered or its wait over, or stopped before SETUP.
    Closed,
    /// The session cannot go on; nothing follows.
    Failed(Fault),
}

/// Why the session cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The start-up failed (a refusal, the SDP, no stream of a wanted kind).
    Start(sequence::Fault),
    /// A seek's PAUSE or PLAY was refused.
    Seek(seek::Fault),
    /// A request could not be made (a line break in a header, a challenge withheld).
    Unmakeable { method: &'static str, why: Refused },
    /// No answer to `method` within `after`.
    Unanswered {
        method: &'static str,
        after: Duration,
    },
    /// The keep-alive went unanswered (or could not be made).
    Lost(Lost),
    /// The device closed the connection; `during`: the request whose answer was awaited.
    Closed { during: Option<&'static str> },
}

#[derive(Debug)]
enum Phase {
    Starting(Sequence),
    Playing,
    Seeking(Seek),
    Rekeying(Rekey),
    Closing { until: Instant },
    Closed,
}

/// The request whose answer is awaited, and when it is due.
#[derive(Debug, Clone)]
struct Awaited {
    method: &'static str,
    uri: String,
    due: Instant,
}

/// One RTSP session's protocol state, from OPTIONS to TEARDOWN.
#[derive(Debug)]
pub struct Session {
    exchange: Exchange,
    phase: Phase,
    /// How long an answer may take.
    timeout: Duration,
    awaited: Option<Awaited>,
    transmit: VecDeque<Transmit>,
    events: VecDeque<Event>,
    /// The presentation's URLs, once described.
    presentation: Option<Presentation>,
    /// The URL each stream was SET UP on, in SETUP order.
    setup_urls: Vec<String>,
    /// Where PLAY, PAUSE, keep-alives and TEARDOWN go.
    aggregate: String,
    /// The backchannel's interleaved RTP channel, once SET UP.
    backchannel: Option<u8>,
}

impl Session {
    /// A session that plays `plan`, starting at `now` (its OPTIONS is the first thing to
    /// send). `tls`: inside TLS, and whether the peer is authenticated (`None`: in clear);
    /// `tunnel`: requests go on a tunnel's POST. Each answer may take `timeout`.
    pub fn new(
        plan: Plan,
        creds: Option<Credentials>,
        (tls, tunnel): (Option<bool>, bool),
        timeout: Duration,
        now: Instant,
    ) -> Self {
        let mut s = Session {
            exchange: Exchange::new(creds, tls, tunnel),
            aggregate: plan.uri.clone(),
            phase: Phase::Starting(Sequence::new(plan)),
            timeout,
            awaited: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            presentation: None,
            setup_urls: Vec::new(),
            backchannel: None,
        };
        s.advance(now);
        s
    }

    /// The next bytes to send, taken at `now` to be sent: the time for an answer to a
    /// request starts now (not when the request was made: the driver may have had work
    /// to do first, such as binding a stream's UDP ports).
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let t = self.transmit.pop_front()?;
        if t.awaited
            && !matches!(self.phase, Phase::Closing { .. })
            && let Some(a) = self.awaited.as_mut()
        {
            a.due = now + self.timeout;
        }
        Some(t)
    }

    /// Whether bytes wait to be sent.
    pub fn has_transmit(&self) -> bool {
        !self.transmit.is_empty()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether events wait to be taken.
    pub fn has_event(&self) -> bool {
        !self.events.is_empty()
    }

    /// When [`Session::handle_timeout`] is due next: the awaited answer's deadline, the
    /// keep-alive's and the reports' once playing, the TEARDOWN's wait. While a request
    /// of ours is answered (a seek's PAUSE or PLAY) the keep-alive and the reports wait:
    /// the request keeps the session, and a keep-alive would take its place as the
    /// awaited request.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (&self.phase, &self.awaited) {
            (Phase::Closed, _) => None,
            (Phase::Closing { until }, _) => Some(*until),
            (_, Some(a)) => Some(a.due),
            (Phase::Starting(_), None) => None,
            (Phase::Playing | Phase::Seeking(_) | Phase::Rekeying(_), None) => {
                self.exchange.poll_timeout()
            }
        }
    }

    /// An answer from the device.
    pub fn handle_response(&mut self, resp: Response, now: Instant) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        match self.exchange.answer(resp) {
            Err(why) => {
                let method = self.awaited.as_ref().map_or("stream", |a| a.method);
                self.fail(Fault::Unmakeable { method, why });
            }
            // Another request's (a keep-alive's, late): any answer keeps the session.
            Ok(Answer::Other(_)) => {}
            Ok(Answer::Again { bytes, why, .. }) => {
                let awaited = self.awaited.is_some();
                // Its answer's time starts again when it is taken to be sent.
                self.push(Transmit {
                    what: "RTSP request".into(),
                    bytes,
                    awaited,
                });
                self.events.push_back(Event::Again(why));
            }
            Ok(Answer::Done(r)) => self.answered(r),
        }
        self.advance(now);
    }

    /// The awaited request's answer, after challenges and resends.
    fn answered(&mut self, resp: Response) {
        // None: a keep-alive's, which only keeps the session.
        let Some(a) = self.awaited.take() else {
            return;
        };
        self.events.push_back(Event::Answered {
            method: a.method,
            uri: a.uri,
            status: resp.status,
            reason: resp.reason.clone(),
        });
        let fault = match &mut self.phase {
            Phase::Starting(seq) => seq.answer(&mut self.exchange, resp).err().map(|f| {
                // What the answer said before it failed (the URLs of a DESCRIBE without a
                // wanted stream).
                while let Some(step @ Step::Described(_)) = seq.poll() {
                    self.events.push_back(Event::Start(step));
                }
                Fault::Start(f)
            }),
            Phase::Seeking(seek) => seek.answer(resp).err().map(Fault::Seek),
            Phase::Rekeying(r) => {
                r.answer(&resp);
                None
            }
            Phase::Closing { .. } => {
                self.close();
                None
            }
            Phase::Playing | Phase::Closed => None,
        };
        if let Some(f) = fault {
            self.fail(f);
        }
    }

    /// The time is `now` (at or after [`Session::poll_timeout`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        match &self.phase {
            Phase::Closed => return,
            Phase::Closing { until } => {
                if now >= *until {
                    self.close();
                }
                return;
            }
            _ => {}
        }
        if let Some(a) = &self.awaited {
            if now >= a.due {
                let method = a.method;
                self.fail(Fault::Unanswered {
                    method,
                    after: self.timeout,
                });
            }
            // The keep-alive and the reports wait for the answer (see `poll_timeout`).
            return;
        }
        if !matches!(
            self.phase,
            Phase::Playing | Phase::Seeking(_) | Phase::Rekeying(_)
        ) {
            return;
        }
        match self.exchange.handle_timeout(now) {
            Ok(due) => {
                if let Some((_, bytes)) = due.keepalive {
                    let what = format!("RTSP {}", self.exchange.keepalive_method());
                    self.push_transmit(&what, bytes);
                }
                if due.reports {
                    self.events.push_back(Event::Reports);
                }
            }
            Err(lost) => self.fail(Fault::Lost(lost)),
        }
    }

    /// The device closed the connection.
    pub fn handle_close(&mut self) {
        match self.phase {
            Phase::Closed => {}
            Phase::Closing { .. } => self.close(),
            _ => {
                let during = self.awaited.as_ref().map(|a| a.method);
                self.fail(Fault::Closed { during });
            }
        }
    }

    /// A command; one the session cannot take now comes back (a seek before PLAY is
    /// answered, or during another seek).
    pub fn command(&mut self, cmd: Command, now: Instant) -> Result<(), Command> {
        match cmd {
            Command::Stop => {
                self.stop(now);
                Ok(())
            }
            Command::Seek { play } => {
                if !matches!(self.phase, Phase::Playing) {
                    return Err(Command::Seek { play });
                }
                let urls = self
                    .presentation
                    .clone()
                    .unwrap_or_else(|| Presentation::new(&self.aggregate, None, None, None));
                self.phase = Phase::Seeking(Seek::new(urls, self.setup_urls.clone(), play));
                self.advance(now);
                Ok(())
            }
            Command::Rekey { keys } => {
                if !self.takes_commands() {
                    return Err(Command::Rekey { keys });
                }
                self.phase = Phase::Rekeying(Rekey::new(keys));
                self.advance(now);
                Ok(())
            }
        }
    }

    fn stop(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Closing { .. } | Phase::Closed) {
            return;
        }
        self.awaited = None;
        // Nothing SET UP: nothing to tear down (a SETUP answered without a Session id is
        // torn down all the same, as rtspsrc and FFmpeg do).
        if self.exchange.id().is_none() && self.setup_urls.is_empty() {
            self.close();
            return;
        }
        let uri = self.aggregate.clone();
        let require: &[(&str, &str)] = if self.backchannel.is_some() {
            &[sequence::BACKCHANNEL_REQUIRE]
        } else {
            &[]
        };
        match self.exchange.request("TEARDOWN", &uri, require) {
            Ok((_, bytes)) => {
                self.push_transmit("RTSP TEARDOWN", bytes);
                let until = now + TEARDOWN_WAIT;
                self.awaited = Some(Awaited {
                    method: "TEARDOWN",
                    uri,
                    due: until,
                });
                self.phase = Phase::Closing { until };
            }
            Err(_) => self.close(),
        }
    }

    /// The RTP port of the UDP pair bound for the next SETUP ([`Step::BindUdp`]) and,
    /// for SRTP, the MIKEY message its `KeyMgmt` carries.
    pub fn bound(&mut self, rtp_port: u16, mikey: Option<Vec<u8>>, now: Instant) {
        if let Phase::Starting(seq) = &mut self.phase {
            seq.bound(rtp_port, mikey);
        }
        self.advance(now);
    }

    /// Queues an RTCP report as an interleaved frame on `channel`, unless reports are off
    /// on this connection (a server read one into a request: [`Again`]).
    pub fn report(&mut self, channel: u8, report: &[u8]) {
        if let Some(frame) = self.exchange.report(channel, report) {
            self.push_transmit("RTCP receiver report", frame);
        }
    }

    /// Queues an RTP packet of the backchannel as an interleaved frame on its channel;
    /// false when there is none, the session is not playing, or the packet is too large
    /// for a frame.
    pub fn send_backchannel(&mut self, packet: &[u8]) -> bool {
        let (Some(channel), true) = (self.backchannel, self.is_playing()) else {
            return false;
        };
        let Some(frame) = super::framing::interleaved(channel, packet) else {
            return false;
        };
        self.push_transmit("RTP backchannel", frame);
        true
    }

    /// Whether interleaved packets are taken now: not while a seek's PAUSE is answered
    /// (they are of the old position), nor once the session ends.
    pub fn takes_packets(&self) -> bool {
        match self.phase {
            Phase::Closing { .. } | Phase::Closed => false,
            Phase::Seeking(_) => self.awaited.as_ref().is_none_or(|a| a.method != "PAUSE"),
            Phase::Starting(_) | Phase::Playing | Phase::Rekeying(_) => true,
        }
    }

    /// Playing, no seek or re-keying under way, no keep-alive unanswered: a
    /// [`Command::Seek`] or [`Command::Rekey`] is taken now. (A server that leaves CSeq
    /// out answers in order: the keep-alive's answer must not be taken for another's.)
    pub fn takes_commands(&self) -> bool {
        matches!(self.phase, Phase::Playing) && self.exchange.awaited().is_none()
    }

    /// PLAY answered, and not ending: commands are taken.
    pub fn is_playing(&self) -> bool {
        matches!(
            self.phase,
            Phase::Playing | Phase::Seeking(_) | Phase::Rekeying(_)
        )
    }

    /// The method whose answer is awaited (for errors: what a read failed during).
    pub fn awaited_method(&self) -> Option<&'static str> {
        self.awaited.as_ref().map(|a| a.method)
    }

    /// Where PLAY, PAUSE, keep-alives and TEARDOWN go.
    pub fn aggregate(&self) -> &str {
        &self.aggregate
    }

    /// The presentation's URLs, once described.
    pub fn presentation(&self) -> Option<&Presentation> {
        self.presentation.as_ref()
    }

    /// The authentication requests carry: `HTTP Digest`, `HTTP Basic`, or `none`.
    pub fn auth_name(&self) -> &'static str {
        self.exchange.auth_name()
    }

    /// The session id and the timeout the server gave.
    pub fn id(&self) -> Option<&(String, Option<u32>)> {
        self.exchange.id()
    }

    /// Whether the server listed `method` in `Public`.
    pub fn supports(&self, method: &str) -> bool {
        self.exchange.supports(method)
    }

    /// Whether RTCP reports still go on this connection.
    pub fn reports_on(&self) -> bool {
        self.exchange.reports_on()
    }

    /// Runs the sequence or the seek as far as it goes without an answer.
    fn advance(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Rekeying(_)) {
            self.rekeying(now);
            return;
        }
        loop {
            let step = match &mut self.phase {
                Phase::Starting(seq) => seq.poll().map(Ok),
                Phase::Seeking(seek) => seek.poll().map(Err),
                _ => None,
            };
            match step {
                None => return,
                Some(Ok(Step::Send(req)) | Err(seek::Step::Send(req))) => self.send(req, None, now),
                Some(Ok(step)) => self.started(step, now),
                Some(Err(seek::Step::Hold)) => self.events.push_back(Event::Hold),
                Some(Err(seek::Step::Landed {
                    first_seq,
                    rtp_info,
                })) => {
                    self.phase = Phase::Playing;
                    self.events.push_back(Event::Landed {
                        first_seq,
                        rtp_info,
                    });
                }
            }
        }
    }

    /// Runs the re-keying as far as it goes without an answer; back to playing once every
    /// key is answered.
    fn rekeying(&mut self, now: Instant) {
        loop {
            let Phase::Rekeying(r) = &mut self.phase else {
                // A request that could not be made ended the session.
                return;
            };
            match r.poll() {
                Some(rekey::Step::Send(req)) => {
                    let body = r.body();
                    self.send(req, body.as_deref(), now);
                }
                Some(rekey::Step::Done { index, outcome }) => {
                    self.events.push_back(Event::Rekeyed { index, outcome });
                }
                None => {
                    if r.is_done() {
                        self.phase = Phase::Playing;
                    }
                    return;
                }
            }
        }
    }

    /// A step of the start-up other than a request.
    fn started(&mut self, step: Step, now: Instant) {
        match &step {
            Step::Described(urls) => {
                self.aggregate = urls.aggregate.clone();
                self.presentation = Some(urls.clone());
            }
            Step::SetUp(s) => {
                self.setup_urls.push(s.control.clone());
                if s.prefix == sequence::BACKCHANNEL {
                    self.backchannel = Some(s.channels.0);
                }
            }
            Step::NoBackchannel(_) => self.backchannel = None,
            Step::Playing(played) => {
                self.aggregate = played.aggregate.clone();
                self.exchange.start_timers(&played.aggregate, now);
                self.phase = Phase::Playing;
            }
            _ => {}
        }
        self.events.push_back(Event::Start(step));
    }

    /// Sends `req` (with a body: `SET_PARAMETER`'s), its answer awaited.
    fn send(&mut self, req: Request, body: Option<&[u8]>, now: Instant) {
        let body = body.map(|b| (rekey::PARAMETERS, b));
        match self
            .exchange
            .request_with_body(req.method, &req.uri, &req.header_refs(), body)
        {
            Ok((_, bytes)) => {
                self.push(Transmit {
                    what: format!("RTSP {}", req.method),
                    bytes,
                    awaited: true,
                });
                self.awaited = Some(Awaited {
                    method: req.method,
                    uri: req.uri.clone(),
                    due: now + self.timeout,
                });
                self.events.push_back(Event::Sent(req));
            }
            Err(why) => self.fail(Fault::Unmakeable {
                method: req.method,
                why,
            }),
        }
    }

    /// Bytes that await no answer of their own (a keep-alive, a report, a TEARDOWN).
    fn push_transmit(&mut self, what: &str, bytes: Vec<u8>) {
        self.push(Transmit {
            what: what.to_string(),
            bytes,
            awaited: false,
        });
    }

    fn push(&mut self, t: Transmit) {
        self.transmit.push_back(t);
    }

    fn close(&mut self) {
        self.phase = Phase::Closed;
        self.awaited = None;
        self.events.push_back(Event::Closed);
    }

    fn fail(&mut self, fault: Fault) {
        self.phase = Phase::Closed;
        self.awaited = None;
        self.events.push_back(Event::Failed(fault));
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
