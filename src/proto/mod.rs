// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Sans-I/O protocol code, driven with bytes by its unit tests: credentials, HTTP
//! messages and Digest, time, the RTP timeline, RTSP framing, SDP and URLs, MIKEY (SRTP
//! keys), SRTP reception (which key the device uses), ONVIF XML and operations. Nothing here reads or writes a socket.

pub mod auth;
pub mod clock;
pub mod digest;
pub mod http;
pub mod mikey;
pub mod onvif;
pub mod reception;
pub mod rtp;
pub mod rtsp;
pub mod srtp;
