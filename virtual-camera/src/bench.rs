// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The benchmark's media server: RTSP through the HTTPS tunnel (and over TLS on the RTSPS
//! port), serving pre-packetised
//! H.264 RTP at a fixed bitrate with almost no server CPU, so that the two cores of a
//! benchmark machine go to the clients being compared. It replaces the gst-rtsp-server
//! behind the tunnel when the camera runs with `--bench-mbps` (SOAP stays the camera's).
//!
//! A frame is built once; each tick copies it and patches sequence numbers and timestamps.
//! How the bytes are cut into TLS records is chosen (`docs/rtsp-tunnel.md` §12.4: it
//! decides what a client pays): one record per interleaved RTP packet, as many cameras
//! write, or coalesced writes of a whole frame, cut by TLS into 16 KiB records.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// How the server writes its RTP into TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One write, hence one TLS record, per interleaved RTP packet.
    PerPacket,
    /// One write per frame: TLS records of 16 KiB.
    Coalesced,
}

impl std::str::FromStr for Framing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "packet" => Ok(Framing::PerPacket),
            "coalesced" => Ok(Framing::Coalesced),
            other => Err(format!("unknown framing {other} (packet, coalesced)")),
        }
    }
}

/// What the benchmark stream is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bench {
    /// Payload bitrate in Mbit/s.
    pub mbps: f64,
    pub framing: Framing,
    /// The RTSPS port offers the stream as SRTP over UDP only (RTP/SAVP, the device's key
    /// in the SDP, AES_CM_128_HMAC_SHA1_80), paced over each frame's interval.
    pub srtp: bool,
}

/// Frames per second of the stream.
const FPS: u32 = 25;
/// RTP payload bytes per packet (an MTU of 1400 with its 12-byte header).
const PAYLOAD: usize = 1388;
const SSRC: u32 = 0x0B0E_7C01;
/// A key frame every second.
const GOP: u32 = FPS;

/// The SDP of the stream (H.264 constrained baseline 1280x720; the payload after the SPS
/// and PPS is filler that no client in the benchmark decodes).
fn sdp(srtp: Option<&Srtp>) -> String {
    let (profile, key) = match srtp {
        Some(s) => ("RTP/SAVP", format!("a=key-mgmt:mikey {}\r\n", s.key_mgmt)),
        None => ("RTP/AVP", String::new()),
    };
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=onvif-virtual-camera bench\r\nc=IN IP4 0.0.0.0\r\n\
         t=0 0\r\na=control:*\r\na=range:npt=now-\r\nm=video 0 {profile} 96\r\n\
         a=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 packetization-mode=1;profile-level-id=42c01f;sprop-parameter-sets=Z0LAH9kAUAW7ARAAAAMAEAAAAwPA8YMkgA==,aMuDyyA=\r\n\
         a=control:stream=0\r\n{key}"
    )
}

/// The SRTP side of an RTSPS connection in benchmark mode: the device key the SDP gives,
/// the socket the packets go from, the client's RTP port once SET UP, and the sender.
struct Srtp {
    key_mgmt: String,
    socket: tokio::net::UdpSocket,
    to: Option<std::net::SocketAddr>,
    sender: libsrtp::SendSession,
}

impl Srtp {
    async fn new() -> Option<Srtp> {
        let mut key = [0u8; 30];
        getrandom::fill(&mut key).ok()?;
        let p = libsrtp::ProtectionProfile::Aes128CmHmacSha180;
        let mut sender = libsrtp::SendSession::new();
        sender
            .add_stream(
                Some(SSRC),
                &libsrtp::StreamConfig::new(
                    vec![libsrtp::MasterKey::new(&key[..16], &key[16..], &None)],
                    &p,
                    &p,
                ),
            )
            .ok()?;
        Some(Srtp {
            key_mgmt: crate::srtp::device_key_mgmt(&key, SSRC),
            socket: tokio::net::UdpSocket::bind("127.0.0.1:0").await.ok()?,
            to: None,
            sender,
        })
    }
}

