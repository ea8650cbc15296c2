// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A live (or replay) RTSP session: start-up, the events of the sans-I/O session
//! (`proto::rtsp::session`: this file binds UDP ports, adds pads, hands packets to the
//! streams, builds reports and logs what the events say) between the driver's turns
//! (`client::rtsp`), commands, reconnection.

use super::*;

use crate::proto::rtsp::sequence::Step;
use crate::proto::rtsp::session::{Command as RtspCommand, Event as RtspEvent};

/// How often a live session checks that media still arrives.
pub(super) const MEDIA_CHECK: Duration = Duration::from_millis(500);
/// The shortest time between two re-keyings asked by `rekey-srtp`.
const REKEY_GAP: Duration = Duration::from_secs(10);

/// A live RTSP session: start-up, GetStreamUri for the transport, RTSP, then packets to
/// the pads until stopped.
pub async fn run_live<O: Output>(s: LiveSettings, out: Arc<O>, mut commands: Commands) {
    crate::runtime::maybe_panic("media", &s.start.location);
    // Whether a session has played: only then is a loss reconnected (a start that fails
    // is a setting or a device to fix, and says so).
    let mut played = false;
    let mut supervisor = Supervisor::new(Lost::Media, s.reconnect, s.start.stats.clone());
    // Where the media is, kept while the device is reachable: a reconnection after a
    // network failure opens just the RTSP session again; when that fails too (the device
    // rebooted: new clock, maybe new URIs) the next attempt does the whole ONVIF start.
    let mut place: Option<MediaPlace> = None;
    // A replay cut off: where the next session PLAYs from.
    let mut resume_ms: Option<i64> = None;
    loop {
        let light = place.is_some();
        let started = tokio::select! {
            r = async {
                let p = match place.take() {
                    Some(p) => p,
                    None => find_media(&s, &*out).await?,
                };
                let r = open_session(&s, &p, &*out, resume_ms).await;
                place = Some(p);
                r
            } => r,
            () = commands.stopped() => return,
        };
        if started.is_err() && light {
            place = None;
        }
        let err = match started {
            Ok(Opened {
                mut rtsp,
                streams,
                legs,
                backchannel,
            }) => {
                if played {
                    streams
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .mark_discont();
                    out.debug(format_args!(
                        "reconnected after {} attempt(s)",
                        supervisor.attempts()
                    ));
                }
                played = true;
                super::counting::opened(&s, place.as_ref(), &rtsp, &streams, &legs);
                let playing_since = std::time::Instant::now();
                let result = play_loop(
                    &mut rtsp,
                    streams.clone(),
                    (legs, backchannel),
                    (s.start.timeout, s.srtp_rekey),
                    out.clone(),
                    &mut commands,
                )
                .await;
                // A frame still waiting for its end goes as it is.
                streams
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .flush_all(&*out);
                // Its streams' last counts stay readable until the next session plays.
                s.start.stats.freeze();
                // The waits start over only after media flowed for a while: a device that
                // accepts PLAY and hangs up at once keeps backing off.
                let last = streams
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .list
                    .iter()
                    .filter_map(|s| s.last_packet)
                    .max();
                if last.is_some_and(|t| t.saturating_duration_since(playing_since) >= HEALTHY) {
                    supervisor.healthy();
                }
                match result {
                    Ok(()) => return,
                    Err(e) => {
                        // A replay resumes where the recording was (stream time 0 stays
                        // where it was: seeks are relative to it).
                        if let Some(ms) = streams
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .last_recorded_ms()
                        {
                            resume_ms = Some(ms);
                        }
                        e
                    }
                }
            }
            Err(e) => e,
        };
        // Only a session that played is reconnected: a start that fails is a setting or
        // a device to fix, and says so.
        let retry = played && err.is_transient();
        if supervisor.after(&err, retry, &*out, &mut commands).await == Next::End {
            return;
        }
    }
}

