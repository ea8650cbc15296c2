// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's RTSP front, in front of gst-rtsp-server when a persona (or a media fault)
//! is set: it ends the RTSP-over-HTTP tunnel itself, checks RTSP credentials with the
//! persona's challenge, maps the persona's URLs onto the media engine's mounts (refusing
//! the ones the vendor refuses) and rewrites the answers into the vendor's shape:
//! Content-Base, SDP controls, Session spacing, `Public`, Transport, RTP-Info, an RTCP
//! report before the PLAY reply. Interleaved media passes through untouched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::Shared;
use crate::persona::{Persona, Shape};

/// Tunnel session cookie to the pipe its POST legs write decoded RTSP into.
pub type Tunnels = Mutex<HashMap<String, Arc<tokio::sync::Mutex<tokio::io::DuplexStream>>>>;

/// Largest RTSP message the front buffers.
const MAX_MESSAGE: usize = 1024 * 1024;

/// Accepts plain RTSP connections until the runtime is shut down.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let (r, w) = tcp.into_split();
            session(r, w, shared, false).await;
        });
    }
}

/// The tunnel's GET leg: answers it, then carries the RTSP session whose requests come
/// from the POST legs with the same cookie.
pub async fn tunnel_get<S: AsyncRead + AsyncWrite + Unpin>(
    s: S,
    shared: Arc<Shared>,
    cookie: Option<String>,
) {
    let Some(cookie) = cookie else {
        return;
    };
    let persona = shared.config.quirks.persona;
    let (mut gr, mut gw) = tokio::io::split(s);
    let version = if persona.is_some_and(|p| p.tunnel_http10()) {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let mut head = format!(
        "{version} 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\n\
         Cache-Control: no-store\r\nPragma: no-cache\r\n"
    );
    if persona.is_some_and(|p| p.tunnel_server_ip()) {
        head.push_str("X-Server-IP-Address: 127.0.0.1\r\n");
    }
    head.push_str("\r\n");
    let (writer, reader) = tokio::io::duplex(64 * 1024);
    shared
        .tunnels
        .lock()
        .unwrap()
        .insert(cookie.clone(), Arc::new(tokio::sync::Mutex::new(writer)));
    if gw.write_all(head.as_bytes()).await.is_ok() {
        // The client never writes on its GET: its end of stream ends the session.
        let closed = async {
            let mut b = [0u8; 512];
            while matches!(gr.read(&mut b).await, Ok(n) if n > 0) {}
        };
        tokio::select! {
            _ = session(reader, gw, shared.clone(), true) => {}
            _ = closed => {}
        }
    }
    shared.tunnels.lock().unwrap().remove(&cookie);
}

/// A tunnel POST leg: base64 RTSP requests into its GET's session. No reply (live555 and
/// Axis send none).
pub async fn tunnel_post<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    shared: Arc<Shared>,
    cookie: Option<String>,
    rest: Vec<u8>,
) {
    let Some(pipe) = cookie.and_then(|c| shared.tunnels.lock().unwrap().get(&c).cloned()) else {
        return;
    };
    let mut text = rest;
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let Some(bytes) = crate::bench::decode_post(&mut text) else {
            return;
        };
        if !bytes.is_empty() && pipe.lock().await.write_all(&bytes).await.is_err() {
            return;
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => text.extend_from_slice(&chunk[..n]),
        }
    }
}

/// What a forwarded request was, for rewriting its answer.
#[derive(Debug, Clone)]
enum Kind {
    Describe(usize),
    Setup,
    Aggregate(usize),
    Options,
    Pass,
}

#[derive(Default)]
struct Conn {
    /// `127.0.0.1:port` as the client wrote it.
    host: String,
    /// The live profile this connection described or set up.
    profile: Option<usize>,
    pending: HashMap<String, Kind>,
    /// First interleaved channel and SSRC of the first SETUP (for the RTCP report).
    first_stream: Option<(u8, u32)>,
    /// `udp_blocked`: the client's own `client_port` value per pending SETUP.
    client_ports: HashMap<String, String>,
    /// `hang_up_after_play` and `hang_up_while_playing`: the CSeq of the PLAY whose answer
    /// ends the connection (at once, or a while later), and whether it went out.
    hang_up_cseq: Option<String>,
    hang_up: bool,
    /// `hang_up_while_playing`: when the connection ends, set once the PLAY is answered
    /// (and `hang_up_set` notified).
    hang_up_at: Option<tokio::time::Instant>,
    hang_up_set: Arc<tokio::sync::Notify>,
    /// `stale_after_pause`: a PAUSE was asked for; then the CSeq of the PLAY after it,
    /// and whether its answer is going out (the old packets go first).
    paused: bool,
    play_cseq: Option<String>,
    resend_old: bool,
    /// `rtcp_only_after`: the limit, and the RTP packets passed on so far.
    rtcp_only_after: Option<u32>,
    rtp_sent: u32,
    /// `rtp_faults`: the first stream's RTP packets so far, and the one held back to be
    /// sent after the next.
    first_rtp: u32,
    held: Option<Vec<u8>>,
    /// `tiny_packet_flood`: the CSeq of the PLAY whose answer starts the flood, whether it
    /// is due, and the client's RTP port or channel of the first stream.
    flood_cseq: Option<String>,
    flood: bool,
    flood_udp_to: Option<std::net::SocketAddr>,
    flood_channel: Option<u8>,
}

