// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The RTSP method sequence without I/O (`docs/architecture.md` §4): OPTIONS, DESCRIBE,
//! the choice of streams, SETUP of each (with the one other URL robust clients try, and
//! the interleaved channels or UDP ports asked for), PLAY, and what each answer means,
//! typed. It asks for requests ([`Step::Send`]); a driver sends them through the
//! [`Exchange`] (CSeq, authorization) and gives their answers back to [`Sequence::answer`].
//! It never waits, sleeps or touches a socket, so every vendor's exchange is a unit test.
//!
//! Headers are read leniently where rtsp-types' typed headers refuse what real devices
//! send: `Session: 9a90de54; timeout=60` (a space after `;`: rtsp-types drops the
//! timeout), `RTP-Info: url=trackID=0` (relative: rtsp-types drops the entry), a
//! `Transport` rtsp-types refuses ([`transport::Reply::parse`]).

use std::collections::VecDeque;

use super::exchange::Exchange;
use super::url::{self, Presentation, RtpInfo};
use super::{Response, sdp, transport};

/// What to set up.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The stream URI (from GetStreamUri or ReplayUri).
    pub uri: String,
    /// The wanted kinds, in order, with the prefix of their pad names.
    pub kinds: Vec<(sdp::Kind, &'static str)>,
    /// RTP over UDP (the driver binds the ports); else interleaved on the connection.
    pub udp: bool,
    /// SRTP over UDP (`RTP/SAVP`, RFC 3711; with `udp`, over TLS only): the SDP's
    /// `RTP/SAVP` streams are set up, each SETUP carrying the `KeyMgmt` the driver gives
    /// with its port ([`Sequence::bound`]). Without it, a stream offered only as
    /// `RTP/SAVP` is refused ([`Fault::SrtpOnly`]).
    pub srtp: bool,
    /// Headers every DESCRIBE and SETUP carries (`Require: onvif-replay`).
    pub require: Vec<(String, String)>,
    /// The PLAY's headers (`Range`, and a replay's).
    pub play: Vec<(String, String)>,
    /// Set up the ONVIF audio backchannel too (the first `sendonly` audio stream), asking
    /// with [`BACKCHANNEL_REQUIRE`] on DESCRIBE, its SETUP and PLAY.
    pub backchannel: bool,
}

/// The header that asks for the ONVIF backchannel (ONVIF Streaming, "Back channel").
pub const BACKCHANNEL_REQUIRE: (&str, &str) = ("Require", "www.onvif.org/ver20/backchannel");

/// The pad-name prefix the sequence gives the backchannel stream (it has no pad).
pub const BACKCHANNEL: &str = "backchannel";

/// A request the sequence asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub uri: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The headers as the session takes them.
    pub fn header_refs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// One stream SET UP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetUp {
    /// Its pad name's prefix (`video`, `audio`, `metadata`).
    pub prefix: &'static str,
    pub stream: sdp::Stream,
    /// The URL the SETUP succeeded on.
    pub control: String,
    /// The `Transport` as the device wrote it (for the log).
    pub reply: String,
    pub granted: transport::Reply,
    /// The interleaved channels (RTP, RTCP): granted, else asked for.
    pub channels: (u8, u8),
    /// Our `KeyMgmt` went with the SETUP granted (SRTP: the device may use our key).
    pub key_sent: bool,
}

/// Our key for an SRTP stream's `KeyMgmt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OurKey {
    /// With an MKI (ONVIF 26.06 and the Genetec flavour make it mandatory; Axis follows),
    /// unless the device's own SDP key has none: GStreamer before 1.26 (gst-rtsp-server's
    /// devices) ignores MKIs, and could open neither our receiver reports nor our
    /// backchannel's packets.
    pub mki: bool,
}

