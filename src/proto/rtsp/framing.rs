// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Splitting the server→client byte stream (the tunnel's GET body, or an RTSP TCP
//! connection) into RTSP messages and `$`-interleaved frames (RFC 2326 §10.12).
//!
//! Interleaved frames are returned as offsets into the caller's buffer, so the hot path
//! copies each packet once, into its `gst::Buffer`. Text messages are parsed with
//! `rtsp-types`. Garbage between frames is skipped up to the next `$` or `RTSP/`, within
//! [`MAX_MISPARSE_BYTES`]; a message longer than [`MAX_MESSAGE_BYTES`] is an error.
//!
//! A reader keeps a [`Framer`]: a message that arrives a few bytes at a time is parsed
//! when its head (and then its body) can be complete, not from its start at every read,
//! and the parsing spent on messages that do not parse is bounded by the bytes received.

use super::Response;

/// Largest RTSP message (head and body, e.g. a DESCRIBE answer with its SDP).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Most garbage bytes skipped in a row before the stream is declared broken.
pub const MAX_MISPARSE_BYTES: usize = 64 * 1024;

/// One unit of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Interleaved data: channel, and the packet at `buf[start..start + len]`.
    Data {
        channel: u8,
        start: usize,
        len: usize,
    },
    /// An RTSP response.
    Response(Response),
    /// A request from the server (ANNOUNCE, GET_PARAMETER, ...): method and CSeq.
    Request { method: String, cseq: Option<u32> },
    /// Bytes that are neither: skipped to resynchronise.
    Skipped(usize),
}

/// Why the stream cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// An RTSP message larger than [`MAX_MESSAGE_BYTES`].
    MessageTooLarge,
    /// More than [`MAX_MISPARSE_BYTES`] in a row that are neither messages nor frames.
    Garbage,
    /// Messages that do not parse, over and over, cost more parsing than the stream's
    /// bytes allow ([`Framer`]).
    Unparsable,
}

impl std::fmt::Display for FramingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FramingError::MessageTooLarge => {
                write!(f, "RTSP message larger than {MAX_MESSAGE_BYTES} bytes")
            }
            FramingError::Garbage => write!(
                f,
                "more than {MAX_MISPARSE_BYTES} bytes in a row that are neither RTSP messages \
                 nor interleaved frames"
            ),
            FramingError::Unparsable => write!(
                f,
                "RTSP messages that do not parse, one inside the other, more than \
                 {PARSE_PER_BYTE} bytes of parsing per byte received"
            ),
        }
    }
}

const PREFIX: &[u8] = b"RTSP/";

/// Whether `b` could be the start of a text message (a response, or a request line).
fn may_start_message(b: &[u8]) -> bool {
    let n = b.len().min(PREFIX.len());
    if b[..n] == PREFIX[..n] {
        return true;
    }
    // A request from the server: an upper-case method token then a space.
    b.iter()
        .take(20)
        .position(|c| *c == b' ')
        .is_some_and(|sp| sp > 0 && b[..sp].iter().all(|c| c.is_ascii_uppercase() || *c == b'_'))
        || (b.len() < 20 && b.iter().all(|c| c.is_ascii_uppercase() || *c == b'_'))
}

/// Parses the next unit at the start of `buf`. `Ok(None)`: more bytes needed. The
/// `usize` is how many bytes it used.
pub fn next(buf: &[u8]) -> Result<Option<(Frame, usize)>, FramingError> {
    Ok(match step(buf)? {
        Step::Unit(f, used) => Some((f, used)),
        Step::Broken { skip, .. } => Some((Frame::Skipped(skip), skip)),
        Step::More(_) => None,
    })
}

/// What [`step`] found at the start of a buffer.
enum Step {
    /// A unit, and the bytes it used.
    Unit(Frame, usize),
    /// Not complete: at least this many more bytes are needed when known (a message whose
    /// head is complete and whose body is not).
    More(Option<usize>),
    /// What started as a message does not parse: bytes to skip, and bytes the parser was
    /// given to find that out.
    Broken { skip: usize, examined: usize },
}

/// Longest start line of a message (FFmpeg reads RTSP lines into 4 KiB); a longer one is
/// not looked at further.
pub const MAX_START_LINE: usize = 4096;