/// `rtp_faults`: what goes out for one interleaved frame of the first stream's RTP
/// (`None`: nothing now).
fn lossy(c: &mut Conn, frame: Vec<u8>) -> Option<Vec<u8>> {
    let f = crate::RTP_FAULTS;
    c.first_rtp = c.first_rtp.saturating_add(1);
    let n = c.first_rtp;
    if f.dropped.contains(&n) {
        None
    } else if f.doubled.contains(&n) {
        Some([frame.as_slice(), frame.as_slice()].concat())
    } else if n == f.swapped.0 {
        c.held = Some(frame);
        None
    } else if n == f.swapped.1 {
        let held = c.held.take().unwrap_or_default();
        Some([frame, held].concat())
    } else {
        Some(frame)
    }
}

/// `stale_after_pause`: how many of the last RTP packets follow the PAUSE answer again.
const STALE_PACKETS: usize = 8;

fn path_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let mut pq = u.path().to_string();
            if let Some(q) = u.query() {
                pq.push('?');
                pq.push_str(q);
            }
            pq
        }
        Err(_) => url.to_string(),
    }
}

fn host_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// The answer to a request the front refuses itself.
fn refusal(persona: Option<Persona>, cseq: &str, status: (u16, &str), extra: &str) -> Vec<u8> {
    let cseq_name = persona.map_or("CSeq", |p| p.cseq_name());
    format!(
        "RTSP/1.0 {} {}\r\n{cseq_name}: {cseq}\r\nServer: onvif-virtual-camera\r\n{extra}\
         Content-Length: 0\r\n\r\n",
        status.0, status.1
    )
    .into_bytes()
}