/// One frame's RTP packets, each prefixed with its 4-byte interleaved header, FU-A
/// fragments of a slice of `size` bytes (IDR when `key`).
fn frame(size: usize, key: bool) -> Vec<Vec<u8>> {
    let nal_type = if key { 5u8 } else { 1 };
    let count = size.div_ceil(PAYLOAD - 2).max(1);
    (0..count)
        .map(|i| {
            let last = i + 1 == count;
            let body = if last {
                size - (PAYLOAD - 2) * (count - 1)
            } else {
                PAYLOAD - 2
            };
            let len = 12 + 2 + body;
            let mut p = Vec::with_capacity(4 + len);
            p.extend_from_slice(&[b'$', 0]);
            p.extend_from_slice(&(len as u16).to_be_bytes());
            // V=2, marker on the last packet, PT 96; sequence and timestamp patched later.
            p.extend_from_slice(&[0x80, if last { 0x80 | 96 } else { 96 }, 0, 0, 0, 0, 0, 0]);
            p.extend_from_slice(&SSRC.to_be_bytes());
            // FU indicator (NRI 3, type 28) and FU header (S on the first, E on the last).
            let fu = (if i == 0 { 0x80 } else { 0 }) | (if last { 0x40 } else { 0 }) | nal_type;
            p.extend_from_slice(&[0x7C, fu]);
            p.resize(4 + len, 0xAA);
            p
        })
        .collect()
}

/// The packets of a key frame and of a delta frame (a quarter of the key frame's size),
/// sized so that a GOP averages `mbps`.
struct Frames {
    key: Vec<Vec<u8>>,
    delta: Vec<Vec<u8>>,
}

impl Frames {
    fn new(mbps: f64) -> Frames {
        let gop_bytes = mbps * 1e6 / 8.0 * (GOP as f64 / FPS as f64);
        // key = 4 * delta; GOP = key + (GOP - 1) * delta.
        let delta = (gop_bytes / (GOP as f64 + 3.0)).max(64.0) as usize;
        Frames {
            key: frame(4 * delta, true),
            delta: frame(delta, false),
        }
    }
}

/// Tunnels waiting for their POST leg: cookie -> where the RTSP requests go.
static TUNNELS: LazyLock<Mutex<HashMap<String, mpsc::UnboundedSender<Vec<u8>>>>> =
    LazyLock::new(Default::default);

/// One RTSP request out of the POST leg.
struct RtspRequest {
    method: String,
    uri: String,
    cseq: String,
    transport: Option<String>,
}

/// Splits complete RTSP requests (heads and bodies) off `buf`.
fn parse_requests(buf: &mut Vec<u8>) -> Result<Vec<RtspRequest>, String> {
    let mut out = Vec::new();
    loop {
        match rtsp_types::Message::<Vec<u8>>::parse(buf.as_slice()) {
            Ok((rtsp_types::Message::Request(req), used)) => {
                let header =
                    |name: rtsp_types::HeaderName| req.header(&name).map(|v| v.to_string());
                out.push(RtspRequest {
                    method: <&str>::from(req.method()).to_string(),
                    uri: req.request_uri().map(|u| u.to_string()).unwrap_or_default(),
                    cseq: header(rtsp_types::headers::CSEQ).unwrap_or_else(|| "0".into()),
                    transport: header(rtsp_types::headers::TRANSPORT),
                });
                buf.drain(..used);
            }
            Ok((_, used)) => {
                buf.drain(..used);
            }
            Err(rtsp_types::ParseError::Incomplete(_)) => return Ok(out),
            Err(e) => return Err(format!("bad RTSP request: {e:?}")),
        }
    }
}

