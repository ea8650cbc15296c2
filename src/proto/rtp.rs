// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! RTP header fields and presentation times from RTP timestamps, without I/O.
//!
//! Over TCP (and the HTTPS tunnel) packets arrive in bursts; timestamping them on arrival
//! would give jittery PTS. Each stream is anchored once, at the running time its first
//! packet arrived, and from then on its PTS follow the RTP clock: smooth and monotonic
//! for a camera that encodes without B-frames.

use rtcp_types::{RtcpPacket, RtcpPacketParser};

/// The fields of a fixed RTP header (RFC 3550 §5.1) the element uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Bytes of payload (after the header, CSRCs and extension, before the padding).
    pub payload_len: u32,
}

/// Parses an RTP packet once (through `rtp-types`, which also checks the CSRC list, the
/// extension and the padding against the length): its fixed header, and its replay
/// extension if it carries one; `None` for anything that is not a well-formed RTP
/// version 2 packet.
pub fn parse(p: &[u8]) -> Option<(Header, Option<ReplayExtension>)> {
    let r = rtp_types::RtpPacket::parse(p).ok()?;
    let header = Header {
        marker: r.marker_bit(),
        payload_type: r.payload_type(),
        sequence: r.sequence_number(),
        timestamp: r.timestamp(),
        ssrc: r.ssrc(),
        payload_len: u32::try_from(r.payload_len()).unwrap_or(u32::MAX),
    };
    let replay = r
        .extension()
        .and_then(|(profile, body)| replay_of(profile, body));
    Some((header, replay))
}

/// The fixed header of an RTP packet ([`parse`]).
pub fn parse_header(p: &[u8]) -> Option<Header> {
    parse(p).map(|(h, _)| h)
}

/// The ONVIF replay header extension (ONVIF Streaming §6.3): the recording's wallclock
/// and its C/E/D/T flags, on the first packet of each access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayExtension {
    /// 64-bit NTP timestamp (seconds since 1900 and fraction).
    pub ntp: u64,
    /// C: a clean point (a key frame).
    pub clean_point: bool,
    /// E: the last access unit before a gap, or the end of the footage.
    pub end: bool,
    /// D: a discontinuity: the first packet after a jump.
    pub discontinuity: bool,
    /// T: the terminal frame; no more data for this track.
    pub terminal: bool,
    /// Low byte of the CSeq of the PLAY that started this data.
    pub cseq: u8,
}

/// Extension profiles: 0xABAC per the ONVIF spec; 0xABAD from some devices (nx_open
/// accepts both).
const REPLAY_PROFILES: [u16; 2] = [0xABAC, 0xABAD];

/// The replay extension of an RTP packet, if it carries one ([`parse`]).
pub fn replay_extension(p: &[u8]) -> Option<ReplayExtension> {
    parse(p)?.1
}

/// The replay extension in a header extension of `profile` with `body`, if it is one.
fn replay_of(profile: u16, body: &[u8]) -> Option<ReplayExtension> {
    if !REPLAY_PROFILES.contains(&profile) {
        return None;
    }
    // Three words at least: the NTP time, then the flags, the CSeq byte and padding.
    if body.len() < 12 {
        return None;
    }
    let (ntp, rest) = body.split_first_chunk::<8>()?;
    let [flags, cseq, ..] = *rest else {
        return None;
    };
    Some(ReplayExtension {
        ntp: u64::from_be_bytes(*ntp),
        clean_point: flags & 0x80 != 0,
        end: flags & 0x40 != 0,
        discontinuity: flags & 0x20 != 0,
        terminal: flags & 0x10 != 0,
        cseq,
    })
}

/// Nanoseconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET_NS: u64 = 2_208_988_800 * 1_000_000_000;

/// Nanoseconds since 1900 of a 64-bit NTP timestamp (what `timestamp/x-ntp` metas hold).
pub fn ntp_to_ns(ntp: u64) -> u64 {
    (ntp >> 32) * 1_000_000_000 + (((ntp & 0xFFFF_FFFF) * 1_000_000_000) >> 32)
}

