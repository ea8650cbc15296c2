// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The RTSP driver: moves bytes between the sans-I/O [`Session`] (what RTSP means, from
//! OPTIONS to TEARDOWN, and its deadlines) and a [`Channel`] (however the bytes travel:
//! the tunnel, TCP). [`Rtsp::flush`] writes what the session has to send, each write
//! bounded by the timeout; [`Rtsp::turn`] waits for bytes or the session's next deadline
//! and gives them to it (interleaved packets to a [`Packets`], whole reads at a time);
//! the session's [`Event`]s say what happened. Whoever runs it interleaves its own work
//! (commands, timers) between turns.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::error::{At, Context, Error};
use crate::proto::auth::Credentials;
use crate::proto::rtsp::exchange::{Again, Lost, Refused};
use crate::proto::rtsp::framing::Frame;
use crate::proto::rtsp::sequence::Plan;
use crate::proto::rtsp::session::{Event, Fault, Session};
use crate::transport::channel::Channel;

pub use super::reader::{Located, Packets, Reader};

/// An RTSP session over a channel: the driver of [`Session`].
pub struct Rtsp {
    reader: Reader,
    pub channel: Box<dyn Channel>,
    /// The channel's peer, for errors and logs.
    pub peer: String,
    /// The protocol: requests, answers, deadlines, events.
    pub session: Session,
    timeout: Duration,
    /// One timer for the session's deadlines, moved only when they move (a timer made
    /// per read cost the timer wheel an insertion and a removal per packet).
    timer: Pin<Box<tokio::time::Sleep>>,
    armed: Option<Instant>,
    /// The bytes that came with the answer opening the channel are not parsed yet.
    initial: bool,
}

impl Rtsp {
    /// A session playing `plan` over `channel`; Basic or qop-less Digest answered as the
    /// channel's TLS state allows. Each write and each answer may take `timeout`.
    pub fn new(
        mut channel: Box<dyn Channel>,
        creds: Option<Credentials>,
        timeout: Duration,
        plan: Plan,
    ) -> Self {
        let about = channel.about().clone();
        let session = Session::new(
            plan,
            creds,
            (about.tls, about.requests_meet_reports),
            timeout,
            Instant::now(),
        );
        let initial = channel.take_initial();
        Self {
            initial: !initial.is_empty(),
            reader: Reader::new(initial),
            channel,
            peer: about.peer,
            session,
            timeout,
            timer: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
            armed: None,
        }
    }

    /// Writes everything the session has to send, each write within the timeout: a
    /// device that stops reading must not wedge us. Not cancel-safe (a write cut short
    /// would garble the stream): call it outside `select!`.
    pub async fn flush(&mut self) -> Result<(), Error> {
        while let Some(t) = self.session.poll_transmit(Instant::now()) {
            self.write_bounded(&t.what, &t.bytes).await?;
        }
        Ok(())
    }

    /// One turn: reads (packets to `on_data` while the session takes them, else dropped;
    /// answers to the session) and handles the session's deadlines until the session has
    /// something to say or send. Cancel-safe: a read only appends what it read, and what
    /// was read is given to the session before the next wait.
    pub async fn turn(&mut self, on_data: &mut dyn Packets) -> Result<(), Error> {
        // What came with the channel's opening answer (a device that writes its first
        // RTSP answer in the same segment as the tunnel's GET reply, and maybe hangs up).
        if std::mem::take(&mut self.initial) {
            return self.feed(on_data);
        }
        // Reads in a row while they only carry packets: the caller's loop (its commands,
        // its timers) runs again only when the session has news.
        loop {
            let due = self.session.poll_timeout();
            // A deadline passed while reads kept the loop busy: the read below goes first
            // (an answer already there beats its deadline), so a socket that is always
            // readable would never let the timer fire (tokio's budget holds back both).
            if let Some(at) = due {
                let now = Instant::now();
                if now >= at {
                    self.session.handle_timeout(now);
                    if self.news() {
                        return Ok(());
                    }
                    // Handled deadlines move on (`fuzz/rtsp_session` checks it).
                    continue;
                }
            }
            if due != self.armed {
                if let Some(at) = due {
                    self.timer
                        .as_mut()
                        .reset(tokio::time::Instant::from_std(at));
                }
                self.armed = due;
            }
            // The read first: an answer already there is taken before its deadline, even
            // when the driver is late.
            tokio::select! {
                biased;
                n = self.reader.fill(&mut *self.channel) => {
                    let n = n.map_err(|e| self.ctx(self.operation()).io(e))?;
                    if n == 0 {
                        // The end is news even to a session that has ended (which has
                        // nothing more to say): never read again at the end.
                        self.session.handle_close();
                        return Ok(());
                    }
                    self.feed(on_data)?;
                }
                () = &mut self.timer, if due.is_some() => {
                    // Fired: armed again at the next deadline, even an equal one; the
                    // deadline is handled at the top of the loop.
                    self.armed = None;
                    continue;
                }
            }
            if self.news() {
                return Ok(());
            }
        }
    }

