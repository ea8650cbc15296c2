// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Where the media is: the profile's stream URI for the transport, and how to open it.

use super::*;

/// Where the media of a session is, as the ONVIF start found it: what a reconnection
/// reuses when only the network failed (spec §9: redo only what must be redone).
#[derive(Clone)]
pub(super) struct MediaPlace {
    /// The device service's origin.
    pub(super) origin: crate::proto::onvif::addr::Origin,
    /// How the RTSP connection is made.
    pub(super) open: OpenRtsp,
    /// The RTSP request URI.
    pub(super) uri: String,
    /// What the streams come from, for messages.
    pub(super) source: String,
    /// Replay: where it starts when `playback-start` is not set (the recording's start).
    pub(super) replay_start_ms: Option<i64>,
    /// Connections and SOAP round trips the ONVIF start took, for the log.
    pub(super) cost: (u32, u32),
    /// The SRTP suite of our keys (`rtsps-srtp`).
    pub(super) srtp_suite: crate::proto::mikey::Suite,
}

#[derive(Clone)]
pub(super) enum OpenRtsp {
    /// RTSP tunnelled over HTTP(S) to the device's origin, at `target`.
    Tunnel {
        tls: Option<Arc<crate::transport::tls::TlsConfig>>,
        target: String,
    },
    /// Plain RTSP over TCP to this origin (the device's RTSP port).
    Tcp(crate::proto::onvif::addr::Origin),
    /// RTSP over TLS to this origin (the device's RTSPS port), checked as `tls` says.
    Tls {
        origin: crate::proto::onvif::addr::Origin,
        tls: Arc<crate::transport::tls::TlsConfig>,
    },
}

/// The RTSPS port when the URI has none: IANA's `rtsps` (Axis uses it).
const RTSPS_PORT: u16 = 322;