/// The answer to one request, and whether it starts (Some(true)) or ends (Some(false))
/// the stream.
fn answer(req: &RtspRequest, session: &str, srtp: Option<&mut Srtp>) -> (String, Option<bool>) {
    let ok = |extra: &str, body: &str| {
        format!(
            "RTSP/1.0 200 OK\r\nCSeq: {}\r\nServer: onvif-virtual-camera bench\r\n{extra}\
             Content-Length: {}\r\n\r\n{body}",
            req.cseq,
            body.len()
        )
    };
    let with_session = format!("Session: {session};timeout=60\r\n");
    match req.method.as_str() {
        "OPTIONS" => (
            ok(
                "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER\r\n",
                "",
            ),
            None,
        ),
        "DESCRIBE" => {
            let base = format!("{}/", req.uri.trim_end_matches('/'));
            (
                ok(
                    &format!("Content-Base: {base}\r\nContent-Type: application/sdp\r\n"),
                    &sdp(srtp.as_deref()),
                ),
                None,
            )
        }
        "SETUP" if srtp.is_some() => {
            let Some(s) = srtp else {
                return (ok(&with_session, ""), None);
            };
            let client = req
                .transport
                .as_deref()
                .and_then(|t| t.split(';').find_map(|p| p.strip_prefix("client_port=")))
                .and_then(|p| p.split('-').next()?.parse::<u16>().ok());
            let Some(client) = client else {
                let text = format!(
                    "RTSP/1.0 461 Unsupported Transport\r\nCSeq: {}\r\n\r\n",
                    req.cseq
                );
                return (text, None);
            };
            s.to = Some(std::net::SocketAddr::from(([127, 0, 0, 1], client)));
            let server = s.socket.local_addr().map(|a| a.port()).unwrap_or(0);
            (
                ok(
                    &format!(
                        "{with_session}Transport: RTP/SAVP;unicast;client_port={client}-{};\
                         server_port={server}-{};ssrc={SSRC:08X}\r\n",
                        client.saturating_add(1),
                        server.saturating_add(1)
                    ),
                    "",
                ),
                None,
            )
        }
        "SETUP" => {
            let interleaved = req
                .transport
                .as_deref()
                .and_then(|t| t.split(';').find(|p| p.starts_with("interleaved=")))
                .unwrap_or("interleaved=0-1")
                .to_string();
            (
                ok(
                    &format!(
                        "{with_session}Transport: RTP/AVP/TCP;unicast;{interleaved};ssrc={SSRC:08X}\r\n"
                    ),
                    "",
                ),
                None,
            )
        }
        "PLAY" => (
            ok(
                &format!(
                    "{with_session}Range: npt=now-\r\nRTP-Info: url={};seq=0;rtptime=0\r\n",
                    req.uri
                ),
                "",
            ),
            Some(true),
        ),
        "PAUSE" => (ok(&with_session, ""), Some(false)),
        "TEARDOWN" => (ok(&with_session, ""), Some(false)),
        _ => (ok(&with_session, ""), None),
    }
}

/// `GET /bench/stats` in benchmark mode: what the clients cost the camera so far.
pub fn stats_json(stats: &crate::Stats) -> String {
    use std::sync::atomic::Ordering::SeqCst;
    let requests = stats.requests.load(SeqCst);
    let tunnels = stats.tunnel_connections.load(SeqCst);
    format!(
        "{{\"tls_handshakes\":{},\"soap_requests\":{},\"tunnel_connections\":{tunnels}}}",
        stats.tls_handshakes.load(SeqCst),
        requests.saturating_sub(tunnels)
    )
}

/// Decodes the complete base64 groups of a POST body. Each message is encoded on its own,
/// so padding may end a group in the middle of what one read brought.
pub(crate) fn decode_post(text: &mut Vec<u8>) -> Option<Vec<u8>> {
    text.retain(|c| !c.is_ascii_whitespace());
    let mut out = Vec::new();
    loop {
        let whole = text.len() / 4 * 4;
        if whole == 0 {
            return Some(out);
        }
        let end = text[..whole]
            .chunks(4)
            .position(|g| g.contains(&b'='))
            .map_or(whole, |i| (i + 1) * 4);
        out.extend(
            base64::engine::general_purpose::STANDARD
                .decode(&text[..end])
                .ok()?,
        );
        text.drain(..end);
    }
}