/// The PLAY's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Played {
    /// Where PAUSE, keep-alives and TEARDOWN go.
    pub aggregate: String,
    /// `RTP-Info` entries with the prefix of the stream each names (`None`: no stream).
    pub rtp_info: Vec<(Option<&'static str>, RtpInfo)>,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this request and give its answer to [`Sequence::answer`].
    Send(Request),
    /// Bind a UDP port pair for the next SETUP and give its RTP port to
    /// [`Sequence::bound`]; for an SRTP stream, with our key as [`OurKey`] says.
    BindUdp(Option<OurKey>),
    /// The DESCRIBE's answer resolved to these URLs.
    Described(Presentation),
    /// The streams the DESCRIBE's SDP offers, in its order (an index is rtspsrc's stream
    /// id).
    Offered(Vec<sdp::Stream>),
    /// The backchannel asked for is not there: the device refused the `Require` (551: the
    /// DESCRIBE goes again without it) or its SDP has no `sendonly` audio stream.
    NoBackchannel(String),
    /// The device refused our `KeyMgmt` (this status and reason); the SETUP goes again
    /// without it: the device keys with its SDP's key alone, and our receiver reports
    /// have no key to go with.
    KeyRefused(String),
    /// A SETUP was refused; the same SETUP goes to `to` (the RFC 3986 join).
    Fallback {
        from: String,
        status: u16,
        reason: String,
        to: String,
    },
    /// A stream is SET UP.
    SetUp(Box<SetUp>),
    /// Every stream is SET UP; the PLAY comes next.
    AllSetUp,
    /// PLAY answered: the sequence is done.
    Playing(Played),
}

