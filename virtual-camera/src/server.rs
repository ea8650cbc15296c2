// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's HTTP/1.1 server over TCP and TLS, with keep-alive.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{Shared, certs};

/// Largest request the camera reads.
const MAX_REQUEST: usize = 1024 * 1024;

pub use crate::http::{Request, Response};

pub fn tls_config(id: &certs::Identity) -> std::io::Result<Arc<rustls::ServerConfig>> {
    let invalid = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(id.chain_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).map_err(|e| invalid(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&e))?;
    Ok(Arc::new(cfg))
}

/// Accepts connections until the runtime is shut down.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, tls: bool) {
    accept_each(listener, shared, move |tcp, shared| async move {
        if !tls {
            connection(tcp, shared, false).await
        } else if let Some(stream) = handshake(tcp, &shared).await {
            connection(stream, shared, true).await
        }
    })
    .await
}

/// The RTSPS port in benchmark mode: TLS with the camera's certificate, then the
/// benchmark stream ([`crate::bench::rtsps`]).
pub(crate) async fn serve_bench_rtsps(
    listener: TcpListener,
    shared: Arc<Shared>,
    bench: crate::bench::Bench,
) {
    accept_each(listener, shared, move |tcp, shared| async move {
        if let Some(stream) = handshake(tcp, &shared).await {
            crate::bench::rtsps(stream, bench).await
        }
    })
    .await
}

/// Runs `handle` on a task of its own for every connection `listener` accepts.
async fn accept_each<F, Fut>(listener: TcpListener, shared: Arc<Shared>, handle: F)
where
    F: Fn(tokio::net::TcpStream, Arc<Shared>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(handle(tcp, shared.clone()));
    }
}

/// The TLS handshake with the camera's certificate, counted in the stats.
async fn handshake(
    tcp: tokio::net::TcpStream,
    shared: &Shared,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    match tokio_rustls::TlsAcceptor::from(shared.tls.clone())
        .accept(tcp)
        .await
    {
        Ok(stream) => {
            shared.stats.tls_handshakes.fetch_add(1, Ordering::SeqCst);
            Some(stream)
        }
        Err(_) => {
            shared.stats.tls_failure();
            None
        }
    }
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, shared: Arc<Shared>, tls: bool) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let req = match read_request(&mut s, &mut buf, tls).await {
            Some(r) => r,
            None => return,
        };
        if shared.config.bench.is_some() && req.method == "GET" && req.target == "/bench/stats" {
            // Not counted: the benchmark reads what its clients cost the camera.
            let body = crate::bench::stats_json(&shared.stats);
            let resp = Response::new(200, "OK", "application/json", body.into_bytes());
            if s.write_all(&resp.bytes()).await.is_err() {
                return;
            }
            continue;
        }
        shared.stats.requests.fetch_add(1, Ordering::SeqCst);
        if tls {
            shared.stats.https_requests.fetch_add(1, Ordering::SeqCst);
        }
        if is_tunnel(&req) {
            let scheme = if tls { "https" } else { "http" };
            if shared.config.quirks.tunnel_auth && !crate::auth::check_digest(&shared, &req) {
                shared.stats.heads.lock().unwrap().push(format!(
                    "{scheme} {} {} (tunnel 401)",
                    req.method, req.target
                ));
                let _ = s.write_all(&crate::auth::challenge(&shared).bytes()).await;
                return;
            }
            shared
                .stats
                .heads
                .lock()
                .unwrap()
                .push(format!("{scheme} {} {} (tunnel)", req.method, req.target));
            shared
                .stats
                .tunnel_connections
                .fetch_add(1, Ordering::SeqCst);
            let get_leg = req.method == "GET";
            let cookie = req.header("x-sessioncookie").map(str::to_string);
            if shared.front_port.is_some() && shared.config.bench.is_none() {
                if get_leg {
                    crate::front::tunnel_get(s, shared.clone(), cookie).await;
                } else {
                    crate::front::tunnel_post(s, shared.clone(), cookie, buf).await;
                }
                return;
            }
            match shared.config.bench {
                Some(bench) => {
                    let cookie = req.header("x-sessioncookie");
                    crate::bench::tunnel_leg(s, bench, cookie, buf, get_leg).await
                }
                None => tunnel(s, &shared, req.raw_head, buf, get_leg).await,
            }
            return;
        }
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let resp = crate::soap::handle(&shared, &req).await;
        if s.write_all(&resp.bytes()).await.is_err() || close {
            return;
        }
    }
}

/// An RTSP-over-HTTP tunnel leg (Apple's QuickTime tunnelling, ONVIF Streaming §5.1.1).
fn is_tunnel(req: &Request) -> bool {
    let tunnelled = |h: Option<&str>| h.is_some_and(|v| v.contains("application/x-rtsp-tunnelled"));
    (req.method == "GET" && tunnelled(req.header("accept")))
        || (req.method == "POST" && tunnelled(req.header("content-type")))
}

