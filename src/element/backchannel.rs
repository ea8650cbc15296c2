// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Audio OUT (`backchannel=onvif`) as rtspsrc offers it, so that applications written for
//! rtspsrc work unchanged: `select-stream` for every stream of the device's SDP (the
//! backchannel's caps carry `a-sendonly`), an `onvif-backchannel` element message with the
//! stream's id and RTP caps once it is SET UP, and `push-backchannel-sample` (the sample
//! stays the caller's, as rtspsrc from 1.22.1) and `push-backchannel-buffer` (the sample
//! is taken, as rtspsrc has it). The application pushes RTP packets (`rtppcmupay` and
//! the like) with the payload type of the stream's caps; they go interleaved on the RTSP
//! connection (inside TLS with `streaming-method=rtsps`).

use std::sync::{Mutex, PoisonError};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use tokio::sync::mpsc::error::TrySendError;

use crate::log::CAT;
use crate::runtime;
use crate::session::BackchannelTx;

/// How long a push waits for room when the connection is slower than the pushes.
const PUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The backchannel of the RTSP session playing now.
struct Open {
    id: u32,
    tx: BackchannelTx,
    /// Packets dropped because the connection did not take them fast enough.
    dropped: u64,
    /// Pushes refused as not RTP.
    refused: u64,
}

/// What became of a pushed packet.
enum Sent {
    Queued,
    /// The session that set the backchannel up has ended.
    Ended,
    /// The connection did not take it within [`PUSH_WAIT`].
    NoRoom,
}

/// Where pushed packets go: the backchannel the current RTSP session set up, if any; and
/// the packets dropped by the backchannels of this start so far (`stats`).
#[derive(Default)]
pub(super) struct Slot(Mutex<Option<Open>>, std::sync::atomic::AtomicU64);

