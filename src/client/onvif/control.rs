// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The element's action signals (spec §8): PTZ, auxiliary commands, digital inputs and
//! relay outputs, over one ONVIF client kept between calls.

use super::services::Services;
use super::{OnvifClient, StartSettings};
use crate::error::Error;
use crate::proto::onvif::ops::{self, Preset, PtzStatus, RelayOutput, Request};
use crate::proto::onvif::services::Service;

/// One request of an action signal.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    ContinuousMove {
        pan: f64,
        tilt: f64,
        zoom: f64,
        timeout_ms: u32,
    },
    Stop,
    AbsoluteMove {
        pan: f64,
        tilt: f64,
        zoom: f64,
    },
    RelativeMove {
        pan: f64,
        tilt: f64,
        zoom: f64,
    },
    GotoPreset(String),
    GetPresets,
    GetStatus,
    Aux(String),
    GetDigitalInputs,
    GetRelayOutputs,
    SetRelayOutputState {
        token: String,
        active: bool,
    },
}

/// What a command returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Done,
    Presets(Vec<Preset>),
    Status(PtzStatus),
    Aux(String),
    Inputs(Vec<(String, String)>),
    Relays(Vec<RelayOutput>),
}

/// A connected control client: the ONVIF start-up done, services known.
pub struct Control {
    client: OnvifClient,
    profile: String,
    services: Services,
}

impl Control {
    /// Runs the ONVIF start-up (clock, HTTPS port, services, profile).
    pub async fn connect(
        s: &StartSettings,
        warn: &(dyn Fn(&str) + Sync),
    ) -> Result<Control, Error> {
        let started = super::start(s, warn).await?;
        Ok(Control {
            profile: started.media.profile.token.clone(),
            client: started.client,
            services: started.services,
        })
    }

    /// The path of `which`, looked up when first needed (GetCapabilities may be asked).
    async fn service(&mut self, which: Service) -> Result<String, Error> {
        match self.services.find(&mut self.client, which).await? {
            Some(path) => Ok(path),
            None => Err(Error::NotFound {
                at: crate::error::At::here(),
                peer: self.client.peer(),
                what: format!("the device offers no {} service", which.name()),
            }),
        }
    }

    /// Executes one command: its request to its service, and its answer read.
    pub async fn execute(&mut self, cmd: Command) -> Result<Answer, Error> {
        let (service, req) = self.request(&cmd);
        let path = match service {
            Some(which) => self.service(which).await?,
            None => self.client.device_path.clone(),
        };
        let el = self.client.call(&path, &req, true).await?;
        let answer = match cmd {
            Command::GetPresets => ops::parse_presets(&el).map(Answer::Presets),
            Command::GetStatus => ops::parse_ptz_status(&el).map(Answer::Status),
            Command::Aux(_) => ops::parse_aux_response(&el).map(Answer::Aux),
            Command::GetDigitalInputs => ops::parse_digital_inputs(&el).map(Answer::Inputs),
            Command::GetRelayOutputs => ops::parse_relay_outputs(&el).map(Answer::Relays),
            _ => Ok(Answer::Done),
        };
        answer.map_err(|detail| self.client.malformed(req.operation, detail))
    }

    /// The service a command goes to (`None`: the device service) and its request.
    fn request(&self, cmd: &Command) -> (Option<Service>, Request) {
        let p = &self.profile;
        let ptz = |req| (Some(Service::Ptz), req);
        match cmd {
            Command::ContinuousMove {
                pan,
                tilt,
                zoom,
                timeout_ms,
            } => ptz(ops::ptz_continuous_move(p, *pan, *tilt, *zoom, *timeout_ms)),
            Command::Stop => ptz(ops::ptz_stop(p)),
            Command::AbsoluteMove { pan, tilt, zoom } => {
                ptz(ops::ptz_absolute_move(p, *pan, *tilt, *zoom))
            }
            Command::RelativeMove { pan, tilt, zoom } => {
                ptz(ops::ptz_relative_move(p, *pan, *tilt, *zoom))
            }
            Command::GotoPreset(token) => ptz(ops::ptz_goto_preset(p, token)),
            Command::GetPresets => ptz(ops::ptz_get_presets(p)),
            Command::GetStatus => ptz(ops::ptz_get_status(p)),
            Command::Aux(command) => (None, ops::send_auxiliary_command(command)),
            Command::GetDigitalInputs => (Some(Service::DeviceIo), ops::get_digital_inputs()),
            Command::GetRelayOutputs => (None, ops::get_relay_outputs()),
            Command::SetRelayOutputState { token, active } => {
                (None, ops::set_relay_output_state(token, *active))
            }
        }
    }
}
