// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The media service's calls after the start-up: where the stream and the snapshot are.

use crate::error::Error;
use crate::proto::onvif::{addr, ops};

use super::{MediaInfo, OnvifClient};

/// Asks for the stream URI of the chosen profile for `transport`; returns the URI as the
/// device gave it.
pub async fn stream_uri(
    client: &mut OnvifClient,
    media: &MediaInfo,
    transport: ops::StreamTransport,
) -> Result<String, Error> {
    let Some(req) = ops::get_stream_uri(media.media2, &media.profile.token, transport) else {
        return Err(no_rtsps(client, "offers Media1 only (Media1 has no RTSPS)"));
    };
    let el = client.call(&media.media_path, &req, true).await?;
    ops::parse_media_uri(&el, media.media2, req.operation)
        .map_err(|d| client.malformed(req.operation, d))
}

/// Asks for the snapshot URI of the chosen profile and rewrites it onto the origin.
pub async fn snapshot_target(client: &mut OnvifClient, media: &MediaInfo) -> Result<String, Error> {
    let req = ops::get_snapshot_uri(media.media2, &media.profile.token);
    let el = client.call(&media.media_path, &req, true).await?;
    let uri = ops::parse_media_uri(&el, media.media2, req.operation)
        .map_err(|d| client.malformed(req.operation, d))?;
    addr::path_and_query(&uri)
        .ok_or_else(|| client.malformed(req.operation, format!("snapshot URI {uri:?} has no path")))
}

/// The SRTP suite of `rtsps-srtp` and why ([`ops::srtp_suite`]): the profile's
/// configuration says, else its video encoder's options (one more round trip). A fault
/// there (an optional operation on many devices) means the default suite.
pub async fn srtp_suite(
    client: &mut OnvifClient,
    media: &MediaInfo,
) -> Result<(crate::proto::mikey::Suite, String), Error> {
    let configured = media.profile.srtp_algorithm.as_deref();
    let listed = match configured {
        Some(c) if crate::proto::mikey::Suite::from_onvif_name(c).is_some() => None,
        _ => {
            let req = ops::get_video_encoder_options(&media.profile.token);
            match client.call(&media.media_path, &req, true).await {
                Ok(el) => ops::parse_srtp_algorithms(&el)
                    .map_err(|d| client.malformed(req.operation, d))?,
                Err(Error::Fault { .. } | Error::HttpStatus { .. }) => None,
                Err(e) => return Err(e),
            }
        }
    };
    ops::srtp_suite(configured, listed.as_deref()).map_err(|why| {
        Error::Settings(format!(
            "streaming-method=rtsps-srtp: the device at {} cannot stream SRTP for profile \
             {}: {why}; use streaming-method=rtsps (the media inside the TLS connection)",
            client.peer(),
            media.profile.token
        ))
    })
}

/// Whether the device says it streams over RTSPS: Media2's `SecureRTSPStreaming`. A device
/// that says so gives `Ok(None)`; one that does not, the error to stop with; one that
/// cannot answer the question (a fault: the operation is optional in practice), a note for
/// the log, and it is asked for the URI all the same.
pub async fn check_rtsps(
    client: &mut OnvifClient,
    media: &MediaInfo,
) -> Result<Option<String>, Error> {
    if !media.media2 {
        return Err(no_rtsps(client, "offers Media1 only (Media1 has no RTSPS)"));
    }
    let req = ops::get_media2_capabilities();
    let el = match client.call(&media.media_path, &req, false).await {
        Ok(el) => el,
        Err(e @ (Error::Fault { .. } | Error::HttpStatus { .. })) => {
            return Ok(Some(format!(
                "Media2 GetServiceCapabilities failed ({e}); asking for the RTSPS URI all the \
                 same"
            )));
        }
        Err(e) => return Err(e),
    };
    match ops::parse_secure_rtsp_streaming(&el) {
        Ok(Some(true)) => Ok(None),
        Ok(Some(false)) => Err(no_rtsps(
            client,
            "says SecureRTSPStreaming=false in its Media2 capabilities",
        )),
        Ok(None) => Err(no_rtsps(
            client,
            "does not list SecureRTSPStreaming in its Media2 capabilities",
        )),
        Err(d) => Err(client.malformed(req.operation, d)),
    }
}

/// The error for a device without RTSPS (spec §3: the setting cannot work with it).
fn no_rtsps(client: &OnvifClient, why: &str) -> Error {
    Error::Settings(format!(
        "streaming-method=rtsps and rtsps-srtp need RTSP over TLS, which ONVIF offers \
         through Media2 (GetStreamUri with RtspsUnicast, capability SecureRTSPStreaming), \
         and the device \
         at {} {why}. Use streaming-method=rtp-rtsp-http-tcp: RTSP tunnelled over HTTPS \
         encrypts the media too",
        client.peer()
    ))
}