/// One RTSP connection (or tunnel session, `tunnel`) through the front to gst-rtsp-server.
async fn session<R, W>(mut input: R, output: W, shared: Arc<Shared>, tunnel: bool)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Ok(backend) = tokio::net::TcpStream::connect(("127.0.0.1", shared.rtsp_port)).await else {
        return;
    };
    let _ = backend.set_nodelay(true);
    let (mut br, mut bw) = backend.into_split();
    let out = tokio::sync::Mutex::new(output);
    let conn = Mutex::new(Conn {
        rtcp_only_after: shared.config.faults.rtcp_only_after,
        ..Conn::default()
    });
    let live555 = tunnel
        && shared
            .config
            .quirks
            .persona
            .is_some_and(|p| p.live555_tunnel());
    let up = async {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            loop {
                let unit = if live555 {
                    next_request_live555(&mut buf)
                } else {
                    next_message(&mut buf)
                };
                let (forward, answer) = match unit {
                    Ok(Some(unit)) => match unit {
                        Unit::Data(raw) => (Some(raw), None),
                        Unit::Message(raw) => {
                            match live555.then(|| refused_live555(&shared, &raw)).flatten() {
                                Some(answer) => (None, Some(answer)),
                                None => on_request(&shared, &conn, &raw),
                            }
                        }
                    },
                    Ok(None) => break,
                    Err(()) => return,
                };
                if let Some(bytes) = answer
                    && out.lock().await.write_all(&bytes).await.is_err()
                {
                    return;
                }
                if let Some(bytes) = forward
                    && bw.write_all(&bytes).await.is_err()
                {
                    return;
                }
            }
            match input.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let down = async {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        // The last RTP frames sent (`stale_after_pause`).
        let mut recent = std::collections::VecDeque::new();
        loop {
            loop {
                let bytes = match next_message(&mut buf) {
                    // `rtcp_only_after`: the media stops (RTP and the engine's RTCP).
                    Ok(Some(Unit::Data(_))) if stalled(&conn) => continue,
                    Ok(Some(Unit::Data(raw))) => {
                        if let Some(n) = shared.config.faults.rtcp_only_after
                            && raw.get(1).is_some_and(|c| c % 2 == 0)
                        {
                            let mut c = conn.lock().unwrap();
                            c.rtp_sent = c.rtp_sent.saturating_add(1);
                            if c.rtp_sent > n {
                                continue;
                            }
                        }
                        let raw = if shared.config.faults.rtp_faults && raw.get(1) == Some(&0) {
                            match lossy(&mut conn.lock().unwrap(), raw) {
                                Some(bytes) => bytes,
                                None => continue,
                            }
                        } else {
                            raw
                        };
                        if shared.config.quirks.stale_after_pause
                            && raw.get(1).is_some_and(|c| c % 2 == 0)
                        {
                            if recent.len() == STALE_PACKETS {
                                recent.pop_front();
                            }
                            recent.push_back(raw.clone());
                        }
                        raw
                    }
                    Ok(Some(Unit::Message(raw))) => {
                        let answer = on_response(&shared, &conn, &raw);
                        if std::mem::take(&mut conn.lock().unwrap().resend_old) {
                            shared.stats.stale_sent.fetch_add(
                                u64::try_from(recent.len()).unwrap_or(0),
                                std::sync::atomic::Ordering::SeqCst,
                            );
                            let mut bytes: Vec<u8> = recent.drain(..).flatten().collect();
                            bytes.extend_from_slice(&answer);
                            bytes
                        } else {
                            answer
                        }
                    }
                    Ok(None) => break,
                    Err(()) => return,
                };
                let mut o = out.lock().await;
                if o.write_all(&bytes).await.is_err() {
                    return;
                }
                let flood = std::mem::take(&mut conn.lock().unwrap().flood);
                if flood && let Some(n) = shared.config.faults.tiny_packet_flood {
                    let (first, udp_to) = {
                        let c = conn.lock().unwrap();
                        (c.flood_channel, c.flood_udp_to)
                    };
                    if let Some(channel) = first {
                        if crate::flood::interleaved(&mut *o, &shared, channel, n)
                            .await
                            .is_err()
                        {
                            shared.stats.flood_finished();
                            return;
                        }
                    } else if let Some(to) = udp_to {
                        let shared = shared.clone();
                        tokio::spawn(async move { crate::flood::udp(&shared, to, n).await });
                    }
                }
                if conn.lock().unwrap().hang_up {
                    let _ = o.flush().await;
                    return;
                }
            }
            if out.lock().await.flush().await.is_err() {
                return;
            }
            match br.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    // `hang_up_while_playing`: the connection ends a while after PLAY.
    let hang_up_set = conn.lock().unwrap().hang_up_set.clone();
    let timer = async {
        loop {
            hang_up_set.notified().await;
            let at = conn.lock().unwrap().hang_up_at;
            if let Some(at) = at {
                tokio::time::sleep_until(at).await;
                return;
            }
        }
    };
    // `rtcp_only_after`: receiver reports every 0.5 s once the media stopped.
    let reports = async {
        if shared.config.faults.rtcp_only_after.is_none() {
            return std::future::pending::<()>().await;
        }
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if stalled(&conn)
                && out
                    .lock()
                    .await
                    .write_all(&receiver_report(1))
                    .await
                    .is_err()
            {
                return;
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = timer => {}
        _ = reports => {}
    }
    let _ = out.lock().await.shutdown().await;
}

/// `rtcp_only_after`: the connection's media has stopped.
fn stalled(conn: &Mutex<Conn>) -> bool {
    let c = conn.lock().unwrap();
    c.rtcp_only_after.is_some_and(|n| c.rtp_sent >= n)
}

enum Unit {
    /// An interleaved frame, as received.
    Data(Vec<u8>),
    /// An RTSP message, as received.
    Message(Vec<u8>),
}

/// Splits the first whole unit off `buf` (Err: garbage or too large).
fn next_message(buf: &mut Vec<u8>) -> Result<Option<Unit>, ()> {
    if buf.first() == Some(&b'$') {
        if buf.len() < 4 {
            return Ok(None);
        }
        let len = 4 + usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if buf.len() < len {
            return Ok(None);
        }
        return Ok(Some(Unit::Data(buf.drain(..len).collect())));
    }
    next_head_and_body(buf)
}

/// Splits off everything up to the end of the first head, with the body its
/// Content-Length gives (Err: garbage or too large).
fn next_head_and_body(buf: &mut Vec<u8>) -> Result<Option<Unit>, ()> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_MESSAGE {
            Err(())
        } else {
            Ok(None)
        };
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let body = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(Ok(0), |v| v.trim().parse::<usize>())
        .map_err(|_| ())?;
    let len = end + 4 + body;
    if len > MAX_MESSAGE {
        return Err(());
    }
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some(Unit::Message(buf.drain(..len).collect())))
}

/// live555's tunnel: the next request is everything up to the end of a head (and its
/// body), whatever stands in front of it: interleaved frames are not taken out.
fn next_request_live555(buf: &mut Vec<u8>) -> Result<Option<Unit>, ()> {
    if buf.first() != Some(&b'$') {
        return next_message(buf);
    }
    // What live555 does with a frame: it waits in the buffer for the next request, and
    // the whole is read as one request (with the body its Content-Length gives).
    next_head_and_body(buf)
}

/// RTSP methods live555 handles.
const LIVE555_METHODS: &[&str] = &[
    "OPTIONS",
    "DESCRIBE",
    "SETUP",
    "TEARDOWN",
    "PLAY",
    "PAUSE",
    "GET_PARAMETER",
    "SET_PARAMETER",
    "REGISTER",
    "DEREGISTER",
];

/// live555's answer to a request whose command name is not one it knows (the bytes up
/// to the first space or tab, after leading white space, at most 199 of them): `405`
/// with the CSeq found after the URL (`parseRTSPRequestString`, `handleCmd_notSupported`);
/// `400` without CSeq when the request line cannot be parsed at all (`handleCmd_bad`: no
/// command name within 199 bytes, no `RTSP/`, no CSeq). `None` for a known command.
/// Counted in `Stats::rtsp_urls` as `? 405 CSeq N` or `? 400`. Neither reaches the media
/// engine, so neither refreshes its session (live555 does refresh it on a 405 that
/// names the session; a client must not count on it).
fn refused_live555(shared: &Shared, raw: &[u8]) -> Option<Vec<u8>> {
    let (entry, answer) = live555_refusal(raw)?;
    shared.stats.rtsp_urls.lock().unwrap().push(entry);
    Some(answer.into_bytes())
}

/// See [`refused_live555`]: the log entry and the answer.
fn live555_refusal(raw: &[u8]) -> Option<(String, String)> {
    const MAX_COMMAND: usize = 199;
    let start = raw
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))?;
    let rest = raw.get(start..)?;
    let command_end = rest
        .iter()
        .take(MAX_COMMAND + 1)
        .position(|b| matches!(b, b' ' | b'\t'));
    if let Some(end) = command_end
        && LIVE555_METHODS
            .iter()
            .any(|m| Some(m.as_bytes()) == rest.get(..end))
    {
        return None;
    }
    let text = String::from_utf8_lossy(rest);
    let after_command = command_end.and_then(|e| text.get(e..)).unwrap_or("");
    let cseq = after_command
        .find("RTSP/")
        .and_then(|i| after_command.get(i..))
        .and_then(|t| {
            let lower = t.to_ascii_lowercase();
            let i = lower.find("cseq:")?;
            let c = t.get(i + 5..)?.lines().next()?.trim().to_string();
            (!c.is_empty()).then_some(c)
        });
    let allow = LIVE555_METHODS[..8].join(", ");
    let (entry, answer) = match (command_end, cseq) {
        (Some(_), Some(cseq)) => (
            format!("? 405 CSeq {cseq}"),
            format!("RTSP/1.0 405 Method Not Allowed\r\nCSeq: {cseq}\r\nAllow: {allow}\r\n\r\n"),
        ),
        _ => (
            "? 400".to_string(),
            format!("RTSP/1.0 400 Bad Request\r\nAllow: {allow}\r\n\r\n"),
        ),
    };
    Some((entry, answer))
}

