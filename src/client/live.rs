// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! An RTSP client session over a [`Channel`]: requests with CSeq and Digest (or, inside
//! TLS, Basic) authentication, and the read loop that hands interleaved packets on.
//!
//! Reads are large (64 KiB) and frames are parsed out of one buffer
//! ([`crate::proto::rtsp::framing`]). The bytes of a read that held packets are handed on whole,
//! with where each packet is, so that a consumer can keep them without copying (the
//! session makes one `gst::Memory` of them, and each packet a part of it).

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::Error;
use crate::proto::auth::Credentials;
use crate::proto::rtsp::Response;
use crate::proto::rtsp::framing::{self, Frame};
use crate::proto::rtsp::session::{Again, Answer, Refused, Session};
use crate::transport::tunnel::{Channel, Writer};

/// Size of each read.
const READ_CHUNK: usize = 64 * 1024;

/// One interleaved packet of a read: its channel, and where it is in the read's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub channel: u8,
    pub range: std::ops::Range<usize>,
}

/// Where the interleaved packets of the stream go: the bytes of each read whole, so that
/// a consumer can keep them. A closure takes the packets one by one.
pub trait Packets: Send {
    /// Every packet of one read: `bytes[p.range]` for each of `packets`, in order (the
    /// ranges are within `bytes`).
    fn read(&mut self, bytes: Vec<u8>, packets: &[Located]);
}

impl<F: FnMut(u8, &[u8]) + Send> Packets for F {
    fn read(&mut self, bytes: Vec<u8>, packets: &[Located]) {
        for p in packets {
            if let Some(packet) = bytes.get(p.range.clone()) {
                self(p.channel, packet);
            }
        }
    }
}

/// What the read loop found.
pub enum Event {
    /// A response (to a keep-alive, or a late one).
    Response(Response),
    /// The server closed the connection.
    Closed,
}

/// The receiving half: the stream and the bytes not parsed yet.
pub struct Reader {
    r: Box<dyn AsyncRead + Unpin + Send>,
    buf: Vec<u8>,
    pos: usize,
    /// Bytes of the stream before `buf` (handed on or dropped): where `buf` starts.
    offset: u64,
    /// Garbage bytes skipped in a row, and the stream byte where they began.
    misparse: usize,
    misparse_from: u64,
    /// The stream byte of the last framing error: the message refused, or the start of
    /// the garbage.
    refused_at: u64,
    /// The packets found by one [`Reader::parse`] (kept to reuse its allocation).
    located: Vec<Located>,
    /// A read error that came after bytes [`Reader::fill`] returned.
    failed: Option<std::io::Error>,
    /// Where the parse of a message still arriving stands.
    framer: framing::Framer,
}

impl Reader {
    /// Reads `r`, whose first bytes (read with the answer that opened it) are `initial`.
    pub fn new(r: Box<dyn AsyncRead + Unpin + Send>, initial: Vec<u8>) -> Self {
        Self {
            r,
            buf: initial,
            pos: 0,
            offset: 0,
            misparse: 0,
            misparse_from: 0,
            refused_at: 0,
            located: Vec::new(),
            failed: None,
            framer: framing::Framer::default(),
        }
    }

