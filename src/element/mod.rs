// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

/**
 * SECTION:element-onvifhttpssrc
 *
 * `onvifhttpssrc` connects to an ONVIF IP camera and does every ONVIF exchange over
 * HTTPS: the device clock, the HTTPS port (GetNetworkProtocols, and SetNetworkProtocols
 * when `https-port` is set), the services, the media profiles and the media URIs. Media
 * then comes in through the streaming method chosen with `streaming-method`.
 *
 * Authentication is WS-UsernameToken PasswordDigest or HTTP Digest (MD5, SHA-256),
 * whichever the device asks for; Basic only inside TLS. Certificates are checked as the
 * `https-validate-certificate` and `https-validate-hostname` properties say, against the
 * system's roots plus `tls-ca-file`; `tls-certificate-sha256` pins a self-signed camera.
 * A refused certificate ends the connection before anything is sent, and the error names
 * the reason and the fingerprint to pin.
 *
 * The element posts warning messages for a port it could not set on the device and for
 * unauthenticated connections.
 *
 * ## Pads
 *
 * Sometimes pads, added once the session knows its streams (then `no-more-pads`):
 * `video_%u` (`application/x-rtp, media=video` as the camera's SDP says, or `image/jpeg`
 * with `streaming-method=http-snapshot`), `audio_%u` (`application/x-rtp, media=audio`),
 * `metadata_%u` (`application/x-rtp, encoding-name=VND.ONVIF.METADATA`). With
 * `mode=playback` every buffer carries its recorded time as a `GstReferenceTimestampMeta`
 * with caps `timestamp/x-ntp`.
 *
 * ## Messages
 *
 * - `onvif-event` element message, one per notification with `events=true`: `topic`,
 *   `utc-time`, `property-operation`, `source` and `data` structures.
 * - `onvif-reconnecting` element message before each reconnection attempt (`reconnect`):
 *   `what` (`media` or `events`), `cause` (string), `attempt` (uint, from 1), `delay-ms`
 *   (uint64); a warning says the same.
 * - Errors follow spec §10: RESOURCE/SETTINGS, OPEN_READ (connection, TLS, certificate),
 *   NOT_AUTHORIZED, NOT_FOUND, READ (timeouts, lost connections), STREAM/DECODE (garbage).
 *
 * ## URIs
 *
 * `onvif://user:password@host[:port]/path?property=value&...` (bootstrap over HTTP) and
 * `onvifs://...` (HTTPS from the start): every query key is a property.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 onvifhttpssrc location=http://192.0.2.10 user-id=admin user-pw=secret \
 *     streaming-method=http-snapshot ! multifilesink location=snap-%05d.jpg
 * ]|
 * |[
 * gst-launch-1.0 onvifhttpssrc location=https://192.0.2.10:8443 user-id=admin user-pw=secret \
 *     tls-ca-file=/etc/cameras/ca.pem streaming-method=http-snapshot snapshot-interval=500 \
 *     ! jpegdec ! autovideosink
 * ]|
 * |[
 * gst-launch-1.0 -e onvifhttpssrc location=http://192.0.2.10 user-id=admin user-pw=secret \
 *     tls-ca-file=/etc/cameras/ca.pem ! rtph264depay ! h264parse ! mp4mux ! filesink location=live.mp4
 * ]|
 * |[
 * gst-play-1.0 'onvifs://admin:secret@192.0.2.10/?tls-ca-file=/etc/cameras/ca.pem&streams=video+audio'
 * ]|
 *
 * Since: 0.1.0
 */
use gst::glib;
use gst::prelude::*;

mod backchannel;
pub(crate) mod imp;
pub mod inspect;
mod messages;
mod pads;
mod properties;
mod provider;
mod queue;
pub mod report;
mod settings;
mod signals;
mod stats;
mod uri;

/// How media travels from the camera (spec §2, §3).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstOnvifHttpsSrcStreamingMethod")]
pub enum StreamingMethod {
    #[enum_value(name = "RTP/UDP: RTP over UDP, unencrypted", nick = "rtp-udp")]
    RtpUdp = 0,
    #[enum_value(
        name = "RTP/RTSP/TCP: RTP interleaved in RTSP over TCP, unencrypted",
        nick = "rtp-rtsp-tcp"
    )]
    RtpRtspTcp = 1,
    #[enum_value(
        name = "RTP/RTSP/HTTP/TCP: RTSP tunnelled over HTTPS (over HTTP when https-enable=false)",
        nick = "rtp-rtsp-http-tcp"
    )]
    RtpRtspHttpTcp = 2,
    #[enum_value(
        name = "HTTP snapshot: JPEG images fetched over HTTPS",
        nick = "http-snapshot"
    )]
    HttpSnapshot = 3,
    #[enum_value(
        name = "RTSPS: RTSP over TLS on the device's RTSPS port (ONVIF Media2 RtspsUnicast), RTP interleaved inside the TLS connection",
        nick = "rtsps"
    )]
    Rtsps = 4,
    #[enum_value(
        name = "RTSPS and SRTP: RTSP over TLS on the device's RTSPS port (ONVIF Media2 RtspsUnicast), RTP/SAVP (SRTP, keys exchanged inside TLS with MIKEY) over UDP",
        nick = "rtsps-srtp"
    )]
    RtspsSrtp = 5,
}

impl StreamingMethod {
    /// RTSP over TLS on the device's RTSPS port (`rtsps`, `rtsps-srtp`).
    pub fn is_rtsps(self) -> bool {
        matches!(self, StreamingMethod::Rtsps | StreamingMethod::RtspsSrtp)
    }
}

/// Live media or edge storage (the `mode` property, spec §7).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstOnvifHttpsSrcMode")]
pub enum Mode {
    #[enum_value(name = "Live: the camera's live stream", nick = "live")]
    Live = 0,
    #[enum_value(
        name = "Playback: a recording from the camera's edge storage (ONVIF Profile G)",
        nick = "playback"
    )]
    Playback = 1,
}

/// Audio OUT to the camera (the `backchannel` property), as rtspsrc names it.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstOnvifHttpsSrcBackchannel")]
pub enum Backchannel {
    #[enum_value(name = "No backchannel", nick = "none")]
    None = 0,
    #[enum_value(
        name = "ONVIF audio backchannel (Require: www.onvif.org/ver20/backchannel)",
        nick = "onvif"
    )]
    Onvif = 1,
}

/// Which media the element exposes (the `streams` property).
#[glib::flags(name = "GstOnvifHttpsSrcStreams")]
pub enum Streams {
    #[flags_value(name = "Video", nick = "video")]
    VIDEO = 0b001,
    #[flags_value(name = "Audio (the camera's microphone)", nick = "audio")]
    AUDIO = 0b010,
    #[flags_value(name = "ONVIF metadata", nick = "metadata")]
    METADATA = 0b100,
}

glib::wrapper! {
    pub struct OnvifHttpsSrc(ObjectSubclass<imp::OnvifHttpsSrc>) @extends gst::Element, gst::Object, @implements gst::URIHandler;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    #[cfg(feature = "doc")]
    {
        StreamingMethod::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Streams::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Backchannel::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
        Mode::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    }
    gst::Element::register(
        Some(plugin),
        "onvifhttpssrc",
        // For playbin and gst-play-1.0 on onvif:// and onvifs:// URIs (it claims no other).
        gst::Rank::PRIMARY,
        OnvifHttpsSrc::static_type(),
    )?;
    provider::register(plugin)
}
