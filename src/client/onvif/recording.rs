// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Edge storage (spec §7): which recording to replay and where. The recording list comes
//! from Recording control (`GetRecordings`) when the device offers it, from Recording
//! Search otherwise; the search also gives the time span that `playback-start` defaults
//! to. The replay URI is asked for the HTTP transport, so the replay runs through the
//! HTTPS tunnel.

use super::OnvifClient;
use super::services::Services;
use crate::error::Error;
use crate::proto::onvif::recording::{self, Recording};
use crate::proto::onvif::services::Service;

/// Searches are short: a device answers one page per call, and we stop after this many.
const MAX_SEARCH_PAGES: usize = 16;

/// A recording and its replay URI as the device gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayTarget {
    pub recording: Recording,
    pub uri: String,
}

/// Recording Search: every recording with its time span.
async fn search(client: &mut OnvifClient, path: &str) -> Result<Vec<Recording>, Error> {
    let req = recording::find_recordings(100, 10);
    let el = client.call(path, &req, true).await?;
    let token =
        recording::parse_search_token(&el).map_err(|d| client.malformed(req.operation, d))?;
    let mut found = Vec::new();
    for _ in 0..MAX_SEARCH_PAGES {
        let req = recording::get_recording_search_results(&token, 100, 1);
        let el = client.call(path, &req, true).await?;
        let (page, done) =
            recording::parse_search_results(&el).map_err(|d| client.malformed(req.operation, d))?;
        found.extend(page);
        if done {
            break;
        }
    }
    // A device keeps a search until EndSearch or its keep-alive lapses, and many allow only
    // a few at once: end it. Its failure changes nothing for us.
    let _ = client
        .call(path, &recording::end_search(&token), true)
        .await;
    Ok(found)
}

/// Picks the recording `token` (the first one when `None`) and asks for its replay URI.
pub async fn find_replay(
    client: &mut OnvifClient,
    services: &mut Services,
    token: Option<&str>,
) -> Result<ReplayTarget, Error> {
    let Some(replay) = services.find(client, Service::Replay).await? else {
        return Err(Error::NotFound {
            at: crate::error::At::here(),
            peer: client.peer(),
            what: "the device offers no Replay service (no edge storage playback)".into(),
        });
    };
    let recording_path = services.find(client, Service::Recording).await?;
    let search_path = match recording_path {
        // Looked up only if the time span is needed (below).
        Some(_) => None,
        None => services.find(client, Service::Search).await?,
    };
    let mut searched = false;
    let mut list = match (recording_path, &search_path) {
        (Some(path), _) => {
            let req = recording::get_recordings();
            let el = client.call(&path, &req, true).await?;
            recording::parse_recordings(&el).map_err(|d| client.malformed(req.operation, d))?
        }
        (None, Some(path)) => {
            searched = true;
            search(client, path).await?
        }
        (None, None) => {
            return Err(Error::NotFound {
                at: crate::error::At::here(),
                peer: client.peer(),
                what: "the device offers neither Recording nor Recording Search service".into(),
            });
        }
    };
    list.retain(|r| !r.token.is_empty());
    let index = match token {
        Some(t) => list.iter().position(|r| r.token == t).ok_or_else(|| {
            let have: Vec<&str> = list.iter().map(|r| r.token.as_str()).collect();
            Error::NotFound {
                at: crate::error::At::here(),
                peer: client.peer(),
                what: format!(
                    "no recording {t:?} (recordings: {})",
                    if have.is_empty() {
                        "none".to_string()
                    } else {
                        have.join(", ")
                    }
                ),
            }
        })?,
        None if list.is_empty() => {
            return Err(Error::NotFound {
                at: crate::error::At::here(),
                peer: client.peer(),
                what: "the device has no recordings".into(),
            });
        }
        None => 0,
    };
    let mut chosen = list.swap_remove(index);
    // GetRecordings gives no time span; the search does.
    let search_path = match (searched, chosen.earliest) {
        (false, None) => services.find(client, Service::Search).await?,
        _ => None,
    };
    if let Some(path) = &search_path {
        let found = search(client, path).await?;
        if let Some(found) = found.into_iter().find(|r| r.token == chosen.token) {
            chosen.earliest = found.earliest;
            chosen.latest = found.latest;
            if chosen.tracks.is_empty() {
                chosen.tracks = found.tracks;
            }
        }
    }
    let req = recording::get_replay_uri(&chosen.token);
    let el = client.call(&replay, &req, true).await?;
    let uri = recording::parse_replay_uri(&el).map_err(|d| client.malformed(req.operation, d))?;
    Ok(ReplayTarget {
        recording: chosen,
        uri,
    })
}
