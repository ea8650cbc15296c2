// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Reception statistics of one RTP source, without I/O: what the receiver reports carry
//! (RFC 3550 §6.4.1, appendix A.1, A.3, A.8), and the counts GStreamer's `rtpsource` and
//! `rtpjitterbuffer` give under the names the element's `stats` reuses
//! ([`SourceCounts`]).

use super::rtp::{Header, SenderReport};

/// RFC 3550 A.1: a number at most this far ahead of the highest is the sequence going on
/// (with a gap); further, either way, it is a jump, taken only when the next packet
/// follows it (the sender restarted its numbering).
const MAX_DROPOUT: u16 = 3000;
/// A.1: a number at most this far behind the highest is a duplicate or a late packet.
const MAX_MISORDER: u16 = 100;
/// Sequence numbers remembered at and below the highest one, to tell a duplicate from a
/// late packet: at least [`MAX_MISORDER`] + 1.
const WINDOW: u16 = 128;

/// Reception statistics of one source. A new SSRC starts them again.
#[derive(Debug, Clone, Default)]
pub struct ReceiverStats {
    ssrc: u32,
    started: bool,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Interarrival jitter, in RTP units scaled by 16 (A.8).
    jitter_q4: u64,
    last_transit: Option<i64>,
    /// LSR and the running time the last SR of this source arrived at.
    last_sr: Option<(u32, u64)>,
    /// The last SR's NTP timestamp.
    sr_ntp: Option<u64>,
    /// A sender report of another SSRC (SSRC, LSR, arrival, NTP): taken if that source's
    /// packets come next (a report may come before the first packet).
    waiting_sr: Option<(u32, u32, u64, u64)>,
    /// Since the source's first packet: packets, payload bytes, duplicates and packets
    /// that came after a later one.
    packets: u64,
    octets: u64,
    duplicates: u64,
    late: u64,
    /// Packets lost before the sender restarted its sequence numbers (A.1's re-sync).
    lost_before: i64,
    /// Which of the [`WINDOW`] sequence numbers at and below `max_seq` came: bit `i` is
    /// `max_seq - i`.
    seen: [u64; WINDOW as usize / 64],
    /// After a jump: the number that, coming next, says the sender restarted its
    /// sequence (A.1's `bad_seq`).
    bad_seq: Option<u16>,
}

/// What [`ReceiverStats`] counted, under `rtpsource`'s and `rtpjitterbuffer`'s names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceCounts {
    pub ssrc: u32,
    /// `packets-received`: every packet, duplicates included (as `rtpsource`).
    pub packets_received: u64,
    /// `octets-received`: payload bytes (as `rtpsource`).
    pub octets_received: u64,
    /// `packets-lost`: expected minus received (RFC 3550 §6.4.1: duplicates make it
    /// smaller, and it can be negative).
    pub packets_lost: i64,
    /// `jitter`: interarrival jitter in RTP clock units.
    pub jitter: u32,
    /// `num-late`: packets that came after a later one (the element does not reorder,
    /// so downstream gets them out of order).
    pub num_late: u64,
    /// `num-duplicates`: a sequence number that came already.
    pub num_duplicates: u64,
    /// `sr-ntptime`: the NTP timestamp of the last sender report, if one came.
    pub sr_ntptime: Option<u64>,
}

