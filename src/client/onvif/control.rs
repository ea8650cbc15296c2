// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The element's action signals (spec §8): PTZ, auxiliary commands, digital inputs and
//! relay outputs, over one ONVIF client kept between calls.

use super::services::Services;
use super::{OnvifClient, StartSettings};
use crate::error::Error;
use crate::proto::onvif::ops::{self, Preset, PtzStatus, RelayOutput};
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

    fn parsed<T>(&self, operation: &str, r: Result<T, String>) -> Result<T, Error> {
        r.map_err(|detail| self.client.malformed(operation, detail))
    }

    /// Executes one command.
    pub async fn execute(&mut self, cmd: Command) -> Result<Answer, Error> {
        let p = self.profile.clone();
        let device_path = self.client.device_path.clone();
        match cmd {
            Command::ContinuousMove {
                pan,
                tilt,
                zoom,
                timeout_ms,
            } => {
                let path = self.service(Service::Ptz).await?;
                self.client
                    .call(
                        &path,
                        &ops::ptz_continuous_move(&p, pan, tilt, zoom, timeout_ms),
                        true,
                    )
                    .await?;
                Ok(Answer::Done)
            }
            Command::Stop => {
                let path = self.service(Service::Ptz).await?;
                self.client.call(&path, &ops::ptz_stop(&p), true).await?;
                Ok(Answer::Done)
            }
            Command::AbsoluteMove { pan, tilt, zoom } => {
                let path = self.service(Service::Ptz).await?;
                self.client
                    .call(&path, &ops::ptz_absolute_move(&p, pan, tilt, zoom), true)
                    .await?;
                Ok(Answer::Done)
            }
            Command::RelativeMove { pan, tilt, zoom } => {
                let path = self.service(Service::Ptz).await?;
                self.client
                    .call(&path, &ops::ptz_relative_move(&p, pan, tilt, zoom), true)
                    .await?;
                Ok(Answer::Done)
            }
            Command::GotoPreset(token) => {
                let path = self.service(Service::Ptz).await?;
                self.client
                    .call(&path, &ops::ptz_goto_preset(&p, &token), true)
                    .await?;
                Ok(Answer::Done)
            }
            Command::GetPresets => {
                let path = self.service(Service::Ptz).await?;
                let el = self
                    .client
                    .call(&path, &ops::ptz_get_presets(&p), true)
                    .await?;
                Ok(Answer::Presets(
                    self.parsed("GetPresets", ops::parse_presets(&el))?,
                ))
            }
            Command::GetStatus => {
                let path = self.service(Service::Ptz).await?;
                let el = self
                    .client
                    .call(&path, &ops::ptz_get_status(&p), true)
                    .await?;
                Ok(Answer::Status(
                    self.parsed("GetStatus", ops::parse_ptz_status(&el))?,
                ))
            }
            Command::Aux(command) => {
                let el = self
                    .client
                    .call(&device_path, &ops::send_auxiliary_command(&command), true)
                    .await?;
                Ok(Answer::Aux(self.parsed(
                    "SendAuxiliaryCommand",
                    ops::parse_aux_response(&el),
                )?))
            }
            Command::GetDigitalInputs => {
                let path = self.service(Service::DeviceIo).await?;
                let el = self
                    .client
                    .call(&path, &ops::get_digital_inputs(), true)
                    .await?;
                Ok(Answer::Inputs(self.parsed(
                    "GetDigitalInputs",
                    ops::parse_digital_inputs(&el),
                )?))
            }
            Command::GetRelayOutputs => {
                let el = self
                    .client
                    .call(&device_path, &ops::get_relay_outputs(), true)
                    .await?;
                Ok(Answer::Relays(self.parsed(
                    "GetRelayOutputs",
                    ops::parse_relay_outputs(&el),
                )?))
            }
            Command::SetRelayOutputState { token, active } => {
                self.client
                    .call(
                        &device_path,
                        &ops::set_relay_output_state(&token, active),
                        true,
                    )
                    .await?;
                Ok(Answer::Done)
            }
        }
    }
}
