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

use crate::transport::tls;
use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::Error;
use crate::proto::auth::{self, Credentials, HttpAuth, Policy, Unanswered};
use crate::proto::http;
use crate::proto::onvif::addr::Origin;
use crate::transport::net;

/// Most redirects followed on the GET.
const MAX_REDIRECTS: usize = 5;
/// The POST's nominal length: servers and proxies ignore it (Apple's tunnelling note).
const POST_CONTENT_LENGTH: u32 = 32767;

/// The client→server half: raw for RTSP over TCP, base64 per message in a tunnel.
pub struct Writer {
    w: Box<dyn AsyncWrite + Unpin + Send>,
    /// The POST's receiving half: nothing ever comes on it, so an end of stream there
    /// means the server (or a proxy) closed the POST.
    r: Option<Box<dyn AsyncRead + Unpin + Send>>,
    base64: bool,
    /// Bytes written on the wire (on the current POST).
    pub written: u64,
    /// How to open another POST with the same cookie; `None` for plain RTSP over TCP.
    reopen: Option<PostLeg>,
    /// POSTs opened again so far.
    pub reopened: u32,
}

/// What it takes to open a POST leg again (`docs/rtsp-tunnel.md` §2: `Content-Length:
/// 32767` is nominal, and a server or proxy may close the POST; gst-rtsp-server re-attaches
/// a new POST with the same cookie).
struct PostLeg {
    origin: Origin,
    tls: Option<Arc<tls::TlsConfig>>,
    target: String,
    cookie: String,
    creds: Option<Credentials>,
    auth: HttpAuth,
    timeout: Duration,
}

impl Writer {
    /// Whether requests go on a tunnel's POST (base64), not on a plain RTSP connection.
    pub fn is_tunnel(&self) -> bool {
        self.base64
    }

