// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The RTSP driver's tests: flushes, turns, deadlines and the errors they end in, over
//! channels that stall, flood or hang up.

use super::*;
use crate::proto::rtsp::sdp;
use crate::proto::rtsp::session::Command;

fn plan() -> Plan {
    Plan {
        uri: "rtsp://cam/x".into(),
        kinds: vec![(sdp::Kind::Video, "video")],
        udp: false,
        srtp: false,
        require: Vec::new(),
        play: vec![("Range".into(), "npt=0.000-".into())],
        backchannel: false,
    }
}

/// An RTSP client on an in-memory connection (requests base64 as on a tunnel's POST,
/// or plain), and the server's ends (what it reads, where it writes).
fn connected(
    tunnel: Option<Option<bool>>,
    creds: Option<Credentials>,
) -> (Rtsp, tokio::io::DuplexStream, tokio::io::DuplexStream) {
    let (client_w, server_r) = tokio::io::duplex(4096);
    let (server_w, client_r) = tokio::io::duplex(4096);
    let channel: Box<dyn Channel> = match tunnel {
        Some(tls) => Box::new(crate::transport::tunnel::Tunnel::pipe_in(
            Box::new(client_r),
            Box::new(client_w),
            tls,
        )),
        None => Box::new(crate::transport::channel::Tcp::new(
            Box::new(client_r),
            Box::new(client_w),
            "cam:554".into(),
        )),
    };
    let rtsp = Rtsp::new(channel, creds, Duration::from_secs(5), plan());
    (rtsp, server_r, server_w)
}

/// [`Rtsp::run_until`], bounded by 5 s, packets dropped.
async fn run_until(
    rtsp: &mut Rtsp,
    until: impl FnMut(&Event) -> bool,
) -> Result<Vec<Event>, Error> {
    let mut ignore = |_: u8, _: &[u8]| {};
    tokio::time::timeout(Duration::from_secs(5), rtsp.run_until(&mut ignore, until))
        .await
        .expect("within 5 s")
}

/// A turn at the end of the stream returns, even once the session has ended and has
/// nothing more to say (it read the end again and again before).
#[tokio::test]
async fn test_a_turn_at_the_end_returns() {
    let (mut rtsp, server_r, server_w) = connected(None, None);
    drop((server_r, server_w));
    assert_eq!(rtsp.session.command(Command::Stop, Instant::now()), Ok(()));
    assert_eq!(
        rtsp.session.poll_event(),
        Some(Event::Sent(crate::proto::rtsp::sequence::Request {
            method: "OPTIONS",
            uri: "rtsp://cam/x".into(),
            headers: Vec::new(),
        }))
    );
    assert_eq!(rtsp.session.poll_event(), Some(Event::Closed));
    // The OPTIONS made at the start is not sent: the session has nothing to say.
    while rtsp.session.poll_transmit(Instant::now()).is_some() {}
    let mut ignore = |_: u8, _: &[u8]| {};
    let r = tokio::time::timeout(Duration::from_secs(1), rtsp.turn(&mut ignore)).await;
    assert!(matches!(r, Ok(Ok(()))), "{r:?}");
}

/// `run_until` returns once the session is closed, whatever it waited for (nothing
/// comes after `Closed`; it read on for ever before).
#[tokio::test]
async fn test_run_until_ends_with_the_session() {
    let (mut rtsp, _server_r, _server_w) = connected(None, None);
    assert_eq!(rtsp.session.command(Command::Stop, Instant::now()), Ok(()));
    let mut ignore = |_: u8, _: &[u8]| {};
    let r = tokio::time::timeout(
        Duration::from_secs(1),
        rtsp.run_until(&mut ignore, |_| false),
    )
    .await;
    let events = r.expect("within 1 s").expect("no failure");
    assert_eq!(events.last(), Some(&Event::Closed));
}

/// A device whose packets are always there to read (a flood faster than we take it)
/// and that never answers.
struct Flood;

impl tokio::io::AsyncRead for Flood {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let mut frame = vec![b'$', 0, 0x05, 0xDC];
        frame.resize(4 + 1500, 0x80);
        while buf.remaining() >= frame.len() {
            buf.put_slice(&frame);
        }
        std::task::Poll::Ready(Ok(()))
    }
}

/// A flood does not hold back the deadlines: the read goes first and is always ready,
/// so the answer's deadline is looked at between reads. Before, the timer was never
/// polled and the session never timed out (the test ran for ever: hence the thread
/// and its bounded wait).
#[test]
fn test_a_flood_does_not_hold_back_the_deadlines() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let r = rt.block_on(async {
            let (client_w, _server_r) = tokio::io::duplex(4096);
            let channel = crate::transport::channel::Tcp::new(
                Box::new(Flood),
                Box::new(client_w),
                "cam:554".into(),
            );
            let mut rtsp = Rtsp::new(Box::new(channel), None, Duration::from_millis(200), plan());
            let mut ignore = |_: u8, _: &[u8]| {};
            rtsp.run_until(&mut ignore, |_| false).await
        });
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Err(Error::TimedOut { operation, .. })) => assert_eq!(operation, "RTSP OPTIONS"),
        other => panic!("{other:?}"),
    }
}

