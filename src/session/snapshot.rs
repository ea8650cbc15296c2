// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Snapshots: JPEG images fetched over HTTPS at `snapshot-interval`, one buffer each.

use super::*;

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
pub async fn run_snapshot<O: Output>(s: SnapshotSettings, out: Arc<O>, mut commands: Commands) {
    tokio::select! {
        r = snapshot_loop(&s, &*out) => if let Err(e) = r {
            out.error(&e);
        },
        () = commands.stopped() => {}
    }
}

pub(super) async fn snapshot_loop<O: Output>(s: &SnapshotSettings, out: &O) -> Result<(), Error> {
    let started = onvif::start(&s.start, &|w: &str| out.warning(w)).await?;
    for n in &started.notes {
        out.debug(format_args!("{n}"));
    }
    let mut client = started.client;
    let media = started.media;
    out.debug(format_args!(
        "profile {} ({}) on {} ({})",
        media.profile.token,
        media.profile.name,
        client.peer(),
        if media.media2 { "Media2" } else { "Media1" }
    ));
    let target = onvif::snapshot_target(&mut client, &media).await?;
    out.debug(format_args!("snapshot path {target}"));

    let mut ticker = tokio::time::interval(s.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream = None;
    loop {
        ticker.tick().await;
        let image = client
            .get("snapshot GET", &target, MAX_SNAPSHOT_BODY)
            .await?;
        let Some((w, h)) = jpeg_dimensions(&image) else {
            return Err(
                crate::error::Context::new(client.peer(), "snapshot GET").malformed(
                    format!("the answer ({} bytes) is not a JPEG image", image.len()),
                    None,
                ),
            );
        };
        let index = match stream {
            Some(i) => i,
            None => {
                let ms = s.interval.as_millis().clamp(1, i32::MAX as u128) as i32;
                let caps = gst::Caps::builder("image/jpeg")
                    .field("framerate", gst::Fraction::new(1000, ms))
                    .field("parsed", false)
                    .field("width", i32::try_from(w).unwrap_or(i32::MAX))
                    .field("height", i32::try_from(h).unwrap_or(i32::MAX))
                    .build();
                let Some(i) = out.add_stream("video_0", caps, true) else {
                    return Ok(());
                };
                out.streams_complete();
                out.debug(format_args!(
                    "start-up done: {} connection(s), {} SOAP round trip(s)",
                    client.http.connects, client.round_trips
                ));
                stream = Some(i);
                i
            }
        };
        if !out.push(index, gst::Buffer::from_mut_slice(image)) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn test_jpeg_dimensions() {
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
