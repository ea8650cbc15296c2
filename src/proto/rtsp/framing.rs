// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Splitting the server→client byte stream (the tunnel's GET body, or an RTSP TCP
//! connection) into RTSP messages and `$`-interleaved frames (RFC 2326 §10.12).
//!
//! Interleaved frames are returned as offsets into the caller's buffer, so the hot path
//! copies each packet once, into its `gst::Buffer`. Text messages are parsed with
//! `rtsp-types`. Garbage between frames is skipped up to the next `$` or `RTSP/`, within
//! [`MAX_MISPARSE_BYTES`]; a message longer than [`MAX_MESSAGE_BYTES`] is an error.

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
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first == b'$' {
        if buf.len() < 4 {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if buf.len() < 4 + len {
            return Ok(None);
        }
        return Ok(Some((
            Frame::Data {
                channel: buf[1],
                start: 4,
                len,
            },
            4 + len,
        )));
    }
    if may_start_message(buf) {
        match rtsp_types::Message::<Vec<u8>>::parse(buf) {
            Ok((rtsp_types::Message::Response(r), used)) => {
                let headers = r
                    .headers()
                    .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
                    .collect();
                return Ok(Some((
                    Frame::Response(Response {
                        status: u16::from(r.status()),
                        reason: r.reason_phrase().to_string(),
                        headers,
                        body: r.body().clone(),
                    }),
                    used,
                )));
            }
            Ok((rtsp_types::Message::Request(r), used)) => {
                let cseq = r
                    .header(&rtsp_types::headers::CSEQ)
                    .and_then(|v| v.as_str().trim().parse().ok());
                return Ok(Some((
                    Frame::Request {
                        method: <&str>::from(r.method()).to_string(),
                        cseq,
                    },
                    used,
                )));
            }
            Ok((rtsp_types::Message::Data(_), used)) => {
                return Ok(Some((Frame::Skipped(used), used)));
            }
            Err(rtsp_types::ParseError::Incomplete(_)) => {
                if buf.len() > MAX_MESSAGE_BYTES {
                    return Err(FramingError::MessageTooLarge);
                }
                return Ok(None);
            }
            Err(rtsp_types::ParseError::Error) => {}
        }
    }
    // Resynchronise: skip to the next byte that can start a unit.
    let skip = buf[1..]
        .iter()
        .position(|&c| c == b'$' || c == b'R')
        .map(|p| p + 1)
        .unwrap_or(buf.len());
    Ok(Some((Frame::Skipped(skip), skip)))
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
