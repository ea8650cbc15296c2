// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A live (or replay) RTSP session: start-up, the driver of the method sequence
//! (`proto::rtsp::sequence`: this file binds UDP ports, adds pads and logs what the
//! steps say), the play loop (it sleeps until the session's deadline: keep-alive and
//! reports), reconnection.

use super::*;

/// Deadline for the TEARDOWN answer at stop: the element must reach NULL within a second.
pub(super) const TEARDOWN_WAIT: Duration = Duration::from_millis(200);

/// How often a live session checks that media still arrives.
pub(super) const MEDIA_CHECK: Duration = Duration::from_millis(500);

/// A live RTSP session: start-up, GetStreamUri for the transport, RTSP, then packets to
/// the pads until stopped.
pub async fn run_live<O: Output>(s: LiveSettings, out: Arc<O>, mut commands: Commands) {
    crate::runtime::maybe_panic("media", &s.start.location);
    // Whether a session has played: only then is a loss reconnected (a start that fails
    // is a setting or a device to fix, and says so).
    let mut played = false;
    let mut supervisor = Supervisor::new(Lost::Media, s.reconnect);
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
            Ok((mut rtsp, uri, streams, legs)) => {
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
                let playing_since = std::time::Instant::now();
                let result = play_loop(
                    &mut rtsp,
                    &uri,
                    streams.clone(),
                    legs,
                    s.start.timeout,
                    out.clone(),
                    &mut commands,
                )
                .await;
                // A frame still waiting for its end goes as it is.
                streams
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .flush_all(&*out);
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
) -> Result<(Rtsp, String, SharedStreams, Vec<Option<UdpLeg>>), Error> {
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
    };
    let mut rtsp = Rtsp::new(channel, creds, timeout);
    let mut ignore = |_: u8, _: &[u8]| {};

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
    let mut seq = rtsp::sequence::Sequence::new(rtsp::sequence::Plan {
        uri: uri.clone(),
        kinds,
        udp: s.transport == Transport::Udp,
        require,
        play: play.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    });

    let v6 = origin.host.starts_with('[');
    let mut list = Vec::new();
    let mut legs = Vec::new();
    let mut udp = None;
    let mut streams: Option<SharedStreams> = None;
    let mut replay = replay;
    while let Some(step) = seq.poll() {
        use rtsp::sequence::Step;
        match step {
            Step::Send(req) => {
                if req.method == "PLAY" {
                    out.debug(format_args!("PLAY {} {:?}", req.uri, req.headers));
                }
                // The media may come before the PLAY's answer (a replay's first packet,
                // with D and C, does).
                let resp = match &streams {
                    Some(st) => {
                        let mut on_data = Deliver { streams: st, out };
                        rtsp.request(req.method, &req.uri, &req.header_refs(), &mut on_data)
                            .await?
                    }
                    None => {
                        rtsp.request(req.method, &req.uri, &req.header_refs(), &mut ignore)
                            .await?
                    }
                };
                if let Err(f) = seq.answer(&mut rtsp.state, resp) {
                    // What the answer said before it failed (the URLs of a DESCRIBE
                    // without a wanted stream).
                    while let Some(Step::Described(urls)) = seq.poll() {
                        out.debug(format_args!(
                            "DESCRIBE {uri}: base {}, aggregate {}",
                            urls.base, urls.aggregate
                        ));
                    }
                    return Err(sequence_fault(&rtsp, source, &wants, f));
                }
            }
            Step::BindUdp => {
                let (a, b) = udp_pair(v6)
                    .await
                    .map_err(|e| Error::io(&rtsp.peer, "UDP bind", e))?;
                seq.bound(a.local_addr().map(|a| a.port()).unwrap_or(0));
                udp = Some((a, b));
            }
            Step::Described(urls) => out.debug(format_args!(
                "DESCRIBE {uri}: base {}, aggregate {}",
                urls.base, urls.aggregate
            )),
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
                    Some(pair) => Some(udp_leg(origin, timeout, pair, &set_up.granted).await?),
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
                let ssrc = crate::proto::auth::random::<4>();
                streams = Some(Arc::new(std::sync::Mutex::new(Streams {
                    list: std::mem::take(&mut list),
                    our_ssrc: u32::from_be_bytes(ssrc),
                    flowing: true,
                    replay: replay.take(),
                    now: None,
                    presentation: seq
                        .presentation()
                        .cloned()
                        .unwrap_or_else(|| rtsp::url::Presentation::new(&uri, None, None, None)),
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
            }
        }
    }
    let Some(streams) = streams else {
        return Err(Error::Settings(
            "internal error: the RTSP sequence ended without streams, please report this".into(),
        ));
    };
    let uri = seq.aggregate().to_string();
    out.debug(format_args!(
        "playing: {} connection(s) and {} SOAP round trip(s) for the ONVIF start",
        place.cost.0, place.cost.1
    ));
    Ok((rtsp, uri, streams, legs))
}

/// The error for a method sequence that cannot go on (spec §10).
fn sequence_fault(
    rtsp: &Rtsp,
    source: &str,
    wants: &crate::client::onvif::Wants,
    fault: rtsp::sequence::Fault,
) -> Error {
    use rtsp::sequence::Fault;
    match fault {
        Fault::Refused { method, resp } => rtsp.refusal(method, &resp),
        Fault::Sdp(e) => crate::error::Context::new(&rtsp.peer, "RTSP DESCRIBE")
            .malformed(e.to_string(), e.line.map(crate::error::Position::SdpLine)),
        Fault::NoStream(prefix) => Error::NotFound {
            at: crate::error::At::here(),
            peer: rtsp.peer.clone(),
            what: format!(
                "{source} has no {prefix} stream in its SDP (streams={})",
                wants.describe()
            ),
        },
        Fault::OutOfTurn => {
            Error::Settings("internal error: an RTSP answer out of turn, please report this".into())
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn play_loop<O: Output>(
    rtsp: &mut Rtsp,
    uri: &str,
    streams: SharedStreams,
    legs: Vec<Option<UdpLeg>>,
    media_timeout: Duration,
    out: Arc<O>,
    commands: &mut Commands,
) -> Result<(), Error> {
    rtsp.state.start_timers(uri, std::time::Instant::now());
    let keepalive_method = rtsp.state.keepalive_method();
    // Replay: wakes the loop to end silent streams (see `Streams::end_idle`).
    let tick = if streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replay
        .is_some()
    {
        REPLAY_IDLE / 3
    } else {
        Duration::from_secs(3600)
    };
    let mut replay_tick = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
    let _receivers = AbortOnDrop(
        legs.iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let l = l.as_ref()?;
                let receiver = udp_receiver(
                    i,
                    (l.rtp.clone(), l.rtcp.clone()),
                    l.accept.clone(),
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
    let live = streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replay
        .is_none();
    let udp_ports: Vec<u16> = legs
        .iter()
        .flatten()
        .filter_map(|l| l.rtp.local_addr().ok().map(|a| a.port()))
        .collect();
    let played_at = std::time::Instant::now();
    let mut media_check =
        tokio::time::interval_at(tokio::time::Instant::now() + MEDIA_CHECK, MEDIA_CHECK);
    let out_ref = &*out;
    let mut on_data = Deliver {
        streams: &streams,
        out: out_ref,
    };
    // One timer for the session's deadlines, moved only when they move: a timer made
    // for each read cost the timer wheel an insertion and a removal per packet.
    let timer = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(timer);
    let mut armed = None;
    loop {
        let due = rtsp.state.poll_timeout();
        if due != armed {
            if let Some(at) = due {
                timer.as_mut().reset(tokio::time::Instant::from_std(at));
            }
            armed = due;
        }
        tokio::select! {
            ev = rtsp.next_event(&mut on_data) => match ev? {
                Event::Response(r) => {
                    // Any answer to the keep-alive keeps the session (live555 refreshes
                    // it from the Session header before it looks at the method). One
                    // refused because a report came before it (live555's tunnel), or
                    // challenged, went again (a write bounded by the timeout, as every
                    // write of the driver): its answer is still awaited.
                    rtsp.on_response(r).await?;
                }
                Event::Closed => {
                    return Err(crate::error::Context::new(&rtsp.peer, "RTSP stream")
                        .broken("the device closed the stream"));
                }
            },
            () = &mut timer, if due.is_some() => {
                // Fired: armed again at the next deadline, even an equal one.
                armed = None;
                let due = rtsp
                    .state
                    .handle_timeout(std::time::Instant::now())
                    .map_err(|l| rtsp.lost(l))?;
                if let Some((_, bytes)) = due.keepalive {
                    // Bounded by the timeout, as every write of the driver: a device holding
                    // its POST at a zero window must not wedge the stream (nor keep stop
                    // from being seen).
                    rtsp.write(&format!("RTSP {keepalive_method}"), &bytes).await?;
                }
                if due.reports {
                    let now = out.running_time().unwrap_or(0);
                    let reports = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).reports(now);
                    for (i, report) in reports {
                        match legs.get(i).and_then(Option::as_ref) {
                            Some(leg) => {
                                if let Some(to) = leg.server_rtcp {
                                    let _ = leg.rtcp.send_to(&report, to).await;
                                }
                            }
                            None => {
                                let ch = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).list[i].rtcp_channel;
                                rtsp.send_report(ch, &report).await?;
                            }
                        }
                    }
                }
            }
            _ = replay_tick.tick() => {}
            _ = media_check.tick(), if live => {
                // RTP or RTCP: a sparse stream (metadata only on events) still sends
                // sender reports.
                let (last_rtp, last_any) = {
                    let st = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let rtp = st.list.iter().filter_map(|s| s.last_packet).max();
                    let rtcp = st.list.iter().filter_map(|s| s.last_rtcp).max();
                    (rtp, rtp.max(rtcp))
                };
                if last_any.unwrap_or(played_at).elapsed() >= media_timeout {
                    return Err(no_media(&rtsp.peer, &udp_ports, last_rtp.is_some(), media_timeout));
                }
            }
            cmd = commands.next() => match cmd {
                Command::Seek { position, epoch } => {
                    // A seek the session lost goes again once it is back: the element's
                    // pads wait for it (and drop what comes until then).
                    if let Err(e) = seek(rtsp, &streams, &*out, (position, epoch), &mut on_data).await {
                        if !commands.keep(cmd) {
                            // It failed again after a reconnection: given up, so that a
                            // device that fails every seek is not reconnected for ever.
                            out.seek_applied(epoch);
                            out.warning(&format!(
                                "the seek to {} s failed twice ({e}); the replay goes on \
                                 from where it was",
                                position / 1_000_000_000
                            ));
                        }
                        return Err(e);
                    }
                }
                Command::Stop => {
                    // TEARDOWN within a deadline; the device may be gone already.
                    let mut ignore = |_: u8, _: &[u8]| {};
                    let _ = tokio::time::timeout(TEARDOWN_WAIT, rtsp.request("TEARDOWN", uri, &[], &mut ignore)).await;
                    return Ok(());
                }
            },
        }
        let (flowing, ended) = {
            let mut st = streams
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            st.end_idle(&*out);
            (st.flowing, st.all_ended())
        };
        // A seek not taken yet starts the range again.
        if ended && !out.seek_pending() {
            // The range is played: the device stays in PLAY (ONVIF Streaming §6.5), so end
            // the session ourselves.
            let mut ignore = |_: u8, _: &[u8]| {};
            let _ = tokio::time::timeout(
                TEARDOWN_WAIT,
                rtsp.request("TEARDOWN", uri, &[], &mut ignore),
            )
            .await;
            return Ok(());
        }
        if !flowing {
            return Ok(());
        }
    }
}
