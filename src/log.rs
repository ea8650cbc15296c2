// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The debug category: a leaf every layer may use, so that no layer below the element has
//! to name the element to log.

use std::sync::LazyLock;

pub(crate) static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "onvifhttpssrc",
        gst::DebugColorFlags::empty(),
        Some("ONVIF RTSP-over-HTTPS source"),
    )
});
