// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Hooks for the integration tests only; not an API. The crate's modules are private;
//! the tests, examples and fuzz targets reach the ones they drive from here.

pub use crate::client::onvif::{self as device, services};
pub use crate::client::onvif::{control, recording as edge};
pub use crate::client::rtsp as rtsp_client;
pub use crate::proto::{auth, clock, digest, http, onvif, rtp, rtsp};
pub use crate::session::events;
pub use crate::transport::{net, tls, tunnel};

/// The modules at the crate's root are reached through their public items.
pub mod session {
    pub use crate::session::*;
}
pub mod error {
    pub use crate::error::*;
}
pub mod runtime {
    pub use crate::runtime::*;
}

pub use crate::runtime::panic_in;
