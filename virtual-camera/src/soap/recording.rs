// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Recording Control service (`trc`), only with `recording_control`: the recordings.

use super::{Call, Op, base, ok};
use crate::http::Response;

pub(super) const PATH: &str = "/onvif/recording_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/recording/wsdl";

pub(super) const OPS: &[Op] = &[Op::now(PATH, NS, "GetRecordings", get_recordings)];

fn get_recordings(c: &Call<'_>) -> Response {
    let device = format!("{}{}", base(c.shared, c.req), super::device::PATH);
    ok(&crate::recording::get_recordings_response(
        &c.shared.archive,
        &device,
    ))
}
