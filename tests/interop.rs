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
use gstonvifhttps::testing::rtsp::{self, sdp};
use gstonvifhttps::testing::rtsp_client::{Event, Rtsp};
use gstonvifhttps::testing::tls::{self, TlsSettings};

#[test]
fn test_https_tunnel_against_bare_gst_rtsp_server() {
    init();
    let root = certs::Ca::new("Interop Root");
    let identity = root.leaf(&["127.0.0.1"], certs::Validity::default());
    let mut server =
        onvif_virtual_camera::media::Media::start_bare_tls(&identity, "admin", "password")
            .expect("gst-rtsp-server with TLS");
    let ca = TempFile::new("ca.pem", &root.pem());
    let config = tls::client_config(&TlsSettings {
        validate_certificate: true,
        validate_hostname: true,
        ca_file: Some(ca.as_str().to_string()),
        pins: Vec::new(),
    })
    .unwrap();
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
        let mut rtsp = Rtsp::new(Box::new(channel), Some(creds.clone()), timeout);
        let mut ignore = |_: u8, _: &[u8]| {};
        let r = rtsp
            .request("OPTIONS", &uri, &[], &mut ignore)
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        let r = rtsp
            .request(
                "DESCRIBE",
                &uri,
                &[("Accept", "application/sdp")],
                &mut ignore,
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200, "Digest answered: {r:?}");
        assert_eq!(
            sdp_encodings(&r.body),
            ["H264", "MPEG4-GENERIC", "VND.ONVIF.METADATA"]
        );
        let (session_control, streams) = sdp::parse(&r.body).unwrap();
        let urls = rtsp::url::Presentation::of_describe(&uri, &r, session_control.as_deref());
        let control = urls.media(streams[0].control.as_deref()).url;
        let r = rtsp
            .request(
                "SETUP",
                &control,
                &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")],
                &mut ignore,
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        rtsp.state.established(&r);
        let r = rtsp
            .request(
                "PLAY",
                &urls.aggregate,
                &[("Range", "npt=0.000-")],
                &mut ignore,
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        let n = std::sync::atomic::AtomicUsize::new(0);
        let mut count = |ch: u8, p: &[u8]| {
            if ch == 0 && gstonvifhttps::testing::rtp::parse_header(p).is_some() {
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        // next_event returns on responses only; read in slices (its reads are cancel-safe).
        while tokio::time::Instant::now() < deadline
            && n.load(std::sync::atomic::Ordering::Relaxed) < 100
        {
            match tokio::time::timeout(Duration::from_millis(100), rtsp.next_event(&mut count))
                .await
            {
                Ok(Ok(Event::Response(_))) | Err(_) => {}
                Ok(Ok(Event::Closed)) | Ok(Err(_)) => break,
            }
        }
        let r = rtsp
            .request("TEARDOWN", &uri, &[], &mut ignore)
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        n.into_inner()
    });
    server.stop();
    assert!(
        packets >= 100,
        "{packets} RTP packets through gst-rtsp-server's own HTTPS tunnel"
    );
}
