// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! HTTP/1.1 message handling without I/O: requests written in one buffer (some gSOAP
//! firmwares stall when a request is split across TLS records, Apra-Labs ODM PR #8), and
//! responses parsed from a buffer with `httparse`, with capped head and body sizes.

/// Largest response head accepted.
pub const MAX_HEAD_LEN: usize = 64 * 1024;
/// Most header lines accepted in one response.
pub const MAX_HEADERS: usize = 64;
/// Longest chunk-size line accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 1024;

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// Not HTTP, with what was wrong.
    Malformed(String),
    /// A head or body larger than its cap.
    TooLarge { what: &'static str, limit: u64 },
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Malformed(s) => write!(f, "malformed HTTP response: {s}"),
            HttpError::TooLarge { what, limit } => {
                write!(f, "HTTP {what} larger than the limit of {limit} bytes")
            }
        }
    }
}

impl std::error::Error for HttpError {}

/// Builds a request with `Host`, `Content-Length` (when there is a body) and the given
/// headers, head and body in one buffer.
pub fn build_request(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// Bytes of the head, including the empty line.
    pub len: usize,
}

/// All values of a header in a header list (case-insensitive name); shared by HTTP and
/// RTSP responses.
pub fn values<'a, 'n>(
    headers: &'a [(String, String)],
    name: &'n str,
) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl ResponseHead {
    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        values(&self.headers, name).next()
    }

    /// All values of a header.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        values(&self.headers, name)
    }

    /// How the body is delimited (RFC 9112 §6.3). A response to HEAD, 1xx, 204 and 304 has
    /// no body; the caller handles HEAD.
    pub fn framing(&self) -> Result<Framing, HttpError> {
        if self.status / 100 == 1 || self.status == 204 || self.status == 304 {
            return Ok(Framing::Length(0));
        }
        if let Some(te) = self.header("transfer-encoding")
            && te.to_ascii_lowercase().contains("chunked")
        {
            return Ok(Framing::Chunked);
        }
        match self.header("content-length") {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Framing::Length)
                .map_err(|_| HttpError::Malformed(format!("Content-Length {v:?}"))),
            None => Ok(Framing::UntilClose),
        }
    }

    /// Whether the connection stays open after this response.
    pub fn keep_alive(&self) -> bool {
        let conn = self
            .header("connection")
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if self.version == 0 {
            conn.contains("keep-alive")
        } else {
            !conn.contains("close")
        }
    }
}

/// Parses a response head from the start of `buf`. `Ok(None)`: need more bytes.
pub fn parse_head(buf: &[u8]) -> Result<Option<ResponseHead>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(ResponseHead {
            version: resp.version.unwrap_or(1),
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_string(),
            headers: resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).trim().to_string(),
                    )
                })
                .collect(),
            len,
        })),
        Ok(httparse::Status::Partial) => {
            if buf.len() > MAX_HEAD_LEN {
                Err(HttpError::TooLarge {
                    what: "response head",
                    limit: MAX_HEAD_LEN as u64,
                })
            } else {
                Ok(None)
            }
        }
        Err(httparse::Error::TooManyHeaders) => Err(HttpError::TooLarge {
            what: "header count",
            limit: MAX_HEADERS as u64,
        }),
        Err(e) => Err(HttpError::Malformed(e.to_string())),
    }
}

/// Most bytes of trailer fields after the last chunk.
const MAX_TRAILERS: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes to go.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk, until an empty one.
    Trailers,
    Done,
}

/// An incremental chunked-body decoder (RFC 9112 §7.1): each call consumes what it can
/// from the front of the buffer, so a body is decoded once however it arrives, and the
/// raw bytes held are never more than one chunk-size or trailer line.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: ChunkState,
    body: Vec<u8>,
    limit: u64,
    trailers: usize,
}

impl ChunkedDecoder {
    pub fn new(limit: u64) -> Self {
        Self {
            state: ChunkState::Size,
            body: Vec::new(),
            limit,
            trailers: 0,
        }
    }

