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

/// Decodes a complete chunked body from the start of `buf`, trailers included.
/// `Ok(None)`: need more bytes. Returns the body and the bytes consumed.
pub fn decode_chunked(buf: &[u8], limit: u64) -> Result<Option<(Vec<u8>, usize)>, HttpError> {
    let mut body = Vec::new();
    let mut pos = 0usize;
    loop {
        let Some(eol) = find_crlf(&buf[pos..]) else {
            if buf.len() - pos > MAX_CHUNK_LINE {
                return Err(HttpError::Malformed("chunk size line too long".into()));
            }
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[pos..pos + eol])
            .map_err(|_| HttpError::Malformed("chunk size is not ASCII".into()))?;
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_hex, 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size {size_hex:?}")))?;
        pos += eol + 2;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let Some(eol) = find_crlf(&buf[pos..]) else {
                    return Ok(None);
                };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if body.len() as u64 + size > limit {
            return Err(HttpError::TooLarge {
                what: "body",
                limit,
            });
        }
        // `size` is bounded by `limit`, which fits in memory.
        let size = size as usize;
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size;
        if &buf[pos..pos + 2] != b"\r\n" {
            return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
        }
        pos += 2;
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
}
