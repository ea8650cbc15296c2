// SPDX-License-Identifier: MPL-2.0
//! RTP timestamp and sequence walks through the timeline and the receiver statistics
//! (with the counts of `stats`: duplicates, late packets, losses across restarted
//! sequences): any clock rate, any jumps, any arrival times. PTS are never GStreamer's "no time", a
//! walk out of range is refused (None) without changing the timeline, and nothing
//! overflows.
#![no_main]
use gstonvifhttps::testing::rtp::{Header, ReceiverStats, Timeline};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&rate, rest)) = data.split_first() else {
        return;
    };
    let clock_rate = u32::from(rate).max(1) * if rate & 1 == 0 { 1 } else { 90_000 };
    let mut t = Timeline::new(clock_rate);
    let mut stats = ReceiverStats::default();
    let (mut ts, mut seq, mut now) = (0u32, 0u16, 0u64);
    for c in rest.chunks_exact(7) {
        ts = ts.wrapping_add(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        seq = seq.wrapping_add(u16::from_be_bytes([c[4], c[5]]));
        now = now.saturating_add(u64::from(c[6]) * 1_000_000_000);
        if let Some(p) = t.pts(ts, now) {
            assert_ne!(p, u64::MAX);
        }
        let h = Header {
            marker: false,
            payload_type: 96,
            sequence: seq,
            timestamp: ts,
            // A new source now and then (the counts start again).
            ssrc: u32::from(c[6] == 255),
            payload_len: u32::from(c[5]),
        };
        stats.packet(&h, clock_rate, now);
        if c[6] % 5 == 0 {
            let _ = stats.report_block(now);
        }
        // The counts of `stats`: every packet counted once, as received, duplicate or
        // late at most.
        let counts = stats.counts().expect("a packet came");
        assert!(counts.num_duplicates.saturating_add(counts.num_late) <= counts.packets_received);
    }
});