/// The RTSP session at `place`: connection, OPTIONS, DESCRIBE, SETUP of the wanted
/// streams, PLAY.
pub(super) async fn open_session<O: Output>(
    s: &LiveSettings,
    place: &MediaPlace,
    out: &O,
    resume_ms: Option<i64>,
) -> Result<Opened, Error> {
    let origin = &place.origin;
    let source = &place.source;
    let uri = place.uri.clone();
    let creds = s.start.creds.clone();
    let timeout = s.start.timeout;
    // Stream time 0: `playback-start`, else the recording's start (a replay cut off
    // PLAYs from `resume_ms`, and seeks stay relative to this).
    let replay_start_ms = s
        .playback
        .as_ref()
        .and_then(|p| p.start_ms)
        .or(place.replay_start_ms);
    // The channel says how far the authorization may go (plain TCP: Digest, never Basic).
    let channel: Box<dyn crate::transport::channel::Channel> = match &place.open {
        OpenRtsp::Tunnel { tls, target } => {
            Box::new(tunnel::open(origin, tls.as_ref(), target, creds.as_ref(), timeout).await?)
        }
        OpenRtsp::Tcp(rtsp_origin) => {
            Box::new(crate::transport::channel::open_tcp(rtsp_origin, timeout).await?)
        }
        OpenRtsp::Tls { origin, tls } => {
            Box::new(crate::transport::channel::open_tls(origin, tls, timeout).await?)
        }
    };
    // A replay's `Require` goes with DESCRIBE and SETUP; PLAY's headers say where from.
    let require: Vec<(String, String)> = if s.playback.is_some() {
        vec![(REPLAY_REQUIRE.0.to_string(), REPLAY_REQUIRE.1.to_string())]
    } else {
        Vec::new()
    };
    let replay = s.playback.as_ref().map(|p| Replay {
        settings: p.clone(),
        start_ms: replay_start_ms,
        end_ntp: p.end_ms.map(ntp_ns_of_unix_ms),
        pts_offset: 0,
    });
    let play = match &replay {
        None => vec![("Range", "npt=0.000-".to_string())],
        Some(r) => r.play_headers(resume_ms.or(r.start_ms)),
    };
    let wants = s.start.wants;
    let kinds = [
        (sdp::Kind::Video, wants.video, "video"),
        (sdp::Kind::Audio, wants.audio, "audio"),
        (sdp::Kind::Metadata, wants.metadata, "metadata"),
    ]
    .into_iter()
    .filter(|(_, wanted, _)| *wanted)
    .map(|(kind, _, prefix)| (kind, prefix))
    .collect();
    let plan = rtsp::sequence::Plan {
        uri: uri.clone(),
        kinds,
        udp: matches!(s.transport, Transport::Udp | Transport::RtspsSrtp),
        srtp: s.transport == Transport::RtspsSrtp,
        require,
        play: play.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        backchannel: s.backchannel,
    };
    let mut rtsp = Rtsp::new(channel, creds, timeout, plan);

    let v6 = origin.host.starts_with('[');
    let mut list = Vec::new();
    let mut legs = Vec::new();
    let mut udp = None;
    let mut streams: Option<SharedStreams> = None;
    let mut replay = replay;
    let mut backchannel = None;
    let mut ignore = |_: u8, _: &[u8]| {};
    // Our SSRC: in our receiver reports, and in the crypto session of our SRTP keys.
    let our_ssrc = u32::from_be_bytes(crate::proto::auth::random::<4>());
    loop {
        // The events first: a stream's UDP ports and pad are ready before the request
        // that follows its SETUP (the next SETUP, or PLAY) goes out.
        while let Some(ev) = rtsp.session.poll_event() {
            rtsp.log(&ev);
            let step = match ev {
                RtspEvent::Start(step) => step,
                RtspEvent::Sent(req) if req.method == "PLAY" => {
                    out.debug(format_args!("PLAY {} {:?}", req.uri, req.headers));
                    continue;
                }
                RtspEvent::Failed(rtsp::session::Fault::Start(
                    rtsp::sequence::Fault::NoStream(prefix),
                )) => return Err(no_stream(&rtsp.peer, source, &wants, prefix)),
                RtspEvent::Failed(f) => return Err(rtsp.error(f)),
                _ => continue,
            };
            match step {
                Step::Send(_) => {}
                Step::BindUdp(wanted) => {
                    let (a, b) = udp_pair(v6)
                        .await
                        .map_err(|e| Error::io(&rtsp.peer, "UDP bind", e))?;
                    let port = a.local_addr().map(|a| a.port()).unwrap_or(0);
                    // SRTP: a fresh key of ours for this stream (docs/secure-streaming-and-
                    // discovery.md §1.3: always sent; the device may use it or its own).
                    let ours = wanted.map(|w| our_srtp_key(place.srtp_suite, w, our_ssrc));
                    let mikey = ours.as_ref().map(|(_, m)| m.clone());
                    rtsp.session.bound(port, mikey, std::time::Instant::now());
                    udp = Some(((a, b), ours.map(|(k, _)| k)));
                }
                Step::KeyRefused(why) => out.debug(format_args!(
                    "the device refused the element's KeyMgmt ({why}): SETUP again without \
                     it; the device's SDP key alone, and no receiver reports (no key for them)"
                )),
                Step::Described(urls) => out.debug(format_args!(
                    "DESCRIBE {uri}: base {}, aggregate {}",
                    urls.base, urls.aggregate
                )),
                Step::Offered(streams) => {
                    for st in &streams {
                        out.offered(stream_id(st), &offered_caps(st));
                    }
                }
                Step::NoBackchannel(why) => {
                    // Refused after its SETUP (a PLAY answered 551): nothing goes to it.
                    backchannel = None;
                    out.warning(&format!(
                        "backchannel=onvif: {why}; playing without Audio OUT"
                    ));
                }
                Step::SetUp(set_up) if set_up.prefix == rtsp::sequence::BACKCHANNEL => {
                    let id = stream_id(&set_up.stream);
                    let caps = rtp_caps(&set_up.stream);
                    out.debug(format_args!(
                        "backchannel (stream {id}): {} ({}): {caps}",
                        set_up.control, set_up.reply
                    ));
                    // Over UDP the packets go from the pair bound for this SETUP to the
                    // device's RTP port; without a server_port there is nowhere to send.
                    // SRTP: under the key of our KeyMgmt (the device has no other way to
                    // know the key of what we send).
                    let mut srtp = None;
                    let udp_to = match udp.take() {
                        Some((pair, ours)) => {
                            let leg = udp_leg(origin, timeout, pair, &set_up.granted).await?;
                            if set_up.granted.secure {
                                let Some(k) = ours.filter(|_| set_up.key_sent) else {
                                    out.warning(
                                        "backchannel=onvif: the device refused the element's \
                                         KeyMgmt, so there is no key to encrypt the audio \
                                         with; playing without Audio OUT",
                                    );
                                    continue;
                                };
                                let sender = crate::proto::srtp::Sender::new(&k).map_err(|e| {
                                    Error::Settings(format!("backchannel: SRTP: {e}"))
                                })?;
                                let seq = u16::from_be_bytes(crate::proto::auth::random::<2>());
                                srtp =
                                    Some(crate::proto::srtp::Outgoing::new(sender, our_ssrc, seq));
                            }
                            match (leg.accept.ips.first(), leg.accept.ports) {
                                (Some(ip), Some((port, _))) => {
                                    Some((leg.rtp, std::net::SocketAddr::new(*ip, port)))
                                }
                                _ => {
                                    out.warning(
                                        "backchannel=onvif: the device's SETUP answer names no \
                                         server_port to send the audio to; playing without \
                                         Audio OUT",
                                    );
                                    continue;
                                }
                            }
                        }
                        None => None,
                    };
                    // Handed to the element once PLAY is answered: what is pushed before
                    // gets FLUSHING, not a place in a queue.
                    let (tx, rx) = tokio::sync::mpsc::channel(BACKCHANNEL_QUEUE);
                    let url = set_up.control.clone();
                    backchannel = Some((
                        Backchannel {
                            rx,
                            udp_to,
                            srtp,
                            url,
                        },
                        (id, caps, tx),
                    ));
                }
                Step::Fallback {
                    from,
                    status,
                    reason,
                    to,
                } => out.debug(format_args!(
                    "SETUP {from} -> {status} {reason}; trying {to}"
                )),
                Step::SetUp(set_up) => {
                    if !set_up.granted.typed {
                        out.debug(format_args!(
                            "SETUP {}: Transport {:?} read leniently (rtsp-types refuses it)",
                            set_up.control, set_up.reply
                        ));
                    }
                    let leg = match udp.take() {
                        Some((pair, ours)) => {
                            let mut leg = udp_leg(origin, timeout, pair, &set_up.granted).await?;
                            if set_up.granted.secure {
                                let ours = ours.as_ref().filter(|_| set_up.key_sent);
                                leg.srtp = Some(SrtpLeg::new(
                                    (list.len(), &set_up.control),
                                    ours,
                                    set_up.stream.key_mgmt.as_deref(),
                                    out,
                                )?);
                            }
                            Some(leg)
                        }
                        None => None,
                    };
                    let caps = rtp_caps(&set_up.stream);
                    out.debug(format_args!(
                        "{}_0: {} ({}): {caps}",
                        set_up.prefix, set_up.control, set_up.reply
                    ));
                    let Some(index) = out.add_stream(&format!("{}_0", set_up.prefix), caps, false)
                    else {
                        return Err(Error::Settings("the element went away".into()));
                    };
                    list.push(StreamState::new(index, &set_up));
                    legs.push(leg);
                }
                Step::AllSetUp => {
                    out.streams_complete();
                    streams = Some(Arc::new(std::sync::Mutex::new(Streams {
                        list: std::mem::take(&mut list),
                        our_ssrc,
                        flowing: true,
                        replay: replay.take(),
                        now: None,
                        stats: s.start.stats.clone(),
                    })));
                }
                Step::Playing(played) => {
                    // RTP-Info, for the log: the timeline follows the packets themselves.
                    for (stream, info) in &played.rtp_info {
                        out.debug(format_args!(
                            "RTP-Info {} ({}): seq {:?}, rtptime {:?}",
                            info.url,
                            stream.unwrap_or("no stream"),
                            info.seq,
                            info.rtptime
                        ));
                    }
                    let Some(streams) = streams else {
                        return Err(Error::Settings(
                            "internal error: the RTSP sequence played without streams, please report this"
                                .into(),
                        ));
                    };
                    out.debug(format_args!(
                        "playing: {} connection(s) and {} SOAP round trip(s) for the ONVIF start",
                        place.cost.0, place.cost.1
                    ));
                    let backchannel = backchannel.take().map(|(b, (id, caps, tx))| {
                        out.backchannel(id, caps, tx);
                        b
                    });
                    return Ok(Opened {
                        rtsp,
                        streams,
                        legs,
                        backchannel,
                    });
                }
            }
        }
        rtsp.flush().await?;
        // The media may come before the PLAY's answer (a replay's first packet, with D
        // and C, does).
        match &streams {
            Some(st) => rtsp.turn(&mut Deliver { streams: st, out }).await?,
            None => rtsp.turn(&mut ignore).await?,
        }
    }
}