    /// Reads what the stream has into the buffer: waits for the first bytes, then takes
    /// whatever else is ready without waiting, up to [`READ_CHUNK`]; 0 at end of stream.
    ///
    /// A TLS stream gives one record per read, and a camera often sends one record per
    /// packet: reading only once would hand the packets on one by one (one memory, one
    /// buffer list and one wake-up of the streaming thread each). Taking what is ready
    /// makes the batches grow with the load.
    ///
    /// Cancel-safe: it only ever appends what was read (it runs inside `select!` with the
    /// keep-alive). An error after some bytes is kept for the next call.
    pub async fn fill(&mut self) -> std::io::Result<usize> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos > READ_CHUNK) {
            self.buf.drain(..self.pos);
            self.offset = self.offset.saturating_add(self.pos as u64);
            self.pos = 0;
        }
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 2 {
            self.buf.reserve(READ_CHUNK);
        }
        let limit = self.buf.len().saturating_add(READ_CHUNK);
        std::future::poll_fn(|cx| {
            let mut total = 0usize;
            while self.buf.len() < limit && self.buf.capacity() > self.buf.len() {
                let read = std::pin::pin!(self.r.read_buf(&mut self.buf));
                match read.poll(cx) {
                    Poll::Ready(Ok(0)) => break,
                    Poll::Ready(Ok(n)) => total = total.saturating_add(n),
                    Poll::Ready(Err(e)) if total == 0 => return Poll::Ready(Err(e)),
                    Poll::Ready(Err(e)) => {
                        self.failed = Some(e);
                        break;
                    }
                    Poll::Pending if total == 0 => return Poll::Pending,
                    Poll::Pending => break,
                }
            }
            Poll::Ready(Ok(total))
        })
        .await
    }

    /// Parses every complete unit in the buffer: interleaved packets go to `on_data`,
    /// everything else is returned.
    pub fn parse(
        &mut self,
        on_data: &mut dyn Packets,
    ) -> Result<Vec<Frame>, framing::FramingError> {
        let mut other = Vec::new();
        self.located.clear();
        let result = loop {
            let (frame, used) = match self.framer.next(&self.buf[self.pos..]) {
                Ok(Some(f)) => f,
                Ok(None) => break Ok(()),
                Err(e) => {
                    self.refused_at = self.offset.saturating_add(self.pos as u64);
                    break Err(e);
                }
            };
            match frame {
                Frame::Data {
                    channel,
                    start,
                    len,
                } => {
                    // Within the buffer: `framing::next` found the whole frame there.
                    let at = self.pos.saturating_add(start);
                    self.located.push(Located {
                        channel,
                        range: at..at.saturating_add(len),
                    });
                    self.misparse = 0;
                }
                Frame::Skipped(n) => {
                    if self.misparse == 0 {
                        self.misparse_from = self.offset.saturating_add(self.pos as u64);
                    }
                    self.misparse = self.misparse.saturating_add(n);
                    if self.misparse > framing::MAX_MISPARSE_BYTES {
                        self.refused_at = self.misparse_from;
                        break Err(framing::FramingError::Garbage);
                    }
                }
                f => {
                    self.misparse = 0;
                    other.push(f);
                }
            }
            self.pos += used;
        };
        // What came before an error is delivered all the same.
        if !self.located.is_empty() {
            // The parsed bytes go on whole; what is left (a frame not complete yet) starts
            // the next buffer.
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            let mut next = Vec::with_capacity(READ_CHUNK.max(rest.len()));
            next.extend_from_slice(rest);
            let mut bytes = std::mem::replace(&mut self.buf, next);
            bytes.truncate(self.pos);
            // Not the whole read size kept alive while downstream holds a packet.
            bytes.shrink_to_fit();
            self.offset = self.offset.saturating_add(self.pos as u64);
            self.pos = 0;
            on_data.read(bytes, &self.located);
        }
        result.map(|()| other)
    }

    /// The byte of the stream, counted from its first, where the last framing error is:
    /// the first byte of the message refused, or of the garbage.
    pub fn refused_at(&self) -> u64 {
        self.refused_at
    }
}

/// An RTSP session: the driver of [`rtsp::session::Session`] (what requests and answers
/// mean) over a channel (the bytes), bounded by the timeout.
pub struct Rtsp {
    pub reader: Reader,
    pub writer: Writer,
    pub peer: String,
    /// The protocol state: CSeq, authorization, session id, `Public`, reports.
    pub state: Session,
    pub timeout: Duration,
}

