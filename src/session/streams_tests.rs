// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Unit tests of [`super`]: packets of a read to buffer lists, per frame or per read.

use super::*;
use crate::client::rtsp::{Located, Packets};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// An element that counts what it is given (and keeps the lists), with a seek pending or
/// not.
#[derive(Default)]
pub(in crate::session) struct Counting {
    pending: AtomicBool,
    lists: AtomicUsize,
    eos: AtomicUsize,
    kept: std::sync::Mutex<Vec<(usize, gst::BufferList)>>,
}

impl Counting {
    /// `(pad, buffers)` of each list pushed so far.
    fn pushed(&self) -> Vec<(usize, usize)> {
        let kept = self.kept.lock().expect("lock");
        kept.iter().map(|(i, l)| (*i, l.len())).collect()
    }
}

impl Output for Counting {
    fn debug(&self, _: std::fmt::Arguments<'_>) {}
    fn warning(&self, _: &str) {}
    fn add_stream(&self, _: &str, _: gst::Caps, _: bool) -> Option<usize> {
        Some(0)
    }
    fn streams_complete(&self) {}
    fn push(&self, _: usize, _: gst::Buffer) -> bool {
        true
    }
    fn push_list(&self, index: usize, list: gst::BufferList) -> bool {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.kept.lock().expect("lock").push((index, list));
        true
    }
    fn end_of_stream(&self, _: usize) {
        self.eos.fetch_add(1, Ordering::SeqCst);
    }
    fn seek_applied(&self, _: u64) {}
    fn seek_pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst)
    }
    fn running_time(&self) -> Option<u64> {
        Some(0)
    }
    fn error(&self, _: &Error) {}
    fn event(&self, _: &crate::proto::onvif::events::Notification) {}
    fn reconnecting(&self, _: Lost, _: &Error, _: u32, _: Duration) {}
}

/// A replay of one video stream on channel 0.
pub(in crate::session) fn replaying() -> SharedStreams {
    let stream = crate::proto::rtsp::sdp::parse(
        b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
          m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
    )
    .expect("sdp")
    .1
    .remove(0);
    let set_up = rtsp::sequence::SetUp {
        prefix: "video",
        stream,
        control: "rtsp://cam/r".into(),
        reply: String::new(),
        granted: rtsp::transport::Reply::default(),
        channels: (0, 1),
        key_sent: false,
    };
    Arc::new(std::sync::Mutex::new(Streams {
        list: vec![StreamState::new(0, &set_up)],
        our_ssrc: 1,
        flowing: true,
        replay: Some(Replay {
            settings: PlaybackSettings {
                recording: None,
                start_ms: Some(0),
                end_ms: None,
                speed: 1.0,
            },
            start_ms: Some(0),
            end_ntp: None,
            pts_offset: 0,
        }),
        now: None,
        stats: Default::default(),
    }))
}