    /// Consumes from the front of `buf`; `Ok(true)` once the body and its trailers are
    /// complete (take it with [`Self::into_body`]).
    pub fn feed(&mut self, buf: &mut Vec<u8>) -> Result<bool, HttpError> {
        let mut pos = 0usize;
        let r = self.step(buf, &mut pos);
        buf.drain(..pos.min(buf.len()));
        r
    }

    fn step(&mut self, buf: &[u8], pos: &mut usize) -> Result<bool, HttpError> {
        loop {
            let rest = buf.get(*pos..).unwrap_or_default();
            match self.state {
                ChunkState::Done => return Ok(true),
                ChunkState::Size => {
                    let Some(eol) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(HttpError::Malformed("chunk size line too long".into()));
                        }
                        return Ok(false);
                    };
                    if eol > MAX_CHUNK_LINE {
                        return Err(HttpError::Malformed("chunk size line too long".into()));
                    }
                    let line = std::str::from_utf8(&rest[..eol])
                        .map_err(|_| HttpError::Malformed("chunk size is not ASCII".into()))?;
                    let size_hex = line.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(size_hex, 16)
                        .map_err(|_| HttpError::Malformed(format!("chunk size {size_hex:?}")))?;
                    *pos += eol + 2;
                    if size == 0 {
                        self.state = ChunkState::Trailers;
                        continue;
                    }
                    let total = (self.body.len() as u64).checked_add(size);
                    if total.is_none_or(|t| t > self.limit) {
                        return Err(HttpError::TooLarge {
                            what: "body",
                            limit: self.limit,
                        });
                    }
                    self.state = ChunkState::Data(size);
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(false);
                    }
                    // Both bounded: `left` by the limit, the slice by the buffer.
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    self.body.extend_from_slice(&rest[..take]);
                    *pos += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(false);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
                    }
                    *pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    let Some(eol) = find_crlf(rest) else {
                        if self.trailers.saturating_add(rest.len()) > MAX_TRAILERS {
                            return Err(HttpError::TooLarge {
                                what: "chunked trailers",
                                limit: MAX_TRAILERS as u64,
                            });
                        }
                        return Ok(false);
                    };
                    self.trailers = self.trailers.saturating_add(eol + 2);
                    if self.trailers > MAX_TRAILERS {
                        return Err(HttpError::TooLarge {
                            what: "chunked trailers",
                            limit: MAX_TRAILERS as u64,
                        });
                    }
                    *pos += eol + 2;
                    if eol == 0 {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }

    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// Decodes a complete chunked body from the start of `buf`, trailers included.
/// `Ok(None)`: need more bytes. Returns the body and the bytes consumed.
pub fn decode_chunked(buf: &[u8], limit: u64) -> Result<Option<(Vec<u8>, usize)>, HttpError> {
    let mut d = ChunkedDecoder::new(limit);
    let mut pos = 0usize;
    if d.step(buf, &mut pos)? {
        Ok(Some((d.into_body(), pos)))
    } else {
        Ok(None)
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_request_bytes() {
        let r = build_request(
            "POST",
            "/onvif/device_service",
            "127.0.0.1:8443",
            &[("Content-Type", "application/soap+xml")],
            b"<x/>",
        );
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "POST /onvif/device_service HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nContent-Type: application/soap+xml\r\nContent-Length: 4\r\n\r\n<x/>"
        );
    }

    #[test]
    fn test_head_at_every_split_point() {
        let msg = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";
        let head_len = msg.len() - 5;
        for split in 0..head_len {
            assert_eq!(parse_head(&msg[..split]).unwrap(), None, "split {split}");
        }
        let h = parse_head(msg).unwrap().unwrap();
        assert_eq!((h.version, h.status, h.len), (0, 200, head_len));
        assert_eq!(h.framing().unwrap(), Framing::Length(5));
        assert!(h.keep_alive());
    }

    #[test]
    fn test_framing_rules() {
        let h = |s: &str| parse_head(s.as_bytes()).unwrap().unwrap();
        assert_eq!(
            h("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")
                .framing()
                .unwrap(),
            Framing::Chunked
        );
        assert_eq!(
            h("HTTP/1.1 200 OK\r\n\r\n").framing().unwrap(),
            Framing::UntilClose
        );
        assert!(
            h("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
                .framing()
                .is_err()
        );
        assert_eq!(
            h("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n")
                .framing()
                .unwrap(),
            Framing::Length(1 << 40),
            "the caller compares against its cap"
        );
        assert!(!h("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keep_alive());
        assert!(!h("HTTP/1.0 200 OK\r\n\r\n").keep_alive());
    }

    #[test]
    fn test_head_too_large() {
        let mut msg = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        msg.extend(std::iter::repeat_n(b'a', MAX_HEAD_LEN));
        assert!(matches!(parse_head(&msg), Err(HttpError::TooLarge { .. })));
    }

    #[test]
    fn test_chunked_at_every_split_point() {
        let msg = b"4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let total = msg.len() - 4;
        for split in 0..total {
            assert_eq!(
                decode_chunked(&msg[..split], 100).unwrap(),
                None,
                "split {split}"
            );
        }
        assert_eq!(
            decode_chunked(msg, 100).unwrap(),
            Some((b"Wikipedia ".to_vec(), total))
        );
        assert!(matches!(
            decode_chunked(msg, 5),
            Err(HttpError::TooLarge { .. })
        ));
        assert!(decode_chunked(b"zz\r\n", 100).is_err());
        assert!(decode_chunked(b"2\r\nabXY", 100).is_err());
    }

    /// Security review: a size of 2^64-1 overflowed the length check (a panic in debug,
    /// a wrapped check and a slice panic in release).
    #[test]
    fn test_chunk_size_overflow_is_too_large() {
        for size in ["ffffffffffffffff", "fffffffffffffff0", "10000000000000000"] {
            let msg = format!("1\r\na\r\n{size}\r\nxx");
            let r = decode_chunked(msg.as_bytes(), 1 << 20);
            assert!(
                matches!(
                    r,
                    Err(HttpError::TooLarge { .. }) | Err(HttpError::Malformed(_))
                ),
                "{size}: {r:?}"
            );
        }
    }

    #[test]
    fn test_chunk_lines_and_trailers_capped() {
        // A complete but overlong size line (the CRLF arrived with it).
        let long = format!("{}1\r\nx\r\n0\r\n\r\n", "0".repeat(MAX_CHUNK_LINE + 1));
        assert!(matches!(
            decode_chunked(long.as_bytes(), 100),
            Err(HttpError::Malformed(_))
        ));
        // Endless trailers, complete lines or one unterminated one.
        let mut trailers = b"0\r\n".to_vec();
        while trailers.len() < 2 * MAX_TRAILERS {
            trailers.extend_from_slice(b"X-T: 1\r\n");
        }
        assert!(matches!(
            decode_chunked(&trailers, 100),
            Err(HttpError::TooLarge {
                what: "chunked trailers",
                ..
            })
        ));
        let mut open = b"0\r\n".to_vec();
        open.extend(std::iter::repeat_n(b'a', MAX_TRAILERS + 1));
        assert!(matches!(
            decode_chunked(&open, 100),
            Err(HttpError::TooLarge {
                what: "chunked trailers",
                ..
            })
        ));
    }

    /// Fed a byte at a time, the decoder keeps at most a line of raw bytes and decodes
    /// each byte once.
    #[test]
    fn test_incremental_decoding_holds_little() {
        let mut msg = Vec::new();
        for _ in 0..100 {
            msg.extend_from_slice(b"400\r\n");
            msg.extend(std::iter::repeat_n(b'z', 0x400));
            msg.extend_from_slice(b"\r\n");
        }
        msg.extend_from_slice(b"0\r\n\r\n");
        let mut d = ChunkedDecoder::new(1 << 20);
        let mut buf = Vec::new();
        let mut most = 0;
        let mut done = false;
        for b in &msg {
            buf.push(*b);
            done = d.feed(&mut buf).unwrap();
            most = most.max(buf.len());
        }
        assert!(done);
        assert!(most <= 5, "held {most} raw bytes");
        assert_eq!(d.into_body().len(), 100 * 0x400);
    }
}