/// Security review: a write the device never takes (a POST held at a zero window)
/// wedged the play loop; now it ends within the timeout as a reconnect cause.
#[tokio::test]
async fn test_a_write_nobody_reads_is_bounded() {
    // A pipe of 16 bytes that nobody reads: the OPTIONS can never be written whole.
    let (client_w, _server_r) = tokio::io::duplex(16);
    let (_server_w, client_r) = tokio::io::duplex(16);
    let channel = crate::transport::channel::Tcp::new(
        Box::new(client_r),
        Box::new(client_w),
        "cam:443".into(),
    );
    let mut rtsp = Rtsp::new(Box::new(channel), None, Duration::from_millis(50), plan());
    match rtsp.flush().await {
        Err(e @ Error::Io { .. }) => {
            assert!(e.is_transient());
            assert!(e.to_string().contains("RTSP OPTIONS"), "{e}");
            assert!(e.to_string().contains("stopped reading"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

/// The authorization rule follows the channel: a Basic challenge is answered on a
/// tunnel inside TLS to an authenticated peer, and withheld on plain RTSP over TCP
/// (the caller no longer says which).
#[tokio::test]
async fn test_the_channel_decides_how_far_authorization_goes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let creds = Some(Credentials {
        user: "admin".into(),
        password: "password".into(),
    });
    for tls_tunnel in [true, false] {
        let (mut rtsp, mut server_r, mut server_w) =
            connected(tls_tunnel.then_some(Some(true)), creds.clone());
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut b = [0u8; 4096];
            for answer in [
                "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n",
                "RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n",
            ] {
                let n = match server_r.read(&mut b).await {
                    Ok(n) if n > 0 => n,
                    _ => break,
                };
                seen.extend_from_slice(&b[..n]);
                if server_w.write_all(answer.as_bytes()).await.is_err() {
                    break;
                }
            }
            seen
        });
        let r = run_until(&mut rtsp, |ev| matches!(ev, Event::Answered { .. })).await;
        drop(rtsp);
        let seen = server.await.expect("server");
        if tls_tunnel {
            let events = r.expect("answered");
            assert!(
                matches!(
                    events.last(),
                    Some(Event::Answered {
                        method: "OPTIONS",
                        status: 200,
                        ..
                    })
                ),
                "{events:?}"
            );
            use base64::Engine;
            let text: String = String::from_utf8_lossy(&seen).into_owned();
            // Two base64 messages back to back, each starting "OPTIONS r": the second.
            let starts: Vec<usize> = text.match_indices("T1BUSU9OUyBy").map(|(i, _)| i).collect();
            assert_eq!(starts.len(), 2, "{text}");
            let second = base64::engine::general_purpose::STANDARD
                .decode(&text[starts[1]..])
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            assert!(second.contains("Authorization: Basic "), "{second:?}");
        } else {
            assert!(matches!(r, Err(Error::CredentialsWithheld { .. })), "{r:?}");
        }
    }
}

/// A server that reads requests as live555 reads its tunnel's POST: whatever stands
/// before a request is part of it, and an unknown command gets 405 with the CSeq. It
/// describes one video stream and sets it up on channels 0-1 with a session timeout of
/// 60 s.
async fn live555(
    from: tokio::io::DuplexStream,
    to: tokio::io::DuplexStream,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
) {
    tunnel_server(from, to, seen, 60, false).await
}

/// [`live555`] with a session timeout of `timeout` s, which answers nothing after PLAY
/// when `silent_after_play`.
async fn tunnel_server(
    mut from: tokio::io::DuplexStream,
    mut to: tokio::io::DuplexStream,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    timeout: u32,
    silent_after_play: bool,
) {
    use base64::Engine;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n";
    let mut text = Vec::new();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        // As live555: decode what is a whole number of base64 groups, in place.
        let whole = text.len() - text.len() % 4;
        if whole > 0 {
            let group: Vec<u8> = text.drain(..whole).collect();
            buf.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(&group)
                    .expect("base64"),
            );
        }
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let req: Vec<u8> = buf.drain(..end + 4).collect();
            let text = String::from_utf8_lossy(&req).to_string();
            let cseq = text
                .find("CSeq: ")
                .and_then(|i| text[i + 6..].lines().next())
                .unwrap_or("")
                .to_string();
            let (status, extra, body) = if req.first() == Some(&b'$') {
                ("405 Method Not Allowed", String::new(), "")
            } else if text.starts_with("DESCRIBE ") {
                let extra = format!(
                    "Content-Base: rtsp://cam/x/\r\nContent-Type: application/sdp\r\n\
                     Content-Length: {}\r\n",
                    SDP.len()
                );
                ("200 OK", extra, SDP)
            } else if text.starts_with("SETUP ") {
                let extra = format!(
                    "Session: 5;timeout={timeout}\r\n\
                     Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                );
                ("200 OK", extra, "")
            } else if silent_after_play && seen_play(&seen) {
                seen.lock().unwrap().push(req);
                continue;
            } else {
                ("200 OK", String::new(), "")
            };
            seen.lock().unwrap().push(req);
            let answer = format!("RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{extra}\r\n{body}");
            if to.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
        match from.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => text.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Issue 22 point 4: a request written after a receiver report, refused by a server
/// that reads the report as part of it (live555's tunnel), is sent once more, and no
/// report goes on that connection after.
#[tokio::test]
async fn test_a_request_refused_after_a_report_is_resent_and_reports_stop() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut rtsp = playing(|r, w| live555(r, w, seen.clone())).await;
    let report = [0x81u8, 201, 0, 7, 0, 0, 0, 1];
    rtsp.session.report(1, &report);
    assert_eq!(rtsp.session.command(Command::Stop, Instant::now()), Ok(()));
    let events = run_until(&mut rtsp, |ev| matches!(ev, Event::Closed))
        .await
        .expect("closed");
    assert!(
        events.contains(&Event::Again(Again::RefusedAfterReport {
            refused_cseq: 5,
            first: true
        })),
        "{events:?}"
    );
    assert!(
        events.contains(&Event::Answered {
            method: "TEARDOWN",
            uri: "rtsp://cam/x/".into(),
            status: 200,
            reason: "OK".into()
        }),
        "resent, clean: {events:?}"
    );
    rtsp.session.report(1, &report);
    assert!(!rtsp.session.has_transmit(), "no more reports");
    let seen = seen.lock().unwrap();
    let starts: Vec<String> = seen
        .iter()
        .map(|r| String::from_utf8_lossy(&r[..r.len().min(12)]).to_string())
        .collect();
    assert_eq!(seen.len(), 6, "{starts:?}");
    assert!(seen[3].starts_with(b"PLAY "), "{starts:?}");
    assert!(seen[4].starts_with(b"$\x01\x00\x08"), "{starts:?}");
    assert!(seen[5].starts_with(b"TEARDOWN "), "{starts:?}");
    assert!(
        String::from_utf8_lossy(&seen[5]).contains("CSeq: 6\r\n"),
        "{starts:?}"
    );
}

/// A client on an in-memory tunnel without TLS, played by the server `serve` makes of
/// its ends.
async fn playing<F: std::future::Future<Output = ()> + Send + 'static>(
    serve: impl FnOnce(tokio::io::DuplexStream, tokio::io::DuplexStream) -> F,
) -> Rtsp {
    let (mut rtsp, server_r, server_w) = connected(Some(None), None);
    tokio::spawn(serve(server_r, server_w));
    run_until(&mut rtsp, |ev| {
        matches!(
            ev,
            Event::Start(crate::proto::rtsp::sequence::Step::Playing(_))
        )
    })
    .await
    .expect("playing");
    rtsp
}

fn seen_play(seen: &std::sync::Mutex<Vec<Vec<u8>>>) -> bool {
    seen.lock().unwrap().iter().any(|r| r.starts_with(b"PLAY "))
}

/// A keep-alive left unanswered loses the session when the next one is due, and the
/// driver says so as spec §10's read error naming the keep-alive (was an element test
/// over a relay made to stall, `tests/live.rs`; the session's deadline is
/// `proto/rtsp/session_tests.rs`'s). A session timeout of 1 s: a keep-alive every
/// 0.5 s, so the loss is 1 s after PLAY.
#[tokio::test]
async fn test_an_unanswered_keepalive_is_a_read_error_naming_it() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut rtsp = playing(|r, w| tunnel_server(r, w, seen.clone(), 1, true)).await;
    let played = Instant::now();
    let e = run_until(&mut rtsp, |_| false)
        .await
        .expect_err("the session is lost");
    let after = played.elapsed();
    assert!(
        (Duration::from_millis(950)..Duration::from_millis(1500)).contains(&after),
        "lost after {after:?}"
    );
    assert!(e.is_transient(), "a reconnect cause: {e:?}");
    let (domain, text) = (e.kind(), e.to_string());
    assert_eq!(
        domain,
        crate::error::ErrorKind::Resource(gst::ResourceError::Read)
    );
    assert!(
        text.contains("during RTSP OPTIONS keep-alive")
            && text.contains("keep-alive CSeq 5 unanswered after 0.5 s"),
        "{text}"
    );
}
