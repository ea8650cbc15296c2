// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Replay (`mode=playback`): the recording's clock, the ONVIF replay header, seeks.

use super::*;

/// How long a replayed stream may be silent after another one ended before it is ended too.
pub(super) const REPLAY_IDLE: Duration = Duration::from_millis(1500);

/// The `Require` feature tag of ONVIF replay.
pub(super) const REPLAY_REQUIRE: (&str, &str) = ("Require", "onvif-replay");

/// The recorded time of a replayed buffer, in Unix nanoseconds: its `timestamp/x-ntp`
/// reference timestamp meta (`mode=playback`).
pub fn recorded_time(buffer: &gst::BufferRef) -> Option<i64> {
    let meta = buffer
        .iter_meta::<gst::ReferenceTimestampMeta>()
        .find(|m| m.reference().can_intersect(&NTP_CAPS))?;
    let unix_ns = meta
        .timestamp()
        .nseconds()
        .checked_sub(rtp::NTP_UNIX_OFFSET_NS)?;
    i64::try_from(unix_ns).ok()
}

/// Where a replay stops: NTP nanoseconds of `end_ms`.
pub(super) fn ntp_ns_of_unix_ms(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0) * 1_000_000 + rtp::NTP_UNIX_OFFSET_NS
}

/// A replay in progress.
pub(super) struct Replay {
    pub(super) settings: PlaybackSettings,
    /// Where stream time 0 is: the start of the first PLAY (Unix ms), when known.
    pub(super) start_ms: Option<i64>,
    /// `playback-end` as NTP nanoseconds (since 1900).
    pub(super) end_ntp: Option<u64>,
    /// Added to every PTS: the position of the last seek, so that PTS sit in the segment
    /// the element's source pads start after a seek.
    pub(super) pts_offset: u64,
}

impl Replay {
    /// The PLAY headers for a replay from `start_ms`.
    pub(super) fn play_headers(&self, start_ms: Option<i64>) -> Vec<(&'static str, String)> {
        let mut h = vec![
            (REPLAY_REQUIRE.0, REPLAY_REQUIRE.1.to_string()),
            ("Rate-Control", "yes".into()),
        ];
        if let Some(start) = start_ms {
            h.push(("Range", recording::clock_range(start, self.settings.end_ms)));
        }
        if self.settings.speed != 1.0 {
            h.push(("Scale", format!("{:.3}", self.settings.speed)));
        }
        h
    }
}

/// A seek in a replay (spec §7): the PLAY headers from the recorded time the position
/// points at (stream time 0 is the start of the replay), the streams' timelines started
/// again. The RTSP session does the rest ([`rtsp::session::Command::Seek`]: PAUSE, hold,
/// PLAY); the source pads have flushed. `None`: nothing to do (not a replay), or the
/// seek cannot be done (said, and the element takes data again).
pub(super) fn seek_headers<O: Output>(
    streams: &SharedStreams,
    out: &O,
    (position, epoch): (u64, u64),
) -> Option<Vec<(String, String)>> {
    let mut st = streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let replay = st.replay.as_mut()?;
    let Some(start) = replay.start_ms else {
        // The element's queue takes what comes again.
        out.seek_applied(epoch);
        out.warning(
            "cannot seek: the device did not say when the recording starts; set playback-start",
        );
        return None;
    };
    let target = start + i64::try_from(position / 1_000_000).unwrap_or(0);
    replay.pts_offset = position;
    let headers = replay.play_headers(Some(target));
    for s in st.list.iter_mut() {
        s.timeline = Timeline::new(s.clock_rate);
        s.ended = false;
        s.last_packet = None;
    }
    out.debug(format_args!(
        "seek to {} ms: PAUSE, PLAY {headers:?}",
        position / 1_000_000
    ));
    Some(
        headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}