impl Rtsp {
    pub fn new(
        channel: Channel,
        peer: String,
        creds: Option<Credentials>,
        tls: Option<bool>,
        timeout: Duration,
    ) -> Self {
        let tunnel = channel.writer.is_tunnel();
        Self {
            reader: Reader::new(channel.reader, channel.initial),
            writer: channel.writer,
            peer,
            state: Session::new(creds, tls, tunnel),
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

    #[track_caller]
    fn err_io(&self, method: &str, detail: String) -> Error {
        Error::Io {
            at: crate::error::At::here(),
            peer: self.peer.clone(),
            operation: format!("RTSP {method}"),
            detail,
            source: None,
        }
    }

    /// The error for a request that could not be made.
    #[track_caller]
    fn refused(&self, method: &str, r: Refused) -> Error {
        match r {
            Refused::Injection(e) => Error::Malformed {
                at: crate::error::At::here(),
                peer: self.peer.clone(),
                operation: format!("RTSP {method}"),
                detail: format!("refusing to send a header with a line break: {}", e.0),
                position: None,
            },
            Refused::Withheld(reason) => Error::CredentialsWithheld {
                at: crate::error::At::here(),
                peer: self.peer.clone(),
                operation: format!("RTSP {method}"),
                reason: reason.into(),
            },
        }
    }

    /// Writes a request without waiting for its answer; returns its CSeq.
    pub async fn send(
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
        let at = crate::error::At::here();
        async move {
            match tokio::time::timeout(self.timeout, self.writer.send(bytes)).await {
                Ok(r) => r.map_err(|e| Error::io(&self.peer, operation, e)),
                Err(_) => Err(Error::Io {
                    at,
                    peer: self.peer.clone(),
                    operation: operation.to_string(),
                    detail: format!(
                        "the write did not complete within {} s (the device stopped reading)",
                        self.timeout.as_secs()
                    ),
                    source: None,
                }),
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
        let timeout = self.timeout;
        let peer = self.peer.clone();
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
                    .fill()
                    .await
                    .map_err(|e| Error::io(&self.peer, &format!("RTSP {method}"), e))?;
                if n == 0 {
                    return Err(self.err_io(method, "the device closed the connection".into()));
                }
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| Error::TimedOut {
                at: crate::error::At::here(),
                peer,
                operation: format!("RTSP {method}"),
                after: timeout,
            })?
    }

    /// The stream cannot be split into messages any more: where it broke.
    #[track_caller]
    fn refused_frame(&self, method: &str, e: &framing::FramingError) -> Error {
        Error::Malformed {
            at: crate::error::At::here(),
            peer: self.peer.clone(),
            operation: format!("RTSP {method}"),
            detail: e.to_string(),
            position: Some(crate::error::Position::StreamByte(self.reader.refused_at())),
        }
    }

    /// Maps a non-2xx answer to the error of spec §10.
    pub fn check(&self, method: &str, resp: &Response) -> Result<(), Error> {
        match resp.status {
            200..=299 => Ok(()),
            401 | 403 => Err(Error::NotAuthorized {
                at: crate::error::At::here(),
                peer: self.peer.clone(),
                operation: format!("RTSP {method}"),
                detail: format!("RTSP {} {}", resp.status, resp.reason),
            }),
            status => Err(Error::HttpStatus {
                at: crate::error::At::here(),
                peer: self.peer.clone(),
                operation: format!("RTSP {method}"),
                status,
                reason: resp.reason.clone(),
            }),
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
                .fill()
                .await
                .map_err(|e| Error::io(&self.peer, "RTSP stream", e))?;
            if n == 0 {
                return Ok(Event::Closed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps what [`Packets::read`] hands on.
    #[derive(Default)]
    struct Kept(Vec<(Vec<u8>, Vec<Located>)>);

    impl Packets for Kept {
        fn read(&mut self, bytes: Vec<u8>, packets: &[Located]) {
            self.0.push((bytes, packets.to_vec()));
        }
    }

    /// An RTSP client on an in-memory connection (requests base64 as on a tunnel's POST,
    /// or plain), and the server's ends (what it reads, where it writes).
    fn connected(tunnel: bool) -> (Rtsp, tokio::io::DuplexStream, tokio::io::DuplexStream) {
        let (client_w, server_r) = tokio::io::duplex(4096);
        let (server_w, client_r) = tokio::io::duplex(4096);
        let channel = if tunnel {
            Channel::tunnel_pipe(Box::new(client_r), Box::new(client_w))
        } else {
            Channel::plain(Box::new(client_r), Box::new(client_w))
        };
        let rtsp = Rtsp::new(
            channel,
            "cam:554".into(),
            None,
            None,
            Duration::from_secs(5),
        );
        (rtsp, server_r, server_w)
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

    fn reader(initial: &[u8]) -> Reader {
        Reader::new(Box::new(tokio::io::empty()), initial.to_vec())
    }

    /// What one `poll_read` of [`Script`] does.
    enum Step {
        Data(&'static [u8]),
        Pending,
        Fail,
    }

    /// A stream that plays its steps in order, one per `poll_read` (like a TLS stream,
    /// which gives one record per read), then ends.
    struct Script(std::collections::VecDeque<Step>);

    impl AsyncRead for Script {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            match self.0.pop_front() {
                Some(Step::Data(d)) => {
                    let (now, later) = d.split_at(d.len().min(buf.remaining()));
                    buf.put_slice(now);
                    if !later.is_empty() {
                        self.0.push_front(Step::Data(later));
                    }
                    Poll::Ready(Ok(()))
                }
                Some(Step::Pending) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Some(Step::Fail) => Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into())),
                None => Poll::Ready(Ok(())),
            }
        }
    }

    fn scripted(steps: Vec<Step>) -> Reader {
        Reader::new(Box::new(Script(steps.into())), Vec::new())
    }

    #[tokio::test]
    async fn test_fill_takes_every_ready_record_and_stops_at_pending() {
        let mut r = scripted(vec![
            Step::Pending,
            Step::Data(b"one"),
            Step::Data(b"two"),
            Step::Data(b"three"),
            Step::Pending,
            Step::Data(b"four"),
        ]);
        assert_eq!(
            r.fill().await.expect("reads"),
            11,
            "three records, one fill"
        );
        assert_eq!(r.buf, b"onetwothree");
        assert_eq!(r.fill().await.expect("reads"), 4);
        assert_eq!(r.fill().await.expect("reads"), 0, "then the end");
    }

    #[tokio::test]
    async fn test_fill_keeps_an_error_after_bytes_for_the_next_call() {
        let mut r = scripted(vec![Step::Data(b"abc"), Step::Fail, Step::Data(b"x")]);
        assert_eq!(r.fill().await.expect("the bytes first"), 3);
        let e = r.fill().await.expect_err("then the error");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
        let mut r = scripted(vec![Step::Fail]);
        let e = r.fill().await.expect_err("an error with no bytes at once");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    }

    #[tokio::test]
    async fn test_fill_reads_at_most_one_chunk() {
        static BIG: [u8; 20 * 1024] = [7; 20 * 1024];
        let mut r = scripted((0..8).map(|_| Step::Data(&BIG)).collect());
        assert_eq!(r.fill().await.expect("reads"), READ_CHUNK, "one chunk");
        assert_eq!(r.fill().await.expect("reads"), READ_CHUNK, "and one more");
        assert_eq!(
            r.fill().await.expect("reads"),
            8 * BIG.len() - 2 * READ_CHUNK
        );
    }

    #[test]
    fn test_a_read_goes_on_whole_and_the_partial_frame_stays() {
        // Two packets, a response between them, and the first 3 bytes of a third packet.
        let mut wire = b"$\x00\x00\x03abc".to_vec();
        wire.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n");
        wire.extend_from_slice(b"$\x01\x00\x02de$\x00\x00");
        let mut r = reader(&wire);
        let mut kept = Kept::default();
        let other = r.parse(&mut kept).expect("parses");
        assert_eq!(other.len(), 1, "the response is returned");
        assert_eq!(kept.0.len(), 1, "one hand-over per read");
        let (bytes, located) = &kept.0[0];
        assert_eq!(
            bytes.len(),
            wire.len() - 3,
            "every complete frame, not the partial one"
        );
        let got: Vec<(u8, &[u8])> = located
            .iter()
            .map(|p| (p.channel, &bytes[p.range.clone()]))
            .collect();
        assert_eq!(got, vec![(0, &b"abc"[..]), (1, &b"de"[..])]);
        assert_eq!(
            r.buf, b"$\x00\x00",
            "the partial frame starts the next buffer"
        );
        assert_eq!(r.pos, 0);
        // The rest of the third packet completes it.
        r.buf.extend_from_slice(b"\x01z");
        let other = r.parse(&mut kept).expect("parses");
        assert!(other.is_empty());
        assert_eq!(kept.0.len(), 2);
        let (bytes, located) = &kept.0[1];
        assert_eq!(bytes, b"$\x00\x00\x01z");
        assert_eq!(
            located,
            &[Located {
                channel: 0,
                range: 4..5
            }]
        );
        assert!(r.buf.is_empty());
    }

    /// Issue 13 point 5: a refused message is found in a capture by its stream byte.
    #[test]
    fn test_a_refused_message_is_placed_by_its_byte_in_the_stream() {
        // 8 bytes of packet, 28 of response, then a message that never ends.
        let mut wire = b"$\x00\x00\x04abcd".to_vec();
        wire.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n");
        assert_eq!(wire.len(), 36);
        wire.extend_from_slice(b"RTSP/1.0 200 OK\r\nX: ");
        wire.resize(wire.len() + framing::MAX_MESSAGE_BYTES, b'x');
        let mut r = reader(&wire);
        let mut kept = Kept::default();
        assert_eq!(
            r.parse(&mut kept),
            Err(framing::FramingError::MessageTooLarge)
        );
        assert_eq!(kept.0.len(), 1, "the packet before it is delivered");
        assert_eq!(r.refused_at(), 36, "the refused message's first byte");
        // Garbage is placed where it begins, not where it crossed the limit.
        let mut wire = b"$\x00\x00\x04abcd".to_vec();
        wire.resize(wire.len() + framing::MAX_MISPARSE_BYTES + 10, b'#');
        let mut r = reader(&wire);
        assert_eq!(r.parse(&mut kept), Err(framing::FramingError::Garbage));
        assert_eq!(r.refused_at(), 8, "where the garbage begins");
    }

    #[test]
    fn test_a_read_without_packets_is_not_handed_on() {
        let mut r = reader(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
        let mut kept = Kept::default();
        assert_eq!(r.parse(&mut kept).expect("parses").len(), 1);
        assert!(kept.0.is_empty());
    }
}
