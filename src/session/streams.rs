// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The hot path: interleaved and UDP packets to buffer lists per stream (timestamps,
//! statistics, receiver reports, the seek's hold and release), with no I/O of its own.

use super::batch::{Batch, unshare_from};
use super::*;

pub(super) static NTP_CAPS: std::sync::LazyLock<gst::Caps> =
    std::sync::LazyLock::new(|| gst::Caps::new_empty_simple("timestamp/x-ntp"));

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

/// One stream being played: where its packets come from and go to, its clock, its
/// reception statistics and its wallclock mapping.
pub(super) struct StreamState {
    pub(super) index: usize,
    pub(super) rtp_channel: u8,
    pub(super) rtcp_channel: u8,
    /// SET UP as SRTP over UDP: nothing of it comes interleaved (a frame on its channel
    /// would be ciphertext).
    pub(super) srtp: bool,
    pub(super) clock_rate: u32,
    pub(super) timeline: Timeline,
    pub(super) stats: rtp::ReceiverStats,
    pub(super) wallclock: Option<i128>,
    /// Replay: the stream got its last packet (T bit, or past the end of the range).
    pub(super) ended: bool,
    /// When its last packet arrived.
    pub(super) last_packet: Option<std::time::Instant>,
    /// Packets dropped because their timestamps left the PTS range.
    pub(super) bad_timestamps: u64,
    /// Packets dropped because they are not well-formed RTP.
    pub(super) malformed: u64,
    /// When a sender report last said this stream's sender sent more packets (liveness
    /// of sparse streams): other RTCP (receiver reports, a sender report whose count
    /// stands still) is no sign of media.
    pub(super) last_rtcp: Option<std::time::Instant>,
    /// The packet count of this stream's last sender report.
    pub(super) sr_packets: Option<u32>,
    /// Packets waiting to be pushed together: a video frame, or the rest of a read.
    pub(super) pending: Option<gst::BufferList>,
    /// What `pending` holds, which decides when it goes.
    pub(super) batch: Batch,
    /// The next buffer follows a gap (a reconnection): it gets DISCONT.
    pub(super) discont: bool,
    /// Replay: the recorded time of the last buffer, Unix ms.
    pub(super) recorded_ms: Option<i64>,
    /// Replay, between a seek's PAUSE answer and its PLAY answer: the packets wait here.
    /// Some may be of the old position, sent after the PAUSE answer (gst-rtsp-server's
    /// send queue does this); the PLAY answer's `RTP-Info` tells which.
    pub(super) held: Option<Held>,
    /// After a seek: the `RTP-Info` seq of the new position's first packet, until it
    /// comes; the packets just before it are of the old position and are dropped.
    pub(super) first_seq: Option<u16>,
    /// Packets of the old position dropped after the last seek.
    pub(super) stale: u64,
}

impl StreamState {
    /// Forgets the packets waiting to be pushed.
    pub(super) fn drop_pending(&mut self) {
        self.pending = None;
        self.batch.clear();
    }

    /// A stream SET UP, as pad `index`.
    pub(super) fn new(index: usize, set_up: &rtsp::sequence::SetUp) -> Self {
        let clock_rate = set_up.stream.clock_rate;
        StreamState {
            index,
            rtp_channel: set_up.channels.0,
            rtcp_channel: set_up.channels.1,
            srtp: set_up.granted.secure,
            clock_rate,
            timeline: Timeline::new(clock_rate),
            stats: rtp::ReceiverStats::default(),
            wallclock: None,
            ended: false,
            last_packet: None,
            bad_timestamps: 0,
            malformed: 0,
            last_rtcp: None,
            sr_packets: None,
            pending: None,
            batch: Batch::new(set_up.stream.kind == sdp::Kind::Video),
            discont: false,
            recorded_ms: None,
            held: None,
            first_seq: None,
            stale: 0,
        }
    }
}

/// The most a stream holds between a seek's PAUSE and PLAY answers (the PLAY answer comes
/// within one round trip; a device that streams for longer loses the excess).
pub(super) const HELD_BYTES: usize = 4 << 20;

/// Packets held while a seek's PLAY is answered.
#[derive(Default)]
pub(super) struct Held {
    pub(super) packets: Vec<Vec<u8>>,
    pub(super) bytes: usize,
    pub(super) dropped: u64,
}