/// `payload` as an interleaved frame on `channel` (`$`, the channel, the length); `None`
/// when it is too large for one.
pub fn interleaved(channel: u8, payload: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(payload.len()).ok()?;
    let mut frame = Vec::with_capacity(payload.len().saturating_add(4));
    frame.extend_from_slice(&[b'$', channel]);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Some(frame)
}
/// Bytes the parser may be given for messages that do not parse, per byte of the stream
/// taken, beyond [`PARSE_ALLOWANCE`]: the cost of reading a stream is linear in it, whatever
/// the garbage.
const PARSE_PER_BYTE: u64 = 16;
/// What the parser may be given for messages that do not parse before any byte was taken;
/// also the most that is saved up.
const PARSE_ALLOWANCE: u64 = 4 * MAX_MESSAGE_BYTES as u64;
const PARSE_SAVED_MAX: u64 = 16 * MAX_MESSAGE_BYTES as u64;

/// Resumable framing for one stream, whose units are taken in order.
///
/// For the incomplete message at the start of the buffer it keeps how far its head was
/// searched for its end and, once the head is complete, the message's length; the message
/// is parsed again only when one of those says it may be complete, or when the buffer has
/// doubled since the last parse (so that a broken head is still found). A device trickling
/// a 195 KB message one byte per read had it parsed from its start at every read (19 GB);
/// now a handful of times.
///
/// Garbage is resynchronised as [`next`] does, and what the parser is given for messages
/// that do not parse is drawn from an allowance that grows with the bytes taken
/// ([`PARSE_PER_BYTE`] each): a head full of `$` frames, each followed by `RTSP/1.0 200 OK`
/// and valid header lines up to a broken end, had each of its frames start a parse of the
/// rest of it (quadratic). Past the allowance the stream is [`FramingError::Unparsable`].
#[derive(Debug)]
pub struct Framer {
    /// Bytes of the waiting message searched for the end of its head; 0: none waiting.
    searched: usize,
    /// The whole message's length, once its head is complete.
    need: Option<usize>,
    /// The buffer's length at the last parse of the waiting message.
    parsed_at: usize,
    /// Bytes the parser may still be given for messages that do not parse.
    allowance: u64,
    /// Bytes given to the message parser, in all (for tests of the cost).
    examined: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            searched: 0,
            need: None,
            parsed_at: 0,
            allowance: PARSE_ALLOWANCE,
            examined: 0,
        }
    }
}

impl Framer {
    /// As [`next`], for `buf` starting where the previous call's unit ended (or, after
    /// `Ok(None)`, at the same byte with more bytes after).
    pub fn next(&mut self, buf: &[u8]) -> Result<Option<(Frame, usize)>, FramingError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let text = first != b'$';
        if self.searched > 0 && !self.due(buf) {
            return Ok(None);
        }
        if text && may_start_message(buf) {
            self.examined = self
                .examined
                .saturating_add(u64::try_from(buf.len()).unwrap_or(u64::MAX));
        }
        let step = step(buf);
        let waiting = match &step {
            Ok(Step::More(more)) if text => match (head_end(buf, 0), more) {
                // The head is complete: the body needs `m` more bytes.
                (Some(_), Some(m)) => Some(Some(buf.len().saturating_add(*m))),
                // The head is not complete yet.
                (None, _) => Some(None),
                // Complete head, unknown need (not seen from rtsp-types): parse each time.
                (Some(_), None) => None,
            },
            _ => None,
        };
        if let Some(need) = waiting {
            self.parsed_at = buf.len();
            self.searched = buf.len().max(1);
            self.need = need;
        } else {
            self.searched = 0;
            self.need = None;
            self.parsed_at = 0;
        }
        let (frame, used) = match step? {
            Step::Unit(f, used) => (f, used),
            Step::Broken { skip, examined } => {
                let cost = u64::try_from(examined).unwrap_or(u64::MAX);
                if cost > self.allowance {
                    return Err(FramingError::Unparsable);
                }
                self.allowance -= cost;
                (Frame::Skipped(skip), skip)
            }
            Step::More(_) => return Ok(None),
        };
        let earned = u64::try_from(used)
            .unwrap_or(u64::MAX)
            .saturating_mul(PARSE_PER_BYTE);
        self.allowance = self.allowance.saturating_add(earned).min(PARSE_SAVED_MAX);
        Ok(Some((frame, used)))
    }

    /// Bytes given to the message parser so far.
    pub fn examined(&self) -> u64 {
        self.examined
    }

    /// Whether the waiting message may be complete (or found broken) with `buf`.
    fn due(&mut self, buf: &[u8]) -> bool {
        if buf.len() > MAX_MESSAGE_BYTES || buf.len() >= self.parsed_at.saturating_mul(2) {
            return true;
        }
        if let Some(need) = self.need {
            return buf.len() >= need;
        }
        // The end of the head may straddle the bytes searched and the new ones.
        let found = head_end(buf, self.searched.saturating_sub(3)).is_some();
        self.searched = buf.len().max(1);
        found
    }
}

