// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Replay service (`trp`, Profile G): where the recording is replayed.

use super::{Call, Op, fault, ok};
use crate::http::Response;
use crate::recording;

pub(super) const PATH: &str = "/onvif/replay_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/replay/wsdl";

pub(super) const OPS: &[Op] = &[Op::now(PATH, NS, "GetReplayUri", get_replay_uri)];

fn get_replay_uri(c: &Call<'_>) -> Response {
    if c.p.text("RecordingToken") != Some(recording::TOKEN) {
        return fault(
            400,
            "s:Sender",
            &["ter:InvalidArgVal", "ter:NoRecording"],
            "The recording token does not exist",
        );
    }
    // As devices do: an rtsp:// URI on the web service's HTTP port for the HTTP
    // transport; the client maps it onto the HTTPS origin it uses.
    let port = match c.p.text("Protocol") {
        Some("HTTP") => c.shared.http_port,
        _ => c.shared.rtsp_public_port(),
    };
    let uri = format!("rtsp://127.0.0.1:{port}/onvif-replay/{}", recording::TOKEN);
    ok(&format!(
        "<trp:GetReplayUriResponse xmlns:trp=\"{NS}\"><trp:Uri>{uri}</trp:Uri></trp:GetReplayUriResponse>"
    ))
}