/// The 64-bit NTP timestamp of nanoseconds since 1900 ([`ntp_to_ns`]'s inverse, to the
/// nanosecond).
pub fn ns_to_ntp(ns: u64) -> u64 {
    let (secs, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    (secs << 32) | ((frac << 32) / 1_000_000_000)
}

/// Unix nanoseconds of a 64-bit NTP timestamp (`None` before 1970).
pub fn ntp_to_unix_ns(ntp: u64) -> Option<u64> {
    ntp_to_ns(ntp).checked_sub(NTP_UNIX_OFFSET_NS)
}

/// An RTCP sender report (RFC 3550 §6.4.1): the sender's wallclock for an RTP timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: u32,
    /// 64-bit NTP timestamp.
    pub ntp: u64,
    pub rtp: u32,
    /// The sender's packet count.
    pub packets: u32,
}

impl SenderReport {
    /// The middle 32 bits of the NTP timestamp: the LSR field of a reception report.
    pub fn lsr(&self) -> u32 {
        (self.ntp >> 16) as u32
    }

    /// NTP time in nanoseconds since the NTP epoch.
    fn ntp_ns(&self) -> i128 {
        let secs = i128::from(self.ntp >> 32);
        let frac = i128::from(self.ntp & 0xFFFF_FFFF);
        secs * 1_000_000_000 + ((frac * 1_000_000_000) >> 32)
    }
}

/// The sender reports in a compound RTCP packet. Each packet is parsed by `rtcp-types`;
/// the walk over the compound is ours so that a malformed part (as some cameras append)
/// ends it without losing the reports before it.
pub fn sender_reports(mut p: &[u8]) -> Vec<SenderReport> {
    let mut out = Vec::new();
    while let Some(head) = p.get(..4) {
        let len = (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1) * 4;
        let Some(packet) = p.get(..len) else {
            break;
        };
        if head[1] == rtcp_types::SenderReport::PACKET_TYPE {
            match rtcp_types::SenderReport::parse(packet) {
                Ok(sr) => out.push(SenderReport {
                    ssrc: sr.ssrc(),
                    ntp: sr.ntp_timestamp(),
                    rtp: sr.rtp_timestamp(),
                    packets: sr.packet_count(),
                }),
                Err(_) => break,
            }
        } else if head[0] >> 6 != 2 {
            break;
        }
        p = p.get(len..).unwrap_or_default();
    }
    out
}

pub use super::reception::ReceiverStats;

/// A receiver report from `our_ssrc` with one block (RFC 3550 §6.4.2).
pub fn receiver_report(our_ssrc: u32, block: &[u8; 24]) -> Vec<u8> {
    let mut p = Vec::with_capacity(32);
    // V=2, P=0, RC=1; PT=201; length 7 (32-bit words minus one).
    p.extend_from_slice(&[0x81, 201, 0, 7]);
    p.extend_from_slice(&our_ssrc.to_be_bytes());
    p.extend_from_slice(block);
    p
}

/// Maps one stream's RTP timestamps to running times in nanoseconds.
#[derive(Debug, Clone)]
pub struct Timeline {
    clock_rate: u64,
    /// (extended timestamp of the first packet, running time it arrived at)
    anchor: Option<(i64, u64)>,
    last_ts: u32,
    last_ext: i64,
    /// Added to every PTS to line this stream up with the others (only ever grows, so
    /// PTS stay monotonic).
    offset_ns: u64,
}