/// Where the first `\r\n\r\n` at or after `from` ends.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from.saturating_add(p).saturating_add(4))
}

fn step(buf: &[u8]) -> Result<Step, FramingError> {
    let Some(&first) = buf.first() else {
        return Ok(Step::More(None));
    };
    if first == b'$' {
        if buf.len() < 4 {
            return Ok(Step::More(None));
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if buf.len() < 4 + len {
            return Ok(Step::More(None));
        }
        return Ok(Step::Unit(
            Frame::Data {
                channel: buf[1],
                start: 4,
                len,
            },
            4 + len,
        ));
    }
    if !may_start_message(buf) {
        let skip = resync(buf);
        return Ok(Step::Unit(Frame::Skipped(skip), skip));
    }
    // The start line alone first, so that garbage costs what its first line is: the
    // parser is given the whole buffer only when that line is a status or request line.
    let window = &buf[..buf.len().min(MAX_START_LINE.saturating_add(2))];
    let Some(line) = window.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() > MAX_START_LINE {
            return Ok(Step::Broken {
                skip: resync(buf),
                examined: window.len(),
            });
        }
        return Ok(Step::More(None));
    };
    let first_line = &buf[..line.saturating_add(2)];
    if let Err(rtsp_types::ParseError::Error) = rtsp_types::Message::<Vec<u8>>::parse(first_line) {
        return Ok(Step::Broken {
            skip: resync(buf),
            examined: first_line.len(),
        });
    }
    match rtsp_types::Message::<Vec<u8>>::parse(buf) {
        Ok((rtsp_types::Message::Response(r), used)) => {
            let headers = r
                .headers()
                .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
                .collect();
            Ok(Step::Unit(
                Frame::Response(Response {
                    status: u16::from(r.status()),
                    reason: r.reason_phrase().to_string(),
                    headers,
                    body: r.body().clone(),
                }),
                used,
            ))
        }
        Ok((rtsp_types::Message::Request(r), used)) => {
            let cseq = r
                .header(&rtsp_types::headers::CSEQ)
                .and_then(|v| v.as_str().trim().parse().ok());
            Ok(Step::Unit(
                Frame::Request {
                    method: <&str>::from(r.method()).to_string(),
                    cseq,
                },
                used,
            ))
        }
        Ok((rtsp_types::Message::Data(_), used)) => Ok(Step::Unit(Frame::Skipped(used), used)),
        Err(rtsp_types::ParseError::Incomplete(more)) => {
            if buf.len() > MAX_MESSAGE_BYTES {
                return Err(FramingError::MessageTooLarge);
            }
            Ok(Step::More(more.map(std::num::NonZeroUsize::get)))
        }
        Err(rtsp_types::ParseError::Error) => Ok(Step::Broken {
            skip: resync(buf),
            // Where the parser stopped is not told: at most the head, else all of it.
            examined: head_end(buf, 0).unwrap_or(buf.len()),
        }),
    }
}