    /// Whether the peer has closed the POST (checked without waiting).
    async fn peer_closed(&mut self) -> bool {
        let Some(r) = self.r.as_mut() else {
            return false;
        };
        let mut scratch = [0u8; 256];
        matches!(
            tokio::time::timeout(Duration::ZERO, r.read(&mut scratch)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    async fn write_once(&mut self, msg: &[u8]) -> std::io::Result<()> {
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

    async fn reopen_post(&mut self) -> std::io::Result<()> {
        let Some(leg) = self.reopen.as_mut() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "connection closed",
            ));
        };
        // The error itself travels inside the io::Error (see `Error::io`): a certificate
        // refused here is as final as on the first connection.
        let (r, w) = open_post(leg).await.map_err(std::io::Error::other)?;
        crate::log::debug!(
            "{}: the POST was closed; opened a new one with the same cookie",
            leg.origin.peer()
        );
        self.r = Some(r);
        self.w = w;
        self.written = 0;
        self.reopened += 1;
        Ok(())
    }

    /// Sends one RTSP message (or interleaved frame) in one write. In a tunnel, a POST the
    /// server has closed is opened again first, and a failed write is retried once on a
    /// new POST.
    pub async fn send(&mut self, msg: &[u8]) -> std::io::Result<()> {
        if self.reopen.is_some() && self.peer_closed().await {
            self.reopen_post().await?;
        }
        match self.write_once(msg).await {
            Ok(()) => Ok(()),
            Err(_) if self.reopen.is_some() => {
                self.reopen_post().await?;
                self.write_once(msg).await
            }
            Err(e) => Err(e),
        }
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
    auth::random::<22>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Opens the tunnel to `target` (path and query) on `origin`.
pub async fn open(
    origin: &Origin,
    tls: Option<&Arc<tls::TlsConfig>>,
    target: &str,
    creds: Option<&Credentials>,
    timeout: Duration,
) -> Result<Channel, Error> {
    let peer = origin.peer();
    let cookie = cookie();
    let mut target = target.to_string();
    let mut auth = HttpAuth::None;
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
        if let Some(a) = auth.authorization(creds, "GET", &target) {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        head.push_str(concat!(
            "User-Agent: onvifhttpssrc/",
            env!("CARGO_PKG_VERSION"),
            "\r\n\r\n"
        ));
        let io = |e: std::io::Error| Error::io(&peer, op, e);
        let (resp, rest) = tokio::time::timeout(timeout, async {
            stream.write_all(head.as_bytes()).await.map_err(io)?;
            stream.flush().await.map_err(io)?;
            let mut buf = Vec::with_capacity(4096);
            loop {
                if let Some(h) = http::parse_head(&buf).map_err(|e| Error::Malformed {
                    at: crate::error::At::here(),
                    peer: peer.clone(),
                    operation: op.into(),
                    detail: e.to_string(),
                    position: None,
                })? {
                    let rest = buf.split_off(h.len);
                    return Ok((h, rest));
                }
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.map_err(io)?;
                if n == 0 {
                    return Err(Error::Io {
                        at: crate::error::At::here(),
                        peer: peer.clone(),
                        operation: op.into(),
                        detail: "the device closed the connection before answering".into(),
                        source: None,
                    });
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .map_err(|_| Error::TimedOut {
            at: crate::error::At::here(),
            peer: peer.clone(),
            operation: op.into(),
            after: timeout,
        })??;
        crate::log::debug!("{peer} GET {target} (tunnel) -> HTTP {}", resp.status);
        match resp.status {
            200 => break (stream, rest),
            // ONVIF says devices do not authenticate the tunnel at the HTTP level; some do.
            401 if creds.is_some() && !answered_challenge => {
                answered_challenge = true;
                // Over plain HTTP only with https-enable=false: chosen in clear.
                let policy = Policy::for_exchange(tls.map(|t| t.peer_authenticated), true);
                match auth.adopt(resp.headers_named("www-authenticate"), policy) {
                    Ok(()) => {}
                    Err(Unanswered::Withheld(reason)) => {
                        return Err(Error::CredentialsWithheld {
                            at: crate::error::At::here(),
                            peer,
                            operation: op.into(),
                            reason: reason.into(),
                        });
                    }
                    Err(Unanswered::NoChallenge) => {
                        return Err(Error::NotAuthorized {
                            at: crate::error::At::here(),
                            peer,
                            operation: op.into(),
                            detail: "HTTP 401 with no challenge this client may answer".into(),
                        });
                    }
                }
            }
            401 => {
                return Err(Error::NotAuthorized {
                    at: crate::error::At::here(),
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
                    crate::proto::onvif::addr::path_and_query(location)
                        .unwrap_or_else(|| "/".into())
                };
            }
            status => {
                return Err(Error::HttpStatus {
                    at: crate::error::At::here(),
                    peer,
                    operation: op.into(),
                    status,
                    reason: resp.reason.clone(),
                });
            }
        }
    };

    // The POST: written, never waited for.
    let mut leg = PostLeg {
        origin: origin.clone(),
        tls: tls.cloned(),
        target,
        cookie,
        creds: creds.cloned(),
        auth,
        timeout,
    };
    let (post_r, post_w) = open_post(&mut leg).await?;
    Ok(Channel {
        reader: Box::new(get),
        initial,
        writer: Writer {
            w: post_w,
            r: Some(post_r),
            base64: true,
            written: 0,
            reopen: Some(leg),
            reopened: 0,
        },
    })
}

type Halves = (
    Box<dyn AsyncRead + Unpin + Send>,
    Box<dyn AsyncWrite + Unpin + Send>,
);

/// Opens a POST leg and writes its head.
async fn open_post(leg: &mut PostLeg) -> Result<Halves, Error> {
    let peer = leg.origin.peer();
    let mut post = net::connect(&leg.origin, leg.tls.as_ref(), leg.timeout).await?;
    let mut head = format!(
        "POST {} HTTP/1.0\r\nHost: {}\r\nx-sessioncookie: {}\r\n\
         Content-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\
         Expires: Sun, 9 Jan 1972 00:00:00 GMT\r\nContent-Length: {POST_CONTENT_LENGTH}\r\n",
        leg.target,
        leg.origin.host_header(),
        leg.cookie
    );
    if let Some(a) = leg
        .auth
        .authorization(leg.creds.as_ref(), "POST", &leg.target)
    {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str(concat!(
        "User-Agent: onvifhttpssrc/",
        env!("CARGO_PKG_VERSION"),
        "\r\n\r\n"
    ));
    tokio::time::timeout(leg.timeout, async {
        post.write_all(head.as_bytes()).await?;
        post.flush().await
    })
    .await
    .map_err(|_| Error::TimedOut {
        at: crate::error::At::here(),
        peer: peer.clone(),
        operation: "RTSP tunnel POST".into(),
        after: leg.timeout,
    })?
    .map_err(|e| Error::io(&peer, "RTSP tunnel POST", e))?;
    let (r, w) = tokio::io::split(post);
    Ok((Box::new(r), Box::new(w)))
}

impl Channel {
    /// A channel over one plain byte stream in each direction (RTSP over TCP).
    pub fn plain(
        r: Box<dyn AsyncRead + Unpin + Send>,
        w: Box<dyn AsyncWrite + Unpin + Send>,
    ) -> Channel {
        Channel {
            reader: r,
            initial: Vec::new(),
            writer: Writer {
                w,
                r: None,
                base64: false,
                written: 0,
                reopen: None,
                reopened: 0,
            },
        }
    }
}

#[cfg(test)]
impl Channel {
    /// A channel whose requests are base64 per message, as on a tunnel's POST, over two
    /// byte streams (unit tests of the RTSP client).
    pub(crate) fn tunnel_pipe(
        r: Box<dyn AsyncRead + Unpin + Send>,
        w: Box<dyn AsyncWrite + Unpin + Send>,
    ) -> Channel {
        let mut c = Channel::plain(r, w);
        c.writer.base64 = true;
        c
    }
}

/// A plain RTSP connection (RTP interleaved over TCP): one socket for both directions.
pub async fn open_tcp(origin: &Origin, timeout: Duration) -> Result<Channel, Error> {
    let stream = net::connect(origin, None, timeout).await?;
    let (r, w) = tokio::io::split(stream);
    Ok(Channel::plain(Box::new(r), Box::new(w)))
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
