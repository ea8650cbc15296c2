// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0
#![allow(unused_doc_comments)]

/**
 * plugin-onvifhttps:
 *
 * ONVIF camera source that does every exchange over HTTPS.
 *
 * Since: 0.1.0
 */
pub mod clock;
pub mod control;
pub mod device;
pub mod digest;
pub mod edge;
pub mod error;
pub mod events;
pub mod http;
pub mod live;
mod log;
pub mod net;
pub mod onvif;
mod onvifhttpssrc;
pub mod rtp;
pub mod rtsp;
pub mod runtime;
pub mod session;
#[doc(hidden)]
pub mod testing;
pub mod tls;
pub mod tunnel;

pub use onvifhttpssrc::{Backchannel, Mode, OnvifHttpsSrc, StreamingMethod, Streams};

use gst::glib;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    onvifhttpssrc::register(plugin)
}

gst::plugin_define!(
    onvifhttps,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MPL",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_REPOSITORY"),
    env!("BUILD_REL_DATE")
);
