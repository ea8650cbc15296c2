// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! `tiny_packet_flood`: right after the PLAY answer, a hostile device's media in the two
//! shapes that make small packets expensive to a client that keeps them.
//!
//! - Interleaved (tunnel or RTSP over TCP): a 12-byte RTP packet on the first stream's
//!   channel, then a 65,535-byte frame, on channel 200 (which nobody set up) and on the
//!   stream's own channel in turn, the latter not RTP (version 0). A reader that hands
//!   each packet on as a part of the bytes it read keeps the whole frame alive with each
//!   12 bytes.
//! - UDP: 12-byte RTP datagrams to the client's RTP port, from a port of the device's
//!   address (the SETUP answer names no `server_port`, as some cameras do, so any port of
//!   the device's address is the device's).
//!
//! Each flood waits until the test opens the gate (`Stats::open_flood`; the binary opens it
//! at start), so that what the client held before is measured first.

use std::sync::atomic::Ordering;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::Shared;

/// The channel of the large frames: one no SETUP ever asks for.
const UNUSED_CHANNEL: u8 = 200;

/// A 12-byte RTP packet (no payload): version 2, payload type 96, `seq`, one timestamp
/// per 100 packets.
fn tiny_rtp(seq: u16, ssrc: u32) -> [u8; 12] {
    let mut p = [0u8; 12];
    p[0] = 0x80;
    p[1] = 96;
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(u32::from(seq / 100) * 3600).to_be_bytes());
    p[8..12].copy_from_slice(&ssrc.to_be_bytes());
    p
}

/// Writes `count` pairs of a 12-byte RTP packet on `channel` and a 65,535-byte frame (on
/// [`UNUSED_CHANNEL`] and on `channel` in turn) to `out`; counted in `flood_sent` as they go, `flood_done` at the end.
pub async fn interleaved<W: AsyncWrite + Unpin>(
    out: &mut W,
    shared: &Shared,
    channel: u8,
    count: u32,
) -> std::io::Result<()> {
    shared.stats.flood_gate().await;
    let mut unit = Vec::with_capacity(4 + 12 + 4 + 65_535);
    for i in 0..count {
        unit.clear();
        unit.extend_from_slice(&[b'$', channel, 0, 12]);
        unit.extend_from_slice(&tiny_rtp(i as u16, 0x5EED));
        // Every other large frame on the stream's own channel, as a packet that is not
        // RTP (version 0): what counts is what the client keeps, not the channel.
        let big = if i % 2 == 0 { UNUSED_CHANNEL } else { channel };
        unit.extend_from_slice(&[b'$', big, 0xFF, 0xFF, 0x00]);
        unit.resize(unit.len() + 65_534, 0xA5);
        out.write_all(&unit).await?;
        shared
            .stats
            .flood_sent
            .fetch_add(unit.len() as u64, Ordering::SeqCst);
    }
    out.flush().await?;
    shared.stats.flood_finished();
    Ok(())
}

/// Sends `count` 12-byte RTP datagrams to `to`, 100 at a time with a millisecond between
/// (about 100,000 a second: what a client can take, so that few are lost in the kernel).
pub async fn udp(shared: &Shared, to: std::net::SocketAddr, count: u32) {
    shared.stats.flood_gate().await;
    if let Ok(sock) = tokio::net::UdpSocket::bind("127.0.0.1:0").await {
        for i in 0..count {
            if sock.send_to(&tiny_rtp(i as u16, 0x5EED), to).await.is_err() {
                break;
            }
            shared.stats.flood_sent.fetch_add(12, Ordering::SeqCst);
            if i % 100 == 99 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
    }
    shared.stats.flood_finished();
}
