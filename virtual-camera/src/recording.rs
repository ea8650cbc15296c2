// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Edge storage: one recording of video, audio and metadata covering the three minutes
//! before the camera started, with a 20 s gap in it, and the Recording, Recording Search
//! and Replay answers that describe it. The media of a replay is generated from the
//! recorded times, so nothing is stored.

use std::collections::HashSet;

/// The recording's token.
pub const TOKEN: &str = "Recording_1";
/// `(track token, track type)`.
pub const TRACKS: [(&str, &str); 3] = [
    ("VIDEO001", "Video"),
    ("AUDIO001", "Audio"),
    ("METADATA001", "Metadata"),
];

/// What the camera holds, in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// `[from, to)` spans with data, in order; the space between two spans is a gap.
    pub spans: Vec<(i64, i64)>,
    /// Whether the recording has a metadata track (video and audio it always has).
    pub metadata: bool,
}

impl Archive {
    /// 80 s of data, a 20 s gap, then 80 s more up to `now`.
    pub fn before(now: i64) -> Archive {
        let start = now - 180;
        Archive {
            spans: vec![(start, start + 80), (start + 100, now)],
            metadata: true,
        }
    }

    /// `(track token, track type)` of the recording's tracks.
    pub fn tracks(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        TRACKS
            .into_iter()
            .filter(|(_, kind)| self.metadata || *kind != "Metadata")
    }

    pub fn earliest(&self) -> i64 {
        self.spans.first().map_or(0, |s| s.0)
    }

    pub fn latest(&self) -> i64 {
        self.spans.last().map_or(0, |s| s.1)
    }
}

/// Open searches (FindRecordings until EndSearch).
#[derive(Debug, Default)]
pub struct Searches {
    open: HashSet<String>,
    next: u32,
}

impl Searches {
    pub fn open(&mut self) -> String {
        self.next += 1;
        let token = format!("Search_{}", self.next);
        self.open.insert(token.clone());
        token
    }

    pub fn is_open(&self, token: &str) -> bool {
        self.open.contains(token)
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    pub fn end(&mut self, token: &str) -> bool {
        self.open.remove(token)
    }
}

/// `2025-03-14T09:41:00Z`.
pub fn xsd_datetime(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(crate::events::fmt_time)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn source(device: &str) -> String {
    format!(
        "<tt:Source><tt:SourceId>urn:uuid:6f6e7669-6668-4000-8000-000000000001</tt:SourceId>\
         <tt:Name>Virtual camera</tt:Name><tt:Location>127.0.0.1</tt:Location>\
         <tt:Description>Edge recording</tt:Description><tt:Address>{device}</tt:Address></tt:Source>"
    )
}

/// The body of `trc:GetRecordingsResponse`.
pub fn get_recordings_response(archive: &Archive, device: &str) -> String {
    let mut s = format!(
        "<trc:GetRecordingsResponse xmlns:trc=\"http://www.onvif.org/ver10/recording/wsdl\">\
         <trc:RecordingItem><tt:RecordingToken>{TOKEN}</tt:RecordingToken>\
         <tt:Configuration>{}<tt:Content>continuous</tt:Content>\
         <tt:MaximumRetentionTime>PT0S</tt:MaximumRetentionTime></tt:Configuration><tt:Tracks>",
        source(device)
    );
    for (token, kind) in archive.tracks() {
        s.push_str(&format!(
            "<tt:Track><tt:TrackToken>{token}</tt:TrackToken><tt:Configuration>\
             <tt:TrackType>{kind}</tt:TrackType><tt:Description>{}</tt:Description>\
             </tt:Configuration></tt:Track>",
            kind.to_lowercase()
        ));
    }
    s.push_str("</tt:Tracks></trc:RecordingItem></trc:GetRecordingsResponse>");
    s
}

/// The body of `tse:GetRecordingSearchResultsResponse` listing the recording.
pub fn search_results_response(archive: &Archive, device: &str) -> String {
    let (from, to) = (
        xsd_datetime(archive.earliest()),
        xsd_datetime(archive.latest()),
    );
    let mut s = format!(
        "<tse:GetRecordingSearchResultsResponse xmlns:tse=\"http://www.onvif.org/ver10/search/wsdl\">\
         <tse:ResultList><tt:SearchState>Completed</tt:SearchState><tt:RecordingInformation>\
         <tt:RecordingToken>{TOKEN}</tt:RecordingToken>{}\
         <tt:EarliestRecording>{from}</tt:EarliestRecording><tt:LatestRecording>{to}</tt:LatestRecording>\
         <tt:Content>continuous</tt:Content>",
        source(device)
    );
    for (token, kind) in archive.tracks() {
        s.push_str(&format!(
            "<tt:Track><tt:TrackToken>{token}</tt:TrackToken><tt:TrackType>{kind}</tt:TrackType>\
             <tt:Description>{}</tt:Description><tt:DataFrom>{from}</tt:DataFrom>\
             <tt:DataTo>{to}</tt:DataTo></tt:Track>",
            kind.to_lowercase()
        ));
    }
    s.push_str(
        "<tt:RecordingStatus>Recording</tt:RecordingStatus></tt:RecordingInformation>\
         </tse:ResultList></tse:GetRecordingSearchResultsResponse>",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_archive_has_a_gap() {
        let a = Archive::before(1_000_000);
        assert_eq!(a.earliest(), 1_000_000 - 180);
        assert_eq!(a.latest(), 1_000_000);
        assert_eq!(a.spans[1].0 - a.spans[0].1, 20);
    }

    #[test]
    fn test_searches() {
        let mut s = Searches::default();
        let t = s.open();
        assert!(s.is_open(&t));
        assert!(s.end(&t));
        assert!(!s.is_open(&t));
        assert!(!s.end(&t));
    }

    #[test]
    fn test_xsd_datetime() {
        assert_eq!(xsd_datetime(1_741_945_260), "2025-03-14T09:41:00Z");
    }
}