impl ReceiverStats {
    /// Accounts for one packet arriving at `now_ns`.
    pub fn packet(&mut self, h: &Header, clock_rate: u32, now_ns: u64) {
        let seq = h.sequence;
        if !self.started || h.ssrc != self.ssrc {
            let waiting = self.waiting_sr.take();
            *self = ReceiverStats {
                ssrc: h.ssrc,
                started: true,
                base_seq: u32::from(seq),
                max_seq: seq,
                ..Default::default()
            };
            if let Some((ssrc, lsr, at, ntp)) = waiting
                && ssrc == h.ssrc
            {
                self.last_sr = Some((lsr, at));
                self.sr_ntp = Some(ntp);
            }
            self.mark(0);
        } else {
            let ahead = seq.wrapping_sub(self.max_seq);
            if ahead != 0 && ahead < MAX_DROPOUT {
                if seq < self.max_seq {
                    // Wraps after 2^16 cycles, as the 32-bit extended count of RFC 3550 does.
                    self.cycles = self.cycles.wrapping_add(1 << 16);
                }
                self.slide(ahead);
                self.max_seq = seq;
                self.mark(0);
                self.bad_seq = None;
            } else if ahead == 0 || ahead > u16::MAX - MAX_MISORDER {
                let back = self.max_seq.wrapping_sub(seq);
                if self.seen(back) {
                    self.duplicates = self.duplicates.saturating_add(1);
                } else {
                    self.late = self.late.saturating_add(1);
                    self.mark(back);
                }
            } else if self.bad_seq == Some(seq) {
                // Two in a row after a jump: the sender started its numbers again.
                self.lost_before = self.lost_before.saturating_add(self.lost());
                self.base_seq = u32::from(seq);
                self.max_seq = seq;
                self.cycles = 0;
                self.received = 0;
                self.expected_prior = 0;
                self.received_prior = 0;
                self.seen = Default::default();
                self.mark(0);
                self.bad_seq = None;
            } else {
                // A jump: not of the sequence until the next packet follows it (A.1 leaves
                // it out of the report's counts); one from behind came late.
                if ahead >= 0x8000 {
                    self.late = self.late.saturating_add(1);
                }
                self.bad_seq = Some(seq.wrapping_add(1));
                self.counted(h);
                return;
            }
        }
        self.received = self.received.wrapping_add(1);
        self.counted(h);
        let arrival = (u128::from(now_ns) * u128::from(clock_rate) / 1_000_000_000) as i64;
        let transit = arrival - i64::from(h.timestamp);
        if let Some(last) = self.last_transit {
            let d = (transit - last).unsigned_abs();
            // J += (|D| - J) / 16, kept scaled by 16.
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    fn counted(&mut self, h: &Header) {
        self.packets = self.packets.saturating_add(1);
        self.octets = self.octets.saturating_add(u64::from(h.payload_len));
    }

    /// Moves the window `by` numbers up.
    fn slide(&mut self, by: u16) {
        let by = usize::from(by);
        let n = self.seen.len();
        if by >= usize::from(WINDOW) {
            self.seen = Default::default();
            return;
        }
        let (words, bits) = (by / 64, by % 64);
        for i in (0..n).rev() {
            let from = i.checked_sub(words);
            let high = from.map_or(0, |f| self.seen[f] << bits);
            let low = match from.and_then(|f| f.checked_sub(1)) {
                Some(f) if bits != 0 => self.seen[f] >> (64 - bits),
                _ => 0,
            };
            self.seen[i] = high | low;
        }
    }

    fn seen(&self, back: u16) -> bool {
        let b = usize::from(back);
        self.seen
            .get(b / 64)
            .is_some_and(|w| (w >> (b % 64)) & 1 == 1)
    }

    fn mark(&mut self, back: u16) {
        let b = usize::from(back);
        if let Some(w) = self.seen.get_mut(b / 64) {
            *w |= 1 << (b % 64);
        }
    }

    /// The extended highest sequence number and the packets expected so far.
    fn extent(&self) -> (u32, u32) {
        let ext_max = self.cycles.wrapping_add(u32::from(self.max_seq));
        (ext_max, ext_max.wrapping_sub(self.base_seq).wrapping_add(1))
    }

    /// Packets lost in the current sequence (expected minus received).
    fn lost(&self) -> i64 {
        i64::from(self.extent().1) - i64::from(self.received)
    }

    /// Records a sender report arriving at `now_ns`: this source's, or one whose packets
    /// may come next.
    pub fn sender_report(&mut self, sr: &SenderReport, now_ns: u64) {
        if self.started && sr.ssrc == self.ssrc {
            self.last_sr = Some((sr.lsr(), now_ns));
            self.sr_ntp = Some(sr.ntp);
        } else {
            self.waiting_sr = Some((sr.ssrc, sr.lsr(), now_ns, sr.ntp));
        }
    }

    /// What was counted, or `None` before any packet.
    pub fn counts(&self) -> Option<SourceCounts> {
        self.started.then(|| SourceCounts {
            ssrc: self.ssrc,
            packets_received: self.packets,
            octets_received: self.octets,
            packets_lost: self.lost_before.saturating_add(self.lost()),
            jitter: u32::try_from(self.jitter_q4 >> 4).unwrap_or(u32::MAX),
            num_late: self.late,
            num_duplicates: self.duplicates,
            sr_ntptime: self.sr_ntp,
        })
    }

    /// A 24-byte reception report block for this source, or `None` before any packet.
    pub fn report_block(&mut self, now_ns: u64) -> Option<[u8; 24]> {
        if !self.started {
            return None;
        }
        let (ext_max, expected) = self.extent();
        let lost = self.lost();
        let lost24 = lost.clamp(-0x80_0000, 0x7F_FFFF) as i32 as u32 & 0xFF_FFFF;
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u32
        };
        let (lsr, dlsr) = match self.last_sr {
            // DLSR in units of 1/65536 s.
            Some((lsr, at)) => (
                lsr,
                ((u128::from(now_ns.saturating_sub(at)) << 16) / 1_000_000_000) as u32,
            ),
            None => (0, 0),
        };
        let mut b = [0u8; 24];
        b[0..4].copy_from_slice(&self.ssrc.to_be_bytes());
        b[4..8].copy_from_slice(&((fraction << 24) | lost24).to_be_bytes());
        b[8..12].copy_from_slice(&ext_max.to_be_bytes());
        b[12..16].copy_from_slice(&((self.jitter_q4 >> 4) as u32).to_be_bytes());
        b[16..20].copy_from_slice(&lsr.to_be_bytes());
        b[20..24].copy_from_slice(&dlsr.to_be_bytes());
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(seq: u16, ssrc: u32) -> Header {
        Header {
            marker: false,
            payload_type: 96,
            sequence: seq,
            timestamp: u32::from(seq) * 3000,
            ssrc,
            payload_len: 100,
        }
    }

    fn run(seqs: &[u16]) -> SourceCounts {
        let mut st = ReceiverStats::default();
        for (i, s) in seqs.iter().enumerate() {
            st.packet(&h(*s, 5), 90_000, i as u64 * 33_333_333);
        }
        st.counts().unwrap()
    }

    #[test]
    fn test_in_order() {
        let c = run(&[10, 11, 12, 13]);
        assert_eq!(
            c,
            SourceCounts {
                ssrc: 5,
                packets_received: 4,
                octets_received: 400,
                packets_lost: 0,
                jitter: 0,
                num_late: 0,
                num_duplicates: 0,
                sr_ntptime: None,
            }
        );
        assert_eq!(ReceiverStats::default().counts(), None);
    }

    /// One dropped (3), one duplicated (5), one reordered (7 after 8): rtpsource's
    /// counts, with packets-lost as RFC 3550 computes it (the duplicate makes up for the
    /// loss).
    #[test]
    fn test_drop_duplicate_reorder() {
        let c = run(&[1, 2, 4, 5, 5, 6, 8, 7, 9]);
        assert_eq!(c.packets_received, 9);
        assert_eq!(c.num_duplicates, 1);
        assert_eq!(c.num_late, 1);
        assert_eq!(c.packets_lost, 0, "9 expected, 9 received (one twice)");
        let c = run(&[1, 2, 4, 5, 6, 8, 7, 9]);
        assert_eq!((c.packets_lost, c.num_late, c.num_duplicates), (1, 1, 0));
        // A late packet that comes again is a duplicate (3 expected, 4 received).
        let c = run(&[1, 3, 2, 2]);
        assert_eq!((c.packets_lost, c.num_late, c.num_duplicates), (-1, 1, 1));
    }

    #[test]
    fn test_window_across_the_wrap_and_words() {
        // 65535 then 0..=90: 65535 is 91 behind (the window's second word); it is a
        // duplicate when it comes again.
        let mut seqs = vec![65535];
        seqs.extend(0..=90u16);
        seqs.push(65535);
        seqs.push(50);
        let c = run(&seqs);
        assert_eq!(c.num_duplicates, 2);
        assert_eq!(c.num_late, 0);
        assert_eq!(c.packets_lost, -2);
        // More than MAX_MISORDER behind is a jump: late, not known as a duplicate, and
        // out of the loss count.
        let mut seqs: Vec<u16> = (0..2000).collect();
        seqs.push(10);
        let c = run(&seqs);
        assert_eq!((c.num_late, c.num_duplicates, c.packets_lost), (1, 0, 0));
    }

    /// One stray packet far ahead (A.1's MAX_DROPOUT): left out, and the sequence goes on
    /// without a loss of thousands.
    #[test]
    fn test_a_stray_packet_far_ahead_is_not_a_loss() {
        let c = run(&[1, 2, 3, 30000, 4, 5, 6]);
        assert_eq!(c.packets_received, 7);
        assert_eq!((c.packets_lost, c.num_late, c.num_duplicates), (0, 0, 0));
        // A gap within MAX_DROPOUT is a loss.
        let c = run(&[1, 2, 2003]);
        assert_eq!(c.packets_lost, 2000);
    }

    /// A sender that starts its numbers again (A.1): two in a row from far behind re-sync;
    /// the loss before stays counted.
    #[test]
    fn test_restarted_sequence() {
        let c = run(&[5000, 5001, 5003, 10, 11, 12]);
        assert_eq!(c.packets_lost, 1, "5002");
        assert_eq!(c.num_late, 1, "10, before 11 said the sequence restarted");
        assert_eq!(c.packets_received, 6);
    }

    #[test]
    fn test_new_ssrc_starts_again() {
        let mut st = ReceiverStats::default();
        st.packet(&h(1, 5), 90_000, 0);
        st.packet(&h(9, 5), 90_000, 0);
        st.sender_report(
            &SenderReport {
                ssrc: 6,
                ntp: 77,
                rtp: 0,
                packets: 0,
            },
            0,
        );
        st.packet(&h(100, 6), 90_000, 0);
        let c = st.counts().unwrap();
        assert_eq!((c.ssrc, c.packets_received, c.packets_lost), (6, 1, 0));
        assert_eq!(
            c.sr_ntptime,
            Some(77),
            "the new source's report, come first"
        );
        // A report of another source does not touch this one's.
        st.sender_report(
            &SenderReport {
                ssrc: 9,
                ntp: 88,
                rtp: 0,
                packets: 0,
            },
            0,
        );
        assert_eq!(st.counts().unwrap().sr_ntptime, Some(77));
    }

    #[test]
    fn test_sender_report_time() {
        let mut st = ReceiverStats::default();
        st.packet(&h(1, 5), 90_000, 0);
        st.sender_report(
            &SenderReport {
                ssrc: 5,
                ntp: 0x0001_0002_0003_0004,
                rtp: 0,
                packets: 0,
            },
            0,
        );
        assert_eq!(st.counts().unwrap().sr_ntptime, Some(0x0001_0002_0003_0004));
    }
}