/// How many bytes to skip to resynchronise: to the next byte that can start a unit (`$`,
/// or `R` of `RTSP/`), at least one.
fn resync(buf: &[u8]) -> usize {
    buf.iter()
        .skip(1)
        .position(|&c| c == b'$' || c == b'R')
        .map_or(buf.len(), |p| p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: abc;timeout=60\r\nContent-Length: 4\r\n\r\nv=0\n".to_vec();
        s.extend_from_slice(&[b'$', 0, 0, 3, 0x80, 0x60, 0x01]);
        s.extend_from_slice(&[b'$', 1, 0, 0]);
        s.extend_from_slice(b"RTSP/1.0 401 Unauthorized\r\nCSeq: 4\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n");
        s
    }

    /// `f` with a data frame's start counted from `offset` bytes earlier.
    fn shifted(f: Frame, offset: usize) -> Frame {
        match f {
            Frame::Data {
                channel,
                start,
                len,
            } => Frame::Data {
                channel,
                start: start + offset,
                len,
            },
            f => f,
        }
    }

    fn drain(buf: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some((f, used)) = next(&buf[pos..]).unwrap() {
            out.push(shifted(f, pos));
            pos += used;
        }
        out
    }

    #[test]
    fn test_mixed_stream() {
        let s = stream();
        let frames = drain(&s);
        assert_eq!(frames.len(), 4, "{frames:?}");
        let Frame::Response(r) = &frames[0] else {
            panic!()
        };
        assert_eq!(
            (r.status, r.cseq(), r.body.as_slice()),
            (200, Some(3), &b"v=0\n"[..])
        );
        assert_eq!(r.header("session"), Some("abc;timeout=60"));
        let Frame::Data {
            channel,
            start,
            len,
        } = frames[1]
        else {
            panic!()
        };
        assert_eq!(
            (channel, &s[start..start + len]),
            (0, &[0x80, 0x60, 0x01][..])
        );
        assert!(matches!(
            frames[2],
            Frame::Data {
                channel: 1,
                len: 0,
                ..
            }
        ));
        let Frame::Response(r) = &frames[3] else {
            panic!()
        };
        assert_eq!(r.status, 401);
    }

    /// Every split point: the first part yields only whole units, the rest completes them.
    #[test]
    fn test_every_split_point() {
        let s = stream();
        let whole = drain(&s);
        for split in 0..s.len() {
            let mut got = Vec::new();
            let mut buf = s[..split].to_vec();
            let mut pos = 0;
            while let Some((f, used)) = next(&buf[pos..]).unwrap() {
                assert!(
                    !matches!(f, Frame::Skipped(_)),
                    "split {split}: no resync on clean data"
                );
                got.push((f, pos));
                pos += used;
            }
            buf.drain(..pos);
            let consumed_before = pos;
            buf.extend_from_slice(&s[split..]);
            pos = 0;
            while let Some((f, used)) = next(&buf[pos..]).unwrap() {
                got.push((f, consumed_before + pos));
                pos += used;
            }
            let got: Vec<Frame> = got.into_iter().map(|(f, at)| shifted(f, at)).collect();
            assert_eq!(got, whole, "split at {split}");
        }
    }

    #[test]
    fn test_garbage_between_frames_resyncs() {
        let mut s = b"\x00\x01garbage".to_vec();
        s.extend_from_slice(&[b'$', 2, 0, 1, 0xAA]);
        let frames = drain(&s);
        assert!(
            matches!(
                frames.last(),
                Some(Frame::Data {
                    channel: 2,
                    len: 1,
                    ..
                })
            ),
            "{frames:?}"
        );
        assert!(
            frames[..frames.len() - 1]
                .iter()
                .all(|f| matches!(f, Frame::Skipped(_)))
        );
    }

    #[test]
    fn test_oversized_message_refused() {
        let mut s = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n".to_vec();
        s.resize(MAX_MESSAGE_BYTES + 10, b'x');
        assert_eq!(next(&s), Err(FramingError::MessageTooLarge));
    }

    /// Feeds `wire` to a [`Framer`] `piece` bytes at a time, as reads would: the units,
    /// the bytes given to the message parser, and the error that ended the stream.
    fn fed(wire: &[u8], piece: usize) -> (Vec<Frame>, u64, Option<FramingError>) {
        let mut framer = Framer::default();
        let mut buf: Vec<u8> = Vec::new();
        let mut units = Vec::new();
        for chunk in wire.chunks(piece) {
            buf.extend_from_slice(chunk);
            loop {
                match framer.next(&buf) {
                    Ok(Some((f, used))) => {
                        units.push(f);
                        buf.drain(..used);
                    }
                    Ok(None) => break,
                    Err(e) => return (units, framer.examined(), Some(e)),
                }
            }
        }
        (units, framer.examined(), None)
    }

    fn trickled(wire: &[u8], piece: usize) -> (Vec<Frame>, u64) {
        let (units, examined, error) = fed(wire, piece);
        assert_eq!(error, None);
        (units, examined)
    }

    /// Issue 23 point 9: a message trickled one byte per read is parsed a few times in
    /// all, not from its start at every read (which was about 24 GB of parsing for this
    /// 220 KB answer: its length squared over two).
    #[test]
    fn test_a_trickled_message_is_not_parsed_again_at_every_read() {
        let mut wire = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\n".to_vec();
        for i in 0..200 {
            wire.extend_from_slice(format!("X-Header-{i}: {}\r\n", "v".repeat(60)).as_bytes());
        }
        let body = "a=x\r\n".repeat(36_000);
        wire.extend_from_slice(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        wire.extend_from_slice(&[b'$', 0, 0, 2, 0xAB, 0xCD]);
        let len = wire.len() as u64;
        let (units, examined) = trickled(&wire, 1);
        assert_eq!(units.len(), 2, "{:?}", units.get(2));
        let Frame::Response(r) = &units[0] else {
            panic!("{:?}", units[0])
        };
        assert_eq!(
            (r.status, r.cseq(), r.body.len()),
            (200, Some(2), body.len())
        );
        assert!(matches!(
            units[1],
            Frame::Data {
                channel: 0,
                len: 2,
                ..
            }
        ));
        assert!(examined <= 4 * len, "{examined} bytes parsed for {len}");
        // The same in pieces of a TLS record's usual size.
        let (units, examined) = trickled(&wire, 1400);
        assert_eq!(units.len(), 2);
        assert!(examined <= 4 * len, "{examined} bytes parsed for {len}");
    }

    /// Issue 23 point 9: a head that does not parse, with a `$` frame in each header
    /// value and `RTSP/1.0 200 OK` after it, was parsed again after every frame up to its
    /// broken end (5,000 parses of 60 KB on average: 300 MB for 120 KB). Now the parsing
    /// spent on it is bounded by what the stream brought, and the stream is refused.
    #[test]
    fn test_messages_broken_over_and_over_cost_a_bounded_parse() {
        let mut wire = b"RTSP/1.0 200 OK\r\n".to_vec();
        for _ in 0..5_000 {
            wire.extend_from_slice(b"X: $\x00\x00\x00RTSP/1.0 200 OK\r\n");
        }
        wire.extend_from_slice(b"not a header\r\n\r\n");
        let len = wire.len() as u64;
        let (units, examined, error) = fed(&wire, wire.len());
        assert_eq!(
            error,
            Some(FramingError::Unparsable),
            "{} units",
            units.len()
        );
        assert!(
            examined <= PARSE_ALLOWANCE + 16 * len,
            "{examined} bytes parsed for {len}"
        );
        // The same with bare line feeds: rtsp-types reads a reason phrase up to the next
        // CRLF, so each `RTSP/` would be parsed to the far end.
        let mut wire = b"RTSP/1.0 200 OK\r\n".to_vec();
        for _ in 0..18_000 {
            wire.extend_from_slice(b"RTSP/1.0 200 \n");
        }
        wire.extend_from_slice(b"\r\nbad\r\n\r\n");
        let len = wire.len() as u64;
        let (_, examined, error) = fed(&wire, 1400);
        assert!(
            matches!(
                error,
                Some(FramingError::Unparsable | FramingError::Garbage)
            ),
            "{error:?}"
        );
        assert!(
            examined <= PARSE_ALLOWANCE + 16 * len,
            "{examined} bytes parsed for {len}"
        );
    }

    /// Junk that looks like the start of a request between frames does not hide the
    /// answer that follows them (a camera whose framing slips once).
    #[test]
    fn test_an_answer_after_junk_and_frames_is_found() {
        let mut wire = vec![b'$', 0, 0, 2, 1, 2];
        wire.extend_from_slice(b"AB \x01\x02");
        wire.extend_from_slice(&[b'$', 0, 0, 2, 3, 4]);
        wire.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n");
        for piece in [1, 7, wire.len()] {
            let (units, _) = trickled(&wire, piece);
            assert!(
                matches!(units.last(), Some(Frame::Response(r)) if r.cseq() == Some(5)),
                "pieces of {piece}: {units:?}"
            );
            let frames = units
                .iter()
                .filter(|u| matches!(u, Frame::Data { len: 2, .. }))
                .count();
            assert_eq!(frames, 2);
        }
    }

    #[test]
    fn test_server_request() {
        let s = b"GET_PARAMETER rtsp://c/ RTSP/1.0\r\nCSeq: 9\r\n\r\n";
        let f = drain(s);
        assert_eq!(
            f,
            vec![Frame::Request {
                method: "GET_PARAMETER".into(),
                cseq: Some(9)
            }]
        );
    }
}
