// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The `stats` property and the `stats-interval` messages: what one start counted
//! (`crate::stats`), its TLS connections (`transport::tls`), the pads' queues and the
//! backchannel, as one `application/x-onvifhttpssrc-stats` structure. Field names are
//! GStreamer's where one exists (rtpsource, rtpjitterbuffer, srtpdec, the element's own
//! properties); the README lists them.

use std::sync::Arc;
use std::time::Duration;

use gst::glib;
use gst::prelude::*;

use super::messages::ElementOutput;
use crate::stats::{Snapshot, Source};
use crate::transport::tls::{Handshake, TlsConfig};

/// The structure's name, for the property and the messages.
pub(super) const NAME: &str = "application/x-onvifhttpssrc-stats";

/// Where one start's statistics are read from; kept after the stop, so that what
/// happened can be read after an error.
#[derive(Clone)]
pub(super) struct Watched {
    pub(super) stats: crate::stats::Stats,
    pub(super) tls: Option<Arc<TlsConfig>>,
    /// `streaming-method`'s nick.
    pub(super) streaming_method: String,
    /// `https-validate-certificate`, `https-validate-hostname`.
    pub(super) checks: (bool, bool),
    pub(super) output: Arc<ElementOutput>,
}

/// The nick of an enum value (`streaming-method`).
pub(super) fn nick<T: glib::value::ToValue>(v: &T) -> String {
    glib::EnumValue::from_value(&v.to_value())
        .map(|(_, e)| e.nick().to_string())
        .unwrap_or_default()
}

fn tls_structure(h: &Handshake) -> gst::Structure {
    gst::Structure::builder("tls-connection")
        .field("port", u32::from(h.port))
        .field("version", h.version.as_str())
        .field("cipher-suite", h.cipher_suite.as_str())
        .field("certificate-sha256", h.certificate_sha256.as_str())
        .field("certificate-not-after", h.not_after.as_str())
        .field("trust", h.trust.map_or("", |d| d.name()))
        .build()
}

fn source_structure(s: &Source, pad: &str, queue_dropped: u64) -> gst::Structure {
    let c = s.counts.unwrap_or_default();
    let mut b = gst::Structure::builder("application/x-onvifhttpssrc-source-stats")
        .field("stream", u32::try_from(s.stream).unwrap_or(u32::MAX))
        .field("pad", pad)
        .field("ssrc", c.ssrc)
        .field("packets-received", c.packets_received)
        .field("octets-received", c.octets_received)
        .field(
            "packets-lost",
            i32::try_from(c.packets_lost).unwrap_or(if c.packets_lost < 0 {
                i32::MIN
            } else {
                i32::MAX
            }),
        )
        .field("jitter", c.jitter)
        .field("num-late", c.num_late)
        .field("num-duplicates", c.num_duplicates)
        .field("have-sr", c.sr_ntptime.is_some())
        .field("sr-ntptime", c.sr_ntptime.unwrap_or(0))
        .field("queue-dropped", queue_dropped);
    if let Some(n) = s.srtp_dropped {
        b = b.field("recv-drop-count", u32::try_from(n).unwrap_or(u32::MAX));
    }
    b.build()
}

/// The structure of `w` (`None`: never started).
pub(super) fn structure(w: Option<&Watched>) -> gst::Structure {
    let Some(w) = w else {
        return gst::Structure::new_empty(NAME);
    };
    let snap: Snapshot = w.stats.snapshot();
    let f = &snap.facts;
    let handshakes = w.tls.as_ref().map(|t| t.handshakes()).unwrap_or_default();
    // The media connection's TLS: its port's, else (snapshots, before the media) the
    // first connection's.
    let media = f
        .media_port
        .and_then(|p| handshakes.iter().find(|h| h.port == p))
        .or_else(|| f.media_port.is_none().then(|| handshakes.first()).flatten());
    let queues = w.output.pads.queues();
    let sources = gst::Array::new(snap.sources.iter().map(|s| {
        let (pad, dropped) = queues
            .get(s.stream)
            .map(|(n, d)| (n.to_string(), *d))
            .unwrap_or_default();
        source_structure(s, &pad, dropped).to_send_value()
    }));
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    gst::Structure::builder(NAME)
        .field("streaming-method", w.streaming_method.as_str())
        .field("transport", text(f.transport))
        .field("media-peer", text(f.media_peer.as_deref()))
        .field("https-validate-certificate", w.checks.0)
        .field("https-validate-hostname", w.checks.1)
        .field("tls-version", text(media.map(|h| h.version.as_str())))
        .field(
            "tls-cipher-suite",
            text(media.map(|h| h.cipher_suite.as_str())),
        )
        .field(
            "tls-certificate-sha256",
            text(media.map(|h| h.certificate_sha256.as_str())),
        )
        .field(
            "tls-certificate-not-after",
            text(media.map(|h| h.not_after.as_str())),
        )
        .field(
            "tls-trust",
            text(media.and_then(|h| h.trust).map(|d| d.name())),
        )
        .field(
            "tls-connections",
            gst::Array::new(handshakes.iter().map(|h| tls_structure(h).to_send_value())),
        )
        .field("soap-auth", text(f.soap_auth))
        .field("rtsp-auth", text(f.rtsp_auth))
        .field("reconnects", snap.reconnects)
        .field(
            "last-reconnect-cause",
            text(f.last_reconnect_cause.as_deref()),
        )
        .field("soap-round-trips", snap.soap_round_trips)
        .field("events-received", snap.events_received)
        .field("events-dropped", snap.events_dropped)
        .field("bytes-received", snap.bytes_received)
        .field("backchannel-dropped", w.output.backchannel.dropped())
        .field("source-stats", sources)
        .build()
}

/// Posts the statistics every `every` as an element message with the element's
/// `running-time`, until the element stops (its task is aborted) or goes away.
pub(super) async fn post_every(
    element: glib::WeakRef<super::OnvifHttpsSrc>,
    w: Watched,
    every: Duration,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(e) = element.upgrade() else {
            return;
        };
        let mut s = structure(Some(&w));
        s.set("running-time", e.current_running_time());
        let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
    }
}