impl Timeline {
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate: u64::from(clock_rate.max(1)),
            anchor: None,
            last_ts: 0,
            last_ext: 0,
            offset_ns: 0,
        }
    }

    /// Running time minus sender wallclock at the anchor, from a sender report: streams
    /// of one camera are in sync when these are equal. `None` before the first packet.
    pub fn wallclock_offset(&self, sr: &SenderReport) -> Option<i128> {
        let (first, anchor_ns) = self.anchor?;
        let sr_ext =
            i128::from(self.last_ext) + i128::from(sr.rtp.wrapping_sub(self.last_ts) as i32);
        let ntp_of_anchor = sr.ntp_ns()
            + (i128::from(first) - sr_ext) * 1_000_000_000 / i128::from(self.clock_rate);
        Some(i128::from(anchor_ns) - ntp_of_anchor)
    }

    /// Shifts the stream later by `ns` more than it is (never earlier).
    pub fn delay_to(&mut self, ns: u64) {
        self.offset_ns = self.offset_ns.max(ns);
    }

    pub fn offset(&self) -> u64 {
        self.offset_ns
    }

    /// The PTS of a packet with `timestamp`, arriving at running time `now_ns`; `None`
    /// when the timestamps walked the PTS out of range (a hostile or broken sender): the
    /// caller drops the packet, and the timeline stays where it was.
    pub fn pts(&mut self, timestamp: u32, now_ns: u64) -> Option<u64> {
        let ext = match self.anchor {
            None => i64::from(timestamp),
            // Unwrap: the signed distance to the previous timestamp.
            Some(_) => self
                .last_ext
                .checked_add(i64::from(timestamp.wrapping_sub(self.last_ts) as i32))?,
        };
        let (first, anchor_ns) = self.anchor.unwrap_or((ext, now_ns));
        let delta = i128::from(ext) - i128::from(first);
        // |delta| < 2^64, times 10^9 < 2^94: no overflow in u128.
        let offset_ns = delta.unsigned_abs() * 1_000_000_000 / u128::from(self.clock_rate);
        let offset_ns = u64::try_from(offset_ns).ok()?;
        let pts = if delta >= 0 {
            anchor_ns.checked_add(offset_ns)?
        } else {
            anchor_ns.saturating_sub(offset_ns)
        };
        let pts = pts.checked_add(self.offset_ns)?;
        // u64::MAX is GStreamer's "no time".
        if pts == u64::MAX {
            return None;
        }
        self.anchor = Some((first, anchor_ns));
        self.last_ts = timestamp;
        self.last_ext = ext;
        Some(pts)
    }
}

/// Lines streams up from their wallclock offsets (`None`: no sender report yet): each
/// stream is delayed so that all match the latest, so nothing moves back in time.
pub fn align(timelines: &mut [&mut Timeline], offsets: &[Option<i128>]) {
    let Some(latest) = offsets.iter().flatten().max().copied() else {
        return;
    };
    for (t, o) in timelines.iter_mut().zip(offsets) {
        if let Some(o) = o {
            let shift = u64::try_from(latest - o).unwrap_or(0);
            t.delay_to(shift);
        }
    }
}

/// How far apart (in packets) a sequence number and the first one of a replayed position
/// can be and still be read as "just before" or "from" it; further apart, the `RTP-Info`
/// seq is taken for wrong (some devices write a stale or made-up one) and ignored.
pub const SEQ_WINDOW: u16 = 1024;

/// Where a packet stands against `first`, the `seq` of the PLAY answer's `RTP-Info` after a
/// seek (RFC 2326 §12.33: the first packet of the new position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSeek {
    /// Up to [`SEQ_WINDOW`] packets before `first`: sent for the old position, after the
    /// PAUSE answer (rtpjitterbuffer drops these as "too late" in rtspsrc).
    Stale,
    /// `first` or up to [`SEQ_WINDOW`] packets after it: the new position has begun.
    Reached,
    /// Far from `first` either way: the `RTP-Info` seq does not describe this stream.
    Unrelated,
}