    /// The session has something to say or to send.
    fn news(&self) -> bool {
        self.session.has_event() || self.session.has_transmit()
    }

    /// Parses what was read: packets to `on_data`, answers to the session.
    fn feed(&mut self, on_data: &mut dyn Packets) -> Result<(), Error> {
        let mut drop_them = |_: u8, _: &[u8]| {};
        let sink: &mut dyn Packets = if self.session.takes_packets() {
            on_data
        } else {
            &mut drop_them
        };
        let frames = self.reader.parse(sink).map_err(|e| {
            let at = crate::error::Position::StreamByte(self.reader.refused_at());
            self.ctx(self.operation())
                .malformed(e.to_string(), Some(at))
        })?;
        // Most reads carry packets only: the clock is read when an answer came.
        if !frames.is_empty() {
            let now = Instant::now();
            for f in frames {
                if let Frame::Response(r) = f {
                    self.session.handle_response(r, now);
                }
            }
        }
        Ok(())
    }

    /// Runs the session until `until` takes an event or the session is closed (returned
    /// with the events before, each logged), packets to `on_data`; a failure is its
    /// error. For tools and tests: the session task interleaves its commands between
    /// turns instead. Not cancel-safe (it writes).
    pub async fn run_until(
        &mut self,
        on_data: &mut dyn Packets,
        mut until: impl FnMut(&Event) -> bool,
    ) -> Result<Vec<Event>, Error> {
        let mut seen = Vec::new();
        loop {
            while let Some(ev) = self.session.poll_event() {
                self.log(&ev);
                let done = until(&ev);
                if let Event::Failed(f) = ev {
                    return Err(self.error(f));
                }
                let closed = matches!(ev, Event::Closed);
                seen.push(ev);
                // Nothing comes after `Closed`.
                if done || closed {
                    return Ok(seen);
                }
            }
            self.flush().await?;
            self.turn(on_data).await?;
        }
    }

    /// What a read is for, in errors: the awaited request, else the stream.
    fn operation(&self) -> String {
        match self.session.awaited_method() {
            Some(m) => format!("RTSP {m}"),
            None => "RTSP stream".into(),
        }
    }

    /// What an error of `operation` is about.
    fn ctx(&self, operation: impl Into<String>) -> Context {
        Context::new(&self.peer, operation)
    }

    /// The debug line of an event the session gave, if it has one: the answers, requests
    /// going again, the reason reports stopped.
    pub fn log(&self, ev: &Event) {
        match ev {
            Event::Answered {
                method,
                uri,
                status,
                reason,
            } => crate::log::debug!("{} RTSP {method} {uri} -> {status} {reason}", self.peer),
            Event::Again(Again::Challenge) => crate::log::debug!(
                "{} RTSP {} -> 401 Unauthorized; sent again with credentials",
                self.peer,
                self.session.awaited_method().unwrap_or("request")
            ),
            Event::Again(Again::RefusedAfterReport {
                refused_cseq,
                first: true,
            }) => crate::log::debug!(
                "{} refused the RTSP request with CSeq {refused_cseq}, sent after an RTCP \
                 receiver report: its RTSP parser reads interleaved data as part of the \
                 request (live555's tunnel); sent again, and no more receiver reports on \
                 this connection",
                self.peer
            ),
            _ => {}
        }
    }

