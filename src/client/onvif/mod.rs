// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF client: authenticated SOAP calls over one keep-alive connection
//! (`soap.rs`: the one call path, anonymous first, challenge, clock re-sync, the
//! remembered method), the start-up of spec §4 and §5 as named steps (`start.rs`), the
//! HTTPS port (`https_port.rs`), where the services are (`services.rs`), what the process
//! remembers of each device (`cache.rs`), and the calls of each service the element uses
//! (`device.rs`, `media.rs`, `control.rs`: the action signals' PTZ, auxiliary commands
//! and DeviceIO, `recording.rs`: the recording to replay, `events.rs`: the pull-point
//! subscription, which the session's `events.rs` runs as a task of its own).

pub mod cache;
pub mod control;
mod device;
pub mod events;
mod https_port;
mod media;
pub mod recording;
pub mod services;
mod soap;
mod start;

pub use self::media::{check_rtsps, snapshot_target, srtp_suite, stream_uri};
pub use self::soap::*;
pub use self::start::*;
