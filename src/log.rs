// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The debug category, and the element each log line names: a leaf every layer may use,
//! so that no layer below the element has to name the element to log.
//!
//! The element runs each of its tasks inside [`as_element`]; below it, the macros of this
//! module (`crate::log::debug!(...)` and the others) write the line with that element as
//! its object, so that with 256 cameras in one process each line says whose it is. The
//! level is checked first: nothing is looked up or formatted for a level that is off.

use std::future::Future;
use std::sync::LazyLock;

use gst::glib;
use gst::prelude::*;

pub(crate) static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "onvifhttpssrc",
        gst::DebugColorFlags::empty(),
        Some("ONVIF RTSP-over-HTTPS source"),
    )
});

tokio::task_local! {
    /// The element the current task works for.
    static ELEMENT: glib::WeakRef<gst::Object>;
}

/// Runs `f` as work of `element`: the log lines it writes name it.
pub(crate) fn as_element<F: Future>(
    element: &gst::Object,
    f: F,
) -> impl Future<Output = F::Output> + use<F> {
    ELEMENT.scope(element.downgrade(), f)
}

/// `f`, to be spawned as another task of the current element (task-locals do not pass to
/// a spawned task by themselves).
pub(crate) fn inherit<F: Future>(f: F) -> impl Future<Output = F::Output> {
    let element = ELEMENT.try_with(Clone::clone).ok();
    async move {
        match element {
            Some(e) => ELEMENT.scope(e, f).await,
            None => f.await,
        }
    }
}

/// The element of the current task, if it still exists.
pub(crate) fn element() -> Option<gst::Object> {
    ELEMENT.try_with(|e| e.upgrade()).ok().flatten()
}

/// Whether a line at `level` would be written.
pub(crate) fn enabled(level: gst::DebugLevel) -> bool {
    CAT.above_threshold(level)
}

macro_rules! at {
    ($level:expr, $mac:ident, $($args:tt)*) => {
        if $crate::log::enabled($level) {
            match $crate::log::element() {
                Some(element) => gst::$mac!($crate::log::CAT, obj = &element, $($args)*),
                None => gst::$mac!($crate::log::CAT, $($args)*),
            }
        }
    };
}

macro_rules! warning {
    ($($args:tt)*) => { $crate::log::at!(gst::DebugLevel::Warning, warning, $($args)*) };
}
macro_rules! info {
    ($($args:tt)*) => { $crate::log::at!(gst::DebugLevel::Info, info, $($args)*) };
}
macro_rules! debug {
    ($($args:tt)*) => { $crate::log::at!(gst::DebugLevel::Debug, debug, $($args)*) };
}
macro_rules! trace {
    ($($args:tt)*) => { $crate::log::at!(gst::DebugLevel::Trace, trace, $($args)*) };
}

pub(crate) use {at, debug, info, trace, warning};
