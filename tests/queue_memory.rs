// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Issue 23 point 2: what the element holds while nothing downstream takes its buffers
//! (a PAUSED pipeline: a live source queues and does not push), against a device that
//! makes small packets expensive. The queue is bounded at 4 MiB of charged bytes per pad;
//! the process's resident memory must grow by far less than what the device sent.
//!
//! - Interleaved: each 12-byte RTP packet comes with a 65,535-byte frame on a channel
//!   never set up. Before, each packet's buffer shared the whole read and the queue
//!   counted 12 bytes: the element grew by what the device sent.
//! - UDP: 12-byte datagrams. Before, the queue counted 12 bytes for each, which costs
//!   about 400 in buffers: it could hold 350,000 of them.
//!
//! The camera runs in this process, so the memory is measured from the moment its media
//! is playing and its flood is due (held behind a gate until then), not from before its
//! encoder started. The two tests take turns (resident memory is the process's).

use std::sync::Mutex;
use std::time::Duration;

use gst::prelude::*;

mod common;
use common::*;

/// One test at a time: resident memory is shared by the whole process.
static ALONE: Mutex<()> = Mutex::new(());

/// The process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

const MIB: u64 = 1024 * 1024;

/// What the element may add while paused: the queue's 4 MiB charged (a shared read keeps
/// at most twice its count alive), the sockets' buffers as they drain, the allocator's
/// slack.
const BOUND: u64 = 24 * MIB;

/// Runs `method` against a camera flooding `count` tiny packets, PAUSED until the flood
/// is sent; the growth of resident memory, what the camera sent, and the buffers the
/// element reported dropped (QoS).
fn paused_through_flood(method: &str, count: u32) -> (u64, u64, u64) {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    init();
    let (cam, ca) = camera(Config {
        faults: Faults {
            tiny_packet_flood: Some(count),
            ..Faults::default()
        },
        ..Config::default()
    });
    let loc = format!("http://127.0.0.1:{}", cam.http_port());
    let run = Run::new(&[
        ("location", &loc),
        ("user-id", &"admin"),
        ("user-pw", &"password"),
        ("tls-ca-file", &ca.as_str()),
        ("streaming-method", &method),
        ("streams", &"video"),
        ("timeout", &10u32),
    ]);
    assert_eq!(
        run.pipeline.set_state(gst::State::Paused),
        Ok(gst::StateChangeSuccess::NoPreroll)
    );
    let due = cam.stats.wait_flood_due(Duration::from_secs(20));
    let before = rss();
    cam.stats.open_flood();
    let sent_whole = due && cam.stats.wait_flood(Duration::from_secs(60));
    let grown = rss().saturating_sub(before);
    let sent = cam
        .stats
        .flood_sent
        .load(std::sync::atomic::Ordering::SeqCst);
    let mut dropped = 0;
    let mut errors = Vec::new();
    let bus = run.pipeline.bus().expect("bus");
    while let Some(msg) = bus.pop() {
        match msg.view() {
            gst::MessageView::Qos(q) => {
                let (_, d) = q.stats();
                dropped = d.value().max(0).cast_unsigned().max(dropped);
            }
            gst::MessageView::Error(e) => errors.push(e.error().to_string()),
            _ => {}
        }
    }
    null_within_a_second(&run.pipeline);
    eprintln!(
        "{method}: resident memory +{:.1} MiB after {:.1} MiB sent, {dropped} buffers dropped",
        grown as f64 / MIB as f64,
        sent as f64 / MIB as f64
    );
    assert!(due, "no PLAY answered within 20 s");
    assert!(
        sent_whole,
        "the flood was not sent within 60 s ({sent} bytes)"
    );
    assert!(errors.is_empty(), "{errors:?}");
    (grown, sent, dropped)
}

/// Fails on 2e66327: resident memory grew by about what the camera sent.
#[test]
fn test_small_packets_do_not_pin_the_frames_read_with_them() {
    let (grown, sent, _) = paused_through_flood("rtp-rtsp-tcp", 3_000);
    assert!(sent >= 3_000 * 65_535, "{sent}");
    assert!(
        grown < BOUND,
        "resident memory grew by {} MiB while paused, after {} MiB sent",
        grown / MIB,
        sent / MIB
    );
}

/// Fails on 2e66327: the queue held every datagram, at about 400 bytes each.
#[test]
fn test_tiny_datagrams_cost_the_queue_what_they_hold() {
    let (grown, sent, dropped) = paused_through_flood("rtp-udp", 400_000);
    // The queue overflowed: the datagrams reached it.
    assert!(
        dropped >= 50_000,
        "{dropped} dropped after {sent} bytes sent"
    );
    assert!(
        grown < BOUND,
        "resident memory grew by {} MiB while paused, after {} datagrams ({dropped} \
         dropped from the queue)",
        grown / MIB,
        sent / 12
    );
}