/// The session's end of the backchannel ([`BackchannelTx`]), and where its packets go:
/// interleaved on the RTSP connection, or over UDP from this socket to the device's RTP
/// port (`rtp-udp`).
pub(super) struct Backchannel {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    udp_to: Option<(Arc<tokio::net::UdpSocket>, std::net::SocketAddr)>,
    /// SRTP (`rtsps-srtp`): the packets go protected under our key.
    pub(super) srtp: Option<crate::proto::srtp::Outgoing>,
    /// The URL it was SET UP on: where its re-keying goes.
    pub(super) url: String,
}

impl Backchannel {
    /// Sends one packet.
    async fn send(&mut self, rtsp: &mut Rtsp, packet: Vec<u8>) {
        match &self.udp_to {
            None => {
                rtsp.session.send_backchannel(&packet);
            }
            Some((socket, to)) => {
                if !rtsp.session.is_playing() {
                    return;
                }
                let packet = match &mut self.srtp {
                    None => Some(packet),
                    Some(outgoing) => outgoing.protect(packet),
                };
                if let Some(p) = packet {
                    let _ = socket.send_to(&p, to).await;
                }
            }
        }
    }
}

/// An RTSP session playing: the driver, the streams, their UDP legs, and the backchannel's
/// packets from the element when one is SET UP.
pub(super) struct Opened {
    pub(super) rtsp: Rtsp,
    pub(super) streams: SharedStreams,
    pub(super) legs: Vec<Option<UdpLeg>>,
    pub(super) backchannel: Option<Backchannel>,
}

