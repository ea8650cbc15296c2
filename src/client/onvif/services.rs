// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! Where the device's services are: GetServices first, under each service's own namespace
//! or one it is misfiled under, then GetCapabilities, read once and only when a service is
//! wanted that GetServices did not give (`docs/onvif-reference.md` §1.2; the matching is
//! in [`crate::proto::onvif::services`]). A debug line says what was used whenever it was
//! not the service's own entry.

use crate::proto::onvif::addr;
use crate::proto::onvif::ops;
use crate::proto::onvif::services::{self, Listing, Service};

use crate::error::Error;

use super::OnvifClient;

/// The device's services, as far as they are known.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// `(namespace, XAddr)` as GetServices listed them (GetCapabilities' when GetServices
    /// failed).
    listed: Vec<(String, String)>,
    /// `(namespace, XAddr)` from GetCapabilities: `None` until read; empty when the device
    /// does not answer it (a fault, a malformed answer), or when it is `listed` already.
    capabilities: Option<Vec<(String, String)>>,
    /// The paths found so far (each said once in the debug log).
    found: Vec<(Service, String)>,
}

impl Services {
    /// What GetServices listed.
    pub fn listed(listed: Vec<(String, String)>) -> Services {
        Services {
            listed,
            ..Services::default()
        }
    }

    /// What GetCapabilities gave (GetServices failed): that is the list, and there is
    /// nothing more to read.
    pub fn from_capabilities(caps: Vec<(String, String)>) -> Services {
        Services {
            listed: caps,
            capabilities: Some(Vec::new()),
            found: Vec::new(),
        }
    }

    /// The path and query of `which`: from GetServices, else from GetCapabilities (asked
    /// for once, when first needed); `None` when the device has it in neither. An error
    /// when GetCapabilities could not be asked (the network, the credentials): it is
    /// asked again next time.
    pub async fn find(
        &mut self,
        client: &mut OnvifClient,
        which: Service,
    ) -> Result<Option<String>, Error> {
        if let Some((_, path)) = self.found.iter().find(|(s, _)| *s == which) {
            return Ok(Some(path.clone()));
        }
        let path = self.look_up(client, which).await?;
        if let Some(p) = &path {
            self.found.push((which, p.clone()));
        }
        Ok(path)
    }

    async fn look_up(
        &mut self,
        client: &mut OnvifClient,
        which: Service,
    ) -> Result<Option<String>, Error> {
        if let Some((ns, xaddr, how)) = which.find(&self.listed)
            && let Some(path) = addr::path_and_query(xaddr)
        {
            if how == Listing::Misfiled {
                crate::log::debug!(
                    "{}: the {} service is listed under {ns:?}, not {}: using {path}",
                    client.peer(),
                    which.name(),
                    which.namespace()
                );
            }
            return Ok(Some(path));
        }
        if !which.in_capabilities() {
            return Ok(None);
        }
        if self.capabilities.is_none() {
            let caps = match client
                .call(&client.device_path.clone(), &ops::get_capabilities(), false)
                .await
            {
                Ok(el) => services::parse_capabilities(&el).unwrap_or_else(|e| {
                    crate::log::debug!("{}: GetCapabilities not read: {e}", client.peer());
                    Vec::new()
                }),
                Err(
                    e @ (Error::Fault { .. } | Error::HttpStatus { .. } | Error::Malformed { .. }),
                ) if !e.is_transient() => {
                    crate::log::debug!("{}: GetCapabilities failed: {e}", client.peer());
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            self.capabilities = Some(caps);
        }
        let Some((_, xaddr, _)) = self
            .capabilities
            .as_deref()
            .and_then(|caps| which.find(caps))
        else {
            return Ok(None);
        };
        let Some(path) = addr::path_and_query(xaddr) else {
            return Ok(None);
        };
        crate::log::debug!(
            "{}: the {} service is not in GetServices ({}); GetCapabilities gives {path}",
            client.peer(),
            which.name(),
            which.namespace()
        );
        Ok(Some(path))
    }
}
