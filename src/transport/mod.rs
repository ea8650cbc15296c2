// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Bytes to and from the camera: TCP, TLS with certificate checks and pins, the HTTP
//! keep-alive client, and RTSP tunnelled over HTTP(S) as one channel.

pub mod channel;
pub mod net;
pub mod tls;
pub mod trust;
pub mod tunnel;