/// Why the sequence cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A refusal (not 2xx) of `method`.
    Refused {
        method: &'static str,
        resp: Box<Response>,
    },
    /// The DESCRIBE's SDP cannot be read.
    Sdp(sdp::SdpError),
    /// The SDP has no stream of a wanted kind.
    NoStream(&'static str),
    /// SRTP asked for, and the SDP offers this kind only as plain `RTP/AVP`.
    NoSrtp(&'static str),
    /// SRTP not asked for, and the SDP offers this kind only as `RTP/SAVP`: its keys
    /// would come in the SDP over a connection that may not be TLS, and the media over
    /// UDP needs `streaming-method=rtsps-srtp`.
    SrtpOnly(&'static str),
    /// A SETUP asking for `RTP/SAVP` was granted another profile: the media would travel
    /// in clear.
    NotSecure { control: String, reply: String },
    /// A SETUP asking for SRTP over UDP was granted it interleaved on the connection
    /// (`RTP/SAVP/TCP`), which the element does not decrypt.
    SrtpInterleaved { control: String, reply: String },
    /// A SETUP asking for `RTP/AVP` was granted `RTP/SAVP`: SRTP not asked for, its key
    /// (if any) not exchanged inside TLS.
    Unasked { control: String, reply: String },
    /// An answer when none was asked for, or a step asked while an answer is awaited: a
    /// driver's mistake.
    OutOfTurn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Options,
    Describe,
    Setup {
        index: usize,
        url: String,
        fallback: Option<String>,
    },
    Play,
    Done,
}

/// The method sequence of one RTSP session, from OPTIONS to PLAY.
#[derive(Debug)]
pub struct Sequence {
    plan: Plan,
    state: State,
    /// The method whose answer is awaited.
    awaiting: Option<&'static str>,
    events: VecDeque<Step>,
    urls: Option<Presentation>,
    chosen: Vec<(&'static str, sdp::Stream)>,
    /// The URL each stream was SET UP on, for RTP-Info.
    set_up: Vec<(&'static str, String)>,
    /// The RTP port bound for the next SETUP (UDP).
    udp_port: Option<u16>,
    bind_asked: bool,
    /// The MIKEY message given with that port (SRTP), until the device refuses it.
    mikey: Option<Vec<u8>>,
}

/// The backchannel's `Require` as a header.
fn backchannel_require() -> (String, String) {
    (
        BACKCHANNEL_REQUIRE.0.to_string(),
        BACKCHANNEL_REQUIRE.1.to_string(),
    )
}

impl Sequence {
    pub fn new(plan: Plan) -> Self {
        Sequence {
            plan,
            state: State::Options,
            awaiting: None,
            events: VecDeque::new(),
            urls: None,
            chosen: Vec::new(),
            set_up: Vec::new(),
            udp_port: None,
            bind_asked: false,
            mikey: None,
        }
    }

    /// The next step, or `None` while an answer (or a bound port) is awaited, and once
    /// the PLAY is answered.
    pub fn poll(&mut self) -> Option<Step> {
        if let Some(ev) = self.events.pop_front() {
            return Some(ev);
        }
        if self.awaiting.is_some() {
            return None;
        }
        let (method, uri, headers) = match &self.state {
            State::Options => ("OPTIONS", self.plan.uri.clone(), Vec::new()),
            State::Describe => {
                let mut h = vec![("Accept".to_string(), "application/sdp".to_string())];
                h.extend(self.plan.require.iter().cloned());
                if self.plan.backchannel {
                    h.push(backchannel_require());
                }
                ("DESCRIBE", self.plan.uri.clone(), h)
            }
            State::Setup { index, url, .. } => {
                let secure = self.is_secure(*index);
                let asked = if self.plan.udp {
                    let Some(port) = self.udp_port else {
                        if std::mem::replace(&mut self.bind_asked, true) {
                            return None;
                        }
                        let key = secure.then(|| OurKey {
                            mki: self.device_key_has_mki(*index),
                        });
                        return Some(Step::BindUdp(key));
                    };
                    if secure {
                        transport::Asked::SrtpUdp(port, port.saturating_add(1))
                    } else {
                        transport::Asked::Udp(port, port.saturating_add(1))
                    }
                } else {
                    let (rtp, rtcp) = Self::channels(*index);
                    transport::Asked::Interleaved(rtp, rtcp)
                };
                let mut h = vec![("Transport".to_string(), asked.value())];
                if let Some(m) = self.mikey.as_ref().filter(|_| secure) {
                    h.push((
                        "KeyMgmt".to_string(),
                        crate::proto::mikey::key_mgmt_header(url, m),
                    ));
                }
                h.extend(self.plan.require.iter().cloned());
                if self.is_backchannel(*index) {
                    h.push(backchannel_require());
                }
                ("SETUP", url.clone(), h)
            }
            State::Play => {
                let mut h = self.plan.play.clone();
                if self.has_backchannel() {
                    // No Range: gst-rtsp-server gives a backchannel session a media of its
                    // own and seeks it for a Range, which fails (503) unless every stream
                    // is SET UP. A PLAY without Range is live all the same (RFC 2326
                    // §10.5).
                    h.retain(|(k, _)| !k.eq_ignore_ascii_case("Range"));
                    h.push(backchannel_require());
                }
                ("PLAY", self.aggregate().to_string(), h)
            }
            State::Done => return None,
        };
        self.awaiting = Some(method);
        Some(Step::Send(Request {
            method,
            uri,
            headers,
        }))
    }

    /// Whether a backchannel stream is chosen (its requests carry the `Require`).
    pub fn has_backchannel(&self) -> bool {
        self.chosen.iter().any(|(p, _)| *p == BACKCHANNEL)
    }

    /// Whether the device's SDP keys carry an MKI: chosen stream `index`'s own, else
    /// another chosen stream's (gst-rtsp-server gives the backchannel, which it does not
    /// send on, none). Without a key that can be read, `true` (the device then uses ours,
    /// and the rules want one).
    fn device_key_has_mki(&self, index: usize) -> bool {
        use crate::proto::mikey;
        let mki = |st: &sdp::Stream| {
            let k = mikey::decode_base64(st.key_mgmt.as_deref()?).ok()?;
            Some(mikey::parse(&k).ok()?.srtp_key().ok()?.mki.is_some())
        };
        let own = self.chosen.get(index).and_then(|(_, st)| mki(st));
        own.or_else(|| self.chosen.iter().find_map(|(_, st)| mki(st)))
            .unwrap_or(true)
    }

    /// Whether chosen stream `index` is set up as SRTP.
    fn is_secure(&self, index: usize) -> bool {
        self.plan.srtp && self.chosen.get(index).is_some_and(|(_, st)| st.secure)
    }

    /// Whether chosen stream `index` is the backchannel.
    fn is_backchannel(&self, index: usize) -> bool {
        self.chosen
            .get(index)
            .is_some_and(|(p, _)| *p == BACKCHANNEL)
    }

    /// The interleaved channels asked for stream `index`: 0-1, 2-3, ...
    fn channels(index: usize) -> (u8, u8) {
        let rtp = u8::try_from(index.saturating_mul(2)).unwrap_or(0);
        (rtp, rtp.saturating_add(1))
    }

    /// Where PLAY, PAUSE, keep-alives and TEARDOWN go (the request URI before DESCRIBE).
    pub fn aggregate(&self) -> &str {
        self.urls
            .as_ref()
            .map_or(self.plan.uri.as_str(), |u| u.aggregate.as_str())
    }

    /// The presentation's URLs, once described.
    pub fn presentation(&self) -> Option<&Presentation> {
        self.urls.as_ref()
    }

    /// The RTP port of the pair bound for the next SETUP and, for SRTP, the MIKEY
    /// message (our key) its `KeyMgmt` carries.
    pub fn bound(&mut self, rtp_port: u16, mikey: Option<Vec<u8>>) {
        self.udp_port = Some(rtp_port);
        self.mikey = mikey;
        self.bind_asked = false;
    }

    /// The answer to the request last asked for (after the session took challenges and
    /// resends: [`super::exchange::Answer::Done`]).
    pub fn answer(&mut self, session: &mut Exchange, resp: Response) -> Result<(), Fault> {
        let method = self.awaiting.take().ok_or(Fault::OutOfTurn)?;
        // Our KeyMgmt refused (463 Key Management Failure; 400 from a device that does
        // not take the header): the same SETUP (the same URL: before the
        // fallback below) again without it, as the doc's §1.3 has
        // it. The device then keys with its SDP's key alone.
        if let State::Setup { index, .. } = &self.state
            && matches!(resp.status, 400 | 463)
            && self.is_secure(*index)
            && self.mikey.take().is_some()
        {
            self.events
                .push_back(Step::KeyRefused(format!("{} {}", resp.status, resp.reason)));
            return Ok(());
        }
        let retry_to = match &mut self.state {
            State::Setup { url, fallback, .. }
                if url::setup_retry_status(resp.status) && fallback.is_some() =>
            {
                fallback
                    .take()
                    .map(|to| (std::mem::replace(url, to.clone()), to))
            }
            _ => None,
        };
        // A device without the backchannel: `551 Option not supported` to the DESCRIBE
        // that asked for it (Axis door stations do); the DESCRIBE goes again without.
        if method == "DESCRIBE" && resp.status == 551 && self.plan.backchannel {
            self.plan.backchannel = false;
            self.events.push_back(Step::NoBackchannel(format!(
                "the device answered DESCRIBE with {} {}{}",
                resp.status,
                resp.reason,
                resp.header("unsupported")
                    .map(|u| format!(" (Unsupported: {u})"))
                    .unwrap_or_default()
            )));
            return Ok(());
        }
        // The backchannel refused after DESCRIBE (its SETUP: busy, 453, 461...; a PLAY
        // answering 551 to its Require): the session goes on without it, as rtspsrc
        // skips a stream whose SETUP is refused.
        if !(200..=299).contains(&resp.status) && retry_to.is_none() {
            let refused_setup =
                matches!(&self.state, State::Setup { index, .. } if self.is_backchannel(*index));
            let refused_play =
                matches!(self.state, State::Play) && resp.status == 551 && self.has_backchannel();
            if refused_setup || refused_play {
                self.chosen.retain(|(p, _)| *p != BACKCHANNEL);
                self.events.push_back(Step::NoBackchannel(format!(
                    "the device answered {method} with {} {}",
                    resp.status, resp.reason
                )));
                if refused_setup {
                    // It is the last chosen: PLAY comes next.
                    self.setup_next(self.chosen.len());
                }
                return Ok(());
            }
        }
        if let Some((from, to)) = retry_to {
            self.events.push_back(Step::Fallback {
                from,
                status: resp.status,
                reason: resp.reason.clone(),
                to,
            });
            return Ok(());
        }
        if !(200..=299).contains(&resp.status) {
            self.state = State::Done;
            return Err(Fault::Refused {
                method,
                resp: Box::new(resp),
            });
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::Options => {
                session.options(&resp);
                self.state = State::Describe;
            }
            State::Describe => self.described(&resp)?,
            State::Setup { index, url, .. } => {
                session.established(&resp);
                self.stream_set_up(index, url, &resp)?;
            }
            State::Play => {
                let played = self.played(&resp);
                self.events.push_back(Step::Playing(played));
            }
            State::Done => return Err(Fault::OutOfTurn),
        }
        Ok(())
    }

    fn described(&mut self, resp: &Response) -> Result<(), Fault> {
        let (session_control, streams) = sdp::parse(&resp.body).map_err(Fault::Sdp)?;
        // Where every later request goes (docs/rtsp-urls-and-vendors.md §1).
        let urls = Presentation::of_describe(&self.plan.uri, resp, session_control.as_deref());
        self.events.push_back(Step::Described(urls.clone()));
        // The first stream of each wanted kind (a backchannel, sendonly on our side,
        // never) in the profile asked for: a device offering SRTP and RTP lists each
        // stream twice, once per profile (gst-rtsp-server does).
        let srtp = self.plan.srtp;
        let pick = |wanted: &dyn Fn(&sdp::Stream) -> bool| {
            let mut offered = streams.iter().filter(|st| wanted(st));
            let first = offered.clone().next();
            let st = offered.find(|st| st.secure == srtp);
            (st.cloned(), first.map(|st| st.secure))
        };
        for (kind, prefix) in self.plan.kinds.clone() {
            match pick(&|st| st.kind == kind && st.direction.as_deref() != Some("sendonly")) {
                (Some(st), _) => self.chosen.push((prefix, st)),
                (None, None) => return Err(Fault::NoStream(prefix)),
                (None, Some(_)) if srtp => return Err(Fault::NoSrtp(prefix)),
                (None, Some(_)) => return Err(Fault::SrtpOnly(prefix)),
            }
        }
        if self.plan.backchannel {
            match pick(&|st| {
                st.kind == sdp::Kind::Audio && st.direction.as_deref() == Some("sendonly")
            }) {
                (Some(st), _) => self.chosen.push((BACKCHANNEL, st)),
                (None, None) => self.events.push_back(Step::NoBackchannel(
                    "the device's SDP has no sendonly audio stream".into(),
                )),
                (None, Some(_)) if srtp => self.events.push_back(Step::NoBackchannel(
                    "the device offers its sendonly audio stream only as plain RTP/AVP, \
                     which would go unencrypted over UDP"
                        .into(),
                )),
                (None, Some(_)) => self.events.push_back(Step::NoBackchannel(
                    "the device offers its sendonly audio stream only as RTP/SAVP (SRTP), \
                     which needs streaming-method=rtsps-srtp"
                        .into(),
                )),
            }
        }
        self.events.push_back(Step::Offered(streams));
        self.urls = Some(urls);
        self.setup_next(0);
        Ok(())
    }

    /// The SETUP of stream `index`, or the PLAY when every stream is SET UP.
    fn setup_next(&mut self, index: usize) {
        self.udp_port = None;
        self.mikey = None;
        match (self.chosen.get(index), &self.urls) {
            (Some((_, st)), Some(urls)) => {
                let m = urls.media(st.control.as_deref());
                self.state = State::Setup {
                    index,
                    url: m.url,
                    fallback: m.fallback,
                };
            }
            _ => {
                self.events.push_back(Step::AllSetUp);
                self.state = State::Play;
            }
        }
    }

    fn stream_set_up(
        &mut self,
        index: usize,
        control: String,
        resp: &Response,
    ) -> Result<(), Fault> {
        let reply = resp.header("transport").unwrap_or("").to_string();
        let granted = transport::Reply::parse(&reply);
        let channels = granted.interleaved.unwrap_or(Self::channels(index));
        let secure = self.is_secure(index);
        if secure && !granted.secure {
            return Err(Fault::NotSecure { control, reply });
        }
        if secure && (granted.interleaved.is_some() || granted.tcp) {
            return Err(Fault::SrtpInterleaved { control, reply });
        }
        if !secure && granted.secure {
            return Err(Fault::Unasked { control, reply });
        }
        let key_sent = secure && self.mikey.is_some();
        if let Some((prefix, stream)) = self.chosen.get(index).cloned() {
            self.set_up.push((prefix, control.clone()));
            self.events.push_back(Step::SetUp(Box::new(SetUp {
                prefix,
                stream,
                control,
                reply,
                granted,
                channels,
                key_sent,
            })));
        }
        self.setup_next(index.saturating_add(1));
        Ok(())
    }

    /// RTP-Info, matched to the streams by the same rules as the controls.
    fn played(&self, resp: &Response) -> Played {
        let rtp_info = url::parse_rtp_info(resp.header("rtp-info").unwrap_or(""))
            .into_iter()
            .map(|info| {
                let stream = self
                    .set_up
                    .iter()
                    .find(|(_, u)| {
                        self.urls
                            .as_ref()
                            .is_some_and(|p| p.rtp_info_matches(&info.url, u, self.set_up.len()))
                    })
                    .map(|(p, _)| *p);
                (stream, info)
            })
            .collect();
        Played {
            aggregate: self.aggregate().to_string(),
            rtp_info,
        }
    }
}

#[cfg(test)]
#[path = "sequence_tests.rs"]
mod tests;
