// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! RTSP over HTTP(S) (Apple's QuickTime tunnelling, ONVIF Streaming §5.1.1): a GET
//! connection carrying the server's RTSP responses and `$`-interleaved media, and a POST
//! connection carrying the client's requests, base64-encoded one message at a time. Both
//! are separate TLS connections with the element's checks, against the `location` host
//! (the `X-Server-IP-Address` header is never used), tied by a random `x-sessioncookie`.
//!
//! What other clients got wrong (`docs/rtsp-tunnel.md` §2): nothing ever answers the POST,
//! so it is never waited for; the GET reply may be HTTP/1.0 or HTTP/1.1; bytes read past
//! the GET's header belong to the RTSP stream; the request target keeps its query.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::device::Credentials;
use crate::digest::{self, Challenge, DigestSession};
use crate::error::Error;
use crate::http;
use crate::net;
use crate::onvif::addr::Origin;
use crate::onvifhttpssrc::imp::CAT;

/// Most redirects followed on the GET.
const MAX_REDIRECTS: usize = 5;
/// The POST's nominal length: servers and proxies ignore it (Apple's tunnelling note).
const POST_CONTENT_LENGTH: u32 = 32767;

/// The client→server half: raw for RTSP over TCP, base64 per message in a tunnel.
pub struct Writer {
    w: Box<dyn AsyncWrite + Unpin + Send>,
    base64: bool,
    /// Bytes written on the wire.
    pub written: u64,
}

impl Writer {
    /// Sends one RTSP message (or interleaved frame) in one write.
    pub async fn send(&mut self, msg: &[u8]) -> std::io::Result<()> {
        if self.base64 {
            let enc = base64::engine::general_purpose::STANDARD.encode(msg);
            self.w.write_all(enc.as_bytes()).await?;
            self.written += enc.len() as u64;
        } else {
            self.w.write_all(msg).await?;
            self.written += msg.len() as u64;
        }
        self.w.flush().await
    }
}

/// Both directions of an RTSP connection.
pub struct Channel {
    pub reader: Box<dyn AsyncRead + Unpin + Send>,
    /// Bytes already read past the GET's header: the start of the RTSP stream.
    pub initial: Vec<u8>,
    pub writer: Writer,
}

fn cookie() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut raw = [0u8; 22];
    let _ = getrandom::fill(&mut raw);
    raw.iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

enum TunnelAuth {
    None,
    Digest(DigestSession),
    Basic,
}

fn authorization(
    auth: &mut TunnelAuth,
    creds: Option<&Credentials>,
    method: &str,
    target: &str,
) -> Option<String> {
    let c = creds?;
    match auth {
        TunnelAuth::None => None,
        TunnelAuth::Digest(d) => {
            let mut cn = [0u8; 8];
            let _ = getrandom::fill(&mut cn);
            let cnonce: String = cn.iter().map(|b| format!("{b:02x}")).collect();
            Some(d.authorization(&c.user, &c.password, method, target, &cnonce))
        }
        TunnelAuth::Basic => Some(digest::basic_authorization(&c.user, &c.password)),
    }
}

