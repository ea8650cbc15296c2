// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The element's source pads, each with its own bounded queue and streaming thread.
//!
//! The session hands over what one read produced (one `BufferList` per pad) into the
//! pad's bounded queue; one `gst::Task` per pad takes it out and pushes it, as rtspsrc
//! has one thread per pad. A branch that blocks (a sink waiting for its preroll while the
//! pipeline waits for the other sinks, a paused or slow sink) therefore never starves
//! another pad: `c.video_0 ! fakesink c.audio_0 ! fakesink` plays without queues. A
//! video-only camera costs one streaming thread. A slow downstream never blocks the
//! runtime's workers (a sink that syncs on the clock blocks its pusher for up to the
//! latency). When downstream is slower than the camera, the oldest data of that pad goes
//! and is counted. Flow returns go through a [`gst_base::UniqueFlowCombiner`]: an unlinked
//! or flushing pad does not stop the others. A seek (replay) is handled once for all pads,
//! whichever pad it comes in on.
//!
//! Lock order: a stream's `push` before `queue` (a seek takes every `push` in index
//! order); `queue` before `combiner`. A seek takes `queue` and lets it go before it takes
//! the `push` locks.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;

use crate::log::CAT;

use super::queue::{Data, Item, Queue, Stream};

/// How long the streaming thread waits for data before it looks at its state again (a
/// safety net: every change that matters also wakes it).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// At most one QoS message about dropped data per this interval.
const QOS_INTERVAL: Duration = Duration::from_secs(1);

/// What each queued buffer and list is charged beyond its bytes: its `GstBuffer` (or
/// `GstBufferList`), `GstMemory` and the allocator's own bookkeeping, about 300 bytes
/// measured. Without it a flood of 12-byte packets held 350,000 of them in a 4 MiB queue
/// (over 150 MB).
const ITEM_OVERHEAD: usize = 256;

/// What a pad's queue may hold before its oldest data is dropped.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Bytes per pad (RTP), each buffer and list charged [`ITEM_OVERHEAD`] more.
    pub bytes_per_pad: usize,
    /// Buffers or lists per pad (snapshots: a live source wants the newest image).
    pub items: usize,
}

/// A seek in a replay goes to the session as a [`Command::Seek`] on its command channel.
pub(super) struct SeekHook {
    pub commands: crate::session::command::WeakCommander,
}

/// The source pads of one started element.
pub(super) struct Pads {
    element: glib::WeakRef<super::OnvifHttpsSrc>,
    queue: Mutex<Queue>,
    combiner: Mutex<gst_base::UniqueFlowCombiner>,
    limits: Limits,
    latency: gst::ClockTime,
    seek: Option<SeekHook>,
    /// The seqnum of the last seek handled: every sink sends the same seek upstream.
    last_seek: Mutex<Option<gst::Seqnum>>,
    segment: Mutex<gst::FormattedSegment<gst::ClockTime>>,
    group: gst::GroupId,
    /// One streaming thread per pad, in the order of `Queue::streams`.
    tasks: Mutex<Vec<gst::Task>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs a pad function; a panic must not unwind into GStreamer's C code: it is logged and
/// the event or query is refused.
fn guarded(pad: &gst::Pad, what: &str, f: impl FnOnce() -> bool) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(handled) => handled,
        Err(payload) => {
            let msg = crate::runtime::panic_message(payload.as_ref());
            gst::error!(CAT, obj = pad, "the {what} function panicked: {msg}");
            false
        }
    }
}

