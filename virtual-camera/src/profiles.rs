// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's media profiles: one list that GetProfiles advertises and the RTSP mounts
//! stream, so that what the SOAP side says is what the media is.

/// One media profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub token: &'static str,
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

impl Profile {
    /// The gst-rtsp-server mount of its live media.
    pub fn mount(&self) -> String {
        format!("/media/{}", self.token)
    }
}

/// H.264 video at these sizes, AAC audio at 16 kHz mono, and the metadata track.
pub const PROFILES: &[Profile] = &[
    Profile {
        token: "Profile_1",
        name: "mainStream",
        width: 640,
        height: 360,
    },
    Profile {
        token: "Profile_2",
        name: "subStream",
        width: 320,
        height: 240,
    },
];

/// The audio the media engine sends: AAC, 16 kHz.
pub const AUDIO_RATE_KHZ: u32 = 16;

/// The profile with `token`.
pub fn by_token(token: &str) -> Option<(usize, &'static Profile)> {
    PROFILES.iter().enumerate().find(|(_, p)| p.token == token)
}
