// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The method sequence with SRTP over UDP (`rtsps-srtp`, issue 25 point 2) and without
//! it, as bytes: which listing is set up, the `RTP/SAVP` SETUP with our `KeyMgmt`, its
//! MKI matched to the device's key, the device refusing our key, and the refusals.

use super::*;

/// gst-rtsp-server 1.22's SDP key (no MKI; `docs/secure-streaming-and-discovery.md`
/// §1.4).
const GST_KEY: &str = "AQAFABPGq/wBAACN19ggAAAAAAsA7r4aNQDrNW0KEBfA7z2oSHoVauI5caw9VJEBAAAAFQABAQEBEAIBAQMBCgcBAQgBAQoBAQAAACIAIAAesiwOw1cFIHnp8zMoII6LFtn9vYnn3/X0+ydEDNR2AA==";
/// ONVIF 26.06's example key (MKI 0000002f).
const ONVIF_KEY: &str = "AQAFAP1td9ABAADCD1UcAAAAAAoAAdOOGc75XD0BAAAAGAABAQEBEAIBAQMBFAcBAQgBAQoBAQsBCgAAACcAIQAe30C59UrClE0e27UP5h/Wty9UL8+dfzg+2ttmmo3kBAAAAC8A";

fn srtp_plan(kinds: &[(sdp::Kind, &'static str)]) -> Plan {
    let mut p = plan("rtsps://10.0.0.11:322/media/Profile_1", kinds);
    p.udp = true;
    p.srtp = true;
    p
}

/// Video and audio, each listed as RTP/AVP and as RTP/SAVP (gst-rtsp-server with both
/// profiles); the SAVP video's key is `video_key`, the audio's is at session level.
fn dual_sdp(video_key: &str) -> String {
    format!(
        "v=0\r\no=- 5 1 IN IP4 10.0.0.11\r\ns=-\r\nt=0 0\r\na=key-mgmt:mikey {ONVIF_KEY}\r\n\
         m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=0\r\n\
         m=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=1\r\n\
         a=key-mgmt:mikey {video_key}\r\n\
         m=audio 0 RTP/AVP 0\r\na=control:stream=2\r\n\
         m=audio 0 RTP/SAVP 0\r\na=control:stream=3\r\n"
    )
}

/// The header `name` of a request on the wire.
fn header<'a>(wire: &'a str, name: &str) -> Option<&'a str> {
    wire.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

/// Answers a SETUP by granting what it asked for, with the device's ports.
fn grant(wire: &str) -> String {
    let t = header(wire, "Transport").unwrap_or("");
    ok(
        &format!("Transport: {t};server_port=6000-6001;ssrc=1A2B3C4D\r\nSession: 7\r\n"),
        "",
    )
}

/// The SAVP listings are set up, over UDP, each SETUP carrying our key for its URL; our
/// key has an MKI only when the device's own key has one (gst-rtsp-server's has none and
/// its GStreamer ignores MKIs; ONVIF's has one).
#[test]
fn test_srtp_sets_up_the_savp_listings_with_our_key() {
    let mut setups = Vec::new();
    let (run, r) = drive(srtp_plan(&[VIDEO, AUDIO]), |m, wire| match m {
        "DESCRIBE" => ok(
            "Content-Base: rtsps://10.0.0.11:322/media/Profile_1/\r\n",
            &dual_sdp(GST_KEY),
        ),
        "SETUP" => {
            setups.push((
                header(wire, "Transport").unwrap_or("").to_string(),
                header(wire, "KeyMgmt").unwrap_or("").to_string(),
            ));
            grant(wire)
        }
        _ => ok("Session: 7\r\n", ""),
    });
    r.expect("played");
    let base = "rtsps://10.0.0.11:322/media/Profile_1";
    assert_eq!(
        setups,
        [
            (
                "RTP/SAVP;unicast;client_port=50000-50001".to_string(),
                // [0xAB, 0]: the test's stand-in for a MIKEY message without an MKI.
                format!("prot=mikey;uri=\"{base}/stream=1\";data=\"qwA=\""),
            ),
            (
                "RTP/SAVP;unicast;client_port=50002-50003".to_string(),
                format!("prot=mikey;uri=\"{base}/stream=3\";data=\"qwE=\""),
            ),
        ]
    );
    let keys: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Step::BindUdp(k) => Some(*k),
            _ => None,
        })
        .collect();
    // The video's device key has no MKI; the audio's (the session-level ONVIF key) has.
    assert_eq!(
        keys,
        [Some(OurKey { mki: false }), Some(OurKey { mki: true })]
    );
    let set_up: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Step::SetUp(s) => Some((
                s.control.clone(),
                s.granted.secure,
                s.key_sent,
                s.stream.key_mgmt.is_some(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        set_up,
        [
            (format!("{base}/stream=1"), true, true, true),
            (format!("{base}/stream=3"), true, true, true),
        ]
    );
}

/// A device that refuses our `KeyMgmt` (463 Key Management Failure) gets the same SETUP
/// without it; the stream is then keyed by its SDP alone.
#[test]
fn test_a_refused_key_is_not_sent_again() {
    let mut setups = Vec::new();
    let (run, r) = drive(srtp_plan(&[VIDEO]), |m, wire| match m {
        "DESCRIBE" => ok("", &dual_sdp(GST_KEY)),
        "SETUP" => {
            setups.push(header(wire, "KeyMgmt").is_some());
            if header(wire, "KeyMgmt").is_some() {
                "RTSP/1.0 463 Key Management Failure\r\nCSeq: {cseq}\r\n\r\n".to_string()
            } else {
                grant(wire)
            }
        }
        _ => ok("Session: 7\r\n", ""),
    });
    r.expect("played");
    assert_eq!(setups, [true, false]);
    assert!(
        run.events
            .iter()
            .any(|e| *e == Step::KeyRefused("463 Key Management Failure".into())),
        "{:?}",
        run.events
    );
    assert!(matches!(
        run.events.iter().find(|e| matches!(e, Step::SetUp(_))),
        Some(Step::SetUp(s)) if !s.key_sent && s.granted.secure
    ));
    // The same ports: one pair bound.
    assert_eq!(
        run.events
            .iter()
            .filter(|e| matches!(e, Step::BindUdp(_)))
            .count(),
        1
    );
}

/// What cannot be encrypted as asked is refused, naming the stream: SRTP asked of a
/// device offering the kind as RTP/AVP only; RTP/SAVP only, without SRTP asked; a SAVP
/// SETUP granted RTP/AVP (the media would come in clear) or granted interleaved.
#[test]
fn test_what_cannot_be_encrypted_as_asked_is_refused() {
    let avp_only = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n";
    let (_, r) = drive(srtp_plan(&[VIDEO]), |m, _| match m {
        "DESCRIBE" => ok("", avp_only),
        _ => ok("", ""),
    });
    assert_eq!(r, Err(Fault::NoSrtp("video")));
    let savp_only = format!(
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
         m=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n\
         a=key-mgmt:mikey {GST_KEY}\r\n"
    );
    for udp in [false, true] {
        let mut p = plan("rtsp://10.0.0.11/s", &[VIDEO]);
        p.udp = udp;
        let (run, r) = drive(p, |m, _| match m {
            "DESCRIBE" => ok("", &savp_only),
            _ => ok("", ""),
        });
        assert_eq!(r, Err(Fault::SrtpOnly("video")));
        assert!(
            !run.requests.iter().any(|l| l.starts_with("SETUP")),
            "{:?}",
            run.requests
        );
    }
    let (_, r) = drive(srtp_plan(&[VIDEO]), |m, _| match m {
        "DESCRIBE" => ok("", &savp_only),
        "SETUP" => ok(
            "Transport: RTP/AVP;unicast;client_port=50000-50001;server_port=6000-6001\r\n\
             Session: 7\r\n",
            "",
        ),
        _ => ok("", ""),
    });
    match r {
        Err(Fault::NotSecure { control, reply }) => {
            assert_eq!(control, "rtsps://10.0.0.11:322/media/Profile_1/v");
            assert_eq!(
                reply,
                "RTP/AVP;unicast;client_port=50000-50001;server_port=6000-6001"
            );
        }
        other => panic!("{other:?}"),
    }
    // Granted interleaved (RTP/SAVP/TCP): SRTP on the connection, which would reach the
    // pads undecrypted.
    let (_, r) = drive(srtp_plan(&[VIDEO]), |m, _| match m {
        "DESCRIBE" => ok("", &savp_only),
        "SETUP" => ok(
            "Transport: RTP/SAVP/TCP;unicast;interleaved=0-1\r\nSession: 7\r\n",
            "",
        ),
        _ => ok("", ""),
    });
    assert!(
        matches!(&r, Err(Fault::SrtpInterleaved { reply, .. })
            if reply == "RTP/SAVP/TCP;unicast;interleaved=0-1"),
        "{r:?}"
    );
}

/// The backchannel with SRTP: its RTP/SAVP listing, keyed like the others (with an MKI
/// as the device's other keys have one or not); offered only as
/// RTP/AVP, it is left out (it would go in clear) and the session plays without it.
#[test]
fn test_the_backchannel_is_set_up_as_srtp_or_not_at_all() {
    let bc = |profile: &str| {
        format!(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
             m=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n\
             a=key-mgmt:mikey {GST_KEY}\r\n\
             m=audio 0 {profile} 0\r\na=control:b\r\na=sendonly\r\n"
        )
    };
    let mut p = srtp_plan(&[VIDEO]);
    p.backchannel = true;
    let mut setups = Vec::new();
    let (run, r) = drive(p.clone(), |m, wire| match m {
        "DESCRIBE" => ok("", &bc("RTP/SAVP")),
        "SETUP" => {
            setups.push(header(wire, "Transport").unwrap_or("").to_string());
            grant(wire)
        }
        _ => ok("Session: 7\r\n", ""),
    });
    r.expect("played");
    assert_eq!(
        setups,
        [
            "RTP/SAVP;unicast;client_port=50000-50001",
            "RTP/SAVP;unicast;client_port=50002-50003"
        ]
    );
    assert!(
        run.events
            .iter()
            .any(|e| matches!(e, Step::SetUp(s) if s.prefix == BACKCHANNEL && s.key_sent))
    );
    // gst-rtsp-server gives the backchannel no key: the video's (no MKI) says the device
    // ignores MKIs, so the backchannel's key has none either (else it could not open it).
    assert_eq!(
        run.events
            .iter()
            .filter_map(|e| match e {
                Step::BindUdp(k) => Some(*k),
                _ => None,
            })
            .collect::<Vec<_>>(),
        [Some(OurKey { mki: false }); 2]
    );
    let (run, r) = drive(p, |m, wire| match m {
        "DESCRIBE" => ok("", &bc("RTP/AVP")),
        "SETUP" => grant(wire),
        _ => ok("Session: 7\r\n", ""),
    });
    r.expect("played");
    assert!(run.events.iter().any(|e| matches!(e,
        Step::NoBackchannel(why) if why.contains("only as plain RTP/AVP"))));
    assert_eq!(run.set_up().len(), 1);
}

/// A 400 to our `KeyMgmt` on a URL that has a fallback (a relative control whose two
/// joins differ): the SETUP goes again to the same URL without the key, and the fallback
/// stays for a refusal of that one.
#[test]
fn test_a_refused_key_is_retried_on_the_same_url() {
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
         m=video 0 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n\
         a=key-mgmt:mikey {GST_KEY}\r\n"
    );
    let mut p = plan("rtsps://10.0.0.11:322/live/ch0", &[VIDEO]);
    p.udp = true;
    p.srtp = true;
    let (run, r) = drive(p, |m, wire| match m {
        "DESCRIBE" => ok("", &sdp),
        "SETUP" if header(wire, "KeyMgmt").is_some() => {
            "RTSP/1.0 400 Bad Request\r\nCSeq: {cseq}\r\n\r\n".to_string()
        }
        "SETUP" => grant(wire),
        _ => ok("Session: 7\r\n", ""),
    });
    r.expect("played");
    let setups: Vec<&String> = run
        .requests
        .iter()
        .filter(|l| l.starts_with("SETUP"))
        .collect();
    assert_eq!(
        setups,
        [
            "SETUP rtsps://10.0.0.11:322/live/ch0/track1 RTSP/1.0 #3",
            "SETUP rtsps://10.0.0.11:322/live/ch0/track1 RTSP/1.0 #4",
        ]
    );
    assert!(
        !run.events
            .iter()
            .any(|e| matches!(e, Step::Fallback { .. }))
    );
}

/// SRTP the element did not ask for (RTP/SAVP granted to an RTP/AVP SETUP) and SRTP
/// granted over TCP without channels are refused.
#[test]
fn test_srtp_granted_otherwise_than_asked_is_refused() {
    let avp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:v\r\n";
    let mut p = plan("rtsp://10.0.0.11/s", &[VIDEO]);
    p.udp = true;
    let (_, r) = drive(p, |m, _| match m {
        "DESCRIBE" => ok("", avp),
        "SETUP" => ok(
            "Transport: RTP/SAVP;unicast;client_port=50000-50001;server_port=6000-6001\r\n\
             Session: 7\r\n",
            "",
        ),
        _ => ok("", ""),
    });
    assert!(matches!(r, Err(Fault::Unasked { .. })), "{r:?}");
    let (_, r) = drive(srtp_plan(&[VIDEO]), |m, _| match m {
        "DESCRIBE" => ok("", &dual_sdp(GST_KEY)),
        "SETUP" => ok("Transport: RTP/SAVP/TCP;unicast\r\nSession: 7\r\n", ""),
        _ => ok("", ""),
    });
    assert!(matches!(r, Err(Fault::SrtpInterleaved { .. })), "{r:?}");
}