/// Serves one tunnel leg (its `x-sessioncookie`, and what came after its head): the GET
/// streams, the POST carries base64 RTSP requests.
pub async fn tunnel_leg<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    bench: Bench,
    cookie: Option<&str>,
    rest: Vec<u8>,
    get_leg: bool,
) {
    let Some(cookie) = cookie.map(str::to_string) else {
        return;
    };
    if get_leg {
        get(s, bench, cookie).await;
    } else {
        let Some(to_get) = TUNNELS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cookie)
            .cloned()
        else {
            return;
        };
        // The POST body: base64, decoded in groups of four characters as they come.
        let mut text = rest;
        let mut chunk = vec![0u8; 4096];
        loop {
            let Some(bytes) = decode_post(&mut text) else {
                return;
            };
            if !bytes.is_empty() && to_get.send(bytes).is_err() {
                return;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

async fn get<S: AsyncRead + AsyncWrite + Unpin>(s: S, bench: Bench, cookie: String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    TUNNELS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(cookie.clone(), tx);
    let _forget = Forget(cookie);
    let (mut rd, mut wr) = tokio::io::split(s);
    let reply = "HTTP/1.0 200 OK\r\nServer: onvif-virtual-camera bench\r\nConnection: close\r\n\
                 Cache-Control: no-store\r\nPragma: no-cache\r\n\
                 Content-Type: application/x-rtsp-tunnelled\r\n\r\n";
    if wr.write_all(reply.as_bytes()).await.is_err() || wr.flush().await.is_err() {
        return;
    }
    let mut probe = [0u8; 1];
    tokio::select! {
        () = stream(&mut wr, &mut rx, bench) => {}
        // The client sends nothing on the GET: data or EOF ends the tunnel.
        _ = rd.read(&mut probe) => {}
    }
}

/// RTSP over TLS (`rtsps://`, the camera's RTSPS port in benchmark mode): the requests
/// (and the client's interleaved RTCP, passed over) come in on the connection the media
/// goes out on.
pub async fn rtsps<S: AsyncRead + AsyncWrite + Unpin>(s: S, bench: Bench) {
    let (mut rd, mut wr) = tokio::io::split(s);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let reader = async move {
        let mut chunk = vec![0u8; 4096];
        loop {
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(chunk[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    };
    tokio::select! {
        () = stream(&mut wr, &mut rx, bench) => {}
        () = reader => {}
    }
}

/// Answers the requests that come on `rx` and, once PLAY is asked, writes the stream.
async fn stream<W: AsyncWrite + Unpin>(
    wr: &mut W,
    rx: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    bench: Bench,
) {
    let frames = Frames::new(bench.mbps);
    let session = format!("{:016X}", SSRC as u64 * 7919);
    let mut requests = Vec::new();
    let mut playing = false;
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / FPS);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut seq, mut n) = (0u16, 0u32);
    let mut out: Vec<u8> = Vec::new();
    // SRTP over UDP: a frame's packets wait here and go a share every millisecond, so
    // that a frame spreads over most of its interval as a camera paces it (a burst of a
    // whole frame would overflow the client's socket buffer at high bitrates).
    let mut srtp = if bench.srtp { Srtp::new().await } else { None };
    let mut queue: std::collections::VecDeque<Vec<u8>> = Default::default();
    let mut share = 1;
    let mut pace = tokio::time::interval(Duration::from_millis(1));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            got = rx.recv() => {
                let Some(bytes) = got else { return };
                requests.extend_from_slice(&bytes);
                let Ok(reqs) = parse_requests(&mut requests) else { return };
                for req in reqs {
                    let (text, play) = answer(&req, &session, srtp.as_mut());
                    if wr.write_all(text.as_bytes()).await.is_err() || wr.flush().await.is_err() {
                        return;
                    }
                    match play {
                        Some(true) if !playing => {
                            playing = true;
                            ticker.reset();
                        }
                        Some(false) => playing = false,
                        _ => {}
                    }
                    if req.method == "TEARDOWN" {
                        return;
                    }
                }
            }
            _ = ticker.tick(), if playing => {
                let packets = if n.is_multiple_of(GOP) { &frames.key } else { &frames.delta };
                let ts = n.wrapping_mul(90_000 / FPS);
                n = n.wrapping_add(1);
                out.clear();
                if srtp.as_ref().is_some_and(|s| s.to.is_some()) {
                    for p in packets {
                        let mut rtp = p[4..].to_vec();
                        rtp[2..4].copy_from_slice(&seq.to_be_bytes());
                        rtp[4..8].copy_from_slice(&ts.to_be_bytes());
                        seq = seq.wrapping_add(1);
                        queue.push_back(rtp);
                    }
                    // 32 of the frame's 40 ms.
                    share = queue.len().div_ceil(32).max(1);
                    continue;
                }
                for p in packets {
                    let at = out.len();
                    out.extend_from_slice(p);
                    out[at + 6..at + 8].copy_from_slice(&seq.to_be_bytes());
                    out[at + 8..at + 12].copy_from_slice(&ts.to_be_bytes());
                    seq = seq.wrapping_add(1);
                    if bench.framing == Framing::PerPacket
                        && wr.write_all(&out[at..]).await.is_err()
                    {
                        return;
                    }
                }
                if bench.framing == Framing::Coalesced && wr.write_all(&out).await.is_err() {
                    return;
                }
                if wr.flush().await.is_err() {
                    return;
                }
            }
            _ = pace.tick(), if !queue.is_empty() => {
                let Some(s) = srtp.as_mut() else { return };
                let Some(to) = s.to else { return };
                for _ in 0..share {
                    let Some(rtp) = queue.pop_front() else { break };
                    if let Ok(p) = s.sender.rtp_protect(rtp) {
                        let _ = s.socket.send_to(&p, to).await;
                    }
                }
            }
        }
    }
}

/// Removes a tunnel's cookie when its GET leg ends.
struct Forget(String);

impl Drop for Forget {
    fn drop(&mut self) {
        TUNNELS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_frames_average_the_bitrate() {
        for mbps in [4.0, 8.0, 100.0, 400.0] {
            let f = Frames::new(mbps);
            let bytes = |p: &Vec<Vec<u8>>| p.iter().map(|x| x.len() - 4 - 12 - 2).sum::<usize>();
            let gop = bytes(&f.key) + (GOP as usize - 1) * bytes(&f.delta);
            let got = gop as f64 * 8.0 / 1e6;
            assert!((got - mbps).abs() / mbps < 0.01, "{mbps}: {got}");
            // Every packet: interleaved length = RTP packet length, marker on the last.
            for p in f.key.iter().chain(&f.delta) {
                assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len() - 4);
                assert!(p.len() - 4 <= 12 + PAYLOAD);
            }
            assert_eq!(f.key.last().unwrap()[5] & 0x80, 0x80);
            assert_eq!(f.key[0][5] & 0x80, 0);
            assert_eq!(f.key[0][17], 0x80 | 5, "FU start of an IDR slice");
        }
    }

    #[test]
    fn test_post_body_of_several_messages_decodes() {
        let enc = |m: &[u8]| base64::engine::general_purpose::STANDARD.encode(m);
        // Padding in the middle, then half a group.
        let mut text = format!("{}{}\r\n{}", enc(b"ab"), enc(b"cdef"), enc(b"ghi")).into_bytes();
        let tail = text.split_off(text.len() - 2);
        assert_eq!(decode_post(&mut text).unwrap(), b"abcdef");
        text.extend_from_slice(&tail);
        assert_eq!(decode_post(&mut text).unwrap(), b"ghi");
        assert!(text.is_empty());
        assert_eq!(decode_post(&mut b"a*b=".to_vec()), None);
    }

    #[test]
    fn test_requests_split_and_answered() {
        let mut buf = b"OPTIONS rtsp://h/media/Profile_1 RTSP/1.0\r\nCSeq: 1\r\n\r\nSETUP rtsp://h/media/Profile_1/stream=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\nPLAY rtsp".to_vec();
        let reqs = parse_requests(&mut buf).unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(buf, b"PLAY rtsp");
        let (setup, play) = answer(&reqs[1], "S1", None);
        assert!(
            setup.starts_with("RTSP/1.0 200 OK\r\nCSeq: 2\r\n"),
            "{setup}"
        );
        assert!(setup.contains("Session: S1;timeout=60\r\n"));
        assert!(setup.contains("interleaved=0-1;"));
        assert_eq!(play, None);
    }
}
