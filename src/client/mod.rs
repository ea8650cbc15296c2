// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The clients: the ONVIF device client and its one start-up (clock, HTTPS port,
//! services, profiles), shared by media, events and control; the RTSP client over a
//! channel of the transport layer.

pub mod discovery;
pub mod onvif;
mod reader;
pub mod rtsp;