impl Pads {
    /// Pads for one start of `element`; each pad's streaming thread starts with the pad
    /// (it pushes once the element is PLAYING).
    pub(super) fn start(
        element: &super::OnvifHttpsSrc,
        limits: Limits,
        latency: gst::ClockTime,
        seek: Option<SeekHook>,
    ) -> Arc<Pads> {
        Arc::new(Pads {
            element: element.downgrade(),
            queue: Mutex::new(Queue::default()),
            combiner: Mutex::new(gst_base::UniqueFlowCombiner::new()),
            limits,
            latency,
            seek,
            last_seek: Mutex::new(None),
            segment: Mutex::new(gst::FormattedSegment::new()),
            group: gst::GroupId::next(),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// The streaming thread of stream `index` (named after the element and the pad).
    fn spawn_task(
        self: &Arc<Self>,
        element: &super::OnvifHttpsSrc,
        pad: &str,
        index: usize,
    ) -> Result<gst::Task, glib::BoolError> {
        let weak = Arc::downgrade(self);
        let task = gst::Task::builder(move |task| {
            let Some(pads) = weak.upgrade() else {
                let _ = task.pause();
                return;
            };
            // A panic must not unwind into GstTask's C code: an error, and the thread ends.
            if let Err(payload) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pads.run_once(index)))
            {
                let msg = crate::runtime::panic_message(payload.as_ref());
                if let Some(element) = pads.element.upgrade() {
                    gst::element_error!(
                        element,
                        gst::LibraryError::Failed,
                        (
                            "internal error: the streaming thread panicked ({}); the stream has stopped, please report this",
                            msg
                        )
                    );
                }
                locked(&pads.queue).refused = true;
                let _ = task.pause();
            }
        })
        .build();
        // The thread carries the name (shown by top -H and in debug logs).
        task.set_property("name", format!("{}:{pad}", element.name()));
        task.start()?;
        Ok(task)
    }

    /// Adds the pad `name` from `template` with `caps`, or gives the caps to the pad of
    /// that name when it is there already (a reconnection). Returns its index. `stamp`:
    /// buffers get the running time as they are pushed.
    pub(super) fn add(self: &Arc<Self>, name: &str, caps: gst::Caps, stamp: bool) -> Option<usize> {
        let element = self.element.upgrade()?;
        {
            let mut q = locked(&self.queue);
            if let Some(index) = q.streams.iter().position(|s| s.pad.name() == name) {
                let s = &mut q.streams[index];
                if s.caps != caps {
                    s.caps = caps.clone();
                    Self::enqueue_control(s, Item::Caps(caps));
                }
                return Some(index);
            }
        }
        let template = name.rsplit_once('_').map(|(p, _)| format!("{p}_%u"))?;
        let templ = element.pad_template(&template)?;
        let weak = Arc::downgrade(self);
        let weak_query = weak.clone();
        let pad = gst::Pad::builder_from_template(&templ)
            .name(name)
            .event_function(move |pad, _parent, event| {
                let pads = weak.upgrade();
                guarded(pad, "event", || {
                    pads.is_some_and(|pads| pads.src_event(pad, event))
                })
            })
            .query_function(move |pad, parent, query| {
                let pads = weak_query.upgrade();
                guarded(pad, "query", || {
                    pads.is_some_and(|pads| pads.src_query(pad, parent, query))
                })
            })
            .build();
        pad.use_fixed_caps();
        pad.set_active(true).ok()?;
        let stream_id = pad.create_stream_id(&element, Some(name));
        let start = gst::event::StreamStart::builder(&stream_id)
            .group_id(self.group)
            .build();
        let segment = gst::event::Segment::new(&*locked(&self.segment));
        for ev in [start, gst::event::Caps::new(&caps), segment] {
            if pad.store_sticky_event(&ev).is_err() {
                gst::warning!(CAT, obj = pad, "could not store {:?}", ev.type_());
            }
        }
        // The stream and its thread first, under the tasks lock so that a shutdown joins
        // the thread (the thread pushes nothing before the stream gets data).
        let index = {
            let mut tasks = locked(&self.tasks);
            let index = {
                let mut q = locked(&self.queue);
                if q.stopping {
                    let _ = pad.set_active(false);
                    return None;
                }
                q.streams.push(Stream {
                    pad: pad.clone(),
                    caps,
                    stamp,
                    discont: true,
                    items: VecDeque::new(),
                    bytes: 0,
                    data_items: 0,
                    dropped: 0,
                    wake: Arc::new(Condvar::new()),
                    waiting: false,
                    push: Arc::new(Mutex::new(())),
                });
                q.streams.len() - 1
            };
            match self.spawn_task(&element, name, index) {
                Ok(task) => tasks.push(task),
                Err(e) => {
                    {
                        let mut q = locked(&self.queue);
                        if q.streams.len() == index + 1 {
                            q.streams.pop();
                        }
                    }
                    let _ = pad.set_active(false);
                    gst::element_error!(
                        element,
                        gst::CoreError::Thread,
                        ("could not start the streaming thread of {}: {}", name, e)
                    );
                    return None;
                }
            }
            index
        };
        locked(&self.combiner).add_pad(&pad);
        // Then the pad: the application links it in `pad-added`, before its first buffer.
        element.add_pad(&pad).ok()?;
        // A shutdown meanwhile took the stream but could not remove a pad not added yet.
        if locked(&self.queue).stopping {
            let _ = pad.set_active(false);
            let _ = element.remove_pad(&pad);
            return None;
        }
        Some(index)
    }

    /// Queues `list` for stream `index`; false when downstream no longer takes data.
    pub(super) fn push_list(&self, index: usize, list: gst::BufferList) -> bool {
        let bytes = list
            .len()
            .saturating_add(1)
            .saturating_mul(ITEM_OVERHEAD)
            .saturating_add(list.calculate_size());
        self.enqueue(index, Data::List(list), bytes)
    }

    /// Queues `buffer` for stream `index`; false as for [`Pads::push_list`].
    pub(super) fn push(&self, index: usize, buffer: gst::Buffer) -> bool {
        let bytes = buffer.size().saturating_add(ITEM_OVERHEAD);
        self.enqueue(index, Data::One(buffer), bytes)
    }

    /// The session delivers for the seek of `epoch` from now on.
    pub(super) fn seek_applied(&self, epoch: u64) {
        locked(&self.queue).session_epoch = epoch;
    }

    /// The pads flushed for a seek the session has not applied yet.
    pub(super) fn seek_pending(&self) -> bool {
        locked(&self.queue).seek_pending()
    }

    /// Stream `index` ends once what is queued for it is pushed.
    pub(super) fn end_of_stream(&self, index: usize) {
        let mut q = locked(&self.queue);
        // The end of the old position, after the pads flushed for a seek: not the end of
        // the new segment.
        if q.seek_pending() {
            return;
        }
        if let Some(s) = q.streams.get_mut(index) {
            Self::enqueue_control(s, Item::Eos);
        }
    }

    /// An EOS sent to the element: every pad ends after what is queued, and nothing more
    /// is taken.
    pub(super) fn send_eos(&self) {
        let mut q = locked(&self.queue);
        if q.eos {
            return;
        }
        q.eos = true;
        for s in q.streams.iter_mut() {
            Self::enqueue_control(s, Item::Eos);
        }
    }

    /// The element is (or no longer is) PLAYING: a live source pushes only then.
    pub(super) fn set_playing(&self, playing: bool) {
        let mut q = locked(&self.queue);
        q.playing = playing;
        q.wake_all();
    }

    /// Stops the streaming threads and removes the pads.
    pub(super) fn shutdown(&self) {
        let streams = {
            let mut q = locked(&self.queue);
            q.stopping = true;
            q.wake_all();
            for s in q.streams.iter_mut() {
                s.clear();
            }
            // What the queues were stays readable (`stats`).
            q.ended = q
                .streams
                .iter()
                .map(|s| (s.pad.name(), s.dropped))
                .collect();
            std::mem::take(&mut q.streams)
        };
        // Flushing: a push blocked downstream returns.
        for s in &streams {
            let _ = s.pad.set_active(false);
        }
        let tasks = std::mem::take(&mut *locked(&self.tasks));
        for task in tasks {
            let _ = task.stop();
            if task.join().is_err() {
                gst::warning!(CAT, "a streaming thread could not be joined");
            }
        }
        locked(&self.combiner).clear();
        if let Some(element) = self.element.upgrade() {
            for s in streams {
                let _ = element.remove_pad(&s.pad);
            }
        }
    }

    fn enqueue(&self, index: usize, data: Data, bytes: usize) -> bool {
        let mut q = locked(&self.queue);
        if q.refused || q.stopping {
            return false;
        }
        if q.eos || index >= q.streams.len() {
            return true;
        }
        // A replay between a flush and the seek's PLAY answer: the packets are of the old
        // position. The epoch moves under this lock, as the queue is cleared.
        if q.seek_pending() {
            return true;
        }
        let limits = self.limits;
        let mut dropped = 0u64;
        let wake = {
            let Some(s) = q.streams.get_mut(index) else {
                return true;
            };
            while (s.data_items >= limits.items
                || s.bytes.saturating_add(bytes) > limits.bytes_per_pad)
                && s.data_items > 0
            {
                dropped = dropped.saturating_add(Self::drop_oldest(s));
            }
            s.dropped = s.dropped.saturating_add(dropped);
            s.items.push_back(Item::Data { data, bytes });
            s.bytes = s.bytes.saturating_add(bytes);
            s.data_items += 1;
            std::mem::take(&mut s.waiting).then(|| s.wake.clone())
        };
        if dropped > 0 {
            if q.dropped == 0
                && let Some(element) = self.element.upgrade()
            {
                gst::warning!(
                    CAT,
                    obj = element,
                    "downstream is slower than the camera: dropping the oldest data \
                     (counted in QoS messages)"
                );
            }
            q.dropped = q.dropped.saturating_add(dropped);
        }
        let qos = q.qos_due(QOS_INTERVAL);
        drop(q);
        if let Some(wake) = wake {
            wake.notify_one();
        }
        if let Some((processed, dropped)) = qos {
            self.post_qos(processed, dropped);
        }
        true
    }

    /// Each pad's name and the buffers its queue dropped, by pad index (after the
    /// stop, as they were).
    pub fn queues(&self) -> Vec<(glib::GString, u64)> {
        let q = locked(&self.queue);
        if q.stopping {
            return q.ended.clone();
        }
        q.streams
            .iter()
            .map(|s| (s.pad.name(), s.dropped))
            .collect()
    }

    /// `n` packets lost before they became buffers (SRTP failing authentication): counted
    /// with the queue's drops in the QoS messages.
    pub fn lost(&self, n: u64) {
        let qos = {
            let mut q = locked(&self.queue);
            q.lost = q.lost.saturating_add(n);
            q.qos_due(QOS_INTERVAL)
        };
        if let Some((processed, dropped)) = qos {
            self.post_qos(processed, dropped);
        }
    }

    /// A QoS message with the buffers pushed and dropped so far (the way a live source
    /// says it loses data).
    fn post_qos(&self, processed: u64, dropped: u64) {
        let Some(element) = self.element.upgrade() else {
            return;
        };
        let msg = gst::message::Qos::builder(true)
            .running_time(element.current_running_time())
            .stats(
                gst::format::Buffers::from_u64(processed),
                gst::format::Buffers::from_u64(dropped),
            )
            .src(&element)
            .build();
        let _ = element.post_message(msg);
    }

    fn enqueue_control(s: &mut Stream, item: Item) {
        s.items.push_back(item);
        s.wake.notify_one();
    }

    /// Drops the oldest data item of `s`; the number of buffers it held.
    fn drop_oldest(s: &mut Stream) -> u64 {
        let Some(pos) = s.items.iter().position(|i| matches!(i, Item::Data { .. })) else {
            return 0;
        };
        let Some(Item::Data { data, bytes }) = s.items.remove(pos) else {
            return 0;
        };
        s.bytes = s.bytes.saturating_sub(bytes);
        s.data_items = s.data_items.saturating_sub(1);
        // The next buffer of that stream does not follow the last one pushed.
        s.discont = true;
        match &data {
            Data::One(_) => 1,
            Data::List(l) => u64::try_from(l.len()).unwrap_or(u64::MAX),
        }
    }

    /// One turn of stream `index`'s streaming thread: waits for an item (while PLAYING)
    /// and pushes it.
    fn run_once(&self, index: usize) {
        let (item, epoch, push) = {
            let mut q = locked(&self.queue);
            loop {
                if q.stopping {
                    return;
                }
                let playing = q.playing;
                let epoch = q.epoch;
                let Some(s) = q.streams.get_mut(index) else {
                    return;
                };
                if playing && let Some(item) = s.items.pop_front() {
                    if let Item::Data { bytes, .. } = &item {
                        s.bytes = s.bytes.saturating_sub(*bytes);
                        s.data_items = s.data_items.saturating_sub(1);
                    }
                    break (item, epoch, s.push.clone());
                }
                let wake = s.wake.clone();
                s.waiting = true;
                let (guard, timeout) = wake
                    .wait_timeout(q, IDLE_WAIT)
                    .unwrap_or_else(PoisonError::into_inner);
                q = guard;
                if let Some(s) = q.streams.get_mut(index) {
                    s.waiting = false;
                }
                if timeout.timed_out() {
                    // Back to the task loop, which ends here when the task was stopped.
                    return;
                }
            }
        };
        let _push = locked(&push);
        let (pad, discont, stamp) = {
            let mut q = locked(&self.queue);
            // A seek came between taking the item out and now: it is of the old position.
            if q.epoch != epoch || q.stopping {
                return;
            }
            let Some(s) = q.streams.get_mut(index) else {
                return;
            };
            let discont = matches!(item, Item::Data { .. }) && std::mem::take(&mut s.discont);
            (s.pad.clone(), discont, s.stamp)
        };
        let n = match &item {
            Item::Data {
                data: Data::List(l),
                ..
            } => u64::try_from(l.len()).unwrap_or(u64::MAX),
            _ => 1,
        };
        let flow = match item {
            Item::Data { data, .. } => match data {
                Data::One(mut buffer) => {
                    if discont || stamp {
                        let b = buffer.make_mut();
                        if discont {
                            b.set_flags(gst::BufferFlags::DISCONT);
                        }
                        if stamp {
                            b.set_pts(self.running_time());
                        }
                    }
                    pad.push(buffer)
                }
                Data::List(mut list) => {
                    if discont && let Some(first) = list.make_mut().get_mut(0) {
                        first.set_flags(gst::BufferFlags::DISCONT);
                    }
                    pad.push_list(list)
                }
            },
            Item::Caps(caps) => {
                let _ = pad.push_event(gst::event::Caps::new(&caps));
                return;
            }
            Item::Eos => {
                let _ = pad.push_event(gst::event::Eos::new());
                return;
            }
        };
        if flow.is_ok() {
            let mut q = locked(&self.queue);
            q.processed = q.processed.saturating_add(n);
        }
        let combined = locked(&self.combiner).update_pad_flow(&pad, flow);
        match combined {
            Ok(_) | Err(gst::FlowError::Flushing) => {}
            Err(gst::FlowError::Eos) => {
                // What basesrc does on EOS flow: no more data, and EOS downstream so
                // that the sinks post it and the application sees the end.
                gst::debug!(CAT, obj = pad, "every pad is at EOS: no more data");
                for pad in self.stop_feeding().unwrap_or_default() {
                    let _ = pad.push_event(gst::event::Eos::new());
                }
            }
            Err(e) => {
                gst::debug!(CAT, obj = pad, "push refused: {e:?}");
                self.refuse(e);
            }
        }
    }

    /// The element's running time now, if it has a clock.
    fn running_time(&self) -> Option<gst::ClockTime> {
        self.element.upgrade()?.current_running_time()
    }

    /// Downstream refused for good: the error basesrc would post, then EOS on every pad.
    fn refuse(&self, flow: gst::FlowError) {
        let Some(pads) = self.stop_feeding() else {
            return;
        };
        if let Some(element) = self.element.upgrade() {
            gst::element_error!(
                element,
                gst::StreamError::Failed,
                ("Internal data stream error."),
                ["streaming stopped, reason {:?}", flow]
            );
        }
        for pad in pads {
            let _ = pad.push_event(gst::event::Eos::new());
        }
    }

    /// Marks downstream as refused and empties the queue; the pads to end, `None` when
    /// that was already done.
    fn stop_feeding(&self) -> Option<Vec<gst::Pad>> {
        let mut q = locked(&self.queue);
        if std::mem::replace(&mut q.refused, true) {
            return None;
        }
        for s in q.streams.iter_mut() {
            s.clear();
        }
        Some(q.streams.iter().map(|s| s.pad.clone()).collect())
    }

    fn src_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Seek(seek) => self.handle_seek(pad, seek),
            // Nothing to do for a live source with fixed caps, but not an error either.
            gst::EventView::Qos(_)
            | gst::EventView::Reconfigure(_)
            | gst::EventView::Latency(_)
            | gst::EventView::Navigation(_) => true,
            _ => gst::Pad::event_default(pad, None::<&gst::Object>, event),
        }
    }

    fn src_query(
        &self,
        pad: &gst::Pad,
        parent: Option<&gst::Object>,
        query: &mut gst::QueryRef,
    ) -> bool {
        match query.view_mut() {
            gst::QueryViewMut::Latency(q) => {
                q.set(true, self.latency, gst::ClockTime::NONE);
                true
            }
            gst::QueryViewMut::Seeking(q) if q.format() == gst::Format::Time => {
                q.set(
                    self.seek.is_some(),
                    gst::ClockTime::ZERO,
                    gst::ClockTime::NONE,
                );
                true
            }
            _ => gst::Pad::query_default(pad, parent, query),
        }
    }

    /// A seek, once for all pads: flush, drop what is queued, the new segment, then the
    /// position to the session (which PAUSEs and PLAYs from the recorded time).
    fn handle_seek(&self, pad: &gst::Pad, seek: &gst::event::Seek) -> bool {
        let Some(hook) = &self.seek else {
            gst::debug!(CAT, obj = pad, "not seekable: a live stream");
            return false;
        };
        let seqnum = seek.seqnum();
        {
            let mut last = locked(&self.last_seek);
            if *last == Some(seqnum) {
                // The same seek, from another sink: handled.
                return true;
            }
            *last = Some(seqnum);
        }
        let (rate, flags, start_type, start, stop_type, stop) = seek.get();
        let (gst::GenericFormattedValue::Time(start), gst::GenericFormattedValue::Time(stop)) =
            (start, stop)
        else {
            gst::debug!(CAT, obj = pad, "seek refused: not in time");
            return false;
        };
        if rate != 1.0 {
            gst::debug!(
                CAT,
                obj = pad,
                "seek refused: rate {rate} (set playback-speed instead)"
            );
            return false;
        }
        let mut segment = locked(&self.segment).clone();
        if segment
            .do_seek(rate, flags, start_type, start, stop_type, stop)
            .is_none()
        {
            gst::debug!(
                CAT,
                obj = pad,
                "seek refused: {start:?} does not fit the segment"
            );
            return false;
        }
        let position = segment.start().map_or(0, gst::ClockTime::nseconds);
        let (pads, push): (Vec<gst::Pad>, Vec<Arc<Mutex<()>>>) = locked(&self.queue)
            .streams
            .iter()
            .map(|s| (s.pad.clone(), s.push.clone()))
            .unzip();
        let flush = flags.contains(gst::SeekFlags::FLUSH);
        if flush {
            for p in &pads {
                let _ = p.push_event(gst::event::FlushStart::builder().seqnum(seqnum).build());
            }
        }
        let epoch = {
            let mut q = locked(&self.queue);
            q.epoch = q.epoch.wrapping_add(1);
            // Like basesrc, a flushing seek starts the data again after EOS downstream.
            if flush {
                q.refused = false;
            }
            for s in q.streams.iter_mut() {
                s.items.retain(|i| !matches!(i, Item::Data { .. }));
                s.bytes = 0;
                s.data_items = 0;
                s.discont = true;
            }
            q.epoch
        };
        {
            // A push under way has returned (flushing), or ends before the new segment.
            let _push: Vec<_> = push.iter().map(|p| locked(p)).collect();
            if flush {
                for p in &pads {
                    let _ =
                        p.push_event(gst::event::FlushStop::builder(true).seqnum(seqnum).build());
                }
                locked(&self.combiner).reset();
            }
            segment.set_position(segment.start());
            let event = gst::event::Segment::builder(&segment)
                .seqnum(seqnum)
                .build();
            for p in &pads {
                if p.store_sticky_event(&event).is_err() {
                    gst::warning!(CAT, obj = p, "could not store the seek's segment");
                }
            }
            *locked(&self.segment) = segment;
        }
        gst::debug!(CAT, obj = pad, "seek to {position} ns");
        let seek = crate::session::command::Command::Seek { position, epoch };
        if hook
            .commands
            .upgrade()
            .is_none_or(|tx| tx.send(seek).is_err())
        {
            // No session to seek: what comes is not held back.
            self.seek_applied(epoch);
            return false;
        }
        true
    }
}

#[cfg(test)]
#[path = "pads_tests.rs"]
mod tests;
