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
    let req = ops::get_stream_uri(media.media2, &media.profile.token, transport);
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
