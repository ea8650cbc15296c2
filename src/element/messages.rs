// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! What the session tells the element, turned into pads, buffers and bus messages: the
//! one implementation of [`Output`].

use std::sync::Arc;
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::pads::Pads;
use crate::error::Error;
use crate::log::CAT;
use crate::runtime;
use crate::session::{self, Output};

/// What the session task may do to the element. It holds a weak reference: the element
/// can be disposed while the task winds down.
pub(super) struct ElementOutput {
    pub(super) element: glib::WeakRef<super::OnvifHttpsSrc>,
    pub(super) pads: Arc<Pads>,
    /// Where `push-backchannel-*` send Audio OUT: this start's playing backchannel.
    pub(super) backchannel: super::backchannel::Slot,
}

/// Runs a session task; a panic in it becomes an error message (LIBRARY/FAILED naming
/// the task) instead of a silent end with the pipeline left in PLAYING.
pub(super) async fn watched<F: std::future::Future<Output = ()>>(
    task: &'static str,
    out: Arc<ElementOutput>,
    future: F,
) {
    let Some(element) = out.element.upgrade() else {
        return;
    };
    let future = crate::log::as_element(element.upcast_ref(), future);
    drop(element);
    if let Err(msg) = runtime::catch_panic(future).await {
        out.panicked(task, &msg);
    }
}

impl ElementOutput {
    /// Posts the error for a task that panicked.
    fn panicked(&self, task: &str, msg: &str) {
        if let Some(e) = self.element.upgrade() {
            gst::error!(CAT, obj = e, "the {task} task panicked: {msg}");
            e.post_error_message(gst::error_msg!(
                gst::LibraryError::Failed,
                (
                    "internal error: the {} task panicked ({}); the stream has stopped, please report this",
                    task,
                    msg
                )
            ));
        }
    }

    pub(super) fn teardown(&self) {
        self.pads.shutdown();
    }
}

impl Output for ElementOutput {
    fn debug(&self, args: std::fmt::Arguments<'_>) {
        if !crate::log::enabled(gst::DebugLevel::Debug) {
            return;
        }
        if let Some(e) = self.element.upgrade() {
            gst::debug!(CAT, obj = e, "{}", args);
        }
    }

    fn warning(&self, text: &str) {
        let text = crate::error::printable(text);
        if let Some(e) = self.element.upgrade() {
            gst::warning!(CAT, obj = e, "{text}");
            gst::element_imp_warning!(
                e.imp(),
                gst::ResourceError::Settings,
                ("{}", text),
                ["{}", text]
            );
        }
    }

    fn add_stream(&self, name: &str, caps: gst::Caps, timestamp_on_arrival: bool) -> Option<usize> {
        self.pads.add(name, caps, timestamp_on_arrival)
    }

    fn streams_complete(&self) {
        if let Some(e) = self.element.upgrade() {
            e.no_more_pads();
        }
    }

    fn push(&self, index: usize, buffer: gst::Buffer) -> bool {
        self.pads.push(index, buffer)
    }

    fn push_list(&self, index: usize, list: gst::BufferList) -> bool {
        self.pads.push_list(index, list)
    }

    fn lost(&self, n: u64) {
        self.pads.lost(n);
    }

    fn end_of_stream(&self, index: usize) {
        self.pads.end_of_stream(index);
    }

    fn seek_applied(&self, epoch: u64) {
        self.pads.seek_applied(epoch);
    }

    fn seek_pending(&self) -> bool {
        self.pads.seek_pending()
    }

    fn running_time(&self) -> Option<u64> {
        self.element
            .upgrade()?
            .current_running_time()
            .map(|t| t.nseconds())
    }

    #[track_caller]
    fn error(&self, err: &Error) {
        if let Some(e) = self.element.upgrade() {
            gst::error!(CAT, obj = e, "{err}");
            e.post_error_message(err.to_error_message());
        }
    }

    fn event(&self, n: &crate::proto::onvif::events::Notification) {
        if let Some(e) = self.element.upgrade() {
            let s = crate::session::events::event_structure(n);
            gst::debug!(CAT, obj = e, "event {s}");
            let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
        }
    }

    fn reconnecting(&self, what: session::Lost, cause: &Error, attempt: u32, delay: Duration) {
        let Some(e) = self.element.upgrade() else {
            return;
        };
        let ms = delay.as_millis();
        let cause = crate::error::printable(&cause.to_string()).into_owned();
        let text = match what {
            session::Lost::Media => {
                format!("Lost the stream: {cause}. Reconnecting (attempt {attempt}) in {ms} ms")
            }
            session::Lost::Events => format!(
                "Event subscription failed: {cause}. Subscribing again (attempt {attempt}) in {ms} ms"
            ),
        };
        gst::warning!(CAT, obj = e, "{text}");
        let s = gst::Structure::builder("onvif-reconnecting")
            .field("what", what.name())
            .field("cause", cause.as_str())
            .field("attempt", attempt)
            .field(
                "delay-ms",
                u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            )
            .build();
        let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
        gst::element_imp_warning!(
            e.imp(),
            gst::ResourceError::Read,
            ("{}", text),
            ["{}", text]
        );
    }

    fn offered(&self, id: u32, caps: &gst::Caps) {
        if let Some(e) = self.element.upgrade() {
            let _ = e.emit_by_name::<bool>("select-stream", &[&id, caps]);
        }
    }

    fn rekeyed(&self, r: &session::Rekeyed) {
        let Some(e) = self.element.upgrade() else {
            return;
        };
        let s = gst::Structure::builder("onvif-srtp-rekeyed")
            .field("stream", r.stream)
            .field("backchannel", r.backchannel)
            .field("mki", r.mki)
            .field("accepted", r.accepted)
            .field("status", r.status)
            .field("reason", r.reason.as_str())
            .field("spelling", r.spelling)
            .build();
        let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
    }

    fn backchannel(&self, id: u32, caps: gst::Caps, tx: session::BackchannelTx) {
        let Some(e) = self.element.upgrade() else {
            return;
        };
        self.backchannel.open(id, tx);
        gst::info!(CAT, obj = e, "backchannel: stream {id}, {caps}");
        let s = gst::Structure::builder("onvif-backchannel")
            .field("id", id)
            .field("caps", caps)
            .build();
        let _ = e.post_message(gst::message::Element::builder(s).src(&e).build());
    }
}
