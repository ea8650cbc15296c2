// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF client: authenticated SOAP calls over one keep-alive connection
//! (`soap.rs`: the one call path, anonymous first, challenge, clock re-sync, the
//! remembered method), the start-up of spec §4 and §5 as named steps (`start.rs`), the
//! HTTPS port (`https_port.rs`), where the services are (`services.rs`), what the process
//! remembers of each device (`cache.rs`), and the calls of each service the element uses
//! (`device.rs`, `media.rs`; PTZ, DeviceIO, events and recordings are called from the
//! session's `control.rs`, `events.rs` and `edge.rs`).

pub mod cache;
mod device;
mod https_port;
mod media;
pub mod services;
mod soap;
mod start;

pub use self::media::{snapshot_target, stream_uri};
pub use self::soap::*;
pub use self::start::*;
