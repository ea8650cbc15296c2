// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Edge storage (Profile G): finding a recording and its replay URI (spec §7). Recording
//! control (`GetRecordings`) when the device has it; Recording Search (`FindRecordings`,
//! `GetRecordingSearchResults`, `EndSearch`) otherwise; Replay (`GetReplayUri`) with the
//! HTTP transport, so that replay runs through the HTTPS tunnel. No I/O.

use super::events::parse_datetime;
use super::ops::Request;
use super::soap::XmlWriter;
use super::xml::Element;

pub const NS_TRC: &str = "http://www.onvif.org/ver10/recording/wsdl";
pub const NS_TSE: &str = "http://www.onvif.org/ver10/search/wsdl";
pub const NS_TRP: &str = "http://www.onvif.org/ver10/replay/wsdl";
const NS_TT: &str = "http://www.onvif.org/ver10/schema";

fn request(ns: &str, operation: &'static str, body: String) -> Request {
    Request {
        operation,
        action: format!("{ns}/{operation}"),
        body,
    }
}

/// `trc:GetRecordings`.
pub fn get_recordings() -> Request {
    let mut w = XmlWriter::new();
    w.empty("trc:GetRecordings", &[("xmlns:trc", NS_TRC)]);
    request(NS_TRC, "GetRecordings", w.finish())
}

/// `tse:FindRecordings` of every recording (empty scope).
pub fn find_recordings(max: u32, keep_alive_s: u32) -> Request {
    let mut w = XmlWriter::new();
    w.start("tse:FindRecordings", &[("xmlns:tse", NS_TSE)])
        .empty("tse:Scope", &[])
        .leaf("tse:MaxMatches", &max.to_string())
        .leaf("tse:KeepAliveTime", &format!("PT{keep_alive_s}S"))
        .end("tse:FindRecordings");
    request(NS_TSE, "FindRecordings", w.finish())
}

/// `tse:GetRecordingSearchResults`, waiting up to `wait_s` for at least one result.
pub fn get_recording_search_results(token: &str, max: u32, wait_s: u32) -> Request {
    let mut w = XmlWriter::new();
    w.start("tse:GetRecordingSearchResults", &[("xmlns:tse", NS_TSE)])
        .leaf("tse:SearchToken", token)
        .leaf("tse:MinResults", "1")
        .leaf("tse:MaxResults", &max.to_string())
        .leaf("tse:WaitTime", &format!("PT{wait_s}S"))
        .end("tse:GetRecordingSearchResults");
    request(NS_TSE, "GetRecordingSearchResults", w.finish())
}

/// `tse:EndSearch`.
pub fn end_search(token: &str) -> Request {
    let mut w = XmlWriter::new();
    w.start("tse:EndSearch", &[("xmlns:tse", NS_TSE)])
        .leaf("tse:SearchToken", token)
        .end("tse:EndSearch");
    request(NS_TSE, "EndSearch", w.finish())
}

/// `trp:GetReplayUri` for RTP over RTSP over HTTP (the tunnel).
pub fn get_replay_uri(recording: &str) -> Request {
    let mut w = XmlWriter::new();
    w.start(
        "trp:GetReplayUri",
        &[("xmlns:trp", NS_TRP), ("xmlns:tt", NS_TT)],
    )
    .start("trp:StreamSetup", &[])
    .leaf("tt:Stream", "RTP-Unicast")
    .start("tt:Transport", &[])
    .leaf("tt:Protocol", "HTTP")
    .end("tt:Transport")
    .end("trp:StreamSetup")
    .leaf("trp:RecordingToken", recording)
    .end("trp:GetReplayUri");
    request(NS_TRP, "GetReplayUri", w.finish())
}

/// A recording and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recording {
    pub token: String,
    /// `(track token, Video|Audio|Metadata)`.
    pub tracks: Vec<(String, String)>,
    /// Unix seconds of the earliest and latest data, when the device says (search only).
    pub earliest: Option<i64>,
    pub latest: Option<i64>,
}

fn text(e: Option<&Element>) -> String {
    e.map(|e| e.text().to_string()).unwrap_or_default()
}