/// The terminal (T) packet of a replay, interleaved on channel 0.
fn terminal_frame() -> Vec<u8> {
    let mut p = vec![0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    p.extend_from_slice(&[0xAB, 0xAC, 0, 3]);
    p.extend_from_slice(&((3_973_000_000u64 << 32).to_be_bytes()));
    p.extend_from_slice(&[0x90, 0x01, 0, 0]); // C and T
    p.extend_from_slice(b"data");
    let mut frame = vec![b'$', 0];
    frame.extend_from_slice(&u16::try_from(p.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&p);
    frame
}

/// Review of issue 24: between the pads' flush for a seek and the seek's PLAY answer,
/// a replay's packets are of the old position; its last packet must not end the new
/// segment (nor move the recorded time the replay resumes from).
#[test]
fn test_the_old_position_does_not_end_a_seeked_replay() {
    gst::init().expect("gst init");
    let streams = replaying();
    let out = Counting::default();
    let frame = terminal_frame();
    let located = [Located {
        channel: 0,
        range: 4..frame.len(),
    }];
    out.pending.store(true, Ordering::SeqCst);
    Deliver {
        streams: &streams,
        out: &out,
    }
    .read(frame.clone(), &located);
    let st = streams.lock().expect("lock");
    assert_eq!(
        out.eos.load(Ordering::SeqCst),
        0,
        "no EOS from the old position"
    );
    assert_eq!(out.lists.load(Ordering::SeqCst), 0);
    assert!(!st.list[0].ended);
    assert_eq!(st.last_recorded_ms(), None);
    drop(st);
    // Applied: the same packet ends the stream.
    out.pending.store(false, Ordering::SeqCst);
    Deliver {
        streams: &streams,
        out: &out,
    }
    .read(frame, &located);
    assert_eq!(out.eos.load(Ordering::SeqCst), 1);
    assert_eq!(out.lists.load(Ordering::SeqCst), 1);
}

/// A packet of a read is a part of the read's memory: its buffer points into it.
#[test]
pub(super) fn test_a_packet_of_a_read_is_not_copied() {
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

/// Live (not a replay): video on channels 0-1 (pad 0), audio on 2-3 (pad 1).
fn live() -> SharedStreams {
    let (_, streams) = crate::proto::rtsp::sdp::parse(
        b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
          m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
          m=audio 0 RTP/AVP 0\r\n",
    )
    .expect("sdp");
    let list = streams
        .into_iter()
        .enumerate()
        .map(|(i, stream)| {
            let ch = u8::try_from(2 * i).expect("small");
            let set_up = rtsp::sequence::SetUp {
                prefix: if i == 0 { "video" } else { "audio" },
                stream,
                control: format!("rtsp://cam/s{i}"),
                reply: String::new(),
                granted: rtsp::transport::Reply::default(),
                channels: (ch, ch + 1),
                key_sent: false,
            };
            StreamState::new(i, &set_up)
        })
        .collect();
    Arc::new(std::sync::Mutex::new(Streams {
        list,
        our_ssrc: 1,
        flowing: true,
        replay: None,
        now: None,
        stats: Default::default(),
    }))
}

/// An RTP packet (version 2, PT 96) with `payload` bytes.
fn rtp(seq: u16, ts: u32, marker: bool, payload: usize) -> Vec<u8> {
    let mut p = vec![0x80, if marker { 0x80 | 96 } else { 96 }];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&7u32.to_be_bytes());
    p.resize(12 + payload, 0x55);
    p
}

/// One read holding `packets` as interleaved frames `(channel, packet)`, handed on.
fn read(streams: &SharedStreams, out: &Counting, packets: &[(u8, Vec<u8>)]) {
    let mut bytes = Vec::new();
    let mut located = Vec::new();
    for (channel, p) in packets {
        bytes.extend_from_slice(&[b'$', *channel]);
        bytes.extend_from_slice(&u16::try_from(p.len()).expect("small").to_be_bytes());
        let at = bytes.len();
        bytes.extend_from_slice(p);
        located.push(Located {
            channel: *channel,
            range: at..bytes.len(),
        });
    }
    Deliver { streams, out }.read(bytes, &located);
}

/// Issue 24 point 7: a video frame goes to its pad in one list once its last packet
/// (marker) came, however many reads it took; audio goes at the end of each read.
#[test]
fn test_video_goes_per_frame_and_audio_per_read() {
    gst::init().expect("gst init");
    let streams = live();
    let out = Counting::default();
    read(&streams, &out, &[(0, rtp(1, 900, false, 1000))]);
    read(&streams, &out, &[(0, rtp(2, 900, false, 1000))]);
    assert_eq!(out.pushed(), [], "a frame without its end waits");
    read(&streams, &out, &[(2, rtp(1, 160, false, 160))]);
    assert_eq!(out.pushed(), [(1, 1)], "audio goes at the end of its read");
    read(
        &streams,
        &out,
        &[(0, rtp(3, 900, true, 1000)), (2, rtp(2, 320, false, 160))],
    );
    assert_eq!(
        out.pushed(),
        [(1, 1), (0, 3), (1, 1)],
        "the frame's three packets in one list"
    );
}

/// A device that never sets the marker: the frame is complete when a packet of the next
/// one comes (it goes with that read, as a depayloader would see it end); a frame that
/// grows past `FRAME_BYTES` or waits `FRAME_WAIT` goes without its end.
#[test]
fn test_a_frame_without_a_marker_goes_when_the_next_begins_or_it_is_too_big_or_old() {
    gst::init().expect("gst init");
    let streams = live();
    let out = Counting::default();
    read(&streams, &out, &[(0, rtp(1, 900, false, 1000))]);
    read(&streams, &out, &[(0, rtp(2, 900, false, 1000))]);
    read(&streams, &out, &[(0, rtp(3, 1800, false, 1000))]);
    assert_eq!(out.pushed(), [(0, 3)]);
    // Too big: 9 packets of 60,000 bytes pass 512 KiB.
    for seq in 10..18 {
        read(&streams, &out, &[(0, rtp(seq, 5000, false, 60_000))]);
    }
    assert_eq!(out.pushed(), [(0, 3)], "8 x 60,000 bytes still wait");
    read(&streams, &out, &[(0, rtp(18, 5000, false, 60_000))]);
    assert_eq!(out.pushed(), [(0, 3), (0, 9)]);
    // Too old: the first packet came FRAME_WAIT ago.
    read(&streams, &out, &[(0, rtp(19, 5000, false, 100))]);
    assert_eq!(out.pushed().len(), 2);
    let past = std::time::Instant::now()
        .checked_sub(super::super::batch::FRAME_WAIT)
        .expect("the clock is past FRAME_WAIT");
    streams.lock().expect("lock").list[0].batch.since = Some(past);
    read(&streams, &out, &[(0, rtp(20, 5000, false, 100))]);
    assert_eq!(out.pushed(), [(0, 3), (0, 9), (0, 2)]);
}

/// A frame pending when a seek's PAUSE is answered is of the old position: dropped, never
/// pushed after the seek. A session that ends pushes what is pending.
#[test]
fn test_a_pending_frame_is_dropped_by_a_seek_and_pushed_when_the_session_ends() {
    gst::init().expect("gst init");
    let streams = live();
    let out = Counting::default();
    read(&streams, &out, &[(0, rtp(1, 900, false, 1000))]);
    streams.lock().expect("lock").hold();
    streams.lock().expect("lock").release(&[], &out);
    read(&streams, &out, &[(0, rtp(2, 1800, true, 1000))]);
    assert_eq!(out.pushed(), [(0, 1)], "only the new position's packet");
    read(&streams, &out, &[(0, rtp(3, 2700, false, 1000))]);
    streams.lock().expect("lock").flush_all(&out);
    assert_eq!(out.pushed(), [(0, 1), (0, 1)]);
}

/// Issue 23 point 2: the buffers of a stream that keeps less than half of its read get
/// copies, even while its frame waits for more reads; a stream that uses most of its read
/// keeps sharing it (no copy after TLS).
#[test]
pub(super) fn test_buffers_holding_little_of_their_read_are_copied() {
    gst::init().expect("gst init");
    let streams = live();
    let out = Counting::default();
    // A 12-byte video packet read with a 60,000-byte frame on a channel nobody reads.
    read(
        &streams,
        &out,
        &[(0, rtp(1, 900, false, 0)), (9, vec![0; 60_000])],
    );
    // The rest of the frame: 40 packets, most of their read.
    let rest: Vec<_> = (2..42)
        .map(|seq| (0u8, rtp(seq, 900, seq == 41, 1500)))
        .collect();
    read(&streams, &out, &rest);
    let pushed = out.pushed();
    let kept = out.kept.lock().expect("lock");
    let [(0, list)] = kept.as_slice() else {
        panic!("one list: {pushed:?}");
    };
    assert_eq!(list.len(), 41);
    // The first buffer is a copy (a memory of its own); the other 40 are parts of one
    // memory (their read's).
    let parent_of = |i: usize| {
        let b = list.get(i).expect("buffer");
        b.peek_memory(0).parent().map(|p| p.as_ptr())
    };
    let shared: std::collections::HashSet<_> = (1..41).map(parent_of).collect();
    assert_eq!(shared.len(), 1, "the 40 share one memory");
    assert!(
        shared.iter().all(Option::is_some),
        "the 40 are parts of their read"
    );
    assert_eq!(parent_of(0), None, "the small packet is a copy");
    assert_eq!(list.get(0).expect("buffer").size(), 12);
    assert_eq!(
        list.get(0).expect("buffer").pts(),
        list.get(1).expect("buffer").pts(),
        "the copy keeps its PTS"
    );
}

/// A stream SET UP as SRTP over UDP takes nothing interleaved: a frame on its channels
/// (a device sending `$` frames all the same) would be ciphertext on the pad.
#[test]
fn test_an_srtp_stream_takes_nothing_interleaved() {
    gst::init().expect("gst init");
    let streams = live();
    streams.lock().unwrap().list[1].srtp = true;
    let out = Counting::default();
    read(
        &streams,
        &out,
        &[(2, rtp(1, 160, false, 160)), (0, rtp(1, 900, true, 100))],
    );
    assert_eq!(out.pushed(), [(0, 1)], "the video only");
}
