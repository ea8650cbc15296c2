// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The device service's calls the start-up makes: the clock and the network protocols.

use crate::error::Error;
use crate::proto::clock;
use crate::proto::onvif::ops::{self, NetworkProtocol};

use super::OnvifClient;

impl OnvifClient {
    /// GetSystemDateAndTime, unauthenticated first; stores the device clock offset.
    pub async fn sync_clock(&mut self) -> Result<(), Error> {
        let req = ops::get_system_date_and_time();
        let path = self.device_path.clone();
        self.no_clock_resync = true;
        let el = Box::pin(self.call(&path, &req, false)).await;
        self.no_clock_resync = false;
        let el = el?;
        let device =
            ops::parse_system_date_and_time(&el).map_err(|d| self.malformed(req.operation, d))?;
        self.clock_offset_ms = Some(device * 1000 - clock::now_unix_millis());
        Ok(())
    }

    /// GetNetworkProtocols: anonymous first (many devices answer it so), with the
    /// credentials only when refused.
    pub async fn network_protocols(&mut self) -> Result<Vec<NetworkProtocol>, Error> {
        let req = ops::get_network_protocols();
        let path = self.device_path.clone();
        let el = self.call(&path, &req, false).await?;
        ops::parse_network_protocols(&el).map_err(|d| self.malformed(req.operation, d))
    }
}
