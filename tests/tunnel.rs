// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The tunnel's wire format against a scripted peer: what the GET and the POST carry,
//! an HTTP/1.1 reply, and RTSP bytes that arrive in the same segment as the GET's header.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use base64::Engine;
use gstonvifhttps::testing::onvif::addr::Origin;
use gstonvifhttps::testing::rtsp::sequence::Plan;
use gstonvifhttps::testing::rtsp::session::Event;
use gstonvifhttps::testing::rtsp_client::{Packets, Rtsp};

/// A session that plays one video stream from `uri` (these tests stop at its first
/// answers).
fn plan(uri: &str) -> Plan {
    Plan {
        uri: uri.into(),
        kinds: vec![(gstonvifhttps::testing::rtsp::sdp::Kind::Video, "video")],
        udp: false,
        srtp: false,
        require: Vec::new(),
        play: Vec::new(),
        backchannel: false,
    }
}

/// Runs `rtsp` until `method` is answered (packets to `on_data`): its status.
async fn answered(rtsp: &mut Rtsp, method: &str, on_data: &mut dyn Packets) -> u16 {
    let events = tokio::time::timeout(
        Duration::from_secs(10),
        rtsp.run_until(
            on_data,
            |ev| matches!(ev, Event::Answered { method: m, .. } if *m == method),
        ),
    )
    .await
    .expect("answered within 10 s")
    .unwrap();
    match events.last() {
        Some(Event::Answered { status, .. }) => *status,
        other => panic!("{other:?}"),
    }
}

fn read_head(r: &mut BufReader<std::net::TcpStream>) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        let l = l.trim_end().to_string();
        if l.is_empty() {
            return lines;
        }
        lines.push(l);
    }
}

/// Accepts the tunnel's GET, reads its head and answers it (HTTP/1.0 200, tunnelled).
fn answer_get(listener: &TcpListener) -> std::net::TcpStream {
    let (get, _) = listener.accept().unwrap();
    get.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    get.set_nodelay(true).unwrap();
    let mut get_r = BufReader::new(get.try_clone().unwrap());
    read_head(&mut get_r);
    let mut g = get;
    g.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n")
        .unwrap();
    g
}

