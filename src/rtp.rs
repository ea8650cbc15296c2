// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! RTP header fields and presentation times from RTP timestamps, without I/O.
//!
//! Over TCP (and the HTTPS tunnel) packets arrive in bursts; timestamping them on arrival
//! would give jittery PTS. Each stream is anchored once, at the running time its first
//! packet arrived, and from then on its PTS follow the RTP clock: smooth and monotonic
//! for a camera that encodes without B-frames.

/// The fields of a fixed RTP header (RFC 3550 §5.1) the element uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// Parses the fixed header; `None` for anything that is not RTP version 2.
pub fn parse_header(p: &[u8]) -> Option<Header> {
    if p.len() < 12 || p[0] >> 6 != 2 {
        return None;
    }
    Some(Header {
        marker: p[1] & 0x80 != 0,
        payload_type: p[1] & 0x7F,
        sequence: u16::from_be_bytes([p[2], p[3]]),
        timestamp: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        ssrc: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
    })
}

/// Maps one stream's RTP timestamps to running times in nanoseconds.
#[derive(Debug, Clone)]
pub struct Timeline {
    clock_rate: u64,
    /// (extended timestamp of the first packet, running time it arrived at)
    anchor: Option<(i64, u64)>,
    last_ts: u32,
    last_ext: i64,
}

impl Timeline {
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate: u64::from(clock_rate.max(1)),
            anchor: None,
            last_ts: 0,
            last_ext: 0,
        }
    }

    /// The PTS of a packet with `timestamp`, arriving at running time `now_ns`.
    pub fn pts(&mut self, timestamp: u32, now_ns: u64) -> u64 {
        let ext = match self.anchor {
            None => {
                let ext = i64::from(timestamp);
                self.anchor = Some((ext, now_ns));
                ext
            }
            // Unwrap: the signed distance to the previous timestamp.
            Some(_) => self.last_ext + i64::from(timestamp.wrapping_sub(self.last_ts) as i32),
        };
        self.last_ts = timestamp;
        self.last_ext = ext;
        let (first, anchor_ns) = self.anchor.expect("set above");
        let delta = ext - first;
        let offset_ns =
            (delta.unsigned_abs() as u128 * 1_000_000_000 / self.clock_rate as u128) as u64;
        if delta >= 0 {
            anchor_ns.saturating_add(offset_ns)
        } else {
            anchor_ns.saturating_sub(offset_ns)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                ssrc: 0xDEADBEEF
            })
        );
        assert_eq!(parse_header(&p[..11]), None);
        assert_eq!(parse_header(&[0x40; 12]), None, "version 1");
    }

    #[test]
    fn test_pts_follow_rtp_clock_not_arrival() {
        let mut t = Timeline::new(90_000);
        assert_eq!(t.pts(1000, 5_000_000_000), 5_000_000_000);
        // 40 ms later in RTP time, arriving in a burst at the same instant.
        assert_eq!(t.pts(1000 + 3600, 5_000_000_000), 5_040_000_000);
        assert_eq!(t.pts(1000 + 7200, 5_001_000_000), 5_080_000_000);
    }

    #[test]
    fn test_wraparound() {
        let mut t = Timeline::new(90_000);
        let start = u32::MAX - 1799;
        assert_eq!(t.pts(start, 0), 0);
        assert_eq!(
            t.pts(start.wrapping_add(3600), 1),
            40_000_000,
            "across the 32-bit wrap"
        );
        assert_eq!(t.pts(start.wrapping_add(7200), 2), 80_000_000);
    }
}
