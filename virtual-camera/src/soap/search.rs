// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Recording Search service (`tse`, Profile G): a search over the one recording.

use super::{Call, Op, base, fault, ok};
use crate::http::Response;
use crate::recording;

pub(super) const PATH: &str = "/onvif/search_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/search/wsdl";

pub(super) const OPS: &[Op] = &[
    Op::now(PATH, NS, "FindRecordings", find_recordings),
    Op::now(
        PATH,
        NS,
        "GetRecordingSearchResults",
        get_recording_search_results,
    ),
    Op::now(PATH, NS, "EndSearch", end_search),
];

/// The device service's address, which the results name as the recording's source.
fn device(c: &Call<'_>) -> String {
    format!("{}{}", base(c.shared, c.req), super::device::PATH)
}

fn invalid_token(what: &str) -> Response {
    fault(
        400,
        "s:Sender",
        &["ter:InvalidArgVal", "ter:InvalidToken"],
        &format!("Unknown {what}"),
    )
}

fn find_recordings(c: &Call<'_>) -> Response {
    let token = c.shared.searches.lock().unwrap().open();
    ok(&format!(
        "<tse:FindRecordingsResponse xmlns:tse=\"{NS}\"><tse:SearchToken>{token}\
         </tse:SearchToken></tse:FindRecordingsResponse>"
    ))
}

fn get_recording_search_results(c: &Call<'_>) -> Response {
    let token = c.p.text("SearchToken").unwrap_or("");
    if !c.shared.searches.lock().unwrap().is_open(token) {
        return invalid_token("search token");
    }
    ok(&recording::search_results_response(
        &c.shared.archive,
        &device(c),
    ))
}

fn end_search(c: &Call<'_>) -> Response {
    let token = c.p.text("SearchToken").unwrap_or("");
    if !c.shared.searches.lock().unwrap().end(token) {
        return invalid_token("search token");
    }
    ok(&format!(
        "<tse:EndSearchResponse xmlns:tse=\"{NS}\"><tse:Endpoint>{}</tse:Endpoint>\
         </tse:EndSearchResponse>",
        recording::xsd_datetime(c.shared.archive.latest())
    ))
}
