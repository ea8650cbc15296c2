// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Hooks for the integration tests only; not an API. The crate's modules are private;
//! the tests, examples and fuzz targets reach the ones they drive from here.

pub use crate::client::discovery;
pub use crate::client::onvif::{self as device, services};
pub use crate::client::onvif::{control, recording as edge};
pub use crate::client::rtsp as rtsp_client;
pub use crate::proto::{auth, clock, digest, http, mikey, onvif, rtp, rtsp, srtp};
pub use crate::session::events;
pub use crate::transport::{net, tls, trust, tunnel};

/// The modules at the crate's root are reached through their public items.
pub mod session {
    pub use crate::session::*;
}
pub mod error {
    pub use crate::error::*;
}
pub mod runtime {
    pub use crate::runtime::*;
}

pub use crate::runtime::panic_in;

/// Runs the sans-I/O RTSP session through a script of what a device and the time may
/// do, for the fuzz target `rtsp_session` and its unit test: each step is an opcode byte
/// and its operands. `0 L_hi L_lo TEXT`: the device answers TEXT (framed; `##` is the CSeq
/// of the last request sent); `1 N`: N x 100 ms pass (deadlines handled); `2`: a seek; `3`:
/// stop; `4`: the device hangs up; `5 N bytes`: a backchannel packet pushed; `6 P_hi P_lo`: the UDP pair bound for a SETUP (with a MIKEY message when the first byte
/// asks for SRTP: bit 2, with bit 0's UDP). Panics
/// when the session breaks a promise: a deadline handled that does not move (a driver
/// would spin), an event after `Failed` or `Closed`, bytes to send after them.
pub fn rtsp_session_script(data: &[u8]) {
    use crate::proto::rtsp::framing::{self, Frame};
    use crate::proto::rtsp::sdp::Kind;
    use crate::proto::rtsp::sequence::Plan;
    use crate::proto::rtsp::session::{Command, Session};
    use std::time::{Duration, Instant};

    let srtp = data.first().is_some_and(|b| b & 4 == 4);
    let plan = Plan {
        uri: "rtsp://cam/s".into(),
        kinds: vec![(Kind::Video, "video"), (Kind::Audio, "audio")],
        udp: data.first().is_some_and(|b| b & 1 == 1),
        srtp,
        require: Vec::new(),
        play: vec![("Range".into(), "npt=0.000-".into())],
        backchannel: data.first().is_some_and(|b| b & 2 == 2),
    };
    let creds = Some(auth::Credentials {
        user: "admin".into(),
        password: "password".into(),
    });
    let mut now = Instant::now();
    let mut s = Session::new(
        plan,
        creds,
        (Some(true), true),
        Duration::from_secs(10),
        now,
    );
    let mut cseq = String::from("0");
    let mut ended = false;
    drain(&mut s, now, &mut cseq, &mut ended);
    let mut rest = data.get(1..).unwrap_or_default();
    let mut steps = 0;
    while let Some((&op, tail)) = rest.split_first() {
        steps += 1;
        if steps > 256 {
            break;
        }
        rest = tail;
        match op % 8 {
            0 => {
                let len = match rest {
                    [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
                    _ => break,
                };
                let text = rest.get(2..).unwrap_or_default();
                let take = len.min(text.len());
                let raw = String::from_utf8_lossy(&text[..take]).replace("##", &cseq);
                rest = &text[take..];
                if let Ok(Some((Frame::Response(r), _))) = framing::next(raw.as_bytes()) {
                    s.handle_response(r, now);
                }
            }
            1 => {
                let n = rest.first().copied().unwrap_or(1);
                rest = rest.get(1..).unwrap_or_default();
                let until = now + Duration::from_millis(100) * u32::from(n);
                while let Some(at) = s.poll_timeout().filter(|at| *at <= until) {
                    now = now.max(at);
                    s.handle_timeout(now);
                    assert!(
                        s.poll_timeout().is_none_or(|next| next > now),
                        "a deadline handled at {now:?} did not move"
                    );
                }
                now = until;
            }
            2 => {
                let _ = s.command(Command::Seek { play: Vec::new() }, now);
            }
            3 => {
                let _ = s.command(Command::Stop, now);
            }
            4 => s.handle_close(),
            5 => {
                // A backchannel packet pushed: N bytes.
                let n = usize::from(rest.first().copied().unwrap_or(0));
                let packet = rest.get(1..).unwrap_or_default();
                let packet = &packet[..n.min(packet.len())];
                rest = rest.get(1 + packet.len()..).unwrap_or_default();
                let sent = s.send_backchannel(packet);
                assert!(
                    !(sent && ended),
                    "a backchannel packet after the session ended"
                );
            }
            6 => {
                // A re-keying of every stream SET UP (two URLs, whatever they are).
                let keys = vec![
                    ("rtsp://cam/s/stream=0".to_string(), vec![1, 0, 0, 0x2F]),
                    ("rtsp://cam/s/stream=1".to_string(), vec![1, 0, 0, 0x30]),
                ];
                let _ = s.command(Command::Rekey { keys }, now);
            }
            _ => {
                let port = match rest {
                    [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
                    _ => break,
                };
                rest = &rest[2..];
                let mikey = srtp.then(|| vec![1, 0, 0, 0x2F]);
                s.bound(port, mikey, now);
            }
        }
        drain(&mut s, now, &mut cseq, &mut ended);
    }
}

/// What [`rtsp_session_script`]'s session has to send and to say, taken; the CSeq of the
/// last request kept.
fn drain(
    s: &mut crate::proto::rtsp::session::Session,
    now: std::time::Instant,
    cseq: &mut String,
    ended: &mut bool,
) {
    use crate::proto::rtsp::session::Event;
    while let Some(t) = s.poll_transmit(now) {
        assert!(!*ended, "bytes to send after the session ended");
        let text = String::from_utf8_lossy(&t.bytes).into_owned();
        if let Some(c) = text.lines().find_map(|l| l.strip_prefix("CSeq: ")) {
            *cseq = c.to_string();
        }
    }
    while let Some(ev) = s.poll_event() {
        assert!(!*ended, "{ev:?} after the session ended");
        *ended = matches!(ev, Event::Failed(_) | Event::Closed);
    }
}