    /// The error of spec §10 for a session that cannot go on. A start-up fault that
    /// needs the element's words (a stream missing) is the caller's.
    #[track_caller]
    pub fn error(&self, fault: Fault) -> Error {
        use crate::proto::rtsp::{seek, sequence};
        match fault {
            Fault::Start(sequence::Fault::Refused { method, resp })
            | Fault::Seek(seek::Fault::Refused { method, resp }) => self.refusal(method, &resp),
            Fault::Start(sequence::Fault::Sdp(e)) => self
                .ctx("RTSP DESCRIBE")
                .malformed(e.to_string(), e.line.map(crate::error::Position::SdpLine)),
            Fault::Start(sequence::Fault::NoStream(prefix)) => Error::NotFound {
                at: At::here(),
                peer: self.peer.clone(),
                what: format!("the device has no {prefix} stream in its SDP"),
            },
            Fault::Start(sequence::Fault::NoSrtp(prefix)) => Error::Settings(format!(
                "{}: streaming-method=rtsps-srtp: the device offers its {prefix} stream only \
                 as plain RTP/AVP (no RTP/SAVP in its SDP), which would travel unencrypted \
                 over UDP; use streaming-method=rtsps (the media inside the TLS connection)",
                self.peer
            )),
            Fault::Start(sequence::Fault::SrtpOnly(prefix)) => Error::Settings(format!(
                "{}: the device offers its {prefix} stream only as RTP/SAVP (SRTP): its keys \
                 must travel inside TLS and its media over UDP; use \
                 streaming-method=rtsps-srtp",
                self.peer
            )),
            Fault::Start(sequence::Fault::NotSecure { control, reply }) => {
                Error::Settings(format!(
                    "{}: the SETUP of {} asked for RTP/SAVP (SRTP) and the device granted \
                     {reply:?}: its media would travel in clear, so it is refused; use \
                     streaming-method=rtsps (the media inside the TLS connection)",
                    self.peer,
                    crate::proto::rtsp::url::strip_credentials(&control)
                ))
            }
            Fault::Start(sequence::Fault::SrtpInterleaved { control, reply }) => {
                Error::Settings(format!(
                    "{}: the SETUP of {} asked for SRTP over UDP and the device granted \
                     {reply:?}, SRTP interleaved on the RTSPS connection, which the element \
                     does not decrypt; use streaming-method=rtsps (RTP interleaved inside \
                     the TLS connection)",
                    self.peer,
                    crate::proto::rtsp::url::strip_credentials(&control)
                ))
            }
            Fault::Start(sequence::Fault::Unasked { control, reply }) => Error::Settings(format!(
                "{}: the SETUP of {} asked for RTP/AVP and the device granted {reply:?}: SRTP \
                 the element did not ask for, whose key (if any) did not come inside TLS; use \
                 streaming-method=rtsps-srtp, or rtsps",
                self.peer,
                crate::proto::rtsp::url::strip_credentials(&control)
            )),
            Fault::Start(sequence::Fault::OutOfTurn) | Fault::Seek(seek::Fault::OutOfTurn) => {
                Error::Settings(
                    "internal error: an RTSP answer out of turn, please report this".into(),
                )
            }
            Fault::Unmakeable { method, why } => self.refused(method, why),
            Fault::Unanswered { method, after } => Error::TimedOut {
                at: At::here(),
                peer: self.peer.clone(),
                operation: format!("RTSP {method}"),
                after,
            },
            Fault::Lost(Lost::KeepAliveUnanswered {
                method,
                cseq,
                after,
            }) => self
                .ctx(format!("RTSP {method} keep-alive"))
                .broken(format!(
                    "keep-alive CSeq {cseq} unanswered after {} s",
                    seconds(after)
                )),
            Fault::Lost(Lost::Refused(method, why)) => self.refused(method, why),
            Fault::Closed { during: Some(m) } => self
                .ctx(format!("RTSP {m}"))
                .broken("the device closed the connection"),
            Fault::Closed { during: None } => self
                .ctx("RTSP stream")
                .broken("the device closed the stream"),
        }
    }

    /// The error for a request that could not be made.
    #[track_caller]
    fn refused(&self, method: &str, r: Refused) -> Error {
        let ctx = self.ctx(format!("RTSP {method}"));
        match r {
            Refused::Injection(e) => ctx.malformed(
                format!("refusing to send a header with a line break: {}", e.0),
                None,
            ),
            Refused::Withheld(reason) => ctx.withheld(reason),
        }
    }

    /// The error of spec §10 for a refusal (not 2xx) of `method`.
    #[track_caller]
    fn refusal(&self, method: &str, resp: &crate::proto::rtsp::Response) -> Error {
        let ctx = self.ctx(format!("RTSP {method}"));
        match resp.status {
            401 | 403 => ctx.not_authorized(format!("RTSP {} {}", resp.status, resp.reason)),
            status => ctx.status(status, resp.reason.clone()),
        }
    }

    /// Writes `bytes` within the timeout: a device that stops reading must not wedge us.
    #[track_caller]
    fn write_bounded<'a>(
        &'a mut self,
        operation: &'a str,
        bytes: &'a [u8],
    ) -> impl Future<Output = Result<(), Error>> + 'a {
        let at = At::here();
        async move {
            let ctx = Context::new(&self.peer, operation);
            match tokio::time::timeout(self.timeout, self.channel.send(bytes)).await {
                Ok(r) => r.map_err(|e| ctx.io(e)),
                Err(_) => Err(stalled_write(at, ctx, self.timeout)),
            }
        }
    }
}

/// `d` in seconds for a message: whole ones, or tenths below 10 s (a keep-alive every
/// 0.5 s is not "unanswered after 0 s").
fn seconds(d: Duration) -> String {
    if d >= Duration::from_secs(10) {
        d.as_secs().to_string()
    } else {
        format!("{:.1}", d.as_secs_f64())
    }
}

/// A write that did not complete within `limit`: the device stopped reading (a
/// reconnect cause, not a timeout of an answer).
pub fn stalled_write(at: At, ctx: Context, limit: Duration) -> Error {
    Error::Io {
        at,
        peer: ctx.peer,
        operation: ctx.operation,
        detail: format!(
            "the write did not complete within {} s (the device stopped reading)",
            limit.as_secs()
        ),
        source: None,
    }
}

#[cfg(test)]
#[path = "rtsp_tests.rs"]
mod tests;
