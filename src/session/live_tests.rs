// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The play loop's stop (review of issue 24's composed session): once TEARDOWN is asked
//! for, nothing that fails is a loss, and the TEARDOWN's write is bounded by its wait.
//! An in-memory device behind a real driver; no network.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream, ReadBuf};

use super::streams::tests::{Counting, replaying};
use super::*;
use crate::proto::rtsp::session::Event;

/// A device's connection that ends with a reset instead of an orderly close (as a TLS
/// stream cut without close_notify reads).
struct ResetAtEnd(DuplexStream);

impl AsyncRead for ResetAtEnd {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() == before => Poll::Ready(Err(
                std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            )),
            other => other,
        }
    }
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
    m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n";

/// What the device does when TEARDOWN comes.
#[derive(Clone, Copy)]
enum AtTeardown {
    /// The connection is reset before any answer.
    Reset,
    /// The device stops reading after PLAY: the TEARDOWN is never taken.
    StopsReading,
}

/// A device that plays one video stream, then does `at_teardown`; `played` gets what
/// must stay open for it.
async fn device(
    mut from: DuplexStream,
    mut to: DuplexStream,
    at_teardown: AtTeardown,
    played: tokio::sync::oneshot::Sender<DuplexStream>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    'setup: loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let req: Vec<u8> = buf.drain(..end + 4).collect();
            let text = String::from_utf8_lossy(&req).into_owned();
            let cseq = text
                .lines()
                .find_map(|l| l.strip_prefix("CSeq: "))
                .unwrap_or("0")
                .to_string();
            let method = text.split(' ').next().unwrap_or("").to_string();
            let extra = match method.as_str() {
                "DESCRIBE" => format!(
                    "Content-Base: rtsp://cam/r/\r\nContent-Type: application/sdp\r\n\
                     Content-Length: {}\r\n\r\n{SDP}",
                    SDP.len()
                ),
                "SETUP" => "Session: 7;timeout=60\r\n\
                    Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
                    .to_string(),
                _ => "\r\n".to_string(),
            };
            let answer = format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{extra}");
            if to.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            if method == "PLAY" {
                break 'setup;
            }
        }
        match from.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    match at_teardown {
        AtTeardown::StopsReading => {
            // Held open by the test, never read again.
            let _ = played.send(from);
            std::future::pending::<()>().await;
        }
        AtTeardown::Reset => {
            let _ = played.send(tokio::io::duplex(1).0);
            // Reads until the TEARDOWN, then drops the connection without an answer.
            while !String::from_utf8_lossy(&buf).contains("TEARDOWN ") {
                match from.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        }
    }
}

/// Plays against the device, then stops: the play loop's outcome and how long the stop
/// took.
async fn stop_against(at_teardown: AtTeardown, pipe: usize) -> (Result<(), Error>, Duration) {
    let (client_w, server_r) = tokio::io::duplex(pipe);
    let (server_w, client_r) = tokio::io::duplex(4096);
    let (played_tx, played_rx) = tokio::sync::oneshot::channel();
    let dev = tokio::spawn(device(server_r, server_w, at_teardown, played_tx));
    let channel = crate::transport::channel::Tcp::new(
        Box::new(ResetAtEnd(client_r)),
        Box::new(client_w),
        "cam:554".into(),
    );
    let plan = rtsp::sequence::Plan {
        uri: "rtsp://cam/r".into(),
        kinds: vec![(sdp::Kind::Video, "video")],
        udp: false,
        srtp: false,
        require: Vec::new(),
        play: Vec::new(),
        backchannel: false,
    };
    let timeout = Duration::from_secs(5);
    let mut rtsp = Rtsp::new(Box::new(channel), None, timeout, plan);
    let mut ignore = |_: u8, _: &[u8]| {};
    tokio::time::timeout(
        timeout,
        rtsp.run_until(&mut ignore, |ev| {
            matches!(ev, Event::Start(rtsp::sequence::Step::Playing(_)))
        }),
    )
    .await
    .expect("plays within 5 s")
    .expect("plays");
    let _held = played_rx.await;
    let (commander, mut commands) = command::channel();
    let out = Arc::new(Counting::default());
    commander.send(Command::Stop).expect("sent");
    let began = std::time::Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        play_loop(
            &mut rtsp,
            replaying(),
            (vec![None], None),
            (timeout, None),
            out,
            &mut commands,
        ),
    )
    .await
    .expect("the play loop ends within 10 s");
    dev.abort();
    (r, began.elapsed())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A device that resets the connection on TEARDOWN: the stop is a stop, not a loss (no
/// error, no reconnection; a replayed range that ended is not played again).
#[test]
fn test_a_reset_at_teardown_is_no_loss() {
    gst::init().expect("gst init");
    let (r, _) = runtime().block_on(stop_against(AtTeardown::Reset, 4096));
    assert!(r.is_ok(), "{r:?}");
}

/// A device that no longer reads: the TEARDOWN's write is bounded by its wait (200 ms),
/// not by the timeout (5 s here), so that the element stops within its deadline.
#[test]
fn test_a_teardown_nobody_reads_is_bounded_by_its_wait() {
    gst::init().expect("gst init");
    // 16 bytes of pipe: the TEARDOWN cannot be written whole.
    let (r, took) = runtime().block_on(stop_against(AtTeardown::StopsReading, 16));
    assert!(r.is_ok(), "{r:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}