impl Held {
    pub(super) fn keep(&mut self, packet: &[u8]) {
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
pub(super) struct Streams {
    pub(super) list: Vec<StreamState>,
    pub(super) our_ssrc: u32,
    pub(super) flowing: bool,
    /// Replay: read the 0xABAC extension, stop at the end, seek.
    pub(super) replay: Option<Replay>,
    /// The running time for the packets of the current read (one clock query per read).
    pub(super) now: Option<u64>,
    /// The element's `stats`: the bytes read.
    pub(super) stats: crate::stats::Stats,
}

/// One RTP packet: its bytes, and the memory they are part of when there is one, so that
/// its buffer shares them instead of copying.
#[derive(Clone, Copy)]
pub(super) struct Packet<'a> {
    pub(super) bytes: &'a [u8],
    /// The memory `bytes` are in, at this offset.
    pub(super) within: Option<(&'a gst::Memory, usize)>,
}

impl<'a> Packet<'a> {
    /// Bytes of nobody's memory: the buffer gets a copy.
    pub(super) fn copied(bytes: &'a [u8]) -> Self {
        Packet {
            bytes,
            within: None,
        }
    }

    /// A buffer of the packet: a part of the read's memory, or a copy.
    pub(super) fn to_buffer(self) -> gst::Buffer {
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
pub(super) fn count_once<O: Output>(counter: &mut u64, out: &O, warning: impl FnOnce() -> String) {
    *counter = counter.saturating_add(1);
    if *counter == 1 {
        out.warning(&warning());
    }
}

impl Streams {
    /// Timestamps one RTP packet of stream `i` and queues it for [`Streams::flush`].
    pub(super) fn rtp<O: Output>(&mut self, i: usize, p: Packet<'_>, out: &O) {
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
        let arrived = std::time::Instant::now();
        st.last_packet = Some(arrived);
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
        let pending = st.pending.get_or_insert_with(gst::BufferList::new);
        if let Some(list) = pending.get_mut() {
            st.batch
                .packet(&h, packet.len(), p.within.is_some(), list.len(), arrived);
            list.add(buffer);
        }
        if last {
            self.end_stream(i, out);
        }
    }

    /// One interleaved packet: RTP to its stream's pad, RTCP to the statistics.
    pub(super) fn interleaved<O: Output>(&mut self, channel: u8, packet: Packet<'_>, out: &O) {
        if let Some(i) = self
            .list
            .iter()
            .position(|s| s.rtp_channel == channel && !s.srtp)
        {
            self.rtp(i, packet, out);
        } else if let Some(i) = self
            .list
            .iter()
            .position(|s| s.rtcp_channel == channel && !s.srtp)
        {
            let now = out.running_time().unwrap_or(0);
            self.rtcp(i, packet.bytes, now);
        }
    }

    /// A seek's PAUSE was answered: every stream holds its packets until the PLAY answer.
    /// A frame still pending is of the old position: dropped.
    pub(super) fn hold(&mut self) {
        for s in self.list.iter_mut() {
            s.drop_pending();
            s.held = Some(Held::default());
            s.first_seq = None;
            s.stale = 0;
        }
    }

    /// The seek's PLAY was answered: each stream starts at the packet its `RTP-Info` seq
    /// names (`first_seq`, in SETUP order; `None`: not said), and the held packets go on
    /// through [`Streams::rtp`], those of the old position dropped.
    pub(super) fn release<O: Output>(&mut self, first_seq: &[Option<u16>], out: &O) {
        for i in 0..self.list.len() {
            let first = first_seq.get(i).copied().flatten();
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
        self.end_read(0, out);
    }

    /// After a reconnection: the first buffer of every stream follows a gap.
    pub(super) fn mark_discont(&mut self) {
        for s in self.list.iter_mut() {
            s.discont = true;
        }
    }

    /// Replay: the recorded time reached, Unix ms (the earliest of the streams', so that
    /// nothing is skipped when resuming).
    pub(super) fn last_recorded_ms(&self) -> Option<i64> {
        self.list.iter().filter_map(|s| s.recorded_ms).min()
    }

    /// Pushes the pending packets of stream `i`.
    pub(super) fn flush_stream<O: Output>(&mut self, i: usize, out: &O) {
        let st = &mut self.list[i];
        st.batch.clear();
        let Some(list) = st.pending.take() else {
            return;
        };
        if !out.push_list(st.index, list) {
            crate::log::debug!("stream {i}: push refused, stopping");
            self.flowing = false;
        }
    }

    /// The end of a read of `read` bytes (0: packets that were copied, as from UDP):
    /// pushes what is due ([`Batch`]). The read's buffers of a stream that keeps less
    /// than half of it become copies, so that a queue holding them keeps alive at most
    /// twice the bytes it counts. Between a seek's flush and its PAUSE they are of the
    /// old position: the element drops them (it takes data again once told
    /// `seek_applied`).
    pub(super) fn end_read<O: Output>(&mut self, read: usize, out: &O) {
        for i in 0..self.list.len() {
            let st = &mut self.list[i];
            if let Some(from) = st.batch.end_read(read)
                && let Some(list) = st.pending.as_mut()
            {
                unshare_from(list, from);
            }
            if st.pending.is_some() && st.batch.is_due() {
                self.flush_stream(i, out);
            }
        }
        self.now = None;
    }

    /// Pushes every stream's pending packets (the session ends).
    pub(super) fn flush_all<O: Output>(&mut self, out: &O) {
        for i in 0..self.list.len() {
            self.flush_stream(i, out);
        }
        self.now = None;
    }

    /// Stream `i` got its last packet: what is queued goes first, then EOS.
    pub(super) fn end_stream<O: Output>(&mut self, i: usize, out: &O) {
        self.flush_stream(i, out);
        let st = &mut self.list[i];
        st.ended = true;
        out.end_of_stream(st.index);
    }

    /// Replay: every stream has had its last packet.
    pub(super) fn all_ended(&self) -> bool {
        self.replay.is_some() && self.list.iter().all(|s| s.ended)
    }

    /// Replay: once one stream has ended, a stream that has sent nothing for
    /// `REPLAY_IDLE` has ended too. Devices need not mark the last packet (T) and stay in
    /// PLAY at the end of the range (ONVIF Streaming §6.5), and a track may end earlier
    /// than the others.
    pub(super) fn end_idle<O: Output>(&mut self, out: &O) {
        if self.replay.is_none() || !self.list.iter().any(|s| s.ended) {
            return;
        }
        for i in 0..self.list.len() {
            let st = &self.list[i];
            if !st.ended && st.last_packet.is_none_or(|t| t.elapsed() >= REPLAY_IDLE) {
                crate::log::debug!(
                    "stream {}: nothing for {} ms after another stream ended: end",
                    st.index,
                    REPLAY_IDLE.as_millis()
                );
                self.end_stream(i, out);
            }
        }
    }

    /// Takes the sender reports of an RTCP packet of stream `i` and re-aligns streams.
    pub(super) fn rtcp(&mut self, i: usize, packet: &[u8], now: u64) {
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
    pub(super) fn reports(&mut self, now: u64) -> Vec<(usize, Vec<u8>)> {
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

pub(super) type SharedStreams = Arc<std::sync::Mutex<Streams>>;

/// Interleaved packets to their streams: RTP to the pads (one buffer list per stream and
/// read), RTCP to the statistics.
pub(super) struct Deliver<'a, O: Output> {
    pub(super) streams: &'a SharedStreams,
    pub(super) out: &'a O,
}

impl<O: Output> crate::client::rtsp::Packets for Deliver<'_, O> {
    /// A read's packets under one lock, each buffer a part of one memory holding the
    /// read's bytes: no copy after TLS. A stream whose buffers of the read (those kept,
    /// after every check) are less than half of it gets copies instead, so that a queue
    /// holding its buffers keeps alive at most twice the bytes it counts: a 12-byte packet
    /// no longer pins the 64 KiB frame that came with it, on another channel or on its own
    /// channel but refused as RTP.
    fn read(&mut self, bytes: Vec<u8>, packets: &[crate::client::rtsp::Located]) {
        let mut st = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !st.flowing {
            return;
        }
        // A replay's pads flushed for a seek not applied yet: the old position, dropped
        // before it moves the timelines, the recorded time or the end of a stream.
        if st.replay.is_some() && self.out.seek_pending() {
            return;
        }
        let read = bytes.len();
        st.stats.received(read);
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
            st.end_read(read, self.out);
        } else {
            st.list.iter_mut().for_each(StreamState::drop_pending);
        }
    }
}

#[cfg(test)]
#[path = "streams_tests.rs"]
pub(super) mod tests;
