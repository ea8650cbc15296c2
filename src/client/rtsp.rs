// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The RTSP driver: moves bytes between the sans-I/O [`Session`] (requests with CSeq and
//! authorization, what answers mean, its deadlines) and a [`Channel`] (however the bytes
//! travel: the tunnel, TCP), with every write and wait bounded by the timeout; the read
//! loop ([`Reader`]) hands interleaved packets on.

use std::future::Future;
use std::time::Duration;

use crate::error::{At, Context, Error};
use crate::proto::auth::Credentials;
use crate::proto::rtsp::Response;
use crate::proto::rtsp::framing::{self, Frame};
use crate::proto::rtsp::session::{Again, Answer, Lost, Refused, Session};
use crate::transport::channel::Channel;

pub use super::reader::{Located, Packets, Reader};

/// What the read loop found.
pub enum Event {
    /// A response (to a keep-alive, or a late one).
    Response(Response),
    /// The server closed the connection.
    Closed,
}

/// An RTSP session: the driver of [`Session`] (what requests and answers mean) over a
/// channel (the bytes), bounded by the timeout.
pub struct Rtsp {
    pub reader: Reader,
    pub channel: Box<dyn Channel>,
    /// The channel's peer, for errors and logs.
    pub peer: String,
    /// The protocol state: CSeq, authorization, session id, `Public`, reports.
    pub state: Session,
    pub timeout: Duration,
}

impl Rtsp {
    /// RTSP over `channel`; Basic or qop-less Digest answered as its TLS state allows.
    pub fn new(
        mut channel: Box<dyn Channel>,
        creds: Option<Credentials>,
        timeout: Duration,
    ) -> Self {
        let about = channel.about().clone();
        Self {
            reader: Reader::new(channel.take_initial()),
            channel,
            peer: about.peer,
            state: Session::new(creds, about.tls, about.requests_meet_reports),
            timeout,
        }
    }

    /// Writes an RTCP report on interleaved `channel` (bounded by the timeout), unless
    /// reports are off on this connection (see [`Again::RefusedAfterReport`]).
    pub async fn send_report(&mut self, channel: u8, report: &[u8]) -> Result<(), Error> {
        match self.state.report(channel, report) {
            Some(frame) => self.write_bounded("RTCP receiver report", &frame).await,
            None => Ok(()),
        }
    }

    /// What an error of `method` is about.
    fn ctx(&self, method: &str) -> Context {
        Context::new(&self.peer, format!("RTSP {method}"))
    }

    /// The error for a request that could not be made.
    #[track_caller]
    fn refused(&self, method: &str, r: Refused) -> Error {
        match r {
            Refused::Injection(e) => self.ctx(method).malformed(
                format!("refusing to send a header with a line break: {}", e.0),
                None,
            ),
            Refused::Withheld(reason) => self.ctx(method).withheld(reason),
        }
    }

    /// Writes a request without waiting for its answer; returns its CSeq.
    async fn send(
        &mut self,
        method: &str,
        uri: &str,
        extra: &[(&str, &str)],
    ) -> Result<u32, Error> {
        let (cseq, bytes) = self
            .state
            .request(method, uri, extra)
            .map_err(|r| self.refused(method, r))?;
        self.write_bounded(&format!("RTSP {method}"), &bytes)
            .await?;
        Ok(cseq)
    }

    /// Writes bytes the session made (a keep-alive), bounded by the timeout.
    pub async fn write(&mut self, operation: &str, bytes: &[u8]) -> Result<(), Error> {
        self.write_bounded(operation, bytes).await
    }

    /// The error for a lost session (a reconnect cause).
    #[track_caller]
    pub fn lost(&self, lost: Lost) -> Error {
        match lost {
            Lost::KeepAliveUnanswered {
                method,
                cseq,
                after,
            } => self.ctx(&format!("{method} keep-alive")).broken(format!(
                "keep-alive CSeq {cseq} unanswered after {} s",
                after.as_secs()
            )),
            Lost::Refused(method, r) => self.refused(method, r),
        }
    }

    /// Takes a response that came outside [`Rtsp::request`] (the play loop's): the
    /// awaited request's answer (`Some`), or nothing when it was another's, or when the
    /// request went again (a challenge; a refusal after a report).
    pub async fn on_response(&mut self, resp: Response) -> Result<Option<Response>, Error> {
        match self
            .state
            .answer(resp)
            .map_err(|r| self.refused("stream", r))?
        {
            Answer::Done(r) => Ok(Some(r)),
            Answer::Again { bytes, why, .. } => {
                self.again(why, &bytes).await?;
                Ok(None)
            }
            Answer::Other(_) => Ok(None),
        }
    }