/// rtspsrc's id of a stream: its place among the SDP's `m=` lines.
fn stream_id(st: &sdp::Stream) -> u32 {
    u32::try_from(st.index).unwrap_or(u32::MAX)
}

/// A stream as the SDP offers it, as rtspsrc's `select-stream` gives it: what the SDP
/// says, with the direction as `a-sendonly` / `a-recvonly` (the backchannel is
/// `sendonly`, from the client's side).
fn offered_caps(st: &sdp::Stream) -> gst::Caps {
    let mut caps = rtp_caps(st);
    if let Some(s) = caps.make_mut().structure_mut(0) {
        s.set_name("application/x-unknown");
        match st.direction.as_deref() {
            Some("sendonly") => s.set("a-sendonly", ""),
            Some("recvonly") => s.set("a-recvonly", ""),
            _ => {}
        }
    }
    caps
}

/// The error for an SDP without a stream of a wanted kind.
fn no_stream(peer: &str, source: &str, wants: &crate::client::onvif::Wants, prefix: &str) -> Error {
    Error::NotFound {
        at: crate::error::At::here(),
        peer: peer.to_string(),
        what: format!(
            "{source} has no {prefix} stream in its SDP (streams={})",
            wants.describe()
        ),
    }
}

/// Plays until stopped, the range played, or the session lost: packets to the streams,
/// the session's events (reports, a seek's hold and landing), commands, the media check.
/// A seek lost with its session goes again once with the next one.
pub(super) async fn play_loop<O: Output>(
    rtsp: &mut Rtsp,
    streams: SharedStreams,
    (legs, mut backchannel): (Vec<Option<UdpLeg>>, Option<Backchannel>),
    timers: (Duration, Option<Duration>),
    out: Arc<O>,
    commands: &mut Commands,
) -> Result<(), Error> {
    let mut seeking = None;
    let result = playing(
        rtsp,
        (&streams, &legs, &mut backchannel),
        timers,
        &out,
        commands,
        &mut seeking,
    )
    .await;
    for (i, keys) in legs.iter().enumerate() {
        let dropped = keys
            .as_ref()
            .and_then(|l| l.srtp.as_ref())
            .map_or(0, SrtpLeg::dropped);
        if dropped > 0 {
            out.debug(format_args!(
                "stream {i}: {dropped} SRTP packet(s) failed authentication and were dropped"
            ));
        }
    }
    if let (Err(e), Some(cmd @ Command::Seek { position, epoch })) = (&result, seeking)
        && !commands.keep(cmd)
    {
        // It failed again after a reconnection: given up, so that a device that fails
        // every seek is not reconnected for ever.
        out.seek_applied(epoch);
        out.warning(&format!(
            "the seek to {} s failed twice ({e}); the replay goes on from where it was",
            position / 1_000_000_000
        ));
    }
    result
}

