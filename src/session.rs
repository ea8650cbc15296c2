// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The session task: runs the ONVIF start-up, then feeds the element's streams.
//!
//! It runs on the plugin runtime and talks to the element only through [`Output`], so that
//! this module holds the protocol flow and `imp.rs` only GStreamer glue. The task is
//! stopped by dropping it at the next await point (the element's `stop()` signals it and
//! joins it with a deadline), which closes every connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::device::{self, MAX_SNAPSHOT_BODY, StartSettings};
use crate::error::Error;
use crate::live::{Event, Rtsp};
use crate::onvif::ops::StreamTransport;
use crate::rtp::{self, Timeline};
use crate::rtsp::{self, sdp};
use crate::tunnel;

/// Deadline for the TEARDOWN answer at stop: the element must reach NULL within a second.
const TEARDOWN_WAIT: Duration = Duration::from_millis(200);

/// What the session needs from the element.
pub trait Output: Send + Sync + 'static {
    /// Debug-level log line.
    fn debug(&self, text: &str);
    /// A warning message on the bus.
    fn warning(&self, text: &str);
    /// Adds a src pad `name` with `caps`. `timestamp_on_arrival`: the element stamps
    /// buffers with the running time (snapshots); otherwise the session sets PTS.
    fn add_stream(&self, name: &str, caps: gst::Caps, timestamp_on_arrival: bool) -> Option<usize>;
    /// All pads are there.
    fn streams_complete(&self);
    /// Pushes a buffer on stream `index`; false when the pipeline no longer takes data.
    fn push(&self, index: usize, buffer: gst::Buffer) -> bool;
    /// The element's running time in nanoseconds, if it has a clock.
    fn running_time(&self) -> Option<u64>;
    /// Posts the error; the session ends after it.
    fn error(&self, err: &Error);
}

/// What the snapshot session needs beyond the start-up settings.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    pub start: StartSettings,
    pub interval: Duration,
}