/// A message's start line, headers and body.
struct Parsed {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Parsed {
    fn parse(raw: &[u8]) -> Option<Parsed> {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&raw[..end]).ok()?;
        let mut lines = head.split("\r\n");
        let start = lines.next()?.to_string();
        let headers = lines
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .collect();
        Some(Parsed {
            start,
            headers,
            body: raw.get(end + 4..)?.to_vec(),
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Handles one client request: `(what goes to the media engine, what goes back at once)`.
fn on_request(
    shared: &Shared,
    conn: &Mutex<Conn>,
    raw: &[u8],
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let persona = shared.config.quirks.persona;
    let Some(req) = Parsed::parse(raw) else {
        return (None, Some(refusal(persona, "0", (400, "Bad Request"), "")));
    };
    let mut parts = req.start.split(' ');
    let (method, url) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("*").to_string(),
    );
    let cseq = req.header("cseq").unwrap_or("0").to_string();
    let pq = if url == "*" {
        url.clone()
    } else {
        path_query(&url)
    };
    let log = |status: u16| {
        shared
            .stats
            .rtsp_urls
            .lock()
            .unwrap()
            .push(format!("{method} {pq} {status}"));
    };
    let mut c = conn.lock().unwrap();
    if c.host.is_empty()
        && let Some(h) = host_of(&url)
    {
        c.host = h;
    }
    // Credentials on everything but OPTIONS, with the persona's challenge.
    if method != "OPTIONS" && !rtsp_auth_ok(shared, &method, req.header("authorization")) {
        log(401);
        let challenge = if shared.config.quirks.rtsp_basic {
            format!("Basic realm=\"{}\"", shared.realm())
        } else {
            match persona {
                Some(p) => p.rtsp_challenge(&shared.nonce),
                None => format!(
                    "Digest realm=\"{}\", nonce=\"{}\"",
                    shared.realm(),
                    shared.nonce
                ),
            }
        };
        let extra = format!("WWW-Authenticate: {challenge}\r\n");
        return (
            None,
            Some(refusal(persona, &cseq, (401, "Unauthorized"), &extra)),
        );
    }
    let backend = format!("rtsp://127.0.0.1:{}", shared.rtsp_port);
    let shapes: Vec<Shape> = match persona {
        Some(p) => crate::profiles::PROFILES
            .iter()
            .enumerate()
            .map(|(i, prof)| p.shape(i, prof.token, &c.host))
            .collect(),
        None => Vec::new(),
    };
    let token = |i: usize| crate::profiles::PROFILES.get(i).map_or("", |p| p.token);
    let passes = persona.is_none() || pq.starts_with("/onvif-replay/");
    let mapped: Option<(String, Kind)> = match method.as_str() {
        _ if passes => Some((
            if url == "*" {
                url.clone()
            } else {
                format!("{backend}{pq}")
            },
            if method == "OPTIONS" {
                Kind::Options
            } else {
                Kind::Pass
            },
        )),
        "OPTIONS" => Some(("*".into(), Kind::Options)),
        "DESCRIBE" => shapes.iter().position(|s| s.stream == pq).map(|i| {
            c.profile = Some(i);
            (format!("{backend}/media/{}", token(i)), Kind::Describe(i))
        }),
        "SETUP" => shapes
            .iter()
            .enumerate()
            .find_map(|(i, s)| {
                let k = s.setup_accepts.iter().position(|a| a.contains(&pq))?;
                Some((i, k))
            })
            .map(|(i, k)| {
                c.profile = Some(i);
                (
                    format!("{backend}/media/{}/stream={k}", token(i)),
                    Kind::Setup,
                )
            }),
        _ => c.profile.and_then(|i| {
            let ok = pq == "*" || shapes.get(i)?.play_accepts.contains(&pq);
            ok.then(|| (format!("{backend}/media/{}/", token(i)), Kind::Aggregate(i)))
        }),
    };
    let Some((target, kind)) = mapped else {
        let status = persona.map_or((404, "Not Found"), |p| p.wrong_url_status());
        log(status.0);
        return (None, Some(refusal(persona, &cseq, status, "")));
    };
    log(0);
    let mut fwd = format!("{method} {target} RTSP/1.0\r\n");
    for (k, v) in &req.headers {
        if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let mut v = v.clone();
        if k.eq_ignore_ascii_case("transport") && method == "SETUP" {
            shared
                .stats
                .setup_transports
                .lock()
                .unwrap()
                .push(v.clone());
        }
        if k.eq_ignore_ascii_case("transport")
            && let Some((sink, _)) = &shared.udp_sink
            && let Some(ports) = transport_param(&v, "client_port")
            && let Ok(addr) = sink.local_addr()
        {
            let sink_ports = format!("{}-{}", addr.port(), addr.port().saturating_add(1));
            c.client_ports.insert(cseq.clone(), ports.clone());
            v = v.replace(
                &format!("client_port={ports}"),
                &format!("client_port={sink_ports}"),
            );
        }
        fwd.push_str(&format!("{k}: {v}\r\n"));
    }
    if !req.body.is_empty() {
        fwd.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    fwd.push_str("\r\n");
    let mut bytes = fwd.into_bytes();
    bytes.extend_from_slice(&req.body);
    if method == "PLAY"
        && (shared.config.faults.hang_up_after_play
            || shared.config.faults.hang_up_while_playing.is_some())
    {
        c.hang_up_cseq = Some(cseq.clone());
    }
    if method == "PAUSE"
        && shared.config.faults.hang_up_after_pause > 0
        && shared
            .stats
            .pause_hang_ups
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            < u64::from(shared.config.faults.hang_up_after_pause)
    {
        c.hang_up_cseq = Some(cseq.clone());
    }
    if shared.config.faults.tiny_packet_flood.is_some() {
        if method == "PLAY" {
            c.flood_cseq = Some(cseq.clone());
        }
        // The first SETUP's RTP port or channel, as the client asks for it.
        let first = |param: &str| {
            req.header("transport")
                .and_then(|t| transport_param(t, param))
                .and_then(|p| p.split('-').next()?.parse::<u16>().ok())
        };
        if method == "SETUP" && c.flood_udp_to.is_none() && c.flood_channel.is_none() {
            if let Some(port) = first("client_port") {
                c.flood_udp_to = Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
            }
            c.flood_channel = first("interleaved").and_then(|c| u8::try_from(c).ok());
        }
    }
    if method == "PAUSE" && shared.config.quirks.stale_after_pause {
        c.paused = true;
    }
    if method == "PLAY" && std::mem::take(&mut c.paused) {
        c.play_cseq = Some(cseq.clone());
    }
    c.pending.insert(cseq, kind);
    (Some(bytes), None)
}

fn transport_param(transport: &str, name: &str) -> Option<String> {
    transport
        .split(';')
        .find_map(|p| p.trim().strip_prefix(&format!("{name}=")))
        .map(str::to_string)
}

fn rtsp_auth_ok(shared: &Shared, method: &str, header: Option<&str>) -> bool {
    let Some(h) = header else {
        return false;
    };
    let c = &shared.config;
    if c.quirks.rtsp_basic {
        use base64::Engine;
        let want = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.device.user, c.device.password));
        return h.trim().strip_prefix("Basic ").map(str::trim) == Some(want.as_str());
    }
    crate::auth::digest_matches(shared, &shared.realm(), method, h, None)
}

/// Rewrites one answer of the media engine into the persona's shape.
fn on_response(shared: &Shared, conn: &Mutex<Conn>, raw: &[u8]) -> Vec<u8> {
    let persona = shared.config.quirks.persona;
    let Some(resp) = Parsed::parse(raw) else {
        return raw.to_vec();
    };
    let mut c = conn.lock().unwrap();
    let cseq = resp.header("cseq").unwrap_or("").to_string();
    let kind = c.pending.remove(&cseq).unwrap_or(Kind::Pass);
    if c.hang_up_cseq.as_deref() == Some(cseq.as_str()) {
        match shared.config.faults.hang_up_while_playing {
            Some(after) => {
                c.hang_up_cseq = None;
                c.hang_up_at = Some(tokio::time::Instant::now() + after);
                c.hang_up_set.notify_one();
            }
            None => c.hang_up = true,
        }
    }
    if c.play_cseq.as_deref() == Some(cseq.as_str()) {
        c.play_cseq = None;
        c.resend_old = true;
    }
    if c.flood_cseq.as_deref() == Some(cseq.as_str()) {
        c.flood_cseq = None;
        c.flood = true;
    }
    let backend_host = format!("127.0.0.1:{}", shared.rtsp_port);
    let public_host = if c.host.is_empty() {
        format!("127.0.0.1:{}", shared.rtsp_public_port())
    } else {
        c.host.clone()
    };
    let shape = |i: usize| {
        persona.map(|p| {
            let token = crate::profiles::PROFILES.get(i).map_or("", |t| t.token);
            p.shape(i, token, &public_host)
        })
    };
    let ok = resp.start.split(' ').nth(1) == Some("200");
    let mut body = resp.body.clone();
    let mut head = format!("{}\r\n", resp.start);
    let mut rtcp_first: Option<Vec<u8>> = None;
    for (k, v) in &resp.headers {
        let lk = k.to_ascii_lowercase();
        let mut v = v.replace(&backend_host, &public_host);
        // `tiny_packet_flood` over UDP: the flood comes from another port.
        if lk == "transport" && shared.config.faults.tiny_packet_flood.is_some() {
            v = v
                .split(';')
                .filter(|p| !p.trim().starts_with("server_port="))
                .collect::<Vec<_>>()
                .join(";");
        }
        match (lk.as_str(), &kind) {
            ("content-length", _) => continue,
            ("cseq", _) => {
                let name = persona.map_or("CSeq", |p| p.cseq_name());
                head.push_str(&format!("{name}: {v}\r\n"));
            }
            ("session", _) => match persona {
                Some(p) => head.push_str(&p.session_line(&v)),
                None => head.push_str(&format!("{k}: {v}\r\n")),
            },
            ("public", _) if persona.is_some_and(|p| !p.public()) => {}
            ("content-base", Kind::Describe(i)) => {
                if let Some(base) = shape(*i).and_then(|s| s.content_base) {
                    head.push_str(&format!("Content-Base: {base}\r\n"));
                }
            }
            ("transport", Kind::Setup) => {
                let mut v = v.clone();
                if let Some(ports) = c.client_ports.remove(&cseq)
                    && let Some(sink) = transport_param(&v, "client_port")
                {
                    v = v.replace(
                        &format!("client_port={sink}"),
                        &format!("client_port={ports}"),
                    );
                }
                if c.first_stream.is_none()
                    && let Some(ch) = transport_param(&v, "interleaved")
                    && let Some(first) = ch.split('-').next().and_then(|f| f.parse::<u8>().ok())
                {
                    let ssrc = transport_param(&v, "ssrc")
                        .and_then(|s| u32::from_str_radix(&s, 16).ok())
                        .unwrap_or(0);
                    c.first_stream = Some((first, ssrc));
                }
                if persona.is_some_and(|p| !p.transport_ssrc()) {
                    v = v
                        .split(';')
                        .filter(|p| !p.trim().starts_with("ssrc="))
                        .collect::<Vec<_>>()
                        .join(";");
                }
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            ("rtp-info", Kind::Aggregate(i)) if persona.is_some() => {
                let (Some(p), Some(s)) = (persona, shape(*i)) else {
                    continue;
                };
                if p.omits_rtp_info() {
                    continue;
                }
                let base = s
                    .content_base
                    .clone()
                    .or_else(|| s.session_control.clone().filter(|c| c.contains("://")))
                    .unwrap_or_else(|| format!("rtsp://{public_host}{}", s.stream));
                let entries: Vec<String> = v
                    .split(',')
                    .map(|e| {
                        let mut fields = e.trim().split(';');
                        let url = fields.next().unwrap_or("");
                        let k = url
                            .rsplit("stream=")
                            .next()
                            .and_then(|n| n.parse::<usize>().ok())
                            .unwrap_or(0);
                        let rest: Vec<&str> = fields.collect();
                        let rtptime = rest
                            .iter()
                            .find_map(|f| f.strip_prefix("rtptime="))
                            .and_then(|t| t.parse::<u32>().ok());
                        if k == 0
                            && p.rtcp_before_play()
                            && let (Some((ch, ssrc)), Some(t)) = (c.first_stream, rtptime)
                        {
                            rtcp_first = Some(sender_report(ch.saturating_add(1), ssrc, t));
                        }
                        let url = p
                            .rtp_info_url(&s, &base, k)
                            .map_or(String::new(), |u| format!("url={u}"));
                        std::iter::once(url.as_str())
                            .chain(rest.iter().copied())
                            .filter(|f| !f.is_empty())
                            .collect::<Vec<_>>()
                            .join(";")
                    })
                    .collect();
                head.push_str(&format!("RTP-Info: {}\r\n", entries.join(",")));
            }
            _ => head.push_str(&format!("{k}: {v}\r\n")),
        }
    }
    if ok
        && let Kind::Describe(i) = &kind
        && let (Some(p), Some(s)) = (persona, shape(*i))
    {
        let sdp = String::from_utf8_lossy(&body).to_string();
        body = crate::persona::rewrite_sdp(p, &s, &sdp).into_bytes();
    }
    if ok
        && shared.config.faults.broken_sdp
        && resp
            .header("content-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("application/sdp"))
    {
        let (broken, line) = break_sdp(&body);
        body = broken;
        shared
            .stats
            .broken_sdp_line
            .store(line, std::sync::atomic::Ordering::SeqCst);
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = rtcp_first.unwrap_or_default();
    bytes.extend_from_slice(head.as_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

/// `broken_sdp`: the first `m=` line loses its fields. Returns the SDP and that line
/// (counted from 1).
fn break_sdp(sdp: &[u8]) -> (Vec<u8>, u64) {
    let text = String::from_utf8_lossy(sdp);
    let mut done = 0;
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if done == 0 && line.starts_with("m=") {
            let kind = line.trim_end().trim_start_matches("m=");
            let kind = kind.split(' ').next().unwrap_or("video");
            out.push_str(&format!("m={kind}\r\n"));
            done = i as u64 + 1;
        } else {
            out.push_str(line);
        }
    }
    (out.into_bytes(), done)
}

/// An interleaved RTCP sender report (RFC 3550 §6.4.1) with no counts yet, as live555
/// servers send one before their PLAY reply.
fn sender_report(channel: u8, ssrc: u32, rtptime: u32) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ntp_secs = (now.as_secs() + 2_208_988_800) as u32;
    let ntp_frac = ((u64::from(now.subsec_nanos()) << 32) / 1_000_000_000) as u32;
    let mut sr = vec![b'$', channel, 0, 28, 0x80, 200, 0, 6];
    for word in [ssrc, ntp_secs, ntp_frac, rtptime, 0, 0] {
        sr.extend_from_slice(&word.to_be_bytes());
    }
    sr
}

/// An interleaved RTCP receiver report with one report block (32 bytes), as a device's
/// RTCP stack sends about its own reception.
fn receiver_report(channel: u8) -> Vec<u8> {
    let mut rr = vec![b'$', channel, 0, 32, 0x81, 201, 0, 7];
    for word in [0x5EED_0001u32, 0x1234_5678, 0, 0, 0, 0, 0] {
        rr.extend_from_slice(&word.to_be_bytes());
    }
    rr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_units_split_frames_and_messages() {
        let mut buf = b"$\x01\x00\x02abOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nDESC".to_vec();
        assert!(
            matches!(next_message(&mut buf), Ok(Some(Unit::Data(d))) if d == b"$\x01\x00\x02ab")
        );
        assert!(
            matches!(next_message(&mut buf), Ok(Some(Unit::Message(m))) if m.starts_with(b"OPTIONS"))
        );
        assert!(matches!(next_message(&mut buf), Ok(None)));
        assert_eq!(buf, b"DESC");
        let mut bad = b"X\r\nContent-Length: x\r\n\r\n".to_vec();
        assert!(next_message(&mut bad).is_err());
    }

    #[test]
    fn test_sender_report_is_28_bytes_on_the_rtcp_channel() {
        let sr = sender_report(1, 0xdead_beef, 1234);
        assert_eq!(sr.len(), 32);
        assert_eq!(&sr[..8], &[b'$', 1, 0, 28, 0x80, 200, 0, 6]);
        assert_eq!(&sr[8..12], &0xdead_beef_u32.to_be_bytes());
        assert_eq!(&sr[20..24], &1234u32.to_be_bytes());
    }

    /// live555's reading of a report in front of a request (`parseRTSPRequestString`).
    #[test]
    fn test_live555_reads_a_report_into_the_request() {
        let request = b"GET_PARAMETER rtsp://h/x/ RTSP/1.0\r\nCSeq: 7\r\nSession: 1\r\n\r\n";
        assert_eq!(live555_refusal(request), None, "a known command");
        // A 32-byte receiver report: its length 0x0020 is a space, so the command name
        // is `$`, the channel and a NUL: 405 with the request's CSeq.
        let mut one = vec![b'$', 1, 0, 32];
        one.extend_from_slice(&[0x81, 201, 0, 7]);
        one.extend_from_slice(&[0xAB; 28]);
        one.extend_from_slice(request);
        let (entry, answer) = live555_refusal(&one).expect("refused");
        assert_eq!(entry, "? 405 CSeq 7");
        assert!(answer.starts_with("RTSP/1.0 405 Method Not Allowed\r\nCSeq: 7\r\n"));
        // No space or tab within 199 bytes: the request line is not parsed: 400, no CSeq.
        let mut long = vec![b'$', 1, 0, 250];
        long.extend_from_slice(&[0xAB; 250]);
        long.extend_from_slice(request);
        let (entry, answer) = live555_refusal(&long).expect("refused");
        assert_eq!(entry, "? 400");
        assert!(!answer.contains("CSeq"), "{answer}");
    }

    #[test]
    fn test_live555_waits_for_the_request_after_a_frame() {
        let mut buf = vec![b'$', 1, 0, 4, 1, 2, 3, 4];
        assert!(matches!(next_request_live555(&mut buf), Ok(None)));
        buf.extend_from_slice(
            b"SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\nab",
        );
        assert!(
            matches!(next_request_live555(&mut buf), Ok(None)),
            "the body"
        );
        buf.push(b'c');
        let Ok(Some(Unit::Message(m))) = next_request_live555(&mut buf) else {
            panic!("one message");
        };
        assert!(m.starts_with(b"$\x01\x00\x04") && m.ends_with(b"abc"));
        assert!(buf.is_empty());
    }

    #[test]
    fn test_path_query_keeps_the_query() {
        assert_eq!(
            path_query("rtsp://127.0.0.1:554/cam/realmonitor?channel=1&subtype=0/trackID=0"),
            "/cam/realmonitor?channel=1&subtype=0/trackID=0"
        );
        assert_eq!(host_of("rtsp://127.0.0.1/x").as_deref(), Some("127.0.0.1"));
    }
}
