// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0
#![allow(unused_doc_comments)]

mod client;
/**
 * plugin-onvifhttps:
 *
 * ONVIF camera source that does every exchange over HTTPS.
 *
 * Since: 0.1.0
 */
// The layers, top to bottom (`docs/architecture.md` §1): each names only those below it
// and the leaves; `tests/layers.rs` checks it.
mod element;
mod proto;
mod session;
mod transport;
// Leaves anyone may use.
mod error;
mod log;
mod runtime;
mod stats;
#[doc(hidden)]
pub mod testing;

pub use element::{Backchannel, Mode, OnvifHttpsSrc, StreamingMethod, Streams};
// `gst-onvif`'s report (src/bin/gst-onvif.rs).
#[doc(hidden)]
pub use element::{inspect, report};

use gst::glib;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    element::register(plugin)
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
