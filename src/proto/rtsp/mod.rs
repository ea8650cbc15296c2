// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! RTSP/1.0 without I/O: requests, responses (parsed with `rtsp-types`), the `$`
//! interleaved framing of RFC 2326 §10.12, header helpers and SDP.

pub mod exchange;
pub mod framing;
pub mod rekey;
pub mod sdp;
pub mod seek;
pub mod sequence;
pub mod session;
pub mod transport;
pub mod url;

/// A parsed RTSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::proto::http::values(&self.headers, name).next()
    }

    /// All values of a header.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        crate::proto::http::values(&self.headers, name)
    }

    /// The CSeq, if present and numeric.
    pub fn cseq(&self) -> Option<u32> {
        self.header("cseq").and_then(|v| v.trim().parse().ok())
    }
}

/// Why a request could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderInjection(pub String);

/// Builds an RTSP/1.0 request. Header values come partly from the device (session ids)
/// and the user (URIs): a CR or LF in any of them is refused, never sent.
pub fn build_request(
    method: &str,
    uri: &str,
    cseq: u32,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>, HeaderInjection> {
    build_request_with_body(method, uri, cseq, headers, None)
}

/// [`build_request`] with a body (`SET_PARAMETER`'s): its type, and its length in
/// `Content-Length` (RFC 2326 §12.14: a request with a body must say it).
pub fn build_request_with_body(
    method: &str,
    uri: &str,
    cseq: u32,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> Result<Vec<u8>, HeaderInjection> {
    let bad = |s: &str| s.contains(['\r', '\n']);
    if bad(method) || bad(uri) || method.contains(' ') || uri.contains(' ') {
        return Err(HeaderInjection(format!("{method} {uri}")));
    }
    let mut out = format!("{method} {uri} RTSP/1.0\r\nCSeq: {cseq}\r\n");
    for (k, v) in headers {
        if bad(k) || bad(v) {
            return Err(HeaderInjection((*k).to_string()));
        }
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((kind, bytes)) = body {
        if bad(kind) {
            return Err(HeaderInjection("Content-Type".into()));
        }
        out.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    out.push_str(concat!(
        "User-Agent: onvifhttpssrc/",
        env!("CARGO_PKG_VERSION"),
        "\r\n\r\n"
    ));
    let mut out = out.into_bytes();
    if let Some((_, bytes)) = body {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// `Session: id;timeout=60` → `("id", Some(60))`.
pub fn parse_session(v: &str) -> (String, Option<u32>) {
    let mut parts = v.split(';');
    let id = parts.next().unwrap_or("").trim().to_string();
    let timeout = parts
        .filter_map(|p| p.trim().strip_prefix("timeout="))
        .find_map(|t| t.trim().parse().ok());
    (id, timeout)
}

/// The keep-alive period for a session timeout, in seconds (`docs/rtsp-tunnel.md` §0 item
/// 5): 5 s early from 20 s up, 20% early from 5 s, 1 s early below; 60 s assumed when the
/// server gives none.
pub fn keepalive_secs(timeout: Option<u32>) -> f64 {
    let t = f64::from(timeout.unwrap_or(60).max(1));
    if t >= 20.0 {
        t - 5.0
    } else if t >= 5.0 {
        t * 0.8
    } else {
        (t - 1.0).max(0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_request_bytes_and_injection() {
        let r = build_request("OPTIONS", "rtsp://h/x?y=1", 7, &[("Session", "abc")]).unwrap();
        let s = String::from_utf8(r).unwrap();
        assert!(s.starts_with("OPTIONS rtsp://h/x?y=1 RTSP/1.0\r\nCSeq: 7\r\nSession: abc\r\n"));
        assert!(s.ends_with("\r\n\r\n"));
        assert!(build_request("OPTIONS", "rtsp://h/x", 1, &[("Session", "a\r\nX: y")]).is_err());
        assert!(build_request("OPTIONS", "rtsp://h/x\r\n", 1, &[]).is_err());
    }

    #[test]
    fn test_session() {
        assert_eq!(
            parse_session("DM-IQ.EG1sZScLiz;timeout=60"),
            ("DM-IQ.EG1sZScLiz".into(), Some(60))
        );
        assert_eq!(parse_session(" 1234 "), ("1234".into(), None));
    }

    #[test]
    fn test_keepalive_margins() {
        assert_eq!(keepalive_secs(Some(60)), 55.0);
        assert_eq!(keepalive_secs(Some(10)), 8.0);
        assert_eq!(keepalive_secs(Some(3)), 2.0);
        assert_eq!(keepalive_secs(None), 55.0);
    }
}