/// The ONVIF start: clock, services, profiles, and the stream (or replay) URI.
pub(super) async fn find_media<O: Output>(s: &LiveSettings, out: &O) -> Result<MediaPlace, Error> {
    let mut started = onvif::start(&s.start, &|w: &str| out.warning(w)).await?;
    for n in &started.notes {
        out.debug(format_args!("{n}"));
    }
    let mut client = started.client;
    let media = started.media;
    let origin = client.http.origin.clone();
    let mut replay_start_ms = None;
    // What the streams come from, for messages.
    let mut source = format!("profile {}", media.profile.token);
    let mut srtp_suite = crate::proto::mikey::Suite::AesCm128HmacSha1_80;
    let (open, uri) = match s.transport {
        Transport::Http => {
            let (operation, device_uri, what) = match &s.playback {
                Some(p) => {
                    let t = crate::client::onvif::recording::find_replay(
                        &mut client,
                        &mut started.services,
                        p.recording.as_deref(),
                    )
                    .await?;
                    replay_start_ms = t.recording.earliest.map(|e| e * 1000);
                    source = format!("recording {}", t.recording.token);
                    ("GetReplayUri", t.uri, source.clone())
                }
                None => {
                    let uri = onvif::stream_uri(&mut client, &media, Transport::Http).await?;
                    let what = format!("profile {} ({})", media.profile.token, media.profile.name);
                    ("GetStreamUri", uri, what)
                }
            };
            let target =
                crate::proto::onvif::addr::path_and_query(&device_uri).ok_or_else(|| {
                    crate::error::Context::new(origin.peer(), operation)
                        .malformed(format!("stream URI {device_uri:?} has no path"), None)
                })?;
            out.debug(format_args!(
                "{what}: stream {target} through the {} tunnel",
                if client.http.is_tls() {
                    "HTTPS"
                } else {
                    "HTTP"
                }
            ));
            // The request URI: the camera's path and query on the origin, as rtsp://.
            let uri = format!("rtsp://{}{target}", origin.host_header());
            let tls = client.http.tls().cloned();
            (OpenRtsp::Tunnel { tls, target }, uri)
        }
        t @ (Transport::Rtsp | Transport::Udp) => {
            let device_uri = onvif::stream_uri(&mut client, &media, t).await?;
            // The device's RTSP port, on the host the user gave (device hosts can be wrong).
            let port = url::Url::parse(&device_uri)
                .ok()
                .and_then(|u| u.port())
                .unwrap_or(554);
            let target = crate::proto::onvif::addr::path_and_query(&device_uri)
                .unwrap_or_else(|| "/".into());
            let rtsp_origin = crate::proto::onvif::addr::Origin {
                scheme: "rtsp",
                host: origin.host.clone(),
                port,
            };
            out.debug(format_args!(
                "profile {} ({}): stream rtsp://{}{target} over plain TCP",
                media.profile.token,
                media.profile.name,
                rtsp_origin.host_header()
            ));
            let uri = format!("rtsp://{}{target}", rtsp_origin.host_header());
            (OpenRtsp::Tcp(rtsp_origin), uri)
        }
        t @ (Transport::Rtsps | Transport::RtspsSrtp) => {
            if let Some(note) = onvif::check_rtsps(&mut client, &media).await? {
                out.debug(format_args!("{note}"));
            }
            if t == Transport::RtspsSrtp {
                let (suite, why) = onvif::srtp_suite(&mut client, &media).await?;
                out.debug(format_args!("SRTP with {} ({why})", suite.onvif_name()));
                srtp_suite = suite;
            }
            let device_uri = onvif::stream_uri(&mut client, &media, t).await?;
            let rtsps_origin = rtsps_origin(&device_uri, &origin.host, out)
                .map_err(|d| client.malformed("GetStreamUri", d))?;
            let target = crate::proto::onvif::addr::path_and_query(&device_uri)
                .unwrap_or_else(|| "/".into());
            let Some(tls) = s.start.tls.clone() else {
                return Err(Error::Settings(
                    "internal error: streaming-method=rtsps without TLS settings, please \
                     report this"
                        .into(),
                ));
            };
            out.debug(format_args!(
                "profile {} ({}): stream rtsps://{}{target} over TLS",
                media.profile.token,
                media.profile.name,
                rtsps_origin.host_header()
            ));
            let uri = format!("rtsps://{}{target}", rtsps_origin.host_header());
            (
                OpenRtsp::Tls {
                    origin: rtsps_origin,
                    tls,
                },
                uri,
            )
        }
    };
    Ok(MediaPlace {
        origin,
        open,
        uri,
        source,
        replay_start_ms,
        cost: (client.http.connects, client.round_trips),
        srtp_suite,
    })
}

/// Where the RTSPS connection goes: the port of the device's `rtsps://` URI (the only
/// place a device says it: GetNetworkProtocols has no RTSPS), 322 when it has none, on
/// the host the user gave (device hosts can be wrong). A URI that is not `rtsps://` is
/// refused: it does not say the port speaks TLS.
fn rtsps_origin<O: Output>(
    device_uri: &str,
    host: &str,
    out: &O,
) -> Result<crate::proto::onvif::addr::Origin, String> {
    let shown = crate::proto::rtsp::url::strip_credentials(device_uri);
    let url = url::Url::parse(device_uri.trim())
        .map_err(|e| format!("RtspsUnicast stream URI {shown:?} is not a URI: {e}"))?;
    if url.scheme() != "rtsps" {
        return Err(format!(
            "RtspsUnicast stream URI {shown:?} is not rtsps:// (its port may not speak TLS)"
        ));
    }
    let port = url.port().unwrap_or_else(|| {
        out.debug(format_args!(
            "the RTSPS URI has no port: using {RTSPS_PORT}, the rtsps port (rtspsrc would \
             use 554)"
        ));
        RTSPS_PORT
    });
    Ok(crate::proto::onvif::addr::Origin {
        scheme: "rtsps",
        host: host.to_string(),
        port,
    })
}
