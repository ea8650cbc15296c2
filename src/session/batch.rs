// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! When a stream's packets are handed to its pad: per frame for video, per read for the
//! rest ([`Batch`]).

use std::time::Duration;

use crate::proto::rtp;

/// The most a video stream's pending packets hold before they go without the rest of
/// their frame (a frame larger than this goes in parts).
pub(super) const FRAME_BYTES: usize = 512 << 10;

/// The longest a video stream's first pending packet waits for the rest of its frame (a
/// device that never sets the marker, and paces a frame over its whole interval).
pub(super) const FRAME_WAIT: Duration = Duration::from_millis(40);

/// When a stream's packets are handed to its pad. The pad's streaming thread wakes for
/// each hand-over, and a camera's packets come one by one: handed over per read, each of
/// 64 streams of 4 Mbit/s woke its thread about 100 times a second (30 per frame, at 25
/// frames a second). Video goes per frame (its last packet has the marker bit, or the
/// next packet has another timestamp; a depayloader waits for the whole frame anyway, so
/// no latency is added); audio and metadata per read.
#[derive(Debug, Default)]
pub(super) struct Batch {
    /// Video: packets wait for the rest of their frame.
    by_frame: bool,
    /// The RTP timestamp of the last packet pending.
    timestamp: Option<u32>,
    /// A frame is complete: what is pending goes at the end of the read.
    due: bool,
    /// Bytes pending.
    bytes: usize,
    /// When the first packet pending came.
    pub(super) since: Option<std::time::Instant>,
    /// Where the current read's buffers (parts of its memory) start in the list, and
    /// their bytes.
    read_from: Option<usize>,
    read_bytes: usize,
}

impl Batch {
    /// Nothing pending; `by_frame`: video, whose packets wait for the rest of their frame.
    pub(super) fn new(by_frame: bool) -> Self {
        Batch {
            by_frame,
            ..Batch::default()
        }
    }

    /// A packet of `size` bytes is added to the list, which held `held` buffers before;
    /// `shared`: its buffer is a part of the read's memory.
    pub(super) fn packet(
        &mut self,
        h: &rtp::Header,
        size: usize,
        shared: bool,
        held: usize,
        now: std::time::Instant,
    ) {
        if held == 0 {
            self.since = Some(now);
        }
        // The packets before are a complete frame.
        if self.timestamp.is_some_and(|t| t != h.timestamp) {
            self.due = true;
        }
        self.timestamp = Some(h.timestamp);
        if h.marker || !self.by_frame {
            self.due = true;
        }
        self.bytes = self.bytes.saturating_add(size);
        if shared {
            self.read_from.get_or_insert(held);
            self.read_bytes = self.read_bytes.saturating_add(size);
        }
    }

    /// Whether what is pending goes now.
    pub(super) fn is_due(&self) -> bool {
        self.due
            || self.bytes >= FRAME_BYTES
            || self.since.is_some_and(|t| t.elapsed() >= FRAME_WAIT)
    }

    /// The end of a read of `read` bytes: where the read's buffers start in the list when
    /// they hold less than half of it (they are to become copies), and the next read
    /// counted afresh.
    pub(super) fn end_read(&mut self, read: usize) -> Option<usize> {
        let bytes = std::mem::take(&mut self.read_bytes);
        self.read_from
            .take()
            .filter(|_| bytes.saturating_mul(2) < read)
    }

    /// Nothing pending any more.
    pub(super) fn clear(&mut self) {
        *self = Batch::new(self.by_frame);
    }
}

/// The buffers of `list` from index `from` on: each a copy of its own bytes (and metas),
/// no longer a part of the read's memory.
pub(super) fn unshare_from(list: &mut gst::BufferList, from: usize) {
    if let Some(list) = list.get_mut() {
        list.foreach_mut(|buffer, i| {
            let buffer = if i < from {
                buffer
            } else {
                buffer.copy_deep().unwrap_or(buffer)
            };
            std::ops::ControlFlow::Continue(Some(buffer))
        });
    }
}
