// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What one start of the element counts for its `stats` property: a [`Stats`] shared by
//! that start's tasks (media, events, the action signals' client), written where each
//! fact is known, read as a [`Snapshot`] by the element. Counters are atomics; the
//! streams' reception counts are read from the media session when asked
//! ([`Stats::set_sources`]), never copied per packet. Reading never waits for the media
//! path: an application may read `stats` from a bus sync handler, on the thread that holds
//! the streams while it posts a message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::proto::reception::SourceCounts;

/// One stream's reception, as the media session knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// The pad's index (`stream_N`'s order of creation).
    pub stream: usize,
    /// `None` before the stream's first packet.
    pub counts: Option<SourceCounts>,
    /// SRTP packets that failed authentication (`None`: not SRTP).
    pub srtp_dropped: Option<u64>,
}

/// What the media session says of its streams, when asked.
pub type SourcesFn = Box<dyn Fn() -> Vec<Source> + Send + Sync>;

/// Facts that are words, not counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// How the media travels (`https-tunnel`, `rtsps/tcp+srtp/udp`, ...).
    pub transport: Option<&'static str>,
    /// The media connection's `host:port`.
    pub media_peer: Option<String>,
    /// The media connection's port, to find its TLS facts.
    pub media_port: Option<u16>,
    /// The authentication of the last SOAP call that succeeded.
    pub soap_auth: Option<&'static str>,
    /// The authentication RTSP requests carry.
    pub rtsp_auth: Option<&'static str>,
    /// Why the stream or the events were last started again.
    pub last_reconnect_cause: Option<String>,
}

/// The counts and facts of one start.
#[derive(Clone, Default)]
pub struct Stats(Arc<Inner>);

#[derive(Default)]
struct Inner {
    bytes_received: AtomicU64,
    soap_round_trips: AtomicU64,
    events_received: AtomicU64,
    events_dropped: AtomicU64,
    reconnects: AtomicU64,
    facts: Mutex<Facts>,
    sources: Mutex<Option<SourcesFn>>,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub bytes_received: u64,
    pub soap_round_trips: u64,
    pub events_received: u64,
    pub events_dropped: u64,
    pub reconnects: u64,
    pub facts: Facts,
    pub sources: Vec<Source>,
}

fn add(counter: &AtomicU64, n: u64) {
    // Saturating: a counter that reached u64::MAX stays there.
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_add(n))
    });
}

impl Stats {
    fn facts(&self) -> MutexGuard<'_, Facts> {
        self.0.facts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Media bytes read from the device (the RTSP connection's reads, UDP datagrams).
    pub fn received(&self, bytes: usize) {
        add(
            &self.0.bytes_received,
            u64::try_from(bytes).unwrap_or(u64::MAX),
        );
    }

    /// A SOAP request sent.
    pub fn soap_round_trip(&self) {
        add(&self.0.soap_round_trips, 1);
    }

    /// Event notifications: `received` posted, `dropped` left out.
    pub fn events(&self, received: u64, dropped: u64) {
        add(&self.0.events_received, received);
        add(&self.0.events_dropped, dropped);
    }

    /// The stream or the events are started again because of `cause`.
    pub fn reconnecting(&self, cause: String) {
        add(&self.0.reconnects, 1);
        self.facts().last_reconnect_cause = Some(cause);
    }

    /// A SOAP call succeeded with `scheme`; an anonymous one (`"none"`) does not hide the
    /// scheme of an authenticated one.
    pub fn soap_auth(&self, scheme: &'static str) {
        let mut f = self.facts();
        if scheme != "none" || f.soap_auth.is_none() {
            f.soap_auth = Some(scheme);
        }
    }

    /// The media session opened: how it travels, to where, and its RTSP authentication.
    pub fn media(&self, transport: &'static str, peer: String, port: u16) {
        let mut f = self.facts();
        f.transport = Some(transport);
        f.media_peer = Some(peer);
        f.media_port = Some(port);
    }

    /// The authentication RTSP requests carry.
    pub fn rtsp_auth(&self, scheme: &'static str) {
        self.facts().rtsp_auth = Some(scheme);
    }

    /// Where the streams' reception counts are read from (the media session's streams,
    /// until the next session replaces it).
    pub fn set_sources(&self, f: SourcesFn) {
        *self
            .0
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(f);
    }

    /// The streams' counts as they are now, kept without the session (it stopped).
    pub fn freeze(&self) {
        let last = self.snapshot().sources;
        self.set_sources(Box::new(move || last.clone()));
    }

    /// What was counted so far.
    pub fn snapshot(&self) -> Snapshot {
        let sources = self
            .0
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|f| f())
            .unwrap_or_default();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            bytes_received: load(&self.0.bytes_received),
            soap_round_trips: load(&self.0.soap_round_trips),
            events_received: load(&self.0.events_received),
            events_dropped: load(&self.0.events_dropped),
            reconnects: load(&self.0.reconnects),
            facts: self.facts().clone(),
            sources,
        }
    }
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_counts_and_facts() {
        let s = Stats::default();
        let shared = s.clone();
        shared.received(100);
        shared.received(20);
        shared.soap_round_trip();
        shared.events(3, 1);
        shared.soap_auth("HTTP Digest");
        shared.soap_auth("none");
        shared.reconnecting("the device closed the connection".into());
        shared.set_sources(Box::new(|| {
            vec![Source {
                stream: 0,
                counts: None,
                srtp_dropped: None,
            }]
        }));
        let snap = s.snapshot();
        assert_eq!(snap.bytes_received, 120);
        assert_eq!(snap.soap_round_trips, 1);
        assert_eq!((snap.events_received, snap.events_dropped), (3, 1));
        assert_eq!(snap.reconnects, 1);
        assert_eq!(snap.facts.soap_auth, Some("HTTP Digest"));
        assert_eq!(
            snap.facts.last_reconnect_cause.as_deref(),
            Some("the device closed the connection")
        );
        assert_eq!(snap.sources.len(), 1);
        add(&s.0.bytes_received, u64::MAX);
        assert_eq!(s.snapshot().bytes_received, u64::MAX);
    }
}
