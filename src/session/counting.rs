// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What a media session tells the element's `stats` (`crate::stats`): how the media
//! travels and to where, the RTSP authentication, and where its streams' reception
//! counts are read (the streams themselves while it plays, a copy once it ended).

use super::*;

use crate::stats::Source;

/// A session PLAYs: what it is, and its streams' counts read from `streams` from now on.
pub(super) fn opened(
    s: &LiveSettings,
    place: Option<&MediaPlace>,
    rtsp: &Rtsp,
    streams: &SharedStreams,
    legs: &[Option<UdpLeg>],
) {
    let stats = &s.start.stats;
    if let Some(p) = place {
        let udp = matches!(s.transport, Transport::Udp);
        let srtp = matches!(s.transport, Transport::RtspsSrtp);
        let (name, port) = match &p.open {
            OpenRtsp::Tunnel { tls: Some(_), .. } => ("https-tunnel", p.origin.port),
            OpenRtsp::Tunnel { tls: None, .. } => ("http-tunnel", p.origin.port),
            OpenRtsp::Tcp(o) if udp => ("rtsp/tcp+rtp/udp", o.port),
            OpenRtsp::Tcp(o) => ("rtsp/tcp", o.port),
            OpenRtsp::Tls { origin, .. } if srtp => ("rtsps/tcp+srtp/udp", origin.port),
            OpenRtsp::Tls { origin, .. } => ("rtsps/tcp", origin.port),
        };
        stats.media(name, rtsp.peer.clone(), port);
    }
    stats.rtsp_auth(rtsp.session.auth_name());
    // Weak: the streams hold the stats (their bytes), which must not hold them back.
    let weak = Arc::downgrade(streams);
    let srtp: Vec<_> = legs
        .iter()
        .map(|l| {
            l.as_ref()
                .and_then(|l| l.srtp.as_ref())
                .map(|k| k.receiver.clone())
        })
        .collect();
    // The last counts read: what a read gets while the media path holds the streams past
    // [`HOLD_WAIT`] (it may be this very thread, posting a message whose sync handler
    // reads `stats`). Read once now, so that every stream is there from the start.
    let last = std::sync::Mutex::new(sources(streams, &srtp).unwrap_or_default());
    stats.set_sources(Box::new(move || {
        let mut last = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(now) = weak.upgrade().and_then(|s| sources(&s, &srtp)) {
            *last = now;
        }
        last.clone()
    }));
}

type SrtpReceivers = [Option<Arc<std::sync::Mutex<crate::proto::srtp::Receiver>>>];

/// How long a read of the counts tries for a lock the media path holds (it holds it for
/// a read of the connection, microseconds) before it takes the last counts instead.
const HOLD_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

/// `m` locked, unless someone holds it for [`HOLD_WAIT`] (maybe this thread: never
/// blocked on); a poisoned lock is taken all the same.
fn held<T>(m: &std::sync::Mutex<T>) -> Option<std::sync::MutexGuard<'_, T>> {
    let end = std::time::Instant::now() + HOLD_WAIT;
    loop {
        match m.try_lock() {
            Ok(g) => return Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() < end => {
                std::thread::yield_now();
            }
            Err(std::sync::TryLockError::WouldBlock) => return None,
        }
    }
}

/// The streams' counts; `None` when the media path holds the streams or a stream's SRTP
/// receiver right now (never waited for).
fn sources(streams: &SharedStreams, srtp: &SrtpReceivers) -> Option<Vec<Source>> {
    let st = held(streams)?;
    st.list
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let srtp_dropped = match srtp.get(i).and_then(Option::as_ref) {
                None => None,
                Some(r) => Some(held(r)?.dropped()),
            };
            Some(Source {
                stream: s.index,
                counts: s.stats.counts(),
                srtp_dropped,
            })
        })
        .collect()
}
