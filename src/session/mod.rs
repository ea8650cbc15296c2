// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The session task: runs the ONVIF start-up, then feeds the element's streams. Beside
//! it, the other tasks an element runs: `events.rs` (the pull point), `control.rs` (the
//! action signals' client) and `edge.rs` (finding recordings to replay).
//!
//! It runs on the plugin runtime and talks to the element only through [`Output`], so that
//! this module holds the protocol flow and the element only GStreamer glue. The task is
//! stopped by dropping it at the next await point (the element's `stop()` signals it and
//! joins it with a deadline), which closes every connection.

pub mod control;
pub mod edge;
pub mod events;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::client::device::{self, MAX_SNAPSHOT_BODY, StartSettings};
use crate::client::live::{Event, Rtsp};
use crate::error::Error;
use crate::proto::onvif::ops::StreamTransport;
use crate::proto::onvif::recording;
use crate::proto::rtp::{self, Timeline};
use crate::proto::rtsp::{self, sdp};
use crate::transport::tunnel;

/// Deadline for the TEARDOWN answer at stop: the element must reach NULL within a second.
const TEARDOWN_WAIT: Duration = Duration::from_millis(200);

/// What the session needs from the element.
pub trait Output: Send + Sync + 'static {
    /// Debug-level log line, formatted only when the level is enabled.
    fn debug(&self, args: std::fmt::Arguments<'_>);
    /// A warning message on the bus.
    fn warning(&self, text: &str);
    /// Adds a src pad `name` with `caps`. `timestamp_on_arrival`: the element stamps
    /// buffers with the running time (snapshots); otherwise the session sets PTS.
    fn add_stream(&self, name: &str, caps: gst::Caps, timestamp_on_arrival: bool) -> Option<usize>;
    /// All pads are there.
    fn streams_complete(&self);
    /// Pushes a buffer on stream `index`; false when the pipeline no longer takes data.
    fn push(&self, index: usize, buffer: gst::Buffer) -> bool;
    /// Pushes the buffers of one read on stream `index` at once; false as for `push`.
    fn push_list(&self, index: usize, list: gst::BufferList) -> bool;
    /// Stream `index` has no more data (end of a replayed range).
    fn end_of_stream(&self, index: usize);
    /// The element's running time in nanoseconds, if it has a clock.
    fn running_time(&self) -> Option<u64>;
    /// Posts the error; the session ends after it.
    #[track_caller]
    fn error(&self, err: &Error);
    /// Posts an `onvif-event` element message.
    fn event(&self, notification: &crate::proto::onvif::events::Notification);
    /// `what` was lost; attempt `attempt` to start it again comes after `delay` (an
    /// `onvif-reconnecting` element message and a warning).
    fn reconnecting(&self, what: Lost, cause: &Error, attempt: u32, delay: Duration);
}

/// What a reconnection starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The media session (RTSP, and the ONVIF start when the device rebooted).
    Media,
    /// The pull-point event subscription.
    Events,
}

impl Lost {
    /// The `what` field of the `onvif-reconnecting` message.
    pub fn name(self) -> &'static str {
        match self {
            Lost::Media => "media",
            Lost::Events => "events",
        }
    }
}

/// What the snapshot session needs beyond the start-up settings.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    pub start: StartSettings,
    pub interval: Duration,
}

/// What the live RTSP session needs beyond the start-up settings.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub start: StartSettings,
    pub transport: Transport,
    /// Replay of edge storage instead of the live stream (`mode=playback`).
    pub playback: Option<PlaybackSettings>,
    /// After the stream was lost: start again, waiting at most this long between two
    /// attempts (spec §9). `None`: the loss is an error.
    pub reconnect: Option<Duration>,
}

/// Edge storage playback (spec §7).
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybackSettings {
    /// The recording; `None`: the first one.
    pub recording: Option<String>,
    /// Unix milliseconds; `None`: the recording's earliest time.
    pub start_ms: Option<i64>,
    /// Unix milliseconds; `None`: open (until the recording ends).
    pub end_ms: Option<i64>,
    /// `Scale`; 1.0 is real time.
    pub speed: f64,
}

/// How long a replayed stream may be silent after another one ended before it is ended too.
const REPLAY_IDLE: Duration = Duration::from_millis(1500);

/// The `Require` feature tag of ONVIF replay.
const REPLAY_REQUIRE: (&str, &str) = ("Require", "onvif-replay");

static NTP_CAPS: std::sync::LazyLock<gst::Caps> =
    std::sync::LazyLock::new(|| gst::Caps::new_empty_simple("timestamp/x-ntp"));

/// The recorded time of a replayed buffer, in Unix nanoseconds: its `timestamp/x-ntp`
/// reference timestamp meta (`mode=playback`).
pub fn recorded_time(buffer: &gst::BufferRef) -> Option<i64> {
    let meta = buffer
        .iter_meta::<gst::ReferenceTimestampMeta>()
        .find(|m| m.reference().can_intersect(&NTP_CAPS))?;
    let unix_ns = meta
        .timestamp()
        .nseconds()
        .checked_sub(rtp::NTP_UNIX_OFFSET_NS)?;
    i64::try_from(unix_ns).ok()
}

/// Where a replay stops: NTP nanoseconds of `end_ms`.
fn ntp_ns_of_unix_ms(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0) * 1_000_000 + rtp::NTP_UNIX_OFFSET_NS
}