    /// Writes a request again (`why`), with a debug line the first time reports stop.
    async fn again(&mut self, why: Again, bytes: &[u8]) -> Result<(), Error> {
        if let Again::RefusedAfterReport {
            refused_cseq,
            first: true,
        } = why
        {
            crate::log::debug!(
                "{} refused the RTSP request with CSeq {refused_cseq}, sent after an RTCP \
                 receiver report: its RTSP parser reads interleaved data as part of the \
                 request (live555's tunnel); sent again, and no more receiver reports on \
                 this connection",
                self.peer
            );
        }
        self.write_bounded("RTSP request", bytes).await
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

    /// Sends a request and waits for its answer (each wait bounded by the timeout),
    /// answering one authentication challenge. Packets that arrive meanwhile go to
    /// `on_data`.
    pub async fn request(
        &mut self,
        method: &str,
        uri: &str,
        extra: &[(&str, &str)],
        on_data: &mut dyn Packets,
    ) -> Result<Response, Error> {
        self.send(method, uri, extra).await?;
        loop {
            match self.next_answer(method, uri, on_data).await? {
                Answer::Again { bytes, why, .. } => self.again(why, &bytes).await?,
                Answer::Done(r) | Answer::Other(r) => return Ok(r),
            }
        }
    }

    /// Reads until the awaited request is answered (or must go again), within the
    /// timeout; answers to other requests are passed over.
    async fn next_answer(
        &mut self,
        method: &str,
        uri: &str,
        on_data: &mut dyn Packets,
    ) -> Result<Answer, Error> {
        let ctx = self.ctx(method);
        let timeout = self.timeout;
        let fut = async {
            loop {
                let frames = self
                    .reader
                    .parse(on_data)
                    .map_err(|e| self.refused_frame(method, &e))?;
                for f in frames {
                    let Frame::Response(r) = f else { continue };
                    let (status, reason) = (r.status, r.reason.clone());
                    match self.state.answer(r).map_err(|e| self.refused(method, e))? {
                        Answer::Other(_) => {}
                        answer => {
                            crate::log::debug!(
                                "{} RTSP {method} {uri} -> {status} {reason}",
                                self.peer
                            );
                            return Ok(answer);
                        }
                    }
                }
                let n = self
                    .reader
                    .fill(&mut *self.channel)
                    .await
                    .map_err(|e| self.ctx(method).io(e))?;
                if n == 0 {
                    return Err(self.ctx(method).broken("the device closed the connection"));
                }
            }
        };
        ctx.within(timeout, fut).await
    }

    /// The stream cannot be split into messages any more: where it broke.
    #[track_caller]
    fn refused_frame(&self, method: &str, e: &framing::FramingError) -> Error {
        let at = crate::error::Position::StreamByte(self.reader.refused_at());
        self.ctx(method).malformed(e.to_string(), Some(at))
    }

    /// Maps a non-2xx answer to the error of spec §10.
    pub fn check(&self, method: &str, resp: &Response) -> Result<(), Error> {
        match resp.status {
            200..=299 => Ok(()),
            _ => Err(self.refusal(method, resp)),
        }
    }

    /// The error of spec §10 for a refusal (not 2xx) of `method`.
    #[track_caller]
    pub fn refusal(&self, method: &str, resp: &Response) -> Error {
        match resp.status {
            401 | 403 => self
                .ctx(method)
                .not_authorized(format!("RTSP {} {}", resp.status, resp.reason)),
            status => self.ctx(method).status(status, resp.reason.clone()),
        }
    }

    /// Reads until something other than packets arrives: a response, or the end.
    pub async fn next_event(&mut self, on_data: &mut dyn Packets) -> Result<Event, Error> {
        loop {
            let frames = self
                .reader
                .parse(on_data)
                .map_err(|e| self.refused_frame("stream", &e))?;
            for f in frames {
                if let Frame::Response(r) = f {
                    return Ok(Event::Response(r));
                }
            }
            let n = self
                .reader
                .fill(&mut *self.channel)
                .await
                .map_err(|e| Context::new(&self.peer, "RTSP stream").io(e))?;
            if n == 0 {
                return Ok(Event::Closed);
            }
        }
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
mod tests {
    use super::*;

    /// An RTSP client on an in-memory connection (requests base64 as on a tunnel's POST,
    /// or plain), and the server's ends (what it reads, where it writes).
    fn connected(tunnel: bool) -> (Rtsp, tokio::io::DuplexStream, tokio::io::DuplexStream) {
        let (client_w, server_r) = tokio::io::duplex(4096);
        let (server_w, client_r) = tokio::io::duplex(4096);
        let channel: Box<dyn Channel> = if tunnel {
            Box::new(crate::transport::tunnel::Tunnel::pipe_in(
                Box::new(client_r),
                Box::new(client_w),
                None,
            ))
        } else {
            Box::new(crate::transport::channel::Tcp::new(
                Box::new(client_r),
                Box::new(client_w),
                "cam:554".into(),
            ))
        };
        let rtsp = Rtsp::new(channel, None, Duration::from_secs(5));
        (rtsp, server_r, server_w)
    }

    /// Security review: a write the device never takes (a POST held at a zero window)
    /// wedged the play loop; now it ends within the timeout as a reconnect cause.
    #[tokio::test]
    async fn test_a_write_nobody_reads_is_bounded() {
        // A pipe of 16 bytes that nobody reads: the write can never complete.
        let (client_w, _server_r) = tokio::io::duplex(16);
        let (_server_w, client_r) = tokio::io::duplex(16);
        let channel = crate::transport::channel::Tcp::new(
            Box::new(client_r),
            Box::new(client_w),
            "cam:443".into(),
        );
        let mut rtsp = Rtsp::new(Box::new(channel), None, Duration::from_millis(50));
        match rtsp.write("RTSP OPTIONS keep-alive", &[0u8; 64]).await {
            Err(e @ Error::Io { .. }) => {
                assert!(e.is_transient());
                assert!(e.to_string().contains("RTSP OPTIONS keep-alive"), "{e}");
                assert!(e.to_string().contains("stopped reading"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The authorization rule follows the channel: a Basic challenge is answered on a
    /// tunnel inside TLS to an authenticated peer, and withheld on plain RTSP over TCP
    /// (the caller no longer says which).
    #[tokio::test]
    async fn test_the_channel_decides_how_far_authorization_goes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let creds = Some(crate::proto::auth::Credentials {
            user: "admin".into(),
            password: "password".into(),
        });
        for tls_tunnel in [true, false] {
            let (client_w, mut server_r) = tokio::io::duplex(4096);
            let (mut server_w, client_r) = tokio::io::duplex(4096);
            let channel: Box<dyn Channel> = if tls_tunnel {
                Box::new(crate::transport::tunnel::Tunnel::pipe_in(
                    Box::new(client_r),
                    Box::new(client_w),
                    Some(true),
                ))
            } else {
                Box::new(crate::transport::channel::Tcp::new(
                    Box::new(client_r),
                    Box::new(client_w),
                    "cam:554".into(),
                ))
            };
            let mut rtsp = Rtsp::new(channel, creds.clone(), Duration::from_secs(5));
            let server = tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut b = [0u8; 4096];
                for answer in [
                    "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n",
                    "RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n",
                ] {
                    let n = match server_r.read(&mut b).await {
                        Ok(n) if n > 0 => n,
                        _ => break,
                    };
                    seen.extend_from_slice(&b[..n]);
                    if server_w.write_all(answer.as_bytes()).await.is_err() {
                        break;
                    }
                }
                seen
            });
            let mut ignore = |_: u8, _: &[u8]| {};
            let r = rtsp
                .request("DESCRIBE", "rtsp://cam/s", &[], &mut ignore)
                .await;
            drop(rtsp);
            let seen = server.await.expect("server");
            if tls_tunnel {
                assert_eq!(r.expect("answered").status, 200);
                use base64::Engine;
                let text: String = String::from_utf8_lossy(&seen).into_owned();
                // Two base64 messages back to back, each starting "DESCRIBE ": the second.
                let starts: Vec<usize> =
                    text.match_indices("REVTQ1JJQkUg").map(|(i, _)| i).collect();
                assert_eq!(starts.len(), 2, "{text}");
                let second = base64::engine::general_purpose::STANDARD
                    .decode(&text[starts[1]..])
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                assert!(second.contains("Authorization: Basic "), "{second:?}");
            } else {
                assert!(matches!(r, Err(Error::CredentialsWithheld { .. })), "{r:?}");
            }
        }
    }

    /// A server that reads requests as live555 reads its tunnel's POST: whatever stands
    /// before a request is part of it, and an unknown command gets 405 with the CSeq.
    async fn live555(
        mut from: tokio::io::DuplexStream,
        mut to: tokio::io::DuplexStream,
        seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    ) {
        use base64::Engine;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut text = Vec::new();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            // As live555: decode what is a whole number of base64 groups, in place.
            let whole = text.len() - text.len() % 4;
            if whole > 0 {
                let group: Vec<u8> = text.drain(..whole).collect();
                buf.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(&group)
                        .expect("base64"),
                );
            }
            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let req: Vec<u8> = buf.drain(..end + 4).collect();
                let text = String::from_utf8_lossy(&req).to_string();
                let cseq = text
                    .find("CSeq: ")
                    .and_then(|i| text[i + 6..].lines().next())
                    .unwrap_or("")
                    .to_string();
                let status = if req.first() == Some(&b'$') {
                    "405 Method Not Allowed"
                } else {
                    "200 OK"
                };
                seen.lock().unwrap().push(req);
                let answer = format!("RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n\r\n");
                if to.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
            match from.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Issue 22 point 4: a request written after a receiver report, refused by a server
    /// that reads the report as part of it (live555's tunnel), is sent once more, and no
    /// report goes on that connection after.
    #[tokio::test]
    async fn test_a_request_refused_after_a_report_is_resent_and_reports_stop() {
        let (mut rtsp, server_r, server_w) = connected(true);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        tokio::spawn(live555(server_r, server_w, seen.clone()));
        let mut ignore = |_: u8, _: &[u8]| {};
        // A server that takes reports: nothing changes.
        let resp = rtsp
            .request("OPTIONS", "rtsp://cam/x", &[], &mut ignore)
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        let report = [0x81u8, 201, 0, 7, 0, 0, 0, 1];
        rtsp.send_report(1, &report).await.unwrap();
        let resp = rtsp
            .request("TEARDOWN", "rtsp://cam/x", &[], &mut ignore)
            .await
            .unwrap();
        assert_eq!(resp.status, 200, "resent, clean");
        assert_eq!(resp.cseq(), Some(3));
        rtsp.send_report(1, &report).await.unwrap();
        let resp = rtsp
            .request("OPTIONS", "rtsp://cam/x", &[], &mut ignore)
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        let seen = seen.lock().unwrap();
        let starts: Vec<String> = seen
            .iter()
            .map(|r| String::from_utf8_lossy(&r[..r.len().min(12)]).to_string())
            .collect();
        assert_eq!(seen.len(), 4, "{starts:?}");
        assert!(seen[1].starts_with(b"$\x01\x00\x08"), "{starts:?}");
        assert!(seen[2].starts_with(b"TEARDOWN "), "{starts:?}");
        assert!(
            seen[3].starts_with(b"OPTIONS "),
            "no report in front: {starts:?}"
        );
    }

    /// A 405 is the server's answer, not a garbled request, when no report went before
    /// the request, or when the connection is plain RTSP (where live555 too takes `$`
    /// frames out before its parser): it is not sent again, and reports stay on.
    async fn refusal_kept(tunnel: bool, report_first: bool) {
        let (mut rtsp, server_r, server_w) = connected(tunnel);
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut r, mut w) = (server_r, server_w);
            let mut b = [0u8; 1024];
            let _ = r.read(&mut b).await;
            let _ = w
                .write_all(b"RTSP/1.0 405 Method Not Allowed\r\nCSeq: 1\r\n\r\n")
                .await;
            // Held open: a request sent again would never be answered (and the client
            // would time out).
            while matches!(r.read(&mut b).await, Ok(n) if n > 0) {}
        });
        if report_first {
            rtsp.send_report(1, &[0x81, 201, 0, 1, 0, 0, 0, 1])
                .await
                .unwrap();
        }
        let mut ignore = |_: u8, _: &[u8]| {};
        let resp = rtsp
            .request("GET_PARAMETER", "rtsp://cam/x", &[], &mut ignore)
            .await
            .unwrap();
        assert_eq!(resp.status, 405);
        assert!(rtsp.state.reports_on());
    }

    #[tokio::test]
    async fn test_a_refusal_without_a_report_before_is_kept() {
        refusal_kept(true, false).await;
    }

    #[tokio::test]
    async fn test_a_refusal_on_a_plain_connection_is_kept() {
        refusal_kept(false, true).await;
    }
}