/// Opens the tunnel to `target` (path and query) on `origin`.
pub async fn open(
    origin: &Origin,
    tls: Option<&Arc<ClientConfig>>,
    target: &str,
    creds: Option<&Credentials>,
    timeout: Duration,
) -> Result<Channel, Error> {
    let peer = origin.peer();
    let cookie = cookie();
    let mut target = target.to_string();
    let mut auth = TunnelAuth::None;
    let mut answered_challenge = false;
    let mut redirects = 0;
    let op = "RTSP tunnel GET";
    let (get, initial) = loop {
        let mut stream = net::connect(origin, tls, timeout).await?;
        let mut head = format!(
            "GET {target} HTTP/1.0\r\nHost: {}\r\nx-sessioncookie: {cookie}\r\n\
             Accept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n",
            origin.host_header()
        );
        if let Some(a) = authorization(&mut auth, creds, "GET", &target) {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        head.push_str(concat!(
            "User-Agent: onvifhttpssrc/",
            env!("CARGO_PKG_VERSION"),
            "\r\n\r\n"
        ));
        let io = |e: std::io::Error| Error::Io {
            peer: peer.clone(),
            operation: op.into(),
            detail: e.to_string(),
        };
        let (resp, rest) = tokio::time::timeout(timeout, async {
            stream.write_all(head.as_bytes()).await.map_err(io)?;
            stream.flush().await.map_err(io)?;
            let mut buf = Vec::with_capacity(4096);
            loop {
                if let Some(h) = http::parse_head(&buf).map_err(|e| Error::Malformed {
                    peer: peer.clone(),
                    operation: op.into(),
                    detail: e.to_string(),
                })? {
                    let rest = buf.split_off(h.len);
                    return Ok((h, rest));
                }
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.map_err(io)?;
                if n == 0 {
                    return Err(Error::Io {
                        peer: peer.clone(),
                        operation: op.into(),
                        detail: "the device closed the connection before answering".into(),
                    });
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .map_err(|_| Error::TimedOut {
            peer: peer.clone(),
            operation: op.into(),
            after: timeout,
        })??;
        gst::debug!(CAT, "{peer} GET {target} (tunnel) -> HTTP {}", resp.status);
        match resp.status {
            200 => break (stream, rest),
            // ONVIF says devices do not authenticate the tunnel at the HTTP level; some do.
            401 if creds.is_some() && !answered_challenge => {
                answered_challenge = true;
                auth = match digest::choose(resp.headers_named("www-authenticate"), tls.is_some()) {
                    Some(Challenge::Digest(d)) => TunnelAuth::Digest(DigestSession::new(d)),
                    Some(Challenge::Basic { .. }) => TunnelAuth::Basic,
                    None => {
                        return Err(Error::NotAuthorized {
                            peer,
                            operation: op.into(),
                            detail: "HTTP 401 with no challenge this client may answer".into(),
                        });
                    }
                };
            }
            401 => {
                return Err(Error::NotAuthorized {
                    peer,
                    operation: op.into(),
                    detail: "HTTP 401".into(),
                });
            }
            301 | 302 | 307 | 308 if redirects < MAX_REDIRECTS => {
                redirects += 1;
                // Only the path and query are taken: the tunnel stays on the verified origin.
                let location = resp.header("location").unwrap_or("/");
                target = if location.starts_with('/') {
                    location.to_string()
                } else {
                    crate::onvif::addr::path_and_query(location).unwrap_or_else(|| "/".into())
                };
            }
            status => {
                return Err(Error::HttpStatus {
                    peer,
                    operation: op.into(),
                    status,
                    reason: resp.reason.clone(),
                });
            }
        }
    };

    // The POST: written, never waited for.
    let mut post = net::connect(origin, tls, timeout).await?;
    let mut head = format!(
        "POST {target} HTTP/1.0\r\nHost: {}\r\nx-sessioncookie: {cookie}\r\n\
         Content-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\
         Expires: Sun, 9 Jan 1972 00:00:00 GMT\r\nContent-Length: {POST_CONTENT_LENGTH}\r\n",
        origin.host_header()
    );
    if let Some(a) = authorization(&mut auth, creds, "POST", &target) {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str(concat!(
        "User-Agent: onvifhttpssrc/",
        env!("CARGO_PKG_VERSION"),
        "\r\n\r\n"
    ));
    tokio::time::timeout(timeout, async {
        post.write_all(head.as_bytes()).await?;
        post.flush().await
    })
    .await
    .map_err(|_| Error::TimedOut {
        peer: peer.clone(),
        operation: "RTSP tunnel POST".into(),
        after: timeout,
    })?
    .map_err(|e| Error::Io {
        peer: peer.clone(),
        operation: "RTSP tunnel POST".into(),
        detail: e.to_string(),
    })?;
    let (_, post_w) = tokio::io::split(post);
    Ok(Channel {
        reader: Box::new(get),
        initial,
        writer: Writer {
            w: Box::new(post_w),
            base64: true,
            written: 0,
        },
    })
}

/// A plain RTSP connection (RTP interleaved over TCP): one socket for both directions.
pub async fn open_tcp(origin: &Origin, timeout: Duration) -> Result<Channel, Error> {
    let stream = net::connect(origin, None, timeout).await?;
    let (r, w) = tokio::io::split(stream);
    Ok(Channel {
        reader: Box::new(r),
        initial: Vec::new(),
        writer: Writer {
            w: Box::new(w),
            base64: false,
            written: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cookie_is_random_and_safe() {
        let a = cookie();
        let b = cookie();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