/// What the live RTSP session needs beyond the start-up settings.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub start: StartSettings,
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
pub async fn run_snapshot<O: Output>(
    s: SnapshotSettings,
    out: Arc<O>,
    stop: oneshot::Receiver<()>,
) {
    tokio::select! {
        r = snapshot_loop(&s, &*out) => if let Err(e) = r {
            out.error(&e);
        },
        _ = stop => {}
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
    let mut stream = None;
    loop {
        ticker.tick().await;
        let image = client
            .get("snapshot GET", &target, MAX_SNAPSHOT_BODY)
            .await?;
        let Some((w, h)) = jpeg_dimensions(&image) else {
            return Err(Error::Malformed {
                peer: client.peer(),
                operation: "snapshot GET".into(),
                detail: format!("the answer ({} bytes) is not a JPEG image", image.len()),
            });
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
                out.debug(&format!(
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

/// The caps of an SDP stream.
pub fn rtp_caps(s: &sdp::Stream) -> gst::Caps {
    let mut b = gst::Structure::builder("application/x-rtp");
    for (k, v) in s.caps_fields() {
        b = match v {
            sdp::Value::Int(i) => b.field(k.as_str(), i),
            sdp::Value::Str(v) => b.field(k.as_str(), v),
        };
    }
    gst::Caps::builder_full().structure(b.build()).build()
}

/// A stream being played: its interleaved RTP channel, its pad and its clock.
struct Playing {
    rtp_channel: u8,
    index: usize,
    timeline: Timeline,
}

/// The `rtp-rtsp-http-tcp` method: start-up, GetStreamUri, the tunnel, RTSP, then packets
/// to the pads until stopped.
pub async fn run_live<O: Output>(s: LiveSettings, out: Arc<O>, mut stop: oneshot::Receiver<()>) {
    let started = tokio::select! {
        r = live_start(&s, &*out) => r,
        _ = &mut stop => return,
    };
    let (mut rtsp, uri, mut playing) = match started {
        Ok(x) => x,
        Err(e) => {
            out.error(&e);
            return;
        }
    };
    if let Err(e) = play_loop(&mut rtsp, &uri, &mut playing, &*out, &mut stop).await {
        out.error(&e);
    }
}

async fn live_start<O: Output>(
    s: &LiveSettings,
    out: &O,
) -> Result<(Rtsp, String, Vec<Playing>), Error> {
    let started = device::start(&s.start, &|w: &str| out.warning(w)).await?;
    for n in &started.notes {
        out.debug(n);
    }
    let mut client = started.client;
    let media = started.media;
    let device_uri = device::stream_uri(&mut client, &media, StreamTransport::Http).await?;
    let origin = client.http.origin.clone();
    let target =
        crate::onvif::addr::path_and_query(&device_uri).ok_or_else(|| Error::Malformed {
            peer: origin.peer(),
            operation: "GetStreamUri".into(),
            detail: format!("stream URI {device_uri:?} has no path"),
        })?;
    out.debug(&format!(
        "profile {} ({}): stream {target} through the {} tunnel",
        media.profile.token,
        media.profile.name,
        if client.http.is_tls() {
            "HTTPS"
        } else {
            "HTTP"
        }
    ));
    let creds = s.start.creds.clone();
    let channel = tunnel::open(
        &origin,
        client.http.tls(),
        &target,
        creds.as_ref(),
        s.start.timeout,
    )
    .await?;
    let mut rtsp = Rtsp::new(
        channel,
        origin.peer(),
        creds,
        client.http.is_tls(),
        s.start.timeout,
    );
    // The request URI: the camera's path and query on the origin, as rtsp://.
    let uri = format!("rtsp://{}{target}", origin.host_header());
    let mut ignore = |_: u8, _: &[u8]| {};

    let resp = rtsp.request("OPTIONS", &uri, &[], &mut ignore).await?;
    rtsp.check("OPTIONS", &resp)?;
    rtsp.public = resp
        .header("public")
        .map(|p| {
            p.split(',')
                .map(|m| m.trim().to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default();

    let resp = rtsp
        .request(
            "DESCRIBE",
            &uri,
            &[("Accept", "application/sdp")],
            &mut ignore,
        )
        .await?;
    rtsp.check("DESCRIBE", &resp)?;
    let base = resp
        .header("content-base")
        .or_else(|| resp.header("content-location"))
        .map(str::to_string)
        .unwrap_or_else(|| uri.clone());
    let (_, streams) = sdp::parse(&resp.body).map_err(|detail| Error::Malformed {
        peer: origin.peer(),
        operation: "RTSP DESCRIBE".into(),
        detail,
    })?;
    // The first stream of each wanted kind; a backchannel (sendonly on our side) never.
    let wants = s.start.wants;
    let mut chosen: Vec<(&'static str, &sdp::Stream)> = Vec::new();
    for (kind, wanted, prefix) in [
        (sdp::Kind::Video, wants.video, "video"),
        (sdp::Kind::Audio, wants.audio, "audio"),
        (sdp::Kind::Metadata, wants.metadata, "metadata"),
    ] {
        if !wanted {
            continue;
        }
        match streams
            .iter()
            .find(|st| st.kind == kind && st.direction.as_deref() != Some("sendonly"))
        {
            Some(st) => chosen.push((prefix, st)),
            None => {
                return Err(Error::NotFound {
                    peer: origin.peer(),
                    what: format!(
                        "profile {} has no {prefix} stream in its SDP (streams={})",
                        media.profile.token,
                        wants.describe()
                    ),
                });
            }
        }
    }

    let mut playing = Vec::new();
    for (i, (prefix, st)) in chosen.iter().enumerate() {
        let control = rtsp::resolve_control(&base, st.control.as_deref().unwrap_or("*"));
        let ch = u8::try_from(2 * i).unwrap_or(0);
        let transport = format!("RTP/AVP/TCP;unicast;interleaved={}-{}", ch, ch + 1);
        let resp = rtsp
            .request("SETUP", &control, &[("Transport", &transport)], &mut ignore)
            .await?;
        rtsp.check("SETUP", &resp)?;
        if rtsp.session.is_none()
            && let Some(sess) = resp.header("session")
        {
            rtsp.session = Some(rtsp::parse_session(sess));
        }
        let channels = resp
            .header("transport")
            .and_then(rtsp::parse_interleaved)
            .unwrap_or((ch, ch + 1));
        let caps = rtp_caps(st);
        out.debug(&format!(
            "{prefix}_0: {control} on channels {}-{}: {caps}",
            channels.0, channels.1
        ));
        let Some(index) = out.add_stream(&format!("{prefix}_0"), caps, false) else {
            return Err(Error::Settings("the element went away".into()));
        };
        playing.push(Playing {
            rtp_channel: channels.0,
            index,
            timeline: Timeline::new(st.clock_rate),
        });
    }
    out.streams_complete();

    let resp = rtsp
        .request("PLAY", &uri, &[("Range", "npt=0.000-")], &mut ignore)
        .await?;
    rtsp.check("PLAY", &resp)?;
    out.debug(&format!(
        "playing: {} connection(s) and {} SOAP round trip(s) for the ONVIF start",
        client.http.connects, client.round_trips
    ));
    Ok((rtsp, uri, playing))
}

async fn play_loop<O: Output>(
    rtsp: &mut Rtsp,
    uri: &str,
    playing: &mut [Playing],
    out: &O,
    stop: &mut oneshot::Receiver<()>,
) -> Result<(), Error> {
    let timeout = rtsp.session.as_ref().and_then(|(_, t)| *t);
    let period = Duration::from_secs_f64(rtsp::keepalive_secs(timeout));
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let keepalive_method = if rtsp.public.iter().any(|m| m == "GET_PARAMETER") {
        "GET_PARAMETER"
    } else {
        "OPTIONS"
    };
    let mut pending: Option<u32> = None;
    let flowing = std::sync::atomic::AtomicBool::new(true);
    let mut on_data = |channel: u8, packet: &[u8]| {
        if !flowing.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let Some(p) = playing.iter_mut().find(|p| p.rtp_channel == channel) else {
            // RTCP (odd channels) and unknown channels.
            return;
        };
        let Some(h) = rtp::parse_header(packet) else {
            return;
        };
        let now = out.running_time().unwrap_or(0);
        let pts = p.timeline.pts(h.timestamp, now);
        let mut buffer = gst::Buffer::from_mut_slice(packet.to_vec());
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(pts));
        }
        if !out.push(p.index, buffer) {
            flowing.store(false, std::sync::atomic::Ordering::Relaxed);
        }
    };
    loop {
        tokio::select! {
            ev = rtsp.next_event(&mut on_data) => match ev? {
                Event::Response(r) => {
                    if r.cseq().is_some() && r.cseq() == pending {
                        pending = None;
                    }
                }
                Event::Closed => {
                    return Err(Error::Io {
                        peer: rtsp.peer.clone(),
                        operation: "RTSP stream".into(),
                        detail: "the device closed the stream".into(),
                    });
                }
            },
            _ = keepalive.tick() => {
                if let Some(c) = pending {
                    return Err(Error::Io {
                        peer: rtsp.peer.clone(),
                        operation: format!("RTSP {keepalive_method} keep-alive"),
                        detail: format!("keep-alive CSeq {c} unanswered after {} s", period.as_secs()),
                    });
                }
                pending = Some(rtsp.send(keepalive_method, uri, &[]).await?);
            }
            _ = &mut *stop => {
                // TEARDOWN within a deadline; the device may be gone already.
                let mut ignore = |_: u8, _: &[u8]| {};
                let _ = tokio::time::timeout(TEARDOWN_WAIT, rtsp.request("TEARDOWN", uri, &[], &mut ignore)).await;
                return Ok(());
            }
        }
        if !flowing.load(std::sync::atomic::Ordering::Relaxed) {
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