impl Slot {
    /// A session set up the backchannel (a reconnection's replaces the lost one's).
    pub(super) fn open(&self, id: u32, tx: BackchannelTx) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Open {
            id,
            tx,
            dropped: 0,
            refused: 0,
        });
    }

    /// Packets dropped because the connection did not take them fast enough.
    pub(super) fn dropped(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The element stopped.
    pub(super) fn close(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Sends one RTP packet to stream `id`. FLUSHING while no session has the backchannel
    /// SET UP and playing (rtspsrc drops silently with OK there); ERROR for another id or a
    /// buffer that is not an RTP packet; OK when queued. A caller faster than the
    /// connection waits, as rtspsrc's caller waits for its write, at most
    /// [`PUSH_WAIT`]; then the packet is dropped (said once in a warning). Dropping
    /// instead of waiting would leave gaps in the sequence numbers, which some devices
    /// take badly (gst-rtsp-server 1.22 aborts on the packet-loss event).
    fn push(
        &self,
        element: &super::OnvifHttpsSrc,
        id: u32,
        buffer: &gst::BufferRef,
    ) -> gst::FlowReturn {
        let tx = {
            let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(open) = slot.as_mut() else {
                return gst::FlowReturn::Flushing;
            };
            if id != open.id {
                gst::warning!(
                    CAT,
                    obj = element,
                    "push-backchannel: stream {id} is not the backchannel (stream {})",
                    open.id
                );
                return gst::FlowReturn::Error;
            }
            open.tx.clone()
        };
        let Ok(map) = buffer.map_readable() else {
            return gst::FlowReturn::Error;
        };
        let rtp =
            map.len() >= 12 && map.len() <= 65_535 && map.first().is_some_and(|b| b >> 6 == 2);
        if !rtp {
            if self.count(|o| &mut o.refused) == 1 {
                gst::element_warning!(
                    element,
                    gst::StreamError::Format,
                    (
                        "push-backchannel: a buffer of {} bytes is not an RTP packet; push RTP \
                         (for example from rtppcmupay) with the payload type of the \
                         backchannel's caps",
                        map.len()
                    )
                );
            }
            return gst::FlowReturn::Error;
        }
        let packet = map.to_vec();
        drop(map);
        let ours = tx.clone();
        let sent =
            match tx.try_send(packet) {
                Ok(()) => Sent::Queued,
                Err(TrySendError::Closed(_)) => Sent::Ended,
                Err(TrySendError::Full(packet)) if !runtime::inside_runtime() => {
                    let canceller = Mutex::new(runtime::Canceller::default());
                    match runtime::wait(&canceller, Some(PUSH_WAIT), async move {
                        tx.send(packet).await
                    }) {
                        Ok(()) => Sent::Queued,
                        Err(runtime::WaitError::Failed(_)) => Sent::Ended,
                        Err(_) => Sent::NoRoom,
                    }
                }
                Err(TrySendError::Full(_)) => Sent::NoRoom,
            };
        match sent {
            Sent::Queued => gst::FlowReturn::Ok,
            // The session ended (a reconnection sets up the next one).
            Sent::Ended => {
                let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
                if slot.as_ref().is_some_and(|o| o.tx.same_channel(&ours)) {
                    *slot = None;
                }
                gst::FlowReturn::Flushing
            }
            Sent::NoRoom => {
                self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if self.count(|o| &mut o.dropped) == 1 {
                    gst::element_warning!(
                        element,
                        gst::ResourceError::Write,
                        ("push-backchannel: the connection does not take the packets as fast as they are pushed; dropping")
                    );
                }
                gst::FlowReturn::Ok
            }
        }
    }

    /// Adds one to a counter of the open backchannel; its new value.
    fn count(&self, counter: impl FnOnce(&mut Open) -> &mut u64) -> u64 {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_mut().map_or(0, |o| {
            let c = counter(o);
            *c = c.saturating_add(1);
            *c
        })
    }
}

/// The element's signals of Audio OUT.
pub(super) fn signals() -> Vec<glib::subclass::Signal> {
    use glib::subclass::Signal;
    fn element(args: &[glib::Value]) -> super::OnvifHttpsSrc {
        args[0].get::<super::OnvifHttpsSrc>().expect("signal arg")
    }
    fn push(args: &[glib::Value]) -> (Option<gst::Sample>, gst::FlowReturn) {
        let e = element(args);
        let id = args[1].get::<u32>().expect("signal arg");
        let sample = args[2].get::<Option<gst::Sample>>().expect("signal arg");
        let flow = match (sample.as_ref().and_then(|s| s.buffer()), e.imp().output()) {
            (Some(b), Some(out)) => out.backchannel.push(&e, id, b),
            (Some(_), None) => gst::FlowReturn::Flushing,
            (None, _) => gst::FlowReturn::Error,
        };
        (sample, flow)
    }
    vec![
        /**
         * GstOnvifHttpsSrc::select-stream:
         * @num: the stream's index in the device's SDP
         * @caps: what the SDP says of it (`application/x-unknown` with `media`,
         *   `payload`, `clock-rate`, `encoding-name`, and `a-sendonly` for the ONVIF
         *   backchannel, `a-recvonly` for a stream the device sends)
         *
         * Emitted for every stream of the device's SDP, as rtspsrc does, so that an
         * application finds the backchannel's id and caps. The return value is not used:
         * the streams set up are those of `streams` and `backchannel`.
         */
        Signal::builder("select-stream")
            .param_types([u32::static_type(), gst::Caps::static_type()])
            .return_type::<bool>()
            .run_last()
            .class_handler(|_| Some(true.to_value()))
            .build(),
        /**
         * GstOnvifHttpsSrc::push-backchannel-sample:
         * @id: the backchannel's stream id (from `select-stream` or the
         *   `onvif-backchannel` message)
         * @sample: an RTP packet of the backchannel's payload type
         *
         * Sends Audio OUT to the camera. The sample stays the caller's (rtspsrc's
         * semantics from 1.22.1; 1.22.0's took it twice). Returns FLUSHING while no
         * backchannel is playing, ERROR for another id or a buffer that is not RTP.
         */
        Signal::builder("push-backchannel-sample")
            .param_types([u32::static_type(), gst::Sample::static_type()])
            .return_type::<gst::FlowReturn>()
            .action()
            .class_handler(|args| Some(push(args).1.to_value()))
            .build(),
        /**
         * GstOnvifHttpsSrc::push-backchannel-buffer:
         * @id: the backchannel's stream id
         * @sample: an RTP packet of the backchannel's payload type; taken
         *
         * As `push-backchannel-sample`, but the element takes the caller's reference to
         * the sample, as rtspsrc's signal of that name does (not usable from language
         * bindings that keep their own reference: use `push-backchannel-sample`).
         */
        Signal::builder("push-backchannel-buffer")
            .param_types([u32::static_type(), gst::Sample::static_type()])
            .return_type::<gst::FlowReturn>()
            .action()
            .class_handler(|args| {
                let (sample, flow) = push(args);
                if let Some(sample) = sample {
                    let raw = sample.as_ptr();
                    drop(sample);
                    // SAFETY: the caller handed us its reference to the sample (rtspsrc's
                    // contract for this signal); the signal's own value holds another one
                    // until the emission ends, so the sample outlives this unref. (An
                    // emission with a static-scope value holds none: as with rtspsrc, such
                    // a caller must not use the sample after the call.)
                    unsafe { gst::ffi::gst_mini_object_unref(raw.cast_mut().cast()) };
                }
                Some(flow.to_value())
            })
            .build(),
    ]
}
