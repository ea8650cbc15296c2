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

use crate::error::{Context, Error};
use crate::proto::auth::{self, Attempt, Credentials, HttpAuth, Policy, Verdict};
use crate::proto::http;
use crate::proto::onvif::addr::Origin;
use crate::transport::channel::{About, Channel, Sending};
use crate::transport::net;

/// Most redirects followed on the GET.
const MAX_REDIRECTS: usize = 5;
/// The POST's nominal length: servers and proxies ignore it (Apple's tunnelling note).
const POST_CONTENT_LENGTH: u32 = 32767;

/// The tunnel as a [`Channel`]: the GET's stream is read, requests go base64 on the POST.
pub struct Tunnel {
    get: Box<dyn AsyncRead + Unpin + Send>,
    /// Bytes already read past the GET's header: the start of the RTSP stream.
    pub initial: Vec<u8>,
    post: Post,
    about: About,
}

/// The client→server half: base64 per message on the POST.
struct Post {
    w: Box<dyn AsyncWrite + Unpin + Send>,
    /// The POST's receiving half: nothing ever comes on it, so an end of stream there
    /// means the server (or a proxy) closed the POST.
    r: Option<Box<dyn AsyncRead + Unpin + Send>>,
    /// How to open another POST with the same cookie (`None`: a test's pipe).
    reopen: Option<PostLeg>,
    /// POSTs opened again so far.
    reopened: u32,
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

impl Post {
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
        let enc = base64::engine::general_purpose::STANDARD.encode(msg);
        self.w.write_all(enc.as_bytes()).await?;
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
        self.reopened = self.reopened.saturating_add(1);
        Ok(())
    }

    /// Sends one RTSP message (or interleaved frame) in one write. A POST the server has
    /// closed is opened again first, and a failed write is retried once on a new POST.
    async fn send(&mut self, msg: &[u8]) -> std::io::Result<()> {
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

impl AsyncRead for Tunnel {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get).poll_read(cx, buf)
    }
}

impl Channel for Tunnel {
    fn send<'a>(&'a mut self, msg: &'a [u8]) -> Sending<'a> {
        Box::pin(self.post.send(msg))
    }

    fn take_initial(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.initial)
    }

    fn about(&self) -> &About {
        &self.about
    }

    fn reopened(&self) -> u32 {
        self.post.reopened
    }
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
) -> Result<Tunnel, Error> {
    let peer = origin.peer();
    let cookie = cookie();
    let mut target = target.to_string();
    let mut auth = HttpAuth::None;
    let mut attempt = Attempt::default();
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
        let ctx = Context::new(&peer, op);
        let (resp, rest) = ctx
            .within(timeout, async {
                stream
                    .write_all(head.as_bytes())
                    .await
                    .map_err(|e| ctx.io(e))?;
                stream.flush().await.map_err(|e| ctx.io(e))?;
                let mut buf = Vec::with_capacity(4096);
                loop {
                    if let Some(h) =
                        http::parse_head(&buf).map_err(|e| ctx.malformed(e.to_string(), None))?
                    {
                        let rest = buf.split_off(h.len);
                        return Ok((h, rest));
                    }
                    let mut chunk = [0u8; 4096];
                    let n = stream.read(&mut chunk).await.map_err(|e| ctx.io(e))?;
                    if n == 0 {
                        return Err(ctx.broken("the device closed the connection before answering"));
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            })
            .await?;
        crate::log::debug!("{peer} GET {target} (tunnel) -> HTTP {}", resp.status);
        match resp.status {
            200 => break (stream, rest),
            // ONVIF says devices do not authenticate the tunnel at the HTTP level; some do.
            // Over plain HTTP only with https-enable=false: chosen in clear.
            401 => {
                let policy = Policy::for_exchange(
                    tls.map(|t| t.authenticates(net::bare_host(&origin.host), origin.port)),
                    true,
                );
                let detail = match attempt.on_401(
                    &mut auth,
                    creds.is_some(),
                    resp.headers_named("www-authenticate"),
                    policy,
                ) {
                    Verdict::Again => continue,
                    Verdict::Withheld(reason) => return Err(ctx.withheld(reason)),
                    Verdict::NoChallenge => "HTTP 401 with no challenge this client may answer",
                    Verdict::NoCredentials | Verdict::Refused => "HTTP 401",
                };
                return Err(ctx.not_authorized(detail));
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
            status => return Err(ctx.status(status, resp.reason.clone())),
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
    Ok(Tunnel {
        get: Box::new(get),
        initial,
        post: Post {
            w: post_w,
            r: Some(post_r),
            reopen: Some(leg),
            reopened: 0,
        },
        about: About {
            peer,
            tls: tls.map(|t| t.authenticates(net::bare_host(&origin.host), origin.port)),
            requests_meet_reports: true,
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
    let ctx = Context::new(&peer, "RTSP tunnel POST");
    ctx.within(leg.timeout, async {
        post.write_all(head.as_bytes())
            .await
            .map_err(|e| ctx.io(e))?;
        post.flush().await.map_err(|e| ctx.io(e))
    })
    .await?;
    let (r, w) = tokio::io::split(post);
    Ok((Box::new(r), Box::new(w)))
}

#[cfg(test)]
impl Tunnel {
    /// A tunnel over two byte streams, without a POST to open again (unit tests of the
    /// RTSP client): requests base64 per message, as on a POST; inside TLS
    /// (`Some(peer authenticated)`) or not.
    pub(crate) fn pipe_in(
        r: Box<dyn AsyncRead + Unpin + Send>,
        w: Box<dyn AsyncWrite + Unpin + Send>,
        tls: Option<bool>,
    ) -> Tunnel {
        Tunnel {
            get: r,
            initial: Vec::new(),
            post: Post {
                w,
                r: None,
                reopen: None,
                reopened: 0,
            },
            about: About {
                peer: "cam:443".into(),
                tls,
                requests_meet_reports: true,
            },
        }
    }
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