pub fn after_seek(seq: u16, first: u16) -> AfterSeek {
    let ahead = seq.wrapping_sub(first);
    let behind = first.wrapping_sub(seq);
    if ahead <= SEQ_WINDOW {
        AfterSeek::Reached
    } else if behind <= SEQ_WINDOW {
        AfterSeek::Stale
    } else {
        AfterSeek::Unrelated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NTP timestamps of nanoseconds and back, to within a nanosecond.
    #[test]
    fn test_ns_to_ntp_inverts_ntp_to_ns() {
        for ns in [
            0,
            1,
            999_999_999,
            NTP_UNIX_OFFSET_NS + 1_733_400_000_123_456_789,
        ] {
            let back = ntp_to_ns(ns_to_ntp(ns));
            assert!(ns - back <= 1, "{ns} -> {back}");
        }
        assert_eq!(ns_to_ntp(1_500_000_000), (1 << 32) | (1 << 31));
    }

    #[test]
    fn test_after_seek() {
        assert_eq!(after_seek(100, 100), AfterSeek::Reached);
        assert_eq!(after_seek(101, 100), AfterSeek::Reached);
        assert_eq!(after_seek(99, 100), AfterSeek::Stale);
        assert_eq!(
            after_seek(100u16.wrapping_sub(SEQ_WINDOW + 1), 100),
            AfterSeek::Unrelated
        );
        // Across the wrap.
        assert_eq!(after_seek(65535, 2), AfterSeek::Stale);
        assert_eq!(after_seek(1, 65530), AfterSeek::Reached);
        assert_eq!(after_seek(0, 65535 - SEQ_WINDOW + 1), AfterSeek::Reached);
        // A made-up seq far from the stream's.
        assert_eq!(after_seek(40000, 0), AfterSeek::Unrelated);
        assert_eq!(after_seek(100 + SEQ_WINDOW + 1, 100), AfterSeek::Unrelated);
        assert_eq!(
            after_seek(100u16.wrapping_sub(SEQ_WINDOW), 100),
            AfterSeek::Stale
        );
    }

    #[test]
    fn test_header() {
        let p = [
            0x80, 0xE0, 0x12, 0x34, 0, 0, 0x01, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0xFF,
        ];
        assert_eq!(
            parse_header(&p),
            Some(Header {
                marker: true,
                payload_type: 96,
                sequence: 0x1234,
                timestamp: 256,
                ssrc: 0xDEADBEEF,
                payload_len: 1,
            })
        );
        assert_eq!(parse_header(&p[..11]), None);
        assert_eq!(parse_header(&[0x40; 12]), None, "version 1");
    }

    #[test]
    fn test_pts_follow_rtp_clock_not_arrival() {
        let mut t = Timeline::new(90_000);
        assert_eq!(t.pts(1000, 5_000_000_000), Some(5_000_000_000));
        // 40 ms later in RTP time, arriving in a burst at the same instant.
        assert_eq!(t.pts(1000 + 3600, 5_000_000_000), Some(5_040_000_000));
        assert_eq!(t.pts(1000 + 7200, 5_001_000_000), Some(5_080_000_000));
    }

    #[test]
    fn test_sender_report_in_compound() {
        // RR (empty) + SR + SDES-ish junk
        let mut p = vec![0x80, 201, 0, 1, 0, 0, 0, 9];
        p.extend_from_slice(&[0x80, 200, 0, 6]);
        p.extend_from_slice(&0x1122_3344u32.to_be_bytes());
        p.extend_from_slice(&0xE6B0_0000_8000_0000u64.to_be_bytes());
        p.extend_from_slice(&90_000u32.to_be_bytes());
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&[0x81, 202, 0, 9]); // claims more than there is
        let srs = sender_reports(&p);
        assert_eq!(
            srs,
            vec![SenderReport {
                ssrc: 0x1122_3344,
                ntp: 0xE6B0_0000_8000_0000,
                rtp: 90_000,
                packets: 0,
            }]
        );
        assert_eq!(srs[0].lsr(), 0x0000_8000);
        assert_eq!(srs[0].ntp_ns() % 1_000_000_000, 500_000_000);
        assert!(sender_reports(&[0x80, 200, 0xFF, 0xFF]).is_empty());
    }

    /// Two streams of one camera whose first packets arrived at the same instant, but
    /// whose first audio sample was captured 30 ms after the first video frame: audio
    /// is delayed by 30 ms, video stays (nothing moves back).
    #[test]
    fn test_alignment_only_delays() {
        let mut video = Timeline::new(90_000);
        let mut audio = Timeline::new(16_000);
        assert_eq!(video.pts(9000, 1_000_000_000), Some(1_000_000_000));
        assert_eq!(audio.pts(1600, 1_000_000_000), Some(1_000_000_000));
        let ntp =
            |ns: u64| ((ns / 1_000_000_000) << 32) | (((ns % 1_000_000_000) << 32) / 1_000_000_000);
        let v = video.wallclock_offset(&SenderReport {
            ssrc: 1,
            ntp: ntp(10_000_000_000),
            rtp: 9000,
            packets: 0,
        });
        let a = audio.wallclock_offset(&SenderReport {
            ssrc: 2,
            ntp: ntp(10_030_000_000),
            rtp: 1600,
            packets: 0,
        });
        align(&mut [&mut video, &mut audio], &[v, a]);
        assert_eq!(video.offset(), 0, "video stays");
        assert!(
            audio.offset().abs_diff(30_000_000) < 2,
            "audio delayed 30 ms: {}",
            audio.offset()
        );
        assert!(
            audio
                .pts(1600 + 1600, 1_000_000_000)
                .expect("in range")
                .abs_diff(1_130_000_000)
                < 2
        );
        // A later report with the same mapping changes nothing; offsets never shrink.
        align(&mut [&mut video, &mut audio], &[v, None]);
        assert!(audio.offset().abs_diff(30_000_000) < 2);
    }

    #[test]
    fn test_receiver_report_block() {
        let mut st = ReceiverStats::default();
        let h = |seq: u16, ts: u32| Header {
            marker: false,
            payload_type: 96,
            sequence: seq,
            timestamp: ts,
            ssrc: 7,
            payload_len: 0,
        };
        // 65534, 65535, (0 lost), 1: one lost, one wrap.
        st.packet(&h(65534, 0), 90_000, 0);
        st.packet(&h(65535, 3000), 90_000, 33_333_333);
        st.packet(&h(1, 9000), 90_000, 100_000_000);
        st.sender_report(
            &SenderReport {
                ssrc: 7,
                ntp: 0x0001_0002_0003_0004,
                rtp: 0,
                packets: 0,
            },
            50_000_000,
        );
        let b = st.report_block(1_050_000_000).unwrap();
        assert_eq!(&b[0..4], &7u32.to_be_bytes());
        assert_eq!(b[4], 64, "fraction lost 1/4 = 64/256");
        assert_eq!(&b[5..8], &[0, 0, 1], "cumulative lost 1");
        assert_eq!(
            u32::from_be_bytes(b[8..12].try_into().unwrap()),
            65536 + 1,
            "extended max seq"
        );
        assert_eq!(
            u32::from_be_bytes(b[16..20].try_into().unwrap()),
            0x0002_0003,
            "LSR"
        );
        assert_eq!(
            u32::from_be_bytes(b[20..24].try_into().unwrap()),
            65536,
            "DLSR 1 s"
        );
        let rr = receiver_report(0xABCD, &b);
        assert_eq!(rr.len(), 32);
        assert_eq!(&rr[..8], &[0x81, 201, 0, 7, 0, 0, 0xAB, 0xCD]);
    }

    /// A packet as ONVIF Streaming §6.3 draws it: CSRC count 1, extension 0xABAC, length 3.
    #[test]
    fn test_replay_extension() {
        let mut p = vec![0x91, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        p.extend_from_slice(&[0xAA; 4]); // one CSRC
        p.extend_from_slice(&[0xAB, 0xAC, 0, 3]);
        let ntp: u64 = (3_973_000_000u64 << 32) | 0x8000_0000;
        p.extend_from_slice(&ntp.to_be_bytes());
        p.extend_from_slice(&[0xA0, 0x07, 0, 0]); // C and D, CSeq 7
        p.extend_from_slice(b"payload");
        let e = replay_extension(&p).expect("extension");
        assert_eq!(
            e,
            ReplayExtension {
                ntp,
                clean_point: true,
                end: false,
                discontinuity: true,
                terminal: false,
                cseq: 7
            }
        );
        assert_eq!(
            ntp_to_unix_ns(ntp),
            Some((3_973_000_000 - 2_208_988_800) * 1_000_000_000 + 500_000_000)
        );
        // 0xABAD is accepted too; other profiles, short lengths and truncation are not.
        p[16..18].copy_from_slice(&[0xAB, 0xAD]);
        assert!(replay_extension(&p).is_some());
        p[16..18].copy_from_slice(&[0xBE, 0xDE]);
        assert_eq!(replay_extension(&p), None);
        p[16..18].copy_from_slice(&[0xAB, 0xAC]);
        assert_eq!(replay_extension(&p[..27]), None, "truncated");
        p[19] = 2;
        assert_eq!(replay_extension(&p), None, "length under 3 words");
        p[0] = 0x81;
        assert_eq!(replay_extension(&p), None, "no X bit");
        assert_eq!(ntp_to_unix_ns(5), None);
    }

    #[test]
    fn test_wraparound() {
        let mut t = Timeline::new(90_000);
        let start = u32::MAX - 1799;
        assert_eq!(t.pts(start, 0), Some(0));
        assert_eq!(
            t.pts(start.wrapping_add(3600), 1),
            Some(40_000_000),
            "across the 32-bit wrap"
        );
        assert_eq!(t.pts(start.wrapping_add(7200), 2), Some(80_000_000));
    }

    /// Security review: with a clock rate of 1, a few jumps of 2^31 ticks reached
    /// u64::MAX ns, which `gst::ClockTime::from_nseconds` asserts against.
    #[test]
    fn test_timestamp_walks_out_of_range_are_refused() {
        let mut t = Timeline::new(1);
        assert_eq!(t.pts(0, 0), Some(0));
        let mut ts = 0u32;
        let mut last = 0;
        let mut jumps = 0;
        loop {
            ts = ts.wrapping_add(0x7fff_ffff);
            jumps += 1;
            assert!(jumps < 64, "never refused");
            match t.pts(ts, 0) {
                Some(p) => {
                    assert!(p > last && p != u64::MAX);
                    last = p;
                }
                None => break,
            }
        }
        // 2^64 ns is 584 years: 8 jumps of 68 years at a clock rate of 1.
        assert_eq!(jumps, 9);
        // The timeline stayed at the last good packet: the same timestamp maps again.
        assert_eq!(t.pts(ts.wrapping_sub(0x7fff_ffff), 0), Some(last));
        // Backwards below zero clamps at 0, never wraps.
        let mut back = Timeline::new(1);
        assert_eq!(back.pts(0x7fff_ffff, 5), Some(5));
        assert_eq!(back.pts(0, 5), Some(0));
    }

    #[test]
    fn test_sequence_cycles_wrap_without_overflow() {
        let mut r = ReceiverStats::default();
        let mut seq = 0u16;
        for _ in 0..(3 * 65_536 + 10) {
            // Jumps of 2999 (within RFC 3550 A.1's MAX_DROPOUT) cross the 16-bit wrap
            // every 22 packets.
            seq = seq.wrapping_add(2999);
            let h = Header {
                marker: false,
                payload_type: 96,
                sequence: seq,
                timestamp: 0,
                ssrc: 1,
                payload_len: 0,
            };
            r.packet(&h, 90_000, 0);
        }
        assert!(r.report_block(0).is_some());
    }
}
