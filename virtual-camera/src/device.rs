// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Who the camera is and what it has ([`Device`]), and where its RTSPS URIs point.

use crate::{AuthMode, certs};

/// Who the camera is and what it has: credentials, authentication mode, clock, identity,
/// ports, services, media and event timing.
#[derive(Debug, Clone)]
pub struct Device {
    pub user: String,
    pub password: String,
    pub auth: AuthMode,
    /// Seconds added to the camera clock.
    pub clock_skew_secs: i64,
    /// Offer Media2 in GetServices (Media1 is always offered).
    pub media2: bool,
    /// TLS identity; `None`: a CA and a leaf for 127.0.0.1/localhost are generated.
    pub identity: Option<certs::Identity>,
    /// Ports to listen on; 0 picks a free one.
    pub http_port: u16,
    pub https_port: u16,
    /// RTSP session timeout in seconds (gst-rtsp-server's default: 60).
    pub session_timeout: Option<u32>,
    /// Toggle DigitalInput_1 and the motion alarm this often (None: only on request).
    pub input_period: Option<std::time::Duration>,
    /// Grant subscriptions at most this long, whatever is asked (tests use a few seconds
    /// to exercise Renew).
    pub max_termination: Option<std::time::Duration>,
    /// Serve the ONVIF metadata track in each profile's media (default true).
    pub metadata: bool,
    /// Offer the Recording control service (GetRecordings); without it clients must find
    /// recordings through Recording Search, as on many NVR-less cameras.
    pub recording_control: bool,
    /// The recording has a metadata track (default true).
    pub recording_metadata: bool,
    /// RTSPS on its own port (a second gst-rtsp-server doing TLS itself with the camera's
    /// certificate), offered through Media2 (`SecureRTSPStreaming`, `RtspsUnicast`)
    /// (default true).
    pub rtsps: bool,
    /// The RTSPS port's own certificate (`None`: the HTTPS one), as a camera's RTSP server
    /// may present another than its web server.
    pub rtsps_identity: Option<certs::Identity>,
    /// The ONVIF audio backchannel (PCMU into [`crate::media::Speaker`]) on every profile;
    /// without it a DESCRIBE that requires it gets `551 Option not supported` (default
    /// true).
    pub backchannel: bool,
    /// The RTSPS server offers SRTP over UDP and only that (RTP/SAVP, the device's key in
    /// the SDP without an MKI, as gst-rtsp-server gives it; default false). Not beside
    /// RTP/AVP: gst-rtsp-server 1.22 with both profiles sends every client of a shared
    /// media through the same `srtpenc`, so its RTP/AVP clients get SRTP.
    pub srtp: bool,
    /// With `srtp`: the authentication tag of every audio packet is damaged on the way
    /// out (a device whose SRTP is broken, or a path that changes bytes).
    pub srtp_bad_tag: bool,
    /// With `srtp`: encrypt each stream with the key the client sent in its SETUP's
    /// `KeyMgmt` (and its MKI), as Axis and Genetec-style devices do, instead of the key
    /// the SDP gives (which stays in the SDP: the client must find out which is used).
    pub srtp_client_keys: bool,
    /// With `srtp`: the SDP gives the device's key (`a=key-mgmt`, as gst-rtsp-server
    /// does; default true); without, the client must provide every key (Axis).
    pub srtp_sdp_keys: bool,
    /// With `srtp`: how a re-keying `SET_PARAMETER` is answered (default: refused, as
    /// gst-rtsp-server does).
    pub srtp_rekey: crate::srtp::Rekey,
    /// With `srtp`: the suite the camera encrypts with, by its ONVIF name (its `srtpenc`'s
    /// key and ciphers), said as its video encoder's `SecureStreamingProtocolAlgorithm`;
    /// `None`: gst-rtsp-server's AES_CM_128_HMAC_SHA1_80, the attribute absent.
    pub srtp_suite: Option<&'static str>,
    /// The `SecureStreamingProtocolAlgorithms` its video encoder's options list
    /// (space-separated; `None`: the attribute absent).
    pub srtp_algorithms: Option<&'static str>,
    /// WS-Discovery on the group too (239.255.255.250:3702, shared with other
    /// listeners): Probes answered there, Hello sent when the camera starts and Bye when
    /// it stops (default false: tests run side by side, and only in a network namespace
    /// of their own may they use the group).
    pub multicast_discovery: bool,
    /// With `multicast_discovery`: the interface (by its address) the camera joins the
    /// group on and speaks from (`None`: the default route's), as a camera on a network
    /// of its own, behind a recorder's second NIC.
    pub multicast_interface: Option<std::net::Ipv4Addr>,
}

/// The port GetStreamUri writes into the `rtsps://` URI (tests move it onto a relay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RtspsUriPort {
    /// The RTSPS server's own.
    #[default]
    Real,
    /// Another (a relay in front of the RTSPS port).
    Port(u16),
    /// None: `rtsps://127.0.0.1/...`.
    Omitted,
}

impl Default for Device {
    fn default() -> Self {
        Self {
            user: "admin".into(),
            password: "password".into(),
            auth: AuthMode::Either,
            clock_skew_secs: 0,
            media2: true,
            identity: None,
            http_port: 0,
            https_port: 0,
            session_timeout: None,
            input_period: None,
            max_termination: None,
            metadata: true,
            recording_control: true,
            recording_metadata: true,
            rtsps: true,
            rtsps_identity: None,
            backchannel: true,
            srtp: false,
            srtp_bad_tag: false,
            srtp_client_keys: false,
            srtp_sdp_keys: true,
            srtp_rekey: crate::srtp::Rekey::Refuse,
            srtp_suite: None,
            srtp_algorithms: None,
            multicast_discovery: false,
            multicast_interface: None,
        }
    }
}