/// The recordings of `GetRecordingsResponse`.
pub fn parse_recordings(el: &Element) -> Result<Vec<Recording>, String> {
    if !el.is(NS_TRC, "GetRecordingsResponse") {
        return Err(format!("expected GetRecordingsResponse, got {}", el.name));
    }
    Ok(el
        .children_named(NS_TRC, "RecordingItem")
        .map(|r| Recording {
            token: text(r.child(NS_TT, "RecordingToken")),
            tracks: r
                .child(NS_TT, "Tracks")
                .map(|t| {
                    t.children_named(NS_TT, "Track")
                        .map(|tr| {
                            (
                                text(tr.child(NS_TT, "TrackToken")),
                                text(tr.path(&[(NS_TT, "Configuration"), (NS_TT, "TrackType")])),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            earliest: None,
            latest: None,
        })
        .collect())
}

/// The search token of `FindRecordingsResponse`.
pub fn parse_search_token(el: &Element) -> Result<String, String> {
    if !el.is(NS_TSE, "FindRecordingsResponse") {
        return Err(format!("expected FindRecordingsResponse, got {}", el.name));
    }
    el.child(NS_TSE, "SearchToken")
        .map(|t| t.text().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "no SearchToken".to_string())
}

/// The recordings of `GetRecordingSearchResultsResponse`, and whether the search is
/// `Completed`.
pub fn parse_search_results(el: &Element) -> Result<(Vec<Recording>, bool), String> {
    if !el.is(NS_TSE, "GetRecordingSearchResultsResponse") {
        return Err(format!(
            "expected GetRecordingSearchResultsResponse, got {}",
            el.name
        ));
    }
    let list = el.child(NS_TSE, "ResultList").ok_or("no ResultList")?;
    let completed = text(list.child(NS_TT, "SearchState")) == "Completed";
    let recordings = list
        .children_named(NS_TT, "RecordingInformation")
        .map(|r| Recording {
            token: text(r.child(NS_TT, "RecordingToken")),
            tracks: r
                .children_named(NS_TT, "Track")
                .map(|t| {
                    (
                        text(t.child(NS_TT, "TrackToken")),
                        text(t.child(NS_TT, "TrackType")),
                    )
                })
                .collect(),
            earliest: parse_datetime(&text(r.child(NS_TT, "EarliestRecording"))),
            latest: parse_datetime(&text(r.child(NS_TT, "LatestRecording"))),
        })
        .collect();
    Ok((recordings, completed))
}

/// The URI of `GetReplayUriResponse`.
pub fn parse_replay_uri(el: &Element) -> Result<String, String> {
    if !el.is(NS_TRP, "GetReplayUriResponse") {
        return Err(format!("expected GetReplayUriResponse, got {}", el.name));
    }
    el.child(NS_TRP, "Uri")
        .map(|u| u.text().to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| "no Uri".to_string())
}

/// `Range: clock=` value for a replay (ONVIF Streaming §6.3): `YYYYMMDDThhmmss.sssZ-[end]`.
pub fn clock_range(start_unix_ms: i64, end_unix_ms: Option<i64>) -> String {
    let f = |ms: i64| {
        let s = crate::proto::clock::format_iso8601_millis(ms);
        // 2025-03-14T09:41:07.005Z -> 20250314T094107.005Z
        s.replace(['-', ':'], "")
    };
    match end_unix_ms {
        Some(e) => format!("clock={}-{}", f(start_unix_ms), f(e)),
        None => format!("clock={}-", f(start_unix_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onvif::shared_example as example;

    #[test]
    fn test_shared_examples() {
        let Some(el) = example("recording-GetRecordings.resp.xml") else {
            return;
        };
        let r = parse_recordings(&el).unwrap();
        assert_eq!(r[0].token, "Recording_1");
        assert_eq!(
            r[0].tracks,
            vec![
                ("VIDEO001".into(), "Video".into()),
                ("AUDIO001".into(), "Audio".into()),
                ("META001".into(), "Metadata".into())
            ]
        );
        let el = example("search-FindRecordings.resp.xml").unwrap();
        assert_eq!(parse_search_token(&el).unwrap(), "SearchToken_42");
        let el = example("search-GetRecordingSearchResults.resp.xml").unwrap();
        let (r, done) = parse_search_results(&el).unwrap();
        assert!(done);
        assert_eq!(r[0].token, "Recording_1");
        assert_eq!(r[0].earliest, parse_datetime("2025-03-01T00:00:00Z"));
        assert_eq!(r[0].tracks[0], ("VIDEO001".into(), "Video".into()));
        let el = example("replay-GetReplayUri.resp.xml").unwrap();
        assert_eq!(
            parse_replay_uri(&el).unwrap(),
            "rtsp://192.0.2.10:80/onvif-replay/Recording_1"
        );
    }

    #[test]
    fn test_clock_range() {
        assert_eq!(
            clock_range(1_741_945_267_005, None),
            "clock=20250314T094107.005Z-"
        );
        assert_eq!(
            clock_range(1_741_945_260_000, Some(1_741_945_800_000)),
            "clock=20250314T094100.000Z-20250314T095000.000Z"
        );
    }
}