/// Hands the connection to the RTSP server: the head and any bytes read after it first,
/// then both directions as they come. TLS ends here, as on a camera's web server.
///
/// gst-rtsp-server half-closes the POST socket once it has merged it into the GET's
/// session. A camera's web server does not pass that on: the client keeps writing
/// requests on its POST, so only the GET leg forwards the server's end of stream.
async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
    client: S,
    shared: &Shared,
    head: Vec<u8>,
    rest: Vec<u8>,
    get_leg: bool,
) {
    let Ok(mut rtsp) = tokio::net::TcpStream::connect(("127.0.0.1", shared.rtsp_port)).await else {
        return;
    };
    let _ = rtsp.set_nodelay(true);
    if rtsp.write_all(&head).await.is_err() || rtsp.write_all(&rest).await.is_err() {
        return;
    }
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = rtsp.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        let _ = sw.shutdown().await;
    };
    let down = async {
        if shared.config.quirks.media_before_play_answer {
            let _ = copy_media_before_play_answer(&mut sr, &mut cw).await;
        } else {
            let _ = tokio::io::copy(&mut sr, &mut cw).await;
        }
        if get_leg {
            let _ = cw.shutdown().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

/// Media packets that go out before a held PLAY answer.
const PACKETS_BEFORE_PLAY_ANSWER: usize = 3;
/// A held PLAY answer goes out after this at the latest, packets or not.
const PLAY_ANSWER_HOLD: std::time::Duration = std::time::Duration::from_secs(2);

/// The length of the first whole unit (interleaved frame or RTSP message) in `buf`, and
/// whether it is a PLAY answer (a response with `RTP-Info`).
fn next_unit(buf: &[u8]) -> Option<(usize, bool)> {
    if buf.first() == Some(&b'$') {
        let len = usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]));
        return (buf.len() >= 4 + len).then_some((4 + len, false));
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let body = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let play_answer = head.starts_with("rtsp/1.0 2") && head.contains("\nrtp-info:");
    (buf.len() >= end + body).then_some((end + body, play_answer))
}

/// Copies the RTSP server's side of a tunnel, holding each PLAY answer until
/// [`PACKETS_BEFORE_PLAY_ANSWER`] media packets have gone out after it (or
/// [`PLAY_ANSWER_HOLD`] passed).
async fn copy_media_before_play_answer<R, W>(r: &mut R, w: &mut W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    let mut held: Option<(Vec<u8>, usize, tokio::time::Instant)> = None;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        while let Some((len, play_answer)) = next_unit(&buf) {
            let unit: Vec<u8> = buf.drain(..len).collect();
            if play_answer && held.is_none() {
                held = Some((unit, 0, tokio::time::Instant::now() + PLAY_ANSWER_HOLD));
                continue;
            }
            w.write_all(&unit).await?;
            if let Some((answer, sent, _)) = held.as_mut()
                && unit.first() == Some(&b'$')
            {
                *sent += 1;
                if *sent >= PACKETS_BEFORE_PLAY_ANSWER {
                    w.write_all(answer).await?;
                    held = None;
                }
            }
        }
        w.flush().await?;
        let n = match &held {
            Some((_, _, until)) => {
                match tokio::time::timeout_at(*until, r.read(&mut chunk)).await {
                    Ok(n) => n?,
                    Err(_) => {
                        if let Some((answer, _, _)) = held.take() {
                            w.write_all(&answer).await?;
                            w.flush().await?;
                        }
                        continue;
                    }
                }
            }
            None => r.read(&mut chunk).await?,
        };
        if n == 0 {
            if let Some((answer, _, _)) = held.take() {
                w.write_all(&answer).await?;
            }
            return w.flush().await;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_request<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut Vec<u8>,
    tls: bool,
) -> Option<Request> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                let headers: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).to_string(),
                        )
                    })
                    .collect();
                let clen: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                if clen > MAX_REQUEST {
                    return None;
                }
                let method = req.method.unwrap_or("").to_string();
                let target = req.path.unwrap_or("/").to_string();
                let raw_head = buf[..len].to_vec();
                let mut request = Request {
                    method,
                    target,
                    headers,
                    body: Vec::new(),
                    tls,
                    raw_head,
                };
                if is_tunnel(&request) {
                    // The POST's Content-Length is nominal (32767): its body is the stream.
                    buf.drain(..len);
                    return Some(request);
                }
                while buf.len() < len + clen {
                    if !read_more(s, buf).await {
                        return None;
                    }
                }
                request.body = buf[len..len + clen].to_vec();
                buf.drain(..len + clen);
                return Some(request);
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_REQUEST || !read_more(s, buf).await {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
}

async fn read_more<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match s.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_next_unit_splits_frames_and_finds_play_answers() {
        let play = b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nRTP-Info: url=x;seq=1\r\n\r\n";
        let described = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nv=0";
        assert_eq!(next_unit(b"$\x00\x00\x02ab$"), Some((6, false)));
        assert_eq!(next_unit(b"$\x00\x00\x02a"), None, "a frame cut short");
        assert_eq!(next_unit(play), Some((play.len(), true)));
        assert_eq!(next_unit(described), Some((described.len(), false)));
        assert_eq!(next_unit(&described[..described.len() - 1]), None);
        assert_eq!(next_unit(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\n"), None);
    }

    #[tokio::test]
    async fn test_play_answer_goes_out_after_three_packets() {
        let play = b"RTSP/1.0 200 OK\r\nRTP-Info: url=x\r\n\r\n".to_vec();
        let mut input = play.clone();
        for i in 0..4u8 {
            input.extend_from_slice(&[b'$', 0, 0, 1, i]);
        }
        let mut out = Vec::new();
        copy_media_before_play_answer(&mut &input[..], &mut out)
            .await
            .unwrap();
        let mut want = Vec::new();
        for i in 0..3u8 {
            want.extend_from_slice(&[b'$', 0, 0, 1, i]);
        }
        want.extend_from_slice(&play);
        want.extend_from_slice(&[b'$', 0, 0, 1, 3]);
        assert_eq!(out, want);
    }
}
