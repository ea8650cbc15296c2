// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The element's properties (spec §3): names, blurbs, ranges and defaults.

use gst::glib;
use gst::prelude::*;

use super::Streams;
use super::settings::*;

/// Every property of the element.
pub(super) fn list() -> Vec<glib::ParamSpec> {
    vec![
        /**
         * GstOnvifHttpsSrc:location:
         *
         * The device: `http://host[:port][/path]` (its HTTP ONVIF address, as a VMS
         * adds hardware) or `https://host[:port][/path]`. IPv6 in `[]`.
         */
        glib::ParamSpecString::builder("location")
            .nick("Location")
            .blurb("ONVIF device address: http://HOST[:PORT] or https://HOST[:PORT]")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:user-id:
         *
         * User name for the device (SOAP, snapshots and RTSP).
         */
        glib::ParamSpecString::builder("user-id")
            .nick("User ID")
            .blurb("User name for the device")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:user-pw:
         *
         * Password for the device. Never logged, never in error texts. Write-only: it
         * cannot be read back (so it is not in pipeline graphs either).
         */
        glib::ParamSpecString::builder("user-pw")
            .nick("User password")
            .blurb("Password for the device (write-only, never logged)")
            .write_only()
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:https-enable:
         *
         * Do all ONVIF and media exchanges over HTTPS. With an `http://` location,
         * only the clock and the HTTPS port are read over HTTP, with digest-only
         * credentials.
         */
        glib::ParamSpecBoolean::builder("https-enable")
            .nick("HTTPS enable")
            .blurb("Do all ONVIF and media exchanges over HTTPS")
            .default_value(DEFAULT_HTTPS_ENABLE)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:https-port:
         *
         * 0: read the HTTPS port from the device (GetNetworkProtocols), 443 when it
         * gives none. Else use this port, and try to set it on the device with
         * SetNetworkProtocols; a device that refuses or ignores it gets a warning.
         */
        glib::ParamSpecUInt::builder("https-port")
            .nick("HTTPS port")
            .blurb("HTTPS port of the device (0 = ask the device)")
            .maximum(u32::from(u16::MAX))
            .default_value(DEFAULT_HTTPS_PORT)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:https-validate-certificate:
         *
         * Check that the certificate chains to a trusted root (system roots and
         * `tls-ca-file`) and is within its validity period.
         */
        glib::ParamSpecBoolean::builder("https-validate-certificate")
            .nick("Validate certificate")
            .blurb("Check the certificate chain and validity period")
            .default_value(DEFAULT_VALIDATE_CERTIFICATE)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:https-validate-hostname:
         *
         * Check that the certificate is issued for the host of `location` (DNS
         * name or IP address).
         */
        glib::ParamSpecBoolean::builder("https-validate-hostname")
            .nick("Validate hostname")
            .blurb("Check that the certificate is issued for the host in location")
            .default_value(DEFAULT_VALIDATE_HOSTNAME)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:tls-ca-file:
         *
         * PEM file of extra trusted roots (the device's own CA), added to the
         * system's roots.
         */
        glib::ParamSpecString::builder("tls-ca-file")
            .nick("TLS CA file")
            .blurb("PEM file of extra trusted root certificates")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:tls-certificate-sha256:
         *
         * Pin: only a certificate whose SHA-256 fingerprint matches is accepted,
         * whatever its chain and the https-validate-* switches (for self-signed
         * cameras). 64 hex digits, colons allowed, or a comma-separated list of them
         * for certificate rotation; the error for a refused certificate prints the
         * value to use.
         */
        glib::ParamSpecString::builder("tls-certificate-sha256")
            .nick("TLS certificate SHA-256")
            .blurb("SHA-256 fingerprint(s), comma-separated, of the only certificates accepted")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:tls-trust-store:
         *
         * A trust store file (one shared by every element and process, like SSH's
         * `known_hosts`): one line per `host:port` with the SHA-256 of the public key
         * its certificate had. A certificate the checks refuse is accepted when its
         * key is the one the store has for that `host:port`, and refused naming both
         * keys when it is another. With `tls-trust-on-first-use`, an unknown
         * `host:port` is added. A pin (`tls-certificate-sha256`) decides alone.
         */
        glib::ParamSpecString::builder("tls-trust-store")
            .nick("TLS trust store")
            .blurb("File of trusted public keys per host:port (known_hosts-like)")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:tls-trust-on-first-use:
         *
         * With `tls-trust-store`: the first certificate of a `host:port` the store does
         * not know is trusted and recorded (an `onvif-certificate-trusted` element
         * message and a warning); from then on only its key is accepted there. The
         * first connection is not authenticated: use it on a network you trust.
         */
        glib::ParamSpecBoolean::builder("tls-trust-on-first-use")
            .nick("TLS trust on first use")
            .blurb("Trust and record the first certificate of an unknown host:port (needs tls-trust-store)")
            .default_value(false)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:streaming-method:
         *
         * How media travels: `rtp-rtsp-http-tcp` tunnels RTSP over HTTPS (over
         * HTTP when `https-enable=false`); `rtsps` is RTSP over TLS on the device's
         * RTSPS port (ONVIF Media2 `RtspsUnicast`, capability `SecureRTSPStreaming`),
         * the media interleaved inside TLS; `rtsps-srtp` is RTSP over TLS there too,
         * the media as SRTP over UDP (keys exchanged with MIKEY inside TLS);
         * `rtp-rtsp-tcp` and `rtp-udp` stream unencrypted (with a warning);
         * `http-snapshot` fetches JPEG images.
         */
        glib::ParamSpecEnum::builder_with_default("streaming-method", DEFAULT_STREAMING_METHOD)
            .nick("Streaming method")
            .blurb("How media travels from the camera")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:streams:
         *
         * Which media to expose, one sometimes pad each: `video_0`, `audio_0`,
         * `metadata_0`. Flags, e.g. `streams=video+audio`.
         */
        glib::ParamSpecFlags::builder::<Streams>("streams")
            .default_value(DEFAULT_STREAMS)
            .nick("Streams")
            .blurb("Which media to expose: video, audio, metadata")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:backchannel:
         *
         * Audio OUT to the camera: `onvif` sets up the ONVIF audio backchannel,
         * encrypted with `streaming-method=rtsps`, in clear (with a warning) with
         * `rtp-rtsp-tcp` and `rtp-udp`; the application pushes RTP with
         * `push-backchannel-sample`.
         * Through the HTTPS tunnel it is refused at start (spec §2) with a
         * RESOURCE/SETTINGS error naming `rtsps`.
         */
        glib::ParamSpecEnum::builder_with_default("backchannel", DEFAULT_BACKCHANNEL)
            .nick("Backchannel")
            .blurb("Audio OUT to the camera (ONVIF backchannel; encrypted with streaming-method=rtsps)")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:events:
         *
         * Subscribe to the camera's pull-point events and post each notification
         * as an `onvif-event` element message (`topic`, `utc-time`,
         * `property-operation`, `source`, `data`). Works with every streaming
         * method, on its own HTTPS connection.
         */
        /**
         * GstOnvifHttpsSrc:mode:
         *
         * `live`, or `playback` of a recording from the camera's edge storage
         * (ONVIF Profile G), replayed through the RTSP tunnel over HTTPS. Each
         * buffer then carries the recorded time as a `GstReferenceTimestampMeta`
         * with caps `timestamp/x-ntp`; DISCONT marks a gap; EOS ends the range.
         */
        glib::ParamSpecEnum::builder_with_default("mode", DEFAULT_MODE)
            .nick("Mode")
            .blurb("live, or playback of edge storage")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:recording-token:
         *
         * The recording to replay; none: the first one the device lists.
         */
        glib::ParamSpecString::builder("recording-token")
            .nick("Recording token")
            .blurb("Recording to replay (mode=playback); none = the first one")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:playback-start:
         *
         * Where the replay starts, ISO 8601 UTC (`2025-03-14T09:41:00Z`); none:
         * the recording's earliest data.
         */
        glib::ParamSpecString::builder("playback-start")
            .nick("Playback start")
            .blurb("Replay start, ISO 8601 UTC; none = the earliest recorded time")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:playback-end:
         *
         * Where the replay ends (EOS), ISO 8601 UTC; none: open, until the
         * recording ends.
         */
        glib::ParamSpecString::builder("playback-end")
            .nick("Playback end")
            .blurb("Replay end, ISO 8601 UTC; none = until the recording ends")
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:playback-speed:
         *
         * Replay speed, sent as the RTSP `Scale`; 1.0 is real time.
         */
        glib::ParamSpecDouble::builder("playback-speed")
            .nick("Playback speed")
            .blurb("Replay speed (RTSP Scale); 1.0 = real time")
            .minimum(0.01)
            .maximum(64.0)
            .default_value(DEFAULT_PLAYBACK_SPEED)
            .mutable_ready()
            .build(),
        glib::ParamSpecBoolean::builder("events")
            .nick("Events")
            .blurb("Post the camera's pull-point events as onvif-event messages")
            .default_value(DEFAULT_EVENTS)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:profile:
         *
         * Media profile token (or name); none: the first profile that carries the wanted
         * streams (`streams`).
         */
        glib::ParamSpecString::builder("profile")
            .nick("Profile")
            .blurb(
                "Media profile token (or name); none = the first profile that carries the \
                 wanted streams",
            )
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:snapshot-interval:
         *
         * Period of `http-snapshot`, in milliseconds.
         */
        glib::ParamSpecUInt::builder("snapshot-interval")
            .nick("Snapshot interval")
            .blurb("Period of http-snapshot in milliseconds")
            .minimum(1)
            .maximum(3_600_000)
            .default_value(DEFAULT_SNAPSHOT_INTERVAL)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:timeout:
         *
         * Bound of every connect and SOAP/HTTP exchange, in seconds.
         */
        glib::ParamSpecUInt::builder("timeout")
            .nick("Timeout")
            .blurb("Bound of every connect and SOAP/HTTP exchange in seconds")
            .minimum(1)
            .maximum(3600)
            .default_value(DEFAULT_TIMEOUT)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:latency:
         *
         * Latency reported for the RTP streams, in milliseconds: the budget for
         * network jitter between the camera and the pipeline.
         */
        glib::ParamSpecUInt::builder("latency")
            .nick("Latency")
            .blurb("Latency of the RTP streams in milliseconds")
            .maximum(60_000)
            .default_value(DEFAULT_LATENCY)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:reconnect:
         *
         * After the media stream was lost (connection closed or reset, keep-alive
         * unanswered, device rebooting), post an `onvif-reconnecting` element
         * message and a warning and start again with capped exponential back-off,
         * staying in PLAYING (the first buffer after the gap has DISCONT). The same
         * for the event subscription (`events`). FALSE: the loss is an error.
         */
        glib::ParamSpecBoolean::builder("reconnect")
            .nick("Reconnect")
            .blurb("Reconnect after the media stream or the event subscription was lost instead of failing")
            .default_value(DEFAULT_RECONNECT)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:reconnect-max-delay:
         *
         * Longest wait between two reconnection attempts, in seconds (the first
         * comes after 250 ms, each next one waits twice as long).
         */
        glib::ParamSpecUInt::builder("reconnect-max-delay")
            .nick("Reconnect maximum delay")
            .blurb("Longest wait between two reconnection attempts in seconds")
            .minimum(1)
            .maximum(3600)
            .default_value(DEFAULT_RECONNECT_MAX_DELAY)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:srtp-rekey-interval:
         *
         * With `streaming-method=rtsps-srtp`: replace the element's SRTP keys this
         * often while playing, in seconds (0: never; below 60 taken as 60). Each stream
         * gets a fresh key with the next MKI by `SET_PARAMETER` (ONVIF 26.06); the
         * answer posts an `onvif-srtp-rekeyed` element message. A device that refuses
         * keeps the stream under its key (a warning). `rekey-srtp` does it at once.
         */
        glib::ParamSpecUInt::builder("srtp-rekey-interval")
            .nick("SRTP re-key interval")
            .blurb("Replace the SRTP keys this often, in seconds (0: never; rtsps-srtp only)")
            .maximum(u32::MAX)
            .default_value(DEFAULT_SRTP_REKEY_INTERVAL)
            .mutable_ready()
            .build(),
        /**
         * GstOnvifHttpsSrc:stats:
         *
         * What the element did and saw since it last started, as an
         * `application/x-onvifhttpssrc-stats` structure: the transport, the TLS
         * connections and what decided to trust them, the authentication, reconnections,
         * SOAP round trips, events, bytes, and a `source-stats` array per stream under
         * rtpsource's and rtpjitterbuffer's names (the README lists every field).
         */
        glib::ParamSpecBoxed::builder::<gst::Structure>("stats")
            .nick("Statistics")
            .blurb("What the element did and saw since it last started (read-only)")
            .read_only()
            .build(),
        /**
         * GstOnvifHttpsSrc:stats-interval:
         *
         * Post the `stats` structure as an element message this often, in milliseconds,
         * while started (0: never), with the element's `running-time` added.
         */
        glib::ParamSpecUInt::builder("stats-interval")
            .nick("Statistics interval")
            .blurb("Post the stats as an element message this often, in ms (0: never)")
            .maximum(u32::MAX)
            .default_value(0)
            .mutable_ready()
            .build(),
    ]
}