/// Width and height from a JPEG's first start-of-frame marker.
pub fn jpeg_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let marker = data[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let sof = data.get(i + 4..i + 9)?;
            let h = u32::from(u16::from_be_bytes([sof[1], sof[2]]));
            let w = u32::from(u16::from_be_bytes([sof[3], sof[4]]));
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// The `http-snapshot` method: start-up, GetSnapshotUri, then one HTTPS GET per interval.
pub async fn run_snapshot<O: Output>(
    s: SnapshotSettings,
    out: Arc<O>,
    stop: oneshot::Receiver<()>,
) {
    tokio::select! {
        r = snapshot_loop(&s, &*out) => if let Err(e) = r {
            out.error(&e);
        },
        _ = stop => {}
    }
}

async fn snapshot_loop<O: Output>(s: &SnapshotSettings, out: &O) -> Result<(), Error> {
    let started = device::start(&s.start, &|w: &str| out.warning(w)).await?;
    for n in &started.notes {
        out.debug(format_args!("{n}"));
    }
    let mut client = started.client;
    let media = started.media;
    out.debug(format_args!(
        "profile {} ({}) on {} ({})",
        media.profile.token,
        media.profile.name,
        client.peer(),
        if media.media2 { "Media2" } else { "Media1" }
    ));
    let target = device::snapshot_target(&mut client, &media).await?;
    out.debug(format_args!("snapshot path {target}"));

    let mut ticker = tokio::time::interval(s.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream = None;
    loop {
        ticker.tick().await;
        let image = client
            .get("snapshot GET", &target, MAX_SNAPSHOT_BODY)
            .await?;
        let Some((w, h)) = jpeg_dimensions(&image) else {
            return Err(Error::Malformed {
                at: crate::error::At::here(),
                peer: client.peer(),
                operation: "snapshot GET".into(),
                detail: format!("the answer ({} bytes) is not a JPEG image", image.len()),
                position: None,
            });
        };
        let index = match stream {
            Some(i) => i,
            None => {
                let ms = s.interval.as_millis().clamp(1, i32::MAX as u128) as i32;
                let caps = gst::Caps::builder("image/jpeg")
                    .field("framerate", gst::Fraction::new(1000, ms))
                    .field("parsed", false)
                    .field("width", i32::try_from(w).unwrap_or(i32::MAX))
                    .field("height", i32::try_from(h).unwrap_or(i32::MAX))
                    .build();
                let Some(i) = out.add_stream("video_0", caps, true) else {
                    return Ok(());
                };
                out.streams_complete();
                out.debug(format_args!(
                    "start-up done: {} connection(s), {} SOAP round trip(s)",
                    client.http.connects, client.round_trips
                ));
                stream = Some(i);
                i
            }
        };
        if !out.push(index, gst::Buffer::from_mut_slice(image)) {
            return Ok(());
        }
    }
}

/// The caps of an SDP stream.
pub fn rtp_caps(s: &sdp::Stream) -> gst::Caps {
    let mut b = gst::Structure::builder("application/x-rtp");
    for (k, v) in s.caps_fields() {
        b = match v {
            sdp::Value::Int(i) => b.field(k.as_str(), i),
            sdp::Value::Str(v) => b.field(k.as_str(), crate::error::printable(&v).as_ref()),
        };
    }
    gst::Caps::builder_full().structure(b.build()).build()
}

/// How the RTSP session and its media travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// RTSP tunnelled over HTTP(S), RTP interleaved (`rtp-rtsp-http-tcp`).
    Tunnel,
    /// RTSP over TCP to the RTSP port, RTP interleaved (`rtp-rtsp-tcp`).
    Tcp,
    /// RTSP over TCP, RTP and RTCP over UDP (`rtp-udp`).
    Udp,
}

/// How often receiver reports go back to the camera (RFC 3550 §6.2 allows 5 s minimum).
const RR_INTERVAL: Duration = Duration::from_secs(5);
/// How long media must have flowed before the reconnection waits start over.
const HEALTHY_PLAY: Duration = Duration::from_secs(10);

/// How often a live session checks that media still arrives.
const MEDIA_CHECK: Duration = Duration::from_millis(500);

/// Largest UDP datagram read.
const MAX_DATAGRAM: usize = 65536;

/// One stream being played: where its packets come from and go to, its clock, its
/// reception statistics and its wallclock mapping.
struct StreamState {
    index: usize,
    rtp_channel: u8,
    rtcp_channel: u8,
    clock_rate: u32,
    timeline: Timeline,
    stats: rtp::ReceiverStats,
    wallclock: Option<i128>,
    /// Replay: the stream got its last packet (T bit, or past the end of the range).
    ended: bool,
    /// When its last packet arrived.
    last_packet: Option<std::time::Instant>,
    /// Packets dropped because their timestamps left the PTS range.
    bad_timestamps: u64,
    /// Packets dropped because they are not well-formed RTP.
    malformed: u64,
    /// When a sender report last said this stream's sender sent more packets (liveness
    /// of sparse streams): other RTCP (receiver reports, a sender report whose count
    /// stands still) is no sign of media.
    last_rtcp: Option<std::time::Instant>,
    /// The packet count of this stream's last sender report.
    sr_packets: Option<u32>,
    /// Packets of the current read, pushed together at its end.
    pending: Option<gst::BufferList>,
    /// The next buffer follows a gap (a reconnection): it gets DISCONT.
    discont: bool,
    /// Replay: the recorded time of the last buffer, Unix ms.
    recorded_ms: Option<i64>,
    /// The URL it was SET UP at (`RTP-Info` names the stream by it).
    setup_url: String,
    /// Replay, between a seek's PAUSE answer and its PLAY answer: the packets wait here.
    /// Some may be of the old position, sent after the PAUSE answer (gst-rtsp-server's
    /// send queue does this); the PLAY answer's `RTP-Info` tells which.
    held: Option<Held>,
    /// After a seek: the `RTP-Info` seq of the new position's first packet, until it
    /// comes; the packets just before it are of the old position and are dropped.
    first_seq: Option<u16>,
    /// Packets of the old position dropped after the last seek.
    stale: u64,
}

/// The most a stream holds between a seek's PAUSE and PLAY answers (the PLAY answer comes
/// within one round trip; a device that streams for longer loses the excess).
const HELD_BYTES: usize = 4 << 20;

/// Packets held while a seek's PLAY is answered.
#[derive(Default)]
struct Held {
    packets: Vec<Vec<u8>>,
    bytes: usize,
    dropped: u64,
}

impl Held {
    fn keep(&mut self, packet: &[u8]) {
        match self.bytes.checked_add(packet.len()) {
            Some(b) if b <= HELD_BYTES => {
                self.bytes = b;
                self.packets.push(packet.to_vec());
            }
            _ => self.dropped = self.dropped.saturating_add(1),
        }
    }
}

/// Every stream of the session, shared by the RTSP reader and the UDP receivers.
struct Streams {
    list: Vec<StreamState>,
    our_ssrc: u32,
    flowing: bool,
    /// Replay: read the 0xABAC extension, stop at the end, seek.
    replay: Option<Replay>,
    /// The running time for the packets of the current read (one clock query per read).
    now: Option<u64>,
    /// The presentation's URLs (to match `RTP-Info` to the streams).
    presentation: rtsp::url::Presentation,
}

/// A replay in progress.
struct Replay {
    settings: PlaybackSettings,
    /// Where stream time 0 is: the start of the first PLAY (Unix ms), when known.
    start_ms: Option<i64>,
    /// `playback-end` as NTP nanoseconds (since 1900).
    end_ntp: Option<u64>,
    /// Added to every PTS: the position of the last seek, so that PTS sit in the segment
    /// the element's source pads start after a seek.
    pts_offset: u64,
    /// The last seek handled: `(position, when)`; each pad asks for the same one.
    last_seek: Option<(u64, std::time::Instant)>,
    /// Raised by the element between a pad's flush and the PAUSE of the seek.
    seek_pending: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl Replay {
    /// A pad has flushed for a seek the session has not paused for yet: packets now are
    /// of the old position.
    fn seeking(&self) -> bool {
        self.seek_pending
            .as_ref()
            .is_some_and(|p| p.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// What comes from now on is of the new position (or there is no new one).
    fn seek_done(&self) {
        if let Some(p) = &self.seek_pending {
            p.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The PLAY headers for a replay from `start_ms`.
    fn play_headers(&self, start_ms: Option<i64>) -> Vec<(&'static str, String)> {
        let mut h = vec![
            (REPLAY_REQUIRE.0, REPLAY_REQUIRE.1.to_string()),
            ("Rate-Control", "yes".into()),
        ];
        if let Some(start) = start_ms {
            h.push(("Range", recording::clock_range(start, self.settings.end_ms)));
        }
        if self.settings.speed != 1.0 {
            h.push(("Scale", format!("{:.3}", self.settings.speed)));
        }
        h
    }
}

/// One RTP packet: its bytes, and the memory they are part of when there is one, so that
/// its buffer shares them instead of copying.
#[derive(Clone, Copy)]
struct Packet<'a> {
    bytes: &'a [u8],
    /// The memory `bytes` are in, at this offset.
    within: Option<(&'a gst::Memory, usize)>,
}

impl<'a> Packet<'a> {
    /// Bytes of nobody's memory: the buffer gets a copy.
    fn copied(bytes: &'a [u8]) -> Self {
        Packet {
            bytes,
            within: None,
        }
    }

    /// A buffer of the packet: a part of the read's memory, or a copy.
    fn to_buffer(self) -> gst::Buffer {
        match self.within {
            Some((memory, at))
                if at
                    .checked_add(self.bytes.len())
                    .is_some_and(|end| end <= memory.size()) =>
            {
                gst::Buffer::from(memory.share(at..at + self.bytes.len()))
            }
            _ => gst::Buffer::from_mut_slice(self.bytes.to_vec()),
        }
    }
}

/// Counts a dropped packet in `counter`; the first of them is said in a warning.
fn count_once<O: Output>(counter: &mut u64, out: &O, warning: impl FnOnce() -> String) {
    *counter = counter.saturating_add(1);
    if *counter == 1 {
        out.warning(&warning());
    }
}

impl Streams {
    /// Timestamps one RTP packet of stream `i` and queues it for [`Streams::flush`].
    fn rtp<O: Output>(&mut self, i: usize, p: Packet<'_>, out: &O) {
        let packet = p.bytes;
        let Some((h, replay_ext)) = rtp::parse(packet) else {
            count_once(&mut self.list[i].malformed, out, || {
                format!(
                    "stream {i}: dropping packets that are not well-formed RTP \
                     ({} bytes; the CSRC list, extension or padding does not fit)",
                    packet.len()
                )
            });
            return;
        };
        {
            let st = &mut self.list[i];
            if let Some(held) = st.held.as_mut() {
                held.keep(packet);
                return;
            }
            if let Some(first) = st.first_seq {
                match rtp::after_seek(h.sequence, first) {
                    rtp::AfterSeek::Stale => {
                        st.stale = st.stale.saturating_add(1);
                        return;
                    }
                    rtp::AfterSeek::Reached => out.debug(format_args!(
                        "stream {i}: the seek's first packet (seq {}) came; {} packet(s) \
                         of the old position dropped before it",
                        h.sequence, st.stale
                    )),
                    rtp::AfterSeek::Unrelated => out.debug(format_args!(
                        "stream {i}: RTP-Info seq {first} is far from the stream's seq {}: \
                         ignored",
                        h.sequence
                    )),
                }
                st.first_seq = None;
            }
        }
        let now = *self
            .now
            .get_or_insert_with(|| out.running_time().unwrap_or(0));
        let st = &mut self.list[i];
        st.stats.packet(&h, st.clock_rate, now);
        if st.ended {
            return;
        }
        st.last_packet = Some(std::time::Instant::now());
        let offset = self.replay.as_ref().map_or(0, |r| r.pts_offset);
        let Some(pts) = st
            .timeline
            .pts(h.timestamp, now)
            .and_then(|p| p.checked_add(offset))
            .filter(|p| *p != u64::MAX)
        else {
            // Timestamps walked out of range: dropped and counted.
            let clock_rate = st.clock_rate;
            count_once(&mut st.bad_timestamps, out, || {
                format!(
                    "stream {i}: dropping RTP packets whose timestamps leave the PTS range \
                     (timestamp {}, clock rate {clock_rate})",
                    h.timestamp
                )
            });
            return;
        };
        let mut buffer = p.to_buffer();
        let mut last = false;
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(pts));
            if std::mem::take(&mut st.discont) {
                b.set_flags(gst::BufferFlags::DISCONT);
            }
            if let Some(replay) = &self.replay
                && let Some(ext) = replay_ext
            {
                let ntp = rtp::ntp_to_ns(ext.ntp);
                if replay.end_ntp.is_some_and(|e| ntp >= e) {
                    self.end_stream(i, out);
                    return;
                }
                gst::ReferenceTimestampMeta::add(
                    b,
                    &NTP_CAPS,
                    gst::ClockTime::from_nseconds(ntp),
                    gst::ClockTime::NONE,
                );
                if ext.discontinuity {
                    b.set_flags(gst::BufferFlags::DISCONT);
                }
                st.recorded_ms =
                    rtp::ntp_to_unix_ns(ext.ntp).and_then(|ns| i64::try_from(ns / 1_000_000).ok());
                last = ext.terminal;
            }
        }
        crate::log::trace!(
            "stream {i}: RTP seq {} ts {} -> PTS {pts}",
            h.sequence,
            h.timestamp
        );
        if let Some(list) = st
            .pending
            .get_or_insert_with(gst::BufferList::new)
            .get_mut()
        {
            list.add(buffer);
        }
        if last {
            self.end_stream(i, out);
        }
    }

    /// One interleaved packet: RTP to its stream's pad, RTCP to the statistics.
    fn interleaved<O: Output>(&mut self, channel: u8, packet: Packet<'_>, out: &O) {
        if let Some(i) = self.list.iter().position(|s| s.rtp_channel == channel) {
            if !self.replay.as_ref().is_some_and(Replay::seeking) {
                self.rtp(i, packet, out);
            }
        } else if let Some(i) = self.list.iter().position(|s| s.rtcp_channel == channel) {
            let now = out.running_time().unwrap_or(0);
            self.rtcp(i, packet.bytes, now);
        }
    }

    /// A seek's PAUSE was answered: every stream holds its packets until the PLAY answer.
    fn hold(&mut self) {
        for s in self.list.iter_mut() {
            s.held = Some(Held::default());
            s.first_seq = None;
            s.stale = 0;
        }
    }

    /// The seek's PLAY was answered with `rtp_info` (empty when it failed): each stream
    /// starts at the packet its `RTP-Info` seq names, and the held packets go on through
    /// [`Streams::rtp`], those of the old position dropped.
    fn release<O: Output>(&mut self, rtp_info: &str, out: &O) {
        let infos = rtsp::url::parse_rtp_info(rtp_info);
        let n = self.list.len();
        for i in 0..n {
            let first = infos
                .iter()
                .find(|info| {
                    self.presentation
                        .rtp_info_matches(&info.url, &self.list[i].setup_url, n)
                })
                .and_then(|info| info.seq);
            let held = self.list[i].held.take().unwrap_or_default();
            self.list[i].first_seq = first;
            if held.dropped > 0 {
                out.debug(format_args!(
                    "stream {i}: {} packet(s) over {HELD_BYTES} bytes came before the seek's \
                     PLAY answer and were dropped",
                    held.dropped
                ));
            }
            for p in &held.packets {
                self.rtp(i, Packet::copied(p), out);
            }
        }
        self.flush(out);
    }

    /// After a reconnection: the first buffer of every stream follows a gap.
    fn mark_discont(&mut self) {
        for s in self.list.iter_mut() {
            s.discont = true;
        }
    }

    /// Replay: the recorded time reached, Unix ms (the earliest of the streams', so that
    /// nothing is skipped when resuming).
    fn last_recorded_ms(&self) -> Option<i64> {
        self.list.iter().filter_map(|s| s.recorded_ms).min()
    }

    /// Pushes the queued packets of stream `i`.
    fn flush_stream<O: Output>(&mut self, i: usize, out: &O) {
        let st = &mut self.list[i];
        let Some(list) = st.pending.take() else {
            return;
        };
        if !out.push_list(st.index, list) {
            crate::log::debug!("stream {i}: push refused, stopping");
            self.flowing = false;
        }
    }

    /// Pushes the queued packets of every stream: the end of a read. While a seek is
    /// pending they belong to the old position and are dropped.
    fn flush<O: Output>(&mut self, out: &O) {
        let seeking = self.replay.as_ref().is_some_and(Replay::seeking);
        for i in 0..self.list.len() {
            if seeking {
                self.list[i].pending = None;
            } else {
                self.flush_stream(i, out);
            }
        }
        self.now = None;
    }

    /// Stream `i` got its last packet: what is queued goes first, then EOS.
    fn end_stream<O: Output>(&mut self, i: usize, out: &O) {
        self.flush_stream(i, out);
        let st = &mut self.list[i];
        st.ended = true;
        out.end_of_stream(st.index);
    }

    /// Replay: every stream has had its last packet.
    fn all_ended(&self) -> bool {
        self.replay.is_some() && self.list.iter().all(|s| s.ended)
    }

    /// Replay: once one stream has ended, a stream that has sent nothing for
    /// `REPLAY_IDLE` has ended too. Devices need not mark the last packet (T) and stay in
    /// PLAY at the end of the range (ONVIF Streaming §6.5), and a track may end earlier
    /// than the others.
    fn end_idle<O: Output>(&mut self, out: &O) {
        if self.replay.is_none() || !self.list.iter().any(|s| s.ended) {
            return;
        }
        for st in self.list.iter_mut().filter(|s| !s.ended) {
            if st.last_packet.is_none_or(|t| t.elapsed() >= REPLAY_IDLE) {
                crate::log::debug!(
                    "stream {}: nothing for {} ms after another stream ended: end",
                    st.index,
                    REPLAY_IDLE.as_millis()
                );
                st.ended = true;
                out.end_of_stream(st.index);
            }
        }
    }

    /// Takes the sender reports of an RTCP packet of stream `i` and re-aligns streams.
    fn rtcp(&mut self, i: usize, packet: &[u8], now: u64) {
        for sr in rtp::sender_reports(packet) {
            let Some(st) = self.list.get_mut(i) else {
                return;
            };
            if st.sr_packets.is_some_and(|p| p != sr.packets) {
                st.last_rtcp = Some(std::time::Instant::now());
            }
            st.sr_packets = Some(sr.packets);
            st.stats.sender_report(&sr, now);
            if let Some(w) = st.timeline.wallclock_offset(&sr) {
                st.wallclock = Some(w);
            }
        }
        let offsets: Vec<Option<i128>> = self.list.iter().map(|s| s.wallclock).collect();
        let before: Vec<u64> = self.list.iter().map(|s| s.timeline.offset()).collect();
        let mut timelines: Vec<&mut Timeline> =
            self.list.iter_mut().map(|s| &mut s.timeline).collect();
        rtp::align(&mut timelines, &offsets);
        for (st, b) in self.list.iter().zip(before) {
            if st.timeline.offset() != b {
                crate::log::debug!(
                    "stream {}: delayed by {} ms to match the others' RTCP wallclock",
                    st.index,
                    st.timeline.offset() as f64 / 1e6
                );
            }
        }
    }

    /// A receiver report per stream that has received something.
    fn reports(&mut self, now: u64) -> Vec<(usize, Vec<u8>)> {
        let ssrc = self.our_ssrc;
        self.list
            .iter_mut()
            .enumerate()
            .filter_map(|(i, st)| {
                Some((i, rtp::receiver_report(ssrc, &st.stats.report_block(now)?)))
            })
            .collect()
    }
}

type SharedStreams = Arc<std::sync::Mutex<Streams>>;

/// Interleaved packets to their streams: RTP to the pads (one buffer list per stream and
/// read), RTCP to the statistics.
struct Deliver<'a, O: Output> {
    streams: &'a SharedStreams,
    out: &'a O,
}

impl<O: Output> crate::client::live::Packets for Deliver<'_, O> {
    /// A read's packets under one lock, each buffer a part of one memory holding the
    /// read's bytes: no copy after TLS. A stream whose buffers of the read (those kept,
    /// after every check) are less than half of it gets copies instead, so that a queue
    /// holding its buffers keeps alive at most twice the bytes it counts: a 12-byte packet
    /// no longer pins the 64 KiB frame that came with it, on another channel or on its own
    /// channel but refused as RTP.
    fn read(&mut self, bytes: Vec<u8>, packets: &[crate::client::live::Located]) {
        let mut st = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !st.flowing {
            return;
        }
        let read = bytes.len();
        let memory = gst::Memory::from_mut_slice(bytes);
        match memory.map_readable() {
            Ok(map) => {
                for p in packets {
                    if let Some(bytes) = map.get(p.range.clone()) {
                        let packet = Packet {
                            bytes,
                            within: Some((&memory, p.range.start)),
                        };
                        st.interleaved(p.channel, packet, self.out);
                    }
                }
            }
            Err(e) => crate::log::warning!("a read's packets lost: {e}"),
        }
        if st.flowing {
            for s in st.list.iter_mut() {
                if let Some(list) = s.pending.as_mut() {
                    unshare_if_small(list, read);
                }
            }
            st.flush(self.out);
        } else {
            for s in st.list.iter_mut() {
                s.pending = None;
            }
        }
    }
}

/// The buffers of one read of `read` bytes, when they hold less than half of it: each a
/// copy of its own bytes (and metas), no longer a part of the read's memory.
fn unshare_if_small(list: &mut gst::BufferList, read: usize) {
    if list.calculate_size().saturating_mul(2) >= read {
        return;
    }
    if let Some(list) = list.get_mut() {
        list.foreach_mut(|buffer, _| {
            let copy = buffer.copy_deep().unwrap_or(buffer);
            std::ops::ControlFlow::Continue(Some(copy))
        });
    }
}

/// The UDP sockets of one stream (`rtp-udp`).
struct UdpLeg {
    rtp: Arc<tokio::net::UdpSocket>,
    rtcp: Arc<tokio::net::UdpSocket>,
    /// Where receiver reports go: the server's RTCP port.
    server_rtcp: Option<std::net::SocketAddr>,
    accept: UdpSources,
}

/// Where RTP and RTCP may come from: the device (its RTSP address or the `source=` of its
/// SETUP reply) and, when the reply names them, its server ports. Anything else is
/// dropped and counted: unconnected UDP ports take datagrams from anyone.
#[derive(Debug, Clone)]
struct UdpSources {
    ips: Vec<std::net::IpAddr>,
    ports: Option<(u16, u16)>,
}

impl UdpSources {
    /// Either server port on either socket: some devices send RTCP from their RTP port.
    fn accepts(&self, from: std::net::SocketAddr) -> bool {
        let port_ok = self
            .ports
            .is_none_or(|(rtp, rtcp)| from.port() == rtp || from.port() == rtcp);
        port_ok && self.ips.contains(&from.ip().to_canonical())
    }
}

fn transport_param(transport: &str, name: &str) -> Option<String> {
    transport
        .split(';')
        .find_map(|p| p.trim().strip_prefix(name)?.strip_prefix('='))
        .map(|v| v.trim().to_string())
}

/// Binds an even/odd pair of UDP ports (RFC 3550 §11: RTP even, RTCP the next one).
async fn udp_pair(
    v6: bool,
) -> Result<(tokio::net::UdpSocket, tokio::net::UdpSocket), std::io::Error> {
    let any: std::net::IpAddr = if v6 {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    };
    for _ in 0..64 {
        let rtp = tokio::net::UdpSocket::bind((any, 0)).await?;
        let port = rtp.local_addr()?.port();
        if !port.is_multiple_of(2) || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = tokio::net::UdpSocket::bind((any, port + 1)).await {
            return Ok((rtp, rtcp));
        }
    }
    Err(std::io::Error::other("no free even/odd UDP port pair"))
}

/// `server_port=a-b` of a Transport header.
fn server_ports(transport: &str) -> Option<(u16, u16)> {
    let p = transport
        .split(';')
        .find_map(|p| p.trim().strip_prefix("server_port="))?;
    let (a, b) = p.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// A live RTSP session: start-up, GetStreamUri for the transport, RTSP, then packets to
/// the pads until stopped.
/// Seek positions (stream time, ns) from the element's source pads (`mode=playback`).
pub type SeekReceiver = tokio::sync::mpsc::UnboundedReceiver<u64>;

/// Seeks from the element: the positions, and a flag the element raises when a pad has
/// flushed for a seek. While it is up, packets are of the old position and are dropped.
pub struct Seeks {
    pub positions: SeekReceiver,
    pub pending: Arc<std::sync::atomic::AtomicBool>,
}

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
    let mut attempt = 0u32;
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
                    out.debug(format_args!("reconnected after {attempt} attempt(s)"));
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
                if last.is_some_and(|t| t.saturating_duration_since(playing_since) >= HEALTHY_PLAY)
                {
                    attempt = 0;
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
        let Some(max_delay) = s.reconnect.filter(|_| played && err.is_transient()) else {
            out.error(&err);
            return;
        };
        attempt += 1;
        let delay = reconnect_delay(attempt, max_delay);
        out.reconnecting(Lost::Media, &err, attempt, delay);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = &mut stop => return,
        }
    }
}

/// The wait before reconnection attempt `attempt` (1, 2, ...): 250 ms, doubling, at most
/// `max`.
pub fn reconnect_delay(attempt: u32, max: Duration) -> Duration {
    let ms = 250u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    Duration::from_millis(ms).min(max)
}

/// Where the media of a session is, as the ONVIF start found it: what a reconnection
/// reuses when only the network failed (spec §9: redo only what must be redone).
#[derive(Clone)]
struct MediaPlace {
    /// The device service's origin.
    origin: crate::proto::onvif::addr::Origin,
    /// How the RTSP connection is made.
    open: OpenRtsp,
    /// The RTSP request URI.
    uri: String,
    /// What the streams come from, for messages.
    source: String,
    /// Replay: where it starts when `playback-start` is not set (the recording's start).
    replay_start_ms: Option<i64>,
    /// Connections and SOAP round trips the ONVIF start took, for the log.
    cost: (u32, u32),
}

#[derive(Clone)]
enum OpenRtsp {
    /// RTSP tunnelled over HTTP(S) to the device's origin, at `target`.
    Tunnel {
        tls: Option<Arc<crate::transport::tls::TlsConfig>>,
        target: String,
    },
    /// Plain RTSP over TCP to this origin (the device's RTSP port).
    Tcp(crate::proto::onvif::addr::Origin),
}

/// The ONVIF start: clock, services, profiles, and the stream (or replay) URI.
async fn find_media<O: Output>(s: &LiveSettings, out: &O) -> Result<MediaPlace, Error> {
    let mut started = device::start(&s.start, &|w: &str| out.warning(w)).await?;
    for n in &started.notes {
        out.debug(format_args!("{n}"));
    }
    let mut client = started.client;
    let media = started.media;
    let origin = client.http.origin.clone();
    let mut replay_start_ms = None;
    // What the streams come from, for messages.
    let mut source = format!("profile {}", media.profile.token);
    let (open, uri) = match s.transport {
        Transport::Tunnel => {
            let (operation, device_uri, what) = match &s.playback {
                Some(p) => {
                    let t = edge::find_replay(
                        &mut client,
                        &mut started.services,
                        p.recording.as_deref(),
                    )
                    .await?;
                    replay_start_ms = t.recording.earliest.map(|e| e * 1000);
                    source = format!("recording {}", t.recording.token);
                    ("GetReplayUri", t.uri, source.clone())
                }
                None => {
                    let uri =
                        device::stream_uri(&mut client, &media, StreamTransport::Http).await?;
                    let what = format!("profile {} ({})", media.profile.token, media.profile.name);
                    ("GetStreamUri", uri, what)
                }
            };
            let target =
                crate::proto::onvif::addr::path_and_query(&device_uri).ok_or_else(|| {
                    Error::Malformed {
                        at: crate::error::At::here(),
                        peer: origin.peer(),
                        operation: operation.into(),
                        detail: format!("stream URI {device_uri:?} has no path"),
                        position: None,
                    }
                })?;
            out.debug(format_args!(
                "{what}: stream {target} through the {} tunnel",
                if client.http.is_tls() {
                    "HTTPS"
                } else {
                    "HTTP"
                }
            ));
            // The request URI: the camera's path and query on the origin, as rtsp://.
            let uri = format!("rtsp://{}{target}", origin.host_header());
            let tls = client.http.tls().cloned();
            (OpenRtsp::Tunnel { tls, target }, uri)
        }
        Transport::Tcp | Transport::Udp => {
            let t = if s.transport == Transport::Tcp {
                StreamTransport::Rtsp
            } else {
                StreamTransport::Udp
            };
            let device_uri = device::stream_uri(&mut client, &media, t).await?;
            // The device's RTSP port, on the host the user gave (device hosts can be wrong).
            let port = url::Url::parse(&device_uri)
                .ok()
                .and_then(|u| u.port())
                .unwrap_or(554);
            let target = crate::proto::onvif::addr::path_and_query(&device_uri)
                .unwrap_or_else(|| "/".into());
            let rtsp_origin = crate::proto::onvif::addr::Origin {
                scheme: "rtsp",
                host: origin.host.clone(),
                port,
            };
            out.debug(format_args!(
                "profile {} ({}): stream rtsp://{}{target} over plain TCP",
                media.profile.token,
                media.profile.name,
                rtsp_origin.host_header()
            ));
            let uri = format!("rtsp://{}{target}", rtsp_origin.host_header());
            (OpenRtsp::Tcp(rtsp_origin), uri)
        }
    };
    Ok(MediaPlace {
        origin,
        open,
        uri,
        source,
        replay_start_ms,
        cost: (client.http.connects, client.round_trips),
    })
}

/// The RTSP session at `place`: connection, OPTIONS, DESCRIBE, SETUP of the wanted
/// streams, PLAY.
async fn open_session<O: Output>(
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
            format!("RTP/AVP;unicast;client_port={}-{}", port, port + 1)
        } else {
            format!("RTP/AVP/TCP;unicast;interleaved={}-{}", ch, ch + 1)
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
        let channels = rtsp::parse_interleaved(reply).unwrap_or((ch, ch + 1));
        let leg = match udp {
            Some((a, b)) => {
                let ports = server_ports(reply);
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
                if let Some(ip) = transport_param(reply, "source")
                    .and_then(|v| v.parse::<std::net::IpAddr>().ok())
                {
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

/// The next seek position, or never when there is no seek channel (or it closed).
async fn next_seek(seeks: &mut Option<SeekReceiver>) -> Option<u64> {
    match seeks {
        Some(rx) => match rx.recv().await {
            Some(p) => Some(p),
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// A seek in a replay (spec §7): PAUSE, then PLAY from the recorded time the position
/// points at (stream time 0 is the start of the replay). The packets before the PAUSE
/// answer belong to the old position and are dropped; the source pads have flushed.
async fn seek<O: Output>(
    rtsp: &mut Rtsp,
    uri: &str,
    streams: &SharedStreams,
    out: &O,
    position: u64,
    on_data: &mut dyn crate::client::live::Packets,
) -> Result<(), Error> {
    let headers = {
        let mut st = streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(replay) = st.replay.as_mut() else {
            return Ok(());
        };
        // Every source pad asks for the same seek.
        if replay
            .last_seek
            .is_some_and(|(p, at)| p == position && at.elapsed() < Duration::from_secs(2))
        {
            replay.seek_done();
            return Ok(());
        }
        replay.last_seek = Some((position, std::time::Instant::now()));
        let Some(start) = replay.start_ms else {
            replay.seek_done();
            out.warning(
                "cannot seek: the device did not say when the recording starts; set playback-start",
            );
            return Ok(());
        };
        let target = start + i64::try_from(position / 1_000_000).unwrap_or(0);
        replay.pts_offset = position;
        let headers = replay.play_headers(Some(target));
        for s in st.list.iter_mut() {
            s.timeline = Timeline::new(s.clock_rate);
            s.ended = false;
            s.last_packet = None;
        }
        headers
    };
    out.debug(format_args!(
        "seek to {} ms: PAUSE, PLAY {headers:?}",
        position / 1_000_000
    ));
    let mut drop_old = |_: u8, _: &[u8]| {};
    let resp = rtsp.request("PAUSE", uri, &[], &mut drop_old).await?;
    rtsp.check("PAUSE", &resp)?;
    {
        let mut st = streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        st.hold();
        if let Some(r) = &st.replay {
            r.seek_done();
        }
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let result = rtsp.request("PLAY", uri, &headers, on_data).await;
    let rtp_info = match &result {
        Ok(resp) if resp.status / 100 == 2 => resp.header("rtp-info").unwrap_or(""),
        _ => "",
    };
    out.debug(format_args!("seek's PLAY answered, RTP-Info {rtp_info:?}"));
    streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .release(rtp_info, out);
    let resp = result?;
    rtsp.check("PLAY", &resp)
}

/// Aborts the UDP receivers when the session ends, whichever way.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

async fn udp_receiver<O: Output>(
    i: usize,
    leg: (Arc<tokio::net::UdpSocket>, Arc<tokio::net::UdpSocket>),
    accept: UdpSources,
    streams: SharedStreams,
    out: Arc<O>,
) {
    let (rtp_sock, rtcp_sock) = leg;
    let mut rtp_buf = vec![0u8; MAX_DATAGRAM];
    let mut rtcp_buf = vec![0u8; MAX_DATAGRAM];
    let mut foreign = 0u64;
    let mut drop_foreign = |from: std::net::SocketAddr| {
        foreign = foreign.saturating_add(1);
        if foreign == 1 || foreign.is_power_of_two() {
            out.warning(&format!(
                "stream {i}: dropped {foreign} UDP datagram(s) that did not come from the \
                 device (the last from {from})"
            ));
        }
    };
    loop {
        tokio::select! {
            r = rtp_sock.recv_from(&mut rtp_buf) => {
                let n = match r {
                    Ok((n, from)) if accept.accepts(from) => n,
                    Ok((_, from)) => {
                        drop_foreign(from);
                        continue;
                    }
                    Err(e) => {
                        crate::log::debug!("stream {i}: RTP socket: {e}");
                        return;
                    }
                };
                crate::log::trace!("stream {i}: {n} bytes of RTP over UDP");
                let mut st = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                st.rtp(i, Packet::copied(&rtp_buf[..n]), &*out);
                st.flush(&*out);
                if !st.flowing {
                    return;
                }
            }
            r = rtcp_sock.recv_from(&mut rtcp_buf) => {
                let n = match r {
                    Ok((n, from)) if accept.accepts(from) => n,
                    Ok((_, from)) => {
                        drop_foreign(from);
                        continue;
                    }
                    Err(e) => {
                        crate::log::debug!("stream {i}: RTCP socket: {e}");
                        return;
                    }
                };
                let now = out.running_time().unwrap_or(0);
                streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).rtcp(i, &rtcp_buf[..n], now);
            }
        }
    }
}

/// `write` within `limit`, else an I/O error (a reconnect cause) naming what was written.
async fn bounded<T>(
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

/// Why a live session saw no media for `waited`: over UDP with nothing ever received,
/// the ports and what usually drops them; else the silence.
#[track_caller]
fn no_media(peer: &str, udp_ports: &[u16], ever: bool, waited: Duration) -> Error {
    let secs = waited.as_secs();
    if !udp_ports.is_empty() && !ever {
        let ports: Vec<String> = udp_ports
            .iter()
            .map(|p| format!("{p}-{}", p.saturating_add(1)))
            .collect();
        return Error::Io {
            at: crate::error::At::here(),
            peer: peer.to_string(),
            operation: "RTP over UDP".into(),
            detail: format!(
                "no RTP arrived on UDP ports {} within {secs} s of PLAY: something between \
                 the device and here (a firewall, NAT) drops UDP; use \
                 streaming-method=rtp-rtsp-http-tcp or rtp-rtsp-tcp",
                ports.join(", ")
            ),
            source: None,
        };
    }
    Error::Io {
        at: crate::error::At::here(),
        peer: peer.to_string(),
        operation: "RTP".into(),
        detail: format!("no media for {secs} s while playing"),
        source: None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn play_loop<O: Output>(
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
async fn keep_alive(
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
    fn test_a_write_nobody_reads_is_bounded() {
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

    /// A packet of a read is a part of the read's memory: its buffer points into it.
    #[test]
    fn test_a_packet_of_a_read_is_not_copied() {
        gst::init().expect("gst init");
        let memory = gst::Memory::from_mut_slice(b"$\x00\x00\x03abc".to_vec());
        let map = memory.map_readable().expect("readable");
        let packet = Packet {
            bytes: &map[4..7],
            within: Some((&memory, 4)),
        };
        let buffer = packet.to_buffer();
        let bmap = buffer.map_readable().expect("readable");
        assert_eq!(bmap.as_slice(), b"abc");
        assert_eq!(
            bmap.as_ptr(),
            map[4..].as_ptr(),
            "the same bytes, not a copy"
        );
        // Out of the memory (a bad offset): a copy, never a panic.
        let bad = Packet {
            bytes: &map[4..7],
            within: Some((&memory, usize::MAX)),
        };
        assert_eq!(
            bad.to_buffer().map_readable().expect("readable").as_slice(),
            b"abc"
        );
    }

    /// Issue 23 point 2: buffers that keep less than half of their read get copies; a
    /// stream that uses most of its read keeps sharing it (no copy after TLS).
    #[test]
    fn test_buffers_holding_little_of_their_read_are_copied() {
        gst::init().expect("gst init");
        let read = 65_555;
        let memory = gst::Memory::from_mut_slice(vec![7u8; read]);
        let map = memory.map_readable().expect("readable");
        let list_of = |ranges: &[std::ops::Range<usize>]| {
            let mut list = gst::BufferList::new();
            for r in ranges {
                let mut b = Packet {
                    bytes: &map[r.clone()],
                    within: Some((&memory, r.start)),
                }
                .to_buffer();
                b.get_mut()
                    .expect("writable")
                    .set_pts(gst::ClockTime::from_seconds(3));
                list.get_mut().expect("writable").add(b);
            }
            list
        };
        let points_into_read = |list: &gst::BufferList| -> Vec<bool> {
            list.iter()
                .map(|b| {
                    let m = b.map_readable().expect("readable");
                    map.as_slice().as_ptr_range().contains(&m.as_ptr())
                })
                .collect()
        };
        // A 12-byte packet read with 65,535 bytes nobody keeps: copied, PTS kept.
        let twelve = 4..16;
        let mut small = list_of(std::slice::from_ref(&twelve));
        unshare_if_small(&mut small, read);
        assert_eq!(points_into_read(&small), [false]);
        let b = small.get(0).expect("one buffer");
        assert_eq!(
            (b.size(), b.pts()),
            (12, Some(gst::ClockTime::from_seconds(3)))
        );
        // A video read: 40 packets using most of it still point into it.
        let ranges: Vec<_> = (0..40).map(|i| 4 + i * 1600..4 + i * 1600 + 1596).collect();
        let mut video = list_of(&ranges);
        unshare_if_small(&mut video, read);
        assert_eq!(points_into_read(&video), vec![true; 40]);
    }

    #[test]
    fn test_jpeg_dimensions() {
        // SOI, APP0 (length 4), SOF0 with height 240 and width 320.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00,
            0xF0, 0x01, 0x40, 0x01, 0x01, 0x11, 0x00,
        ];
        assert_eq!(jpeg_dimensions(&jpeg), Some((320, 240)));
        assert_eq!(jpeg_dimensions(b"<html>"), None);
        assert_eq!(jpeg_dimensions(&jpeg[..10]), None);
        assert_eq!(jpeg_dimensions(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00]), None);
    }
}
