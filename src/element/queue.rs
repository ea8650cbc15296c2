// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What waits to be pushed on the element's source pads ([`super::pads`]): one queue per
//! pad, all under one lock.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

pub(super) enum Data {
    One(gst::Buffer),
    List(gst::BufferList),
}

pub(super) enum Item {
    Data { data: Data, bytes: usize },
    Caps(gst::Caps),
    Eos,
}

pub(super) struct Stream {
    pub(super) pad: gst::Pad,
    pub(super) caps: gst::Caps,
    /// Buffers get the element's running time as they are pushed (snapshots).
    pub(super) stamp: bool,
    /// The next buffer starts a new run (the first one, and the first after a seek).
    pub(super) discont: bool,
    /// What waits to be pushed on this pad.
    pub(super) items: VecDeque<Item>,
    /// Bytes of the data items in `items`.
    pub(super) bytes: usize,
    /// Data items in `items` (not caps or EOS).
    pub(super) data_items: usize,
    /// Buffers dropped from this pad's queue because downstream was slower.
    pub(super) dropped: u64,
    /// Wakes this pad's streaming thread (waited on with the `queue` lock).
    pub(super) wake: Arc<Condvar>,
    /// The streaming thread waits on `wake` for data: only then is it notified, and
    /// after the lock is released, so that it does not wake into a held lock (each a
    /// futex call and a context switch more, per hand-over).
    pub(super) waiting: bool,
    /// Held by this pad's streaming thread while it pushes one item, and by a seek from
    /// its flush to its new segment.
    pub(super) push: Arc<Mutex<()>>,
}

impl Stream {
    pub(super) fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
        self.data_items = 0;
    }
}

#[derive(Default)]
pub(super) struct Queue {
    pub(super) streams: Vec<Stream>,
    /// Buffers dropped because downstream was slower than the camera.
    pub(super) dropped: u64,
    /// After the stop: each pad's name and the buffers its queue dropped.
    pub(super) ended: Vec<(gst::glib::GString, u64)>,
    /// Packets lost before they became buffers (SRTP failing authentication).
    pub(super) lost: u64,
    /// Buffers pushed.
    pub(super) processed: u64,
    /// When the last QoS message about drops was posted.
    pub(super) last_qos: Option<std::time::Instant>,
    pub(super) playing: bool,
    pub(super) stopping: bool,
    /// Downstream refused for good (not-linked or an error on every pad, or EOS on every
    /// pad): the session stops feeding.
    pub(super) refused: bool,
    /// An EOS was sent to the element: no more data.
    pub(super) eos: bool,
    /// Bumped by each seek: an item taken out before it belongs to the old position.
    pub(super) epoch: u64,
    /// The epoch the session last said it delivers for (`seek_applied`): until it is
    /// `epoch`, what it delivers is of the old position and is dropped.
    pub(super) session_epoch: u64,
}

impl Queue {
    /// The pads flushed for a seek the session has not applied yet: what it delivers is
    /// of the old position.
    pub(super) fn seek_pending(&self) -> bool {
        self.session_epoch != self.epoch
    }

    /// The QoS message due now, if one is: the buffers pushed, and those dropped or lost
    /// (at most one per `interval` while it goes on).
    pub(super) fn qos_due(&mut self, interval: std::time::Duration) -> Option<(u64, u64)> {
        let dropped = self.dropped.saturating_add(self.lost);
        (dropped > 0 && self.last_qos.is_none_or(|t| t.elapsed() >= interval)).then(|| {
            self.last_qos = Some(std::time::Instant::now());
            (self.processed, dropped)
        })
    }

    pub(super) fn wake_all(&self) {
        for s in &self.streams {
            s.wake.notify_all();
        }
    }
}
