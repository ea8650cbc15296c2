// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Hooks for the integration tests only; not an API. The crate's modules are private;
//! the tests, examples and fuzz targets reach the ones they drive from here.

pub use crate::client::{device, live};
pub use crate::proto::{auth, clock, digest, http, onvif, rtp, rtsp};
pub use crate::session::{control, edge, events};
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

use std::sync::{Mutex, PoisonError};

/// `(task, host:port)`: the task of an element whose `location` has that authority panics.
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Makes `task` ("media", "events" or "signal") panic for elements whose `location` is on
/// `authority` (`host:port`).
pub fn panic_in(task: &str, authority: &str) {
    PANICS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((task.to_string(), authority.to_string()));
}

/// Panics when a test asked `task` to for `location`.
pub(crate) fn maybe_panic(task: &str, location: &url::Url) {
    let authority = format!(
        "{}:{}",
        location.host_str().unwrap_or(""),
        location.port_or_known_default().unwrap_or(0)
    );
    let wanted = PANICS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .any(|(t, a)| t == task && *a == authority);
    if wanted {
        panic!("panic injected by a test into the {task} task");
    }
}