/// [`play_loop`]'s loop; `timers`: how long media may stay away, how often SRTP keys
/// are replaced; `seeking`: the seek under way.
async fn playing<O: Output>(
    rtsp: &mut Rtsp,
    (streams, legs, backchannel): (&SharedStreams, &[Option<UdpLeg>], &mut Option<Backchannel>),
    (media_timeout, rekey_every): (Duration, Option<Duration>),
    out: &Arc<O>,
    commands: &mut Commands,
    seeking: &mut Option<Command>,
) -> Result<(), Error> {
    let replay = streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replay
        .is_some();
    // Replay: wakes the loop to end silent streams (see `Streams::end_idle`).
    let tick = if replay {
        REPLAY_IDLE / 3
    } else {
        Duration::from_secs(3600)
    };
    let mut replay_tick = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
    let every = rekey_every.unwrap_or(Duration::from_secs(3600));
    let mut rekey_tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut rekeying: Option<super::keys::Rekeying> = None;
    // `rekey-srtp` at most every REKEY_GAP: each re-key leaves the old key's state.
    let mut rekeyed_at: Option<tokio::time::Instant> = None;
    let mut refused = false;
    let _receivers = AbortOnDrop(
        legs.iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let l = l.as_ref()?;
                let receiver = udp_receiver(
                    i,
                    (l.rtp.clone(), l.rtcp.clone()),
                    (
                        l.accept.clone(),
                        l.srtp.as_ref().map(|k| k.receiver.clone()),
                    ),
                    streams.clone(),
                    out.clone(),
                );
                let out = out.clone();
                Some(tokio::spawn(crate::log::inherit(async move {
                    // A panic here must not pass for silence on the UDP ports.
                    if let Err(msg) = crate::runtime::catch_panic(receiver).await {
                        out.warning(&format!(
                            "internal error: the UDP receiver of stream {i} panicked ({msg}), please report this"
                        ));
                    }
                })))
            })
            .collect(),
    );
    // Live media that stops (or over UDP never starts) is a reconnect cause; a replay
    // ends its silent streams itself.
    let live = !replay;
    let udp_ports: Vec<u16> = legs
        .iter()
        .flatten()
        .filter_map(|l| l.rtp.local_addr().ok().map(|a| a.port()))
        .collect();
    let played_at = std::time::Instant::now();
    let mut media_check =
        tokio::time::interval_at(tokio::time::Instant::now() + MEDIA_CHECK, MEDIA_CHECK);
    let out_ref = &**out;
    let mut on_data = Deliver {
        streams,
        out: out_ref,
    };
    // Set once TEARDOWN is asked for: by then the session has ended for the element, so
    // nothing that fails after it is a loss (a device gone, a connection reset), and the
    // TEARDOWN's write too is bounded by its wait.
    let mut ending: Option<tokio::time::Instant> = None;
    loop {
        match ending {
            None => rtsp.flush().await?,
            Some(by) => {
                if !matches!(tokio::time::timeout_at(by, rtsp.flush()).await, Ok(Ok(()))) {
                    return Ok(());
                }
            }
        }
        while let Some(ev) = rtsp.session.poll_event() {
            rtsp.log(&ev);
            match ev {
                RtspEvent::Reports => send_reports(rtsp, streams, legs, out_ref).await,
                RtspEvent::Hold => streams
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .hold(),
                RtspEvent::Landed {
                    first_seq,
                    rtp_info,
                } => {
                    out.debug(format_args!("seek's PLAY answered, RTP-Info {rtp_info:?}"));
                    // Only now does the element take data again: a seek lost with its
                    // session goes again with the next one (`Commands::keep`), and until
                    // it lands what comes is of the old position.
                    if let Some(Command::Seek { epoch, .. }) = seeking.take() {
                        out.seek_applied(epoch);
                    }
                    streams
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .release(&first_seq, out_ref);
                }
                RtspEvent::Rekeyed { index, outcome } => {
                    if let Some(r) = &rekeying {
                        let periodic = rekey_every.is_some();
                        let parts = (legs, backchannel.as_mut());
                        // A device that refused once refuses again: no warning a period.
                        refused |= r.done((index, outcome), parts, periodic, out_ref);
                    }
                }
                RtspEvent::Closed => return Ok(()),
                RtspEvent::Failed(_) if ending.is_some() => return Ok(()),
                RtspEvent::Failed(f) => return Err(rtsp.error(f)),
                RtspEvent::Start(_)
                | RtspEvent::Sent(_)
                | RtspEvent::Answered { .. }
                | RtspEvent::Again(_) => {}
            }
        }
        if rtsp.session.has_transmit() {
            continue;
        }
        let taking = rtsp.session.is_playing();
        // A re-keying under way ends (back to playing) before a seek or another starts.
        let busy = seeking.is_some() || !rtsp.session.takes_commands();
        tokio::select! {
            r = rtsp.turn(&mut on_data) => match r {
                Err(_) if ending.is_some() => return Ok(()),
                r => r?,
            },
            _ = replay_tick.tick() => {}
            _ = rekey_tick.tick(), if rekey_every.is_some() && !refused && !busy && taking && ending.is_none() => {
                rekeying = super::keys::rekey(rtsp, legs, backchannel.as_ref(), out_ref).or(rekeying);
                rekeyed_at = Some(tokio::time::Instant::now());
            }
            // Audio OUT: the element's packets, one per turn of the loop, interleaved on
            // the backchannel's channel (the loop's flush writes them).
            packet = async {
                match backchannel.as_mut() {
                    Some(b) => b.rx.recv().await,
                    None => std::future::pending().await,
                }
            }, if backchannel.is_some() && taking && ending.is_none() => match (packet, backchannel.as_mut()) {
                (Some(p), Some(b)) => b.send(rtsp, p).await,
                _ => *backchannel = None,
            },
            _ = media_check.tick(), if live && ending.is_none() => {
                // RTP or RTCP: a sparse stream (metadata only on events) still sends
                // sender reports.
                let (last_rtp, last_any) = {
                    let st = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let rtp = st.list.iter().filter_map(|s| s.last_packet).max();
                    let rtcp = st.list.iter().filter_map(|s| s.last_rtcp).max();
                    (rtp, rtp.max(rtcp))
                };
                if last_any.unwrap_or(played_at).elapsed() >= media_timeout {
                    let srtp_dropped = legs
                        .iter()
                        .flatten()
                        .filter_map(|l| l.srtp.as_ref())
                        .map(SrtpLeg::dropped)
                        .sum();
                    let srtp = legs.iter().flatten().any(|l| l.srtp.is_some()).then_some(srtp_dropped);
                    return Err(no_media(&rtsp.peer, &udp_ports, (last_rtp.is_some(), srtp), media_timeout));
                }
            }
            // A seek under way finishes first (its requests are bounded); a stop is seen
            // all the same.
            cmd = async {
                if busy {
                    commands.stopped().await;
                    Command::Stop
                } else {
                    commands.next().await
                }
            }, if taking => match cmd {
                Command::Seek { position, epoch } => {
                    if let Some(play) = seek_headers(streams, out_ref, (position, epoch)) {
                        match rtsp.session.command(RtspCommand::Seek { play }, std::time::Instant::now()) {
                            Ok(()) => *seeking = Some(cmd),
                            // Cannot happen (commands are taken only while playing);
                            // kept for a next session all the same.
                            Err(_) => {
                                commands.keep(cmd);
                            }
                        }
                    }
                }
                Command::Rekey => match rekeyed_at.map(|t| t.elapsed()) {
                    Some(ago) if ago < REKEY_GAP => out.debug(format_args!(
                        "rekey-srtp: not now, the last re-keying was {} s ago (one per {} s \
                         at most)",
                        ago.as_secs(),
                        REKEY_GAP.as_secs()
                    )),
                    _ => {
                        rekeying = super::keys::rekey(rtsp, legs, backchannel.as_ref(), out_ref).or(rekeying);
                        rekeyed_at = Some(tokio::time::Instant::now());
                    }
                },
                Command::Stop => {
                    // What the element pushed before it stopped goes before the TEARDOWN
                    // (written within the TEARDOWN's wait).
                    if let Some(b) = backchannel.as_mut() {
                        while let Ok(p) = b.rx.try_recv() {
                            b.send(rtsp, p).await;
                        }
                    }
                    end(rtsp, &mut ending);
                }
            },
        }
        let (flowing, ended) = {
            let mut st = streams
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            st.end_idle(out_ref);
            (st.flowing, st.all_ended())
        };
        // A seek not taken yet starts the range again.
        if ended && rtsp.session.is_playing() && seeking.is_none() && !out.seek_pending() {
            // The range is played: the device stays in PLAY (ONVIF Streaming §6.5), so end
            // the session ourselves.
            end(rtsp, &mut ending);
        }
        if !flowing {
            // Downstream took no more: a TEARDOWN asked for goes out all the same.
            if let Some(by) = ending {
                let _ = tokio::time::timeout_at(by, rtsp.flush()).await;
            }
            return Ok(());
        }
    }
}

/// Asks for TEARDOWN (its answer awaited a short while; the device may be gone already),
/// once.
fn end(rtsp: &mut Rtsp, ending: &mut Option<tokio::time::Instant>) {
    if ending.is_none() {
        let _ = rtsp
            .session
            .command(RtspCommand::Stop, std::time::Instant::now());
        *ending = Some(tokio::time::Instant::now() + rtsp::session::TEARDOWN_WAIT);
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
