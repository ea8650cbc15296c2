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

use super::device::OnvifClient;

/// The device's services, as far as they are known.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// `(namespace, XAddr)` as GetServices listed them (GetCapabilities' when GetServices
    /// failed).
    listed: Vec<(String, String)>,
    /// `(namespace, XAddr)` from GetCapabilities: `None` until read; empty when it failed.
    capabilities: Option<Vec<(String, String)>>,
}

impl Services {
    /// What GetServices listed.
    pub fn listed(listed: Vec<(String, String)>) -> Services {
        Services {
            listed,
            capabilities: None,
        }
    }

    /// What GetCapabilities gave (GetServices failed): nothing more to read.
    pub fn from_capabilities(caps: Vec<(String, String)>) -> Services {
        Services {
            listed: caps.clone(),
            capabilities: Some(caps),
        }
    }

    /// The path and query of `which` from what is known, without asking the device.
    pub fn known(&self, which: Service) -> Option<String> {
        let (_, xaddr, _) = which
            .find(&self.listed)
            .or_else(|| which.find(self.capabilities.as_deref()?))?;
        addr::path_and_query(xaddr)
    }

    /// The path and query of `which`: from GetServices, else from GetCapabilities (asked
    /// for once, when first needed); `None` when the device has it in neither.
    pub async fn find(&mut self, client: &mut OnvifClient, which: Service) -> Option<String> {
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
            return Some(path);
        }
        if !which.in_capabilities() {
            return None;
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
                Err(e) => {
                    crate::log::debug!("{}: GetCapabilities failed: {e}", client.peer());
                    Vec::new()
                }
            };
            self.capabilities = Some(caps);
        }
        let (_, xaddr, _) = which.find(self.capabilities.as_deref()?)?;
        let path = addr::path_and_query(xaddr)?;
        crate::log::debug!(
            "{}: the {} service is not in GetServices ({}); GetCapabilities gives {path}",
            client.peer(),
            which.name(),
            which.namespace()
        );
        Some(path)
    }
}
