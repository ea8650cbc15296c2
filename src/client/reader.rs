// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The receiving half of an RTSP connection: large reads (64 KiB), taken whole from what
//! is ready, and split into RTSP messages and interleaved frames
//! ([`crate::proto::rtsp::framing`]). The bytes of a read that held packets are handed on
//! whole, with where each packet is, so that a consumer can keep them without copying.

use std::future::Future;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::proto::rtsp::framing::{self, Frame};

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

/// The receiving half: the bytes of a channel not parsed yet.
pub struct Reader {
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
    /// A stream whose first bytes (read with the answer that opened it) are `initial`.
    pub fn new(initial: Vec<u8>) -> Self {
        Self {
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
    pub async fn fill(
        &mut self,
        src: &mut (dyn AsyncRead + Unpin + Send),
    ) -> std::io::Result<usize> {
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
                let read = std::pin::pin!(src.read_buf(&mut self.buf));
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

    fn reader(initial: &[u8]) -> Reader {
        Reader::new(initial.to_vec())
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

    fn scripted(steps: Vec<Step>) -> (Reader, Script) {
        (Reader::new(Vec::new()), Script(steps.into()))
    }

    #[tokio::test]
    async fn test_fill_takes_every_ready_record_and_stops_at_pending() {
        let (mut r, mut src) = scripted(vec![
            Step::Pending,
            Step::Data(b"one"),
            Step::Data(b"two"),
            Step::Data(b"three"),
            Step::Pending,
            Step::Data(b"four"),
        ]);
        assert_eq!(
            r.fill(&mut src).await.expect("reads"),
            11,
            "three records, one fill"
        );
        assert_eq!(r.buf, b"onetwothree");
        assert_eq!(r.fill(&mut src).await.expect("reads"), 4);
        assert_eq!(r.fill(&mut src).await.expect("reads"), 0, "then the end");
    }

    #[tokio::test]
    async fn test_fill_keeps_an_error_after_bytes_for_the_next_call() {
        let (mut r, mut src) = scripted(vec![Step::Data(b"abc"), Step::Fail, Step::Data(b"x")]);
        assert_eq!(r.fill(&mut src).await.expect("the bytes first"), 3);
        let e = r.fill(&mut src).await.expect_err("then the error");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
        let (mut r, mut src) = scripted(vec![Step::Fail]);
        let e = r
            .fill(&mut src)
            .await
            .expect_err("an error with no bytes at once");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    }

    #[tokio::test]
    async fn test_fill_reads_at_most_one_chunk() {
        static BIG: [u8; 20 * 1024] = [7; 20 * 1024];
        let (mut r, mut src) = scripted((0..8).map(|_| Step::Data(&BIG)).collect());
        assert_eq!(
            r.fill(&mut src).await.expect("reads"),
            READ_CHUNK,
            "one chunk"
        );
        assert_eq!(
            r.fill(&mut src).await.expect("reads"),
            READ_CHUNK,
            "and one more"
        );
        assert_eq!(
            r.fill(&mut src).await.expect("reads"),
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