#[test]
fn test_get_reply_http11_with_rtsp_in_same_segment_and_base64_post() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (get, _) = listener.accept().unwrap();
        get.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut get_r = BufReader::new(get.try_clone().unwrap());
        let get_head = read_head(&mut get_r);
        // The reply header and the first RTSP answer in one write.
        let mut g = get;
        g.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\nX-Server-IP-Address: 10.9.9.9\r\n\r\n\
              RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n",
        )
        .unwrap();
        let (post, _) = listener.accept().unwrap();
        post.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut post_r = BufReader::new(post);
        let post_head = read_head(&mut post_r);
        // One base64 unit per request, padded: read what the first OPTIONS encodes to.
        let mut body = vec![0u8; 4096];
        let n = post_r.read(&mut body).unwrap();
        body.truncate(n);
        (get_head, post_head, body)
    });

    let origin = Origin {
        scheme: "http",
        host: "127.0.0.1".into(),
        port,
    };
    let rt = &gstonvifhttps::testing::runtime::RUNTIME;
    let resp = rt.block_on(async {
        let ch = gstonvifhttps::testing::tunnel::open(
            &origin,
            None,
            "/axis-media/media.amp?profile=p1&x=1",
            None,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert!(
            ch.initial.starts_with(b"RTSP/1.0 200 OK"),
            "bytes past the GET header are kept"
        );
        let mut rtsp = Rtsp::new(
            Box::new(ch),
            None,
            Duration::from_secs(5),
            plan("rtsp://127.0.0.1/axis-media/media.amp?profile=p1&x=1"),
        );
        let status = answered(&mut rtsp, "OPTIONS", &mut |_: u8, _: &[u8]| {}).await;
        (
            status,
            rtsp.session.supports("OPTIONS") && rtsp.session.supports("DESCRIBE"),
        )
    });
    assert_eq!(resp, (200, true), "Public: OPTIONS, DESCRIBE");
    let (get_head, post_head, body) = server.join().unwrap();
    assert_eq!(
        get_head[0], "GET /axis-media/media.amp?profile=p1&x=1 HTTP/1.0",
        "query kept"
    );
    assert!(
        get_head
            .iter()
            .any(|h| h == "Accept: application/x-rtsp-tunnelled"),
        "{get_head:?}"
    );
    let cookie = |head: &[String]| {
        head.iter()
            .find_map(|h| h.strip_prefix("x-sessioncookie: "))
            .map(str::to_string)
            .expect("cookie")
    };
    assert_eq!(
        cookie(&get_head),
        cookie(&post_head),
        "same cookie on both legs"
    );
    assert_eq!(
        post_head[0],
        "POST /axis-media/media.amp?profile=p1&x=1 HTTP/1.0"
    );
    assert!(
        post_head
            .iter()
            .any(|h| h == "Content-Type: application/x-rtsp-tunnelled")
    );
    assert!(post_head.iter().any(|h| h == "Content-Length: 32767"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&body)
        .expect("the POST body is base64, padded per request");
    let text = String::from_utf8(decoded).unwrap();
    assert!(
        text.starts_with(
            "OPTIONS rtsp://127.0.0.1/axis-media/media.amp?profile=p1&x=1 RTSP/1.0\r\nCSeq: 1\r\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\n"));
}

/// A GET redirect is followed (path and query only: the tunnel stays on the verified
/// origin even when `Location` names another host), and the POST goes to the final path.
#[test]
fn test_get_redirect_followed_on_the_same_origin() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut heads = Vec::new();
        // First GET: redirected to another host and path.
        let (first, _) = listener.accept().unwrap();
        first
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut r = BufReader::new(first.try_clone().unwrap());
        heads.push(read_head(&mut r)[0].clone());
        let mut w = first;
        w.write_all(
            b"HTTP/1.0 302 Found\r\nLocation: http://198.51.100.7:8080/moved/stream?p=2\r\n\r\n",
        )
        .unwrap();
        drop(w);
        // Second GET, on us again.
        let (get, _) = listener.accept().unwrap();
        get.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(get.try_clone().unwrap());
        heads.push(read_head(&mut r)[0].clone());
        let mut g = get;
        g.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n")
            .unwrap();
        let (post, _) = listener.accept().unwrap();
        post.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut r = BufReader::new(post);
        heads.push(read_head(&mut r)[0].clone());
        heads
    });
    let origin = Origin {
        scheme: "http",
        host: "127.0.0.1".into(),
        port,
    };
    gstonvifhttps::testing::runtime::RUNTIME
        .block_on(gstonvifhttps::testing::tunnel::open(
            &origin,
            None,
            "/stream?p=1",
            None,
            Duration::from_secs(5),
        ))
        .expect("tunnel after one redirect");
    let heads = server.join().unwrap();
    assert_eq!(
        heads,
        [
            "GET /stream?p=1 HTTP/1.0",
            "GET /moved/stream?p=2 HTTP/1.0",
            "POST /moved/stream?p=2 HTTP/1.0"
        ]
    );
}

/// A redirect loop ends with an error after five hops, never a hang.
#[test]
fn test_redirect_loop_ends() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut n = 0;
        for conn in listener.incoming() {
            let Ok(c) = conn else { break };
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut r = BufReader::new(c.try_clone().unwrap());
            let head = read_head(&mut r);
            if head.is_empty() {
                break;
            }
            n += 1;
            let mut w = c;
            let _ =
                w.write_all(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
            if n == 6 {
                break;
            }
        }
        n
    });
    let origin = Origin {
        scheme: "http",
        host: "127.0.0.1".into(),
        port,
    };
    let res = gstonvifhttps::testing::runtime::RUNTIME.block_on(
        gstonvifhttps::testing::tunnel::open(&origin, None, "/loop", None, Duration::from_secs(5)),
    );
    match res {
        Err(gstonvifhttps::testing::error::Error::HttpStatus { status, .. }) => {
            assert_eq!(status, 302)
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a redirect loop must fail"),
    }
    assert_eq!(
        server.join().unwrap(),
        6,
        "the first GET and five redirects"
    );
}

