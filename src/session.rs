// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The session task: runs the ONVIF start-up, then feeds the element's streams.
//!
//! It runs on the plugin runtime and talks to the element only through [`Output`], so that
//! this module holds the protocol flow and `imp.rs` only GStreamer glue. The task is
//! stopped by dropping it at the next await point (the element's `stop()` signals it and
//! joins it with a deadline), which closes every connection.

use std::time::Duration;

use crate::device::{self, MAX_SNAPSHOT_BODY, StartSettings};
use crate::error::Error;

/// What the session needs from the element.
pub trait Output: Send + Sync + 'static {
    /// Debug-level log line.
    fn debug(&self, text: &str);
    /// A warning message on the bus.
    fn warning(&self, text: &str);
    /// Creates the snapshot stream (`video_0`) with `image/jpeg` caps.
    fn add_jpeg_stream(&self, width: Option<u32>, height: Option<u32>, interval: Duration);
    /// Pushes one JPEG image; false when the pipeline no longer takes data.
    fn push_jpeg(&self, image: Vec<u8>) -> bool;
    /// Posts the error; the session ends after it.
    fn error(&self, err: &Error);
}

/// What the snapshot session needs beyond the start-up settings.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    pub start: StartSettings,
    pub interval: Duration,
}

/// Width and height from a JPEG's first start-of-frame marker.
pub fn jpeg_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let marker = data[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let sof = data.get(i + 4..i + 9)?;
            let h = u32::from(u16::from_be_bytes([sof[1], sof[2]]));
            let w = u32::from(u16::from_be_bytes([sof[3], sof[4]]));
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// The `http-snapshot` method: start-up, GetSnapshotUri, then one HTTPS GET per interval.
pub async fn run_snapshot<O: Output>(s: SnapshotSettings, out: std::sync::Arc<O>) {
    if let Err(e) = snapshot_loop(&s, &*out).await {
        out.error(&e);
    }
}

async fn snapshot_loop<O: Output>(s: &SnapshotSettings, out: &O) -> Result<(), Error> {
    let started = device::start(&s.start, &|w: &str| out.warning(w)).await?;
    for n in &started.notes {
        out.debug(n);
    }
    let mut client = started.client;
    let media = started.media;
    out.debug(&format!(
        "profile {} ({}) on {} ({})",
        media.profile.token,
        media.profile.name,
        client.peer(),
        if media.media2 { "Media2" } else { "Media1" }
    ));
    let target = device::snapshot_target(&mut client, &media).await?;
    out.debug(&format!("snapshot path {target}"));

    let mut ticker = tokio::time::interval(s.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    loop {
        ticker.tick().await;
        let image = client
            .get("snapshot GET", &target, MAX_SNAPSHOT_BODY)
            .await?;
        let dims = jpeg_dimensions(&image);
        if dims.is_none() {
            return Err(Error::Malformed {
                peer: client.peer(),
                operation: "snapshot GET".into(),
                detail: format!("the answer ({} bytes) is not a JPEG image", image.len()),
            });
        }
        if first {
            out.add_jpeg_stream(dims.map(|d| d.0), dims.map(|d| d.1), s.interval);
            out.debug(&format!(
                "start-up done: {} connection(s), {} SOAP round trip(s)",
                client.http.connects, client.round_trips
            ));
            first = false;
        }
        if !out.push_jpeg(image) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_jpeg_dimensions() {
        // SOI, APP0 (length 4), SOF0 with height 240 and width 320.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00,
            0xF0, 0x01, 0x40, 0x01, 0x01, 0x11, 0x00,
        ];
        assert_eq!(jpeg_dimensions(&jpeg), Some((320, 240)));
        assert_eq!(jpeg_dimensions(b"<html>"), None);
        assert_eq!(jpeg_dimensions(&jpeg[..10]), None);
        assert_eq!(jpeg_dimensions(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00]), None);
    }
}
