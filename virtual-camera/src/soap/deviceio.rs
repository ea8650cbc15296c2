// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The DeviceIO service (`tmd`): the digital inputs.

use super::{Call, Op, ok};
use crate::http::Response;

pub(super) const PATH: &str = "/onvif/deviceio_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/deviceIO/wsdl";

pub(super) const OPS: &[Op] = &[Op::now(PATH, NS, "GetDigitalInputs", get_digital_inputs)];

fn get_digital_inputs(_: &Call<'_>) -> Response {
    ok(
        "<tmd:GetDigitalInputsResponse xmlns:tmd=\"http://www.onvif.org/ver10/deviceIO/wsdl\">\
     <tmd:DigitalInputs token=\"DigitalInput_1\" IdleState=\"open\"/>\
     <tmd:DigitalInputs token=\"DigitalInput_2\" IdleState=\"closed\"/></tmd:GetDigitalInputsResponse>",
    )
}