/// A POST the server (or a proxy) closes is opened again with the same cookie, and the
/// next request goes on it (gst-rtsp-server re-attaches such a POST).
#[test]
fn test_closed_post_reopened_with_same_cookie() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let b64 = base64::engine::general_purpose::STANDARD;
    let server = std::thread::spawn(move || {
        let mut g = answer_get(&listener);
        let mut cookies = Vec::new();
        let mut requests = Vec::new();
        for cseq in 1..=2 {
            let (post, _) = listener.accept().unwrap();
            post.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut r = BufReader::new(post.try_clone().unwrap());
            let head = read_head(&mut r);
            cookies.push(
                head.iter()
                    .find_map(|h| h.strip_prefix("x-sessioncookie: "))
                    .unwrap()
                    .to_string(),
            );
            let mut body = vec![0u8; 4096];
            let n = r.read(&mut body).unwrap();
            let text = String::from_utf8(b64.decode(&body[..n]).unwrap()).unwrap();
            requests.push(text.lines().next().unwrap().to_string());
            // Close this POST before answering on the GET.
            post.shutdown(std::net::Shutdown::Both).unwrap();
            drop(r);
            g.write_all(format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n").as_bytes())
                .unwrap();
        }
        (cookies, requests)
    });
    let origin = Origin {
        scheme: "http",
        host: "127.0.0.1".into(),
        port,
    };
    let reopened = gstonvifhttps::testing::runtime::RUNTIME.block_on(async {
        let ch =
            gstonvifhttps::testing::tunnel::open(&origin, None, "/s", None, Duration::from_secs(5))
                .await
                .unwrap();
        let mut rtsp = Rtsp::new(
            Box::new(ch),
            None,
            Duration::from_secs(5),
            plan("rtsp://127.0.0.1/s"),
        );
        let mut ignore = |_: u8, _: &[u8]| {};
        assert_eq!(answered(&mut rtsp, "OPTIONS", &mut ignore).await, 200);
        assert_eq!(
            answered(&mut rtsp, "DESCRIBE", &mut ignore).await,
            200,
            "answered after the POST was opened again"
        );
        rtsp.channel.reopened()
    });
    let (cookies, requests) = server.join().unwrap();
    assert_eq!(reopened, 1);
    assert_eq!(cookies[0], cookies[1], "same cookie on the new POST");
    assert_eq!(
        requests,
        [
            "OPTIONS rtsp://127.0.0.1/s RTSP/1.0",
            "DESCRIBE rtsp://127.0.0.1/s RTSP/1.0"
        ]
    );
}

/// What a hostile or broken device puts on the GET: garbage between interleaved frames
/// (skipped, the frames around it intact), a frame of the largest length (65535, kept
/// whole), a frame delivered one byte per write, and an answer without CSeq (taken as the
/// answer to the request in flight).
#[test]
fn test_garbage_huge_frames_trickle_and_missing_cseq() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let b64 = base64::engine::general_purpose::STANDARD;
    let server = std::thread::spawn(move || {
        let mut g = answer_get(&listener);
        let mut stream = vec![b'$', 0, 0, 4];
        stream.extend_from_slice(b"AAAA");
        stream.extend_from_slice(b"\x00\xffgarbage from a confused camera\r\n\x17");
        stream.extend_from_slice(&[b'$', 1, 0xFF, 0xFF]);
        stream.extend(std::iter::repeat_n(0x55u8, 65535));
        g.write_all(&stream).unwrap();
        for b in [b'$', 0, 0, 3, b'B', b'B', b'B'] {
            g.write_all(&[b]).unwrap();
            g.flush().unwrap();
            // Pace the peer so that each byte is its own segment.
            std::thread::sleep(Duration::from_millis(2));
        }
        let (post, _) = listener.accept().unwrap();
        post.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut r = BufReader::new(post);
        read_head(&mut r);
        let mut body = vec![0u8; 4096];
        let n = r.read(&mut body).unwrap();
        let text = String::from_utf8(b64.decode(&body[..n]).unwrap()).unwrap();
        g.write_all(b"RTSP/1.0 200 OK\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n")
            .unwrap();
        text.lines().next().unwrap().to_string()
    });
    let origin = Origin {
        scheme: "http",
        host: "127.0.0.1".into(),
        port,
    };
    let (status, got) = gstonvifhttps::testing::runtime::RUNTIME.block_on(async {
        let ch =
            gstonvifhttps::testing::tunnel::open(&origin, None, "/s", None, Duration::from_secs(5))
                .await
                .unwrap();
        let mut rtsp = Rtsp::new(
            Box::new(ch),
            None,
            Duration::from_secs(5),
            plan("rtsp://127.0.0.1/s"),
        );
        let mut got: Vec<(u8, Vec<u8>)> = Vec::new();
        let mut collect = |ch: u8, p: &[u8]| got.push((ch, p.to_vec()));
        let status = answered(&mut rtsp, "OPTIONS", &mut collect).await;
        (status, got)
    });
    assert_eq!(
        server.join().unwrap(),
        "OPTIONS rtsp://127.0.0.1/s RTSP/1.0"
    );
    assert_eq!(status, 200);
    assert_eq!(
        got.len(),
        3,
        "{:?}",
        got.iter().map(|(c, p)| (c, p.len())).collect::<Vec<_>>()
    );
    assert_eq!(got[0], (0, b"AAAA".to_vec()));
    assert_eq!(got[1].0, 1);
    assert_eq!(got[1].1, vec![0x55u8; 65535]);
    assert_eq!(got[2], (0, b"BBB".to_vec()));
}
