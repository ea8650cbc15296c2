// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Our tunnel and RTSP client against a bare gst-rtsp-server that does TLS itself
//! (GnuTLS, its own tunnel merging, its `X-Server-IP-Address` header) on its own port:
//! a peer we did not write. The element needs ONVIF in front of its media, so this drives
//! the session code the element uses, with the element's TLS checks.

mod common;

use std::time::Duration;

use common::*;
use gstonvifhttps::testing::auth::Credentials;
use gstonvifhttps::testing::onvif::addr::Origin;
use gstonvifhttps::testing::rtsp::sdp;
use gstonvifhttps::testing::rtsp::sequence::{Plan, Step};
use gstonvifhttps::testing::rtsp::session::{Command, Event};
use gstonvifhttps::testing::rtsp_client::Rtsp;

#[test]
fn test_https_tunnel_against_bare_gst_rtsp_server() {
    init();
    let root = certs::Ca::new("Interop Root");
    let identity = root.leaf(&["127.0.0.1"], certs::Validity::default());
    let mut server =
        onvif_virtual_camera::media::Media::start_bare_tls(&identity, "admin", "password")
            .expect("gst-rtsp-server with TLS");
    let ca = TempFile::new("ca.pem", &root.pem());
    let config = tls_with_ca(&ca);
    let origin = Origin {
        scheme: "https",
        host: "127.0.0.1".into(),
        port: server.port,
    };
    let creds = Credentials {
        user: "admin".into(),
        password: "password".into(),
    };
    let timeout = Duration::from_secs(5);
    let uri = format!("rtsp://127.0.0.1:{}/media/Profile_1", server.port);

    let packets = gstonvifhttps::testing::runtime::RUNTIME.block_on(async {
        let channel = gstonvifhttps::testing::tunnel::open(
            &origin,
            Some(&config),
            "/media/Profile_1",
            Some(&creds),
            timeout,
        )
        .await
        .expect("tunnel opens with full certificate checks");
        let plan = Plan {
            uri: uri.clone(),
            kinds: vec![
                (sdp::Kind::Video, "video"),
                (sdp::Kind::Audio, "audio"),
                (sdp::Kind::Metadata, "metadata"),
            ],
            udp: false,
            srtp: false,
            require: Vec::new(),
            play: vec![("Range".into(), "npt=0.000-".into())],
            backchannel: false,
        };
        let mut rtsp = Rtsp::new(Box::new(channel), Some(creds.clone()), timeout, plan);
        let n = std::sync::atomic::AtomicUsize::new(0);
        let mut count = |ch: u8, p: &[u8]| {
            if ch == 0 && gstonvifhttps::testing::rtp::parse_header(p).is_some() {
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let events = rtsp
            .run_until(&mut count, |ev| {
                matches!(ev, Event::Start(Step::Playing(_)))
            })
            .await
            .expect("plays, Digest answered");
        let answered = |method: &str| {
            events.iter().find_map(|e| match e {
                Event::Answered {
                    method: m, status, ..
                } if *m == method => Some(*status),
                _ => None,
            })
        };
        assert_eq!(answered("OPTIONS"), Some(200));
        assert_eq!(
            answered("DESCRIBE"),
            Some(200),
            "Digest answered: {events:?}"
        );
        assert_eq!(
            set_up_encodings(&events),
            ["H264", "MPEG4-GENERIC", "VND.ONVIF.METADATA"]
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        // Turns are cancel-safe: read in slices until 100 packets or the deadline.
        while tokio::time::Instant::now() < deadline
            && n.load(std::sync::atomic::Ordering::Relaxed) < 100
        {
            rtsp.flush().await.expect("flush");
            while let Some(ev) = rtsp.session.poll_event() {
                assert!(!matches!(ev, Event::Failed(_)), "{ev:?}");
            }
            match tokio::time::timeout(Duration::from_millis(100), rtsp.turn(&mut count)).await {
                Ok(Ok(())) | Err(_) => {}
                Ok(Err(e)) => panic!("{e}"),
            }
        }
        rtsp.session
            .command(Command::Stop, std::time::Instant::now())
            .expect("stop");
        let events = rtsp
            .run_until(&mut count, |ev| matches!(ev, Event::Closed))
            .await
            .expect("closed");
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Answered {
                    method: "TEARDOWN",
                    status: 200,
                    ..
                }
            )),
            "{events:?}"
        );
        n.into_inner()
    });
    server.stop();
    assert!(
        packets >= 100,
        "{packets} RTP packets through gst-rtsp-server's own HTTPS tunnel"
    );
}
