// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A hostile or broken device against the element's clients (issue 23): each test is a
//! shape found in the second security review, driven from a server of its own on
//! 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::event_item;
use gstonvifhttps::testing::net::HttpClient;
use gstonvifhttps::testing::onvif::addr::Origin;
use gstonvifhttps::testing::runtime::RUNTIME;

/// A server that answers each request on one keep-alive connection with `100 Continue`,
/// unasked, then `200` with a body naming the request's number.
fn continue_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut n = 0;
        while n < 3 {
            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                buf.drain(..end + 4);
                n += 1;
                let body = format!("answer {n}");
                let answer = format!(
                    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                s.write_all(answer.as_bytes()).unwrap();
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        }
    });
    (port, handle)
}

/// Issue 23 point 10: an unsolicited `100 Continue` was taken as the answer, and every
/// later answer on the keep-alive connection was off by one.
#[test]
fn test_interim_answers_are_skipped() {
    let (port, server) = continue_server();
    let origin = Origin {
        scheme: "http",
        host: "127.0.0.1".into(),
        port,
    };
    let bodies: Vec<(u16, String)> = RUNTIME.block_on(async {
        let mut client = HttpClient::new(origin, None, Duration::from_secs(5));
        let mut out = Vec::new();
        for _ in 0..3 {
            let r = client
                .request("GetSnapshot", "GET", "/x", &[], &[], 1024)
                .await
                .expect("an answer");
            out.push((r.head.status, String::from_utf8_lossy(&r.body).to_string()));
        }
        out
    });
    server.join().unwrap();
    assert_eq!(
        bodies,
        [
            (200, "answer 1".to_string()),
            (200, "answer 2".to_string()),
            (200, "answer 3".to_string())
        ]
    );
}

/// Issue 23 point 7: a NUL byte (or another control character) in a SimpleItem value, a
/// topic, an fmtp value or a fault reason reached GLib as it came: debug builds panicked
/// in the string conversion (LIBRARY/FAILED, the whole pipeline stopped), release ones cut
/// the text short. Such characters are replaced by U+FFFD on the way in.
#[test]
fn test_control_characters_never_reach_glib() {
    use gstonvifhttps::testing::events::event_structure;
    use gstonvifhttps::testing::onvif::events::Notification;
    use gstonvifhttps::testing::rtsp::sdp;
    gst::init().unwrap();
    let n = Notification {
        topic: "tns1:Device/\0Trigger".into(),
        utc_time: "2026-12-05T00:00:00Z".into(),
        property_operation: "Changed\u{1b}".into(),
        source: vec![("InputToken".into(), "Digital\0Input_1".into())],
        data: vec![("LogicalState".into(), "tr\0ue\u{7}".into())],
        items_dropped: 0,
    };
    let s = event_structure(&n);
    assert_eq!(
        s.get::<String>("topic").unwrap(),
        "tns1:Device/\u{FFFD}Trigger"
    );
    assert_eq!(
        s.get::<String>("property-operation").unwrap(),
        "Changed\u{FFFD}"
    );
    assert_eq!(
        event_item(&s, "data", "LogicalState").as_deref(),
        Some("tr\u{FFFD}ue\u{FFFD}")
    );
    let sdp = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n\
a=rtpmap:96 H264/90000\r\na=fmtp:96 sprop-parameter-sets=Z0\x07LA,aMu\r\n";
    let (_, streams) = sdp::parse(sdp).expect("parsed");
    let caps = gstonvifhttps::testing::session::rtp_caps(&streams[0]);
    assert_eq!(
        caps.structure(0)
            .unwrap()
            .get::<String>("sprop-parameter-sets")
            .unwrap(),
        "Z0\u{FFFD}LA,aMu"
    );
    let e = gstonvifhttps::testing::error::Error::NotFound {
        at: gstonvifhttps::testing::error::At::here(),
        peer: "127.0.0.1:1".into(),
        what: "no profile \"a\0b\"".into(),
    };
    let m = format!("{:?}", e.to_error_message());
    assert!(m.contains("a\u{FFFD}b") && !m.contains('\0'), "{m}");
}
