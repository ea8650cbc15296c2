// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! A live (or replay) RTSP session: start-up, the method sequence, the play loop with its
//! keep-alive and reports, reconnection.

use super::*;

/// Deadline for the TEARDOWN answer at stop: the element must reach NULL within a second.
pub(super) const TEARDOWN_WAIT: Duration = Duration::from_millis(200);

/// How often receiver reports go back to the camera (RFC 3550 §6.2 allows 5 s minimum).
pub(super) const RR_INTERVAL: Duration = Duration::from_secs(5);

/// How often a live session checks that media still arrives.
pub(super) const MEDIA_CHECK: Duration = Duration::from_millis(500);

/// A live RTSP session: start-up, GetStreamUri for the transport, RTSP, then packets to
/// the pads until stopped.
pub async fn run_live<O: Output>(
    mut s: LiveSettings,
    out: Arc<O>,
    mut stop: oneshot::Receiver<()>,
    seeks: Option<Seeks>,
) {
    crate::runtime::maybe_panic("media", &s.start.location);
    let pending = seeks.as_ref().map(|s| s.pending.clone());
    let mut seeks = seeks.map(|s| s.positions);
    // Whether a session has played: only then is a loss reconnected (a start that fails
    // is a setting or a device to fix, and says so).
    let mut played = false;
    let mut supervisor = Supervisor::new(Lost::Media, s.reconnect);
    // Where the media is, kept while the device is reachable: a reconnection after a
    // network failure opens just the RTSP session again; when that fails too (the device
    // rebooted: new clock, maybe new URIs) the next attempt does the whole ONVIF start.
    let mut place: Option<MediaPlace> = None;
    loop {
        let light = place.is_some();
        let started = tokio::select! {
            r = async {
                let p = match place.take() {
                    Some(p) => p,
                    None => find_media(&s, &*out).await?,
                };
                let r = open_session(&s, &p, &*out, pending.clone()).await;
                place = Some(p);
                r
            } => r,
            _ = &mut stop => return,
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
                    &mut stop,
                    &mut seeks,
                )
                .await;
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
                        // A replay resumes where the recording was.
                        if let (Some(p), Some(ms)) = (
                            s.playback.as_mut(),
                            streams
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .last_recorded_ms(),
                        ) {
                            p.start_ms = Some(ms);
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
        if supervisor.after(&err, retry, &*out, &mut stop).await == Next::End {
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
    seek_pending: Option<Arc<std::sync::atomic::AtomicBool>>,
) -> Result<(Rtsp, String, SharedStreams, Vec<Option<UdpLeg>>), Error> {
    let origin = &place.origin;
    let source = &place.source;
    let uri = place.uri.clone();
    let creds = s.start.creds.clone();
    let timeout = s.start.timeout;
    // A set (or resumed) start wins over the recording's.
    let replay_start_ms = s
        .playback
        .as_ref()
        .and_then(|p| p.start_ms)
        .or(place.replay_start_ms);
    let rtsp = match &place.open {
        OpenRtsp::Tunnel { tls, target } => {
            let channel =
                tunnel::open(origin, tls.as_ref(), target, creds.as_ref(), timeout).await?;
            Rtsp::new(
                channel,
                origin.peer(),
                creds,
                tls.as_ref().map(|t| t.peer_authenticated),
                timeout,
            )
        }
        OpenRtsp::Tcp(rtsp_origin) => {
            let channel = tunnel::open_tcp(rtsp_origin, timeout).await?;
            // Plain TCP: Digest only, never Basic.
            Rtsp::new(channel, rtsp_origin.peer(), creds, None, timeout)
        }
    };
    let mut rtsp = rtsp;
    let mut ignore = |_: u8, _: &[u8]| {};

    let resp = rtsp.request("OPTIONS", &uri, &[], &mut ignore).await?;
    rtsp.check("OPTIONS", &resp)?;
    rtsp.state.options(&resp);

    let require: &[(&str, &str)] = if s.playback.is_some() {
        &[REPLAY_REQUIRE]
    } else {
        &[]
    };
    let describe_headers = [&[("Accept", "application/sdp")], require].concat();
    let resp = rtsp
        .request("DESCRIBE", &uri, &describe_headers, &mut ignore)
        .await?;
    rtsp.check("DESCRIBE", &resp)?;
    let (session_control, sdp_streams) = sdp::parse(&resp.body).map_err(|e| Error::Malformed {
        at: crate::error::At::here(),
        peer: rtsp.peer.clone(),
        operation: "RTSP DESCRIBE".into(),
        detail: e.to_string(),
        position: e.line.map(crate::error::Position::SdpLine),
    })?;
    // Where every later request goes (docs/rtsp-urls-and-vendors.md §1).
    let urls = rtsp::url::Presentation::of_describe(&uri, &resp, session_control.as_deref());
    out.debug(format_args!(
        "DESCRIBE {uri}: base {}, aggregate {}",
        urls.base, urls.aggregate
    ));
    // The first stream of each wanted kind; a backchannel (sendonly on our side) never.
    let wants = s.start.wants;
    let mut chosen: Vec<(&'static str, &sdp::Stream)> = Vec::new();
    for (kind, wanted, prefix) in [
        (sdp::Kind::Video, wants.video, "video"),
        (sdp::Kind::Audio, wants.audio, "audio"),
        (sdp::Kind::Metadata, wants.metadata, "metadata"),
    ] {
        if !wanted {
            continue;
        }
        match sdp_streams
            .iter()
            .find(|st| st.kind == kind && st.direction.as_deref() != Some("sendonly"))
        {
            Some(st) => chosen.push((prefix, st)),
            None => {
                return Err(Error::NotFound {
                    at: crate::error::At::here(),
                    peer: rtsp.peer.clone(),
                    what: format!(
                        "{source} has no {prefix} stream in its SDP (streams={})",
                        wants.describe()
                    ),
                });
            }
        }
    }

    let v6 = origin.host.starts_with('[');
    let mut setup_urls = Vec::new();
    let mut list = Vec::new();
    let mut legs = Vec::new();
    for (i, (prefix, st)) in chosen.iter().enumerate() {
        let media_url = urls.media(st.control.as_deref());
        let mut control = media_url.url;
        let ch = u8::try_from(2 * i).unwrap_or(0);
        let mut udp = None;
        let transport = if s.transport == Transport::Udp {
            let (a, b) = udp_pair(v6)
                .await
                .map_err(|e| Error::io(&rtsp.peer, "UDP bind", e))?;
            let port = a.local_addr().map(|a| a.port()).unwrap_or(0);
            udp = Some((a, b));
            rtsp::transport::Asked::Udp(port, port.saturating_add(1)).value()
        } else {
            rtsp::transport::Asked::Interleaved(ch, ch.saturating_add(1)).value()
        };
        let setup_headers = [&[("Transport", transport.as_str())], require].concat();
        let mut resp = rtsp
            .request("SETUP", &control, &setup_headers, &mut ignore)
            .await?;
        // The one other URL robust clients try (rtspsrc's non-compliant-URL retry, the
        // other way round): the RFC 3986 join.
        if rtsp::url::setup_retry_status(resp.status)
            && let Some(other) = media_url.fallback
        {
            out.debug(format_args!(
                "SETUP {control} -> {} {}; trying {other}",
                resp.status, resp.reason
            ));
            resp = rtsp
                .request("SETUP", &other, &setup_headers, &mut ignore)
                .await?;
            control = other;
        }
        rtsp.check("SETUP", &resp)?;
        setup_urls.push((*prefix, control.clone()));
        rtsp.state.established(&resp);
        let reply = resp.header("transport").unwrap_or("");
        let granted = rtsp::transport::Reply::parse(reply);
        if !granted.typed {
            out.debug(format_args!(
                "SETUP {control}: Transport {reply:?} read leniently (rtsp-types refuses it)"
            ));
        }
        let channels = granted.interleaved.unwrap_or((ch, ch.saturating_add(1)));
        let leg = match udp {
            Some((a, b)) => {
                let ports = granted.server_port;
                // The device's addresses: where RTSP goes, and a `source=` it names.
                // Bounded by `timeout`, as every exchange (a resolver that never answers
                // must not hold the start until stop).
                let lookup =
                    tokio::net::lookup_host((crate::transport::net::bare_host(&origin.host), 0));
                let mut sources: Vec<std::net::IpAddr> =
                    match tokio::time::timeout(timeout, lookup).await {
                        Ok(Ok(it)) => it.map(|a| a.ip().to_canonical()).collect(),
                        Ok(Err(_)) => Vec::new(),
                        Err(_) => {
                            return Err(Error::TimedOut {
                                at: crate::error::At::here(),
                                peer: origin.peer(),
                                operation: "name lookup for the UDP sources".into(),
                                after: timeout,
                            });
                        }
                    };
                if let Some(ip) = granted.source {
                    sources.push(ip.to_canonical());
                }
                let server_rtcp = match (ports, sources.first()) {
                    (Some((_, rtcp)), Some(ip)) => Some(std::net::SocketAddr::new(*ip, rtcp)),
                    _ => None,
                };
                Some(UdpLeg {
                    rtp: Arc::new(a),
                    rtcp: Arc::new(b),
                    server_rtcp,
                    accept: UdpSources {
                        ips: sources,
                        ports,
                    },
                })
            }
            None => None,
        };
        let caps = rtp_caps(st);
        out.debug(format_args!("{prefix}_0: {control} ({reply}): {caps}"));
        let Some(index) = out.add_stream(&format!("{prefix}_0"), caps, false) else {
            return Err(Error::Settings("the element went away".into()));
        };
        list.push(StreamState {
            index,
            rtp_channel: channels.0,
            rtcp_channel: channels.1,
            clock_rate: st.clock_rate,
            timeline: Timeline::new(st.clock_rate),
            stats: rtp::ReceiverStats::default(),
            wallclock: None,
            ended: false,
            last_packet: None,
            bad_timestamps: 0,
            malformed: 0,
            last_rtcp: None,
            sr_packets: None,
            pending: None,
            discont: false,
            recorded_ms: None,
            setup_url: control.clone(),
            held: None,
            first_seq: None,
            stale: 0,
        });
        legs.push(leg);
    }
    out.streams_complete();

    let replay = s.playback.as_ref().map(|p| Replay {
        settings: p.clone(),
        start_ms: replay_start_ms,
        end_ntp: p.end_ms.map(ntp_ns_of_unix_ms),
        pts_offset: 0,
        last_seek: None,
        seek_pending,
    });
    let play_headers = match &replay {
        None => vec![("Range", "npt=0.000-".to_string())],
        Some(r) => r.play_headers(r.start_ms),
    };
    let play_headers: Vec<(&str, &str)> =
        play_headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ssrc = crate::proto::auth::random::<4>();
    let streams = Arc::new(std::sync::Mutex::new(Streams {
        list,
        our_ssrc: u32::from_be_bytes(ssrc),
        flowing: true,
        replay,
        now: None,
        presentation: urls.clone(),
    }));
    let uri = urls.aggregate.clone();
    out.debug(format_args!("PLAY {uri} {play_headers:?}"));
    // The media may come before the answer (a replay's first packet, with D and C, does).
    let mut on_data = Deliver {
        streams: &streams,
        out,
    };
    let resp = rtsp
        .request("PLAY", &uri, &play_headers, &mut on_data)
        .await?;
    rtsp.check("PLAY", &resp)?;
    // RTP-Info, matched to the streams by the same rules as the controls (for the log:
    // the timeline follows the packets themselves).
    for info in rtsp::url::parse_rtp_info(resp.header("rtp-info").unwrap_or("")) {
        let stream = setup_urls
            .iter()
            .find(|(_, u)| urls.rtp_info_matches(&info.url, u, setup_urls.len()))
            .map_or("no stream", |(p, _)| *p);
        out.debug(format_args!(
            "RTP-Info {} ({stream}): seq {:?}, rtptime {:?}",
            info.url, info.seq, info.rtptime
        ));
    }
    out.debug(format_args!(
        "playing: {} connection(s) and {} SOAP round trip(s) for the ONVIF start",
        place.cost.0, place.cost.1
    ));
    Ok((rtsp, uri, streams, legs))
}

/// `write` within `limit`, else an I/O error (a reconnect cause) naming what was written.
pub(super) async fn bounded<T>(
    peer: &str,
    what: &str,
    limit: Duration,
    write: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(limit, write).await {
        Ok(r) => r,
        Err(_) => Err(Error::Io {
            at: crate::error::At::here(),
            peer: peer.to_string(),
            operation: what.to_string(),
            detail: format!(
                "the write did not complete within {} s (the device stopped reading)",
                limit.as_secs()
            ),
            source: None,
        }),
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
    stop: &mut oneshot::Receiver<()>,
    seeks: &mut Option<SeekReceiver>,
) -> Result<(), Error> {
    let timeout = rtsp.state.id().and_then(|(_, t)| *t);
    let period = Duration::from_secs_f64(rtsp::keepalive_secs(timeout));
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut rr = tokio::time::interval_at(tokio::time::Instant::now() + RR_INTERVAL, RR_INTERVAL);
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
    let keepalive_method = if rtsp.state.supports("GET_PARAMETER") {
        "GET_PARAMETER"
    } else {
        "OPTIONS"
    };
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
    let mut pending: Option<u32> = None;
    let out_ref = &*out;
    let mut on_data = Deliver {
        streams: &streams,
        out: out_ref,
    };
    loop {
        tokio::select! {
            ev = rtsp.next_event(&mut on_data) => match ev? {
                Event::Response(r) => {
                    // Any answer to the keep-alive keeps the session (live555 refreshes
                    // it from the Session header before it looks at the method). One
                    // refused because a report came before it (live555's tunnel), or
                    // challenged, went again: its answer is still awaited.
                    bounded(
                        &rtsp.peer.clone(),
                        &format!("RTSP {keepalive_method} keep-alive"),
                        media_timeout,
                        rtsp.on_response(r),
                    )
                    .await?;
                    pending = rtsp.state.awaited();
                }
                Event::Closed => {
                    return Err(Error::Io {
                        at: crate::error::At::here(),
                        peer: rtsp.peer.clone(),
                        operation: "RTSP stream".into(),
                        detail: "the device closed the stream".into(),
                        source: None,
                    });
                }
            },
            _ = keepalive.tick() => {
                if let Some(c) = pending {
                    return Err(Error::Io {
                        at: crate::error::At::here(),
                        peer: rtsp.peer.clone(),
                        operation: format!("RTSP {keepalive_method} keep-alive"),
                        detail: format!("keep-alive CSeq {c} unanswered after {} s", period.as_secs()),
                        source: None,
                    });
                }
                pending = Some(keep_alive(rtsp, keepalive_method, uri, media_timeout).await?);
            }
            _ = rr.tick() => {
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
            Some(position) = next_seek(seeks) => {
                seek(rtsp, uri, &streams, &*out, position, &mut on_data).await?;
            }
            _ = &mut *stop => {
                // TEARDOWN within a deadline; the device may be gone already.
                let mut ignore = |_: u8, _: &[u8]| {};
                let _ = tokio::time::timeout(TEARDOWN_WAIT, rtsp.request("TEARDOWN", uri, &[], &mut ignore)).await;
                return Ok(());
            }
        }
        let (flowing, ended) = {
            let mut st = streams
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            st.end_idle(&*out);
            (st.flowing, st.all_ended())
        };
        if ended {
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

/// Writes a keep-alive; its CSeq. Every write is bounded: a device holding its POST at a
/// zero window must not wedge the stream (nor keep stop from being seen).
pub(super) async fn keep_alive(
    rtsp: &mut Rtsp,
    method: &str,
    uri: &str,
    bound: Duration,
) -> Result<u32, Error> {
    let peer = rtsp.peer.clone();
    bounded(
        &peer,
        &format!("RTSP {method} keep-alive"),
        bound,
        rtsp.send(method, uri, &[]),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Security review: a write the device never takes (a POST held at a zero window)
    /// wedged the play loop; now it ends within the bound as a reconnect cause.
    #[test]
    pub(super) fn test_a_write_nobody_reads_is_bounded() {
        let r = crate::runtime::RUNTIME.block_on(async {
            // A pipe of 16 bytes that nobody reads: the write can never complete.
            let (mut w, _r) = tokio::io::duplex(16);
            bounded(
                "cam:443",
                "RTSP OPTIONS keep-alive",
                Duration::from_millis(50),
                async {
                    tokio::io::AsyncWriteExt::write_all(&mut w, &[0u8; 64])
                        .await
                        .map_err(|e| Error::io("cam:443", "write", e))
                },
            )
            .await
        });
        match r {
            Err(e @ Error::Io { .. }) => {
                assert!(e.is_transient());
                assert!(e.to_string().contains("RTSP OPTIONS keep-alive"), "{e}");
                assert!(e.to_string().contains("stopped reading"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
