// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The HTTPS port on the device (spec §4.2): finding the port a device uses when it
//! refuses to say so anonymously, and setting the one `https-port` asks for.

use crate::error::Error;
use crate::proto::onvif::addr::Origin;
use crate::proto::onvif::ops::{self, NetworkProtocol};

use super::{OnvifClient, StartSettings, origin_of};

/// Whether an anonymous request was refused for want of credentials (not for another
/// reason: an unsupported operation, a malformed answer, a network failure).
pub(super) fn wants_credentials(e: &Error) -> bool {
    match e {
        Error::NotAuthorized { .. } | Error::CredentialsWithheld { .. } => true,
        Error::HttpStatus { status, .. } => matches!(status, 400 | 401 | 403),
        _ => false,
    }
}

/// The device's network protocols when `https-port` is set on an `http://` location and
/// the anonymous GetNetworkProtocols over HTTP failed (`anonymous`: why). Tried in this
/// order, each only when the one before failed: authenticated over HTTPS at `https-port`
/// (with the element's own certificate checks), then at 443; last, and only when the
/// device refused the anonymous request for want of credentials (`clear`), with a
/// password digest over plain HTTP (WS-UsernameToken digest or HTTP Digest with qop, never
/// the password: the rule of the bootstrap without `https-port`). The client is left where
/// the answer came from. A refusal of the credentials over HTTPS ends the search; every
/// failure is told in the error, rung by rung.
pub(super) async fn find_https_port(
    client: &mut OnvifClient,
    s: &StartSettings,
    loc: &url::Url,
    anonymous: String,
    clear: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<NetworkProtocol>, Error> {
    let http_origin = client.http.origin.clone();
    let mut tried = vec![format!(
        "anonymous over HTTP (the credentials are not sent in clear while https-port is \
         set): {anonymous}"
    )];
    // Refused anonymously once: the credentials go at once (one round trip a rung).
    let anonymous_refused = std::mem::replace(&mut client.anonymous_refused, true);
    let read = find_https_port_rungs(client, s, loc, &http_origin, clear, &mut tried, notes).await;
    client.anonymous_refused = anonymous_refused;
    read
}

async fn find_https_port_rungs(
    client: &mut OnvifClient,
    s: &StartSettings,
    loc: &url::Url,
    http_origin: &Origin,
    clear: bool,
    tried: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Vec<NetworkProtocol>, Error> {
    let mut ports = vec![s.https_port];
    if s.https_port != 443 {
        ports.push(443);
    }
    for port in ports {
        client.retarget(origin_of(loc, "https", port)?, s.tls.clone());
        client.set_credentials(s.creds.clone());
        match client.network_protocols().await {
            Ok(p) => {
                notes.push(format!(
                    "GetNetworkProtocols refused anonymously over HTTP; read over HTTPS at \
                     port {port}"
                ));
                return Ok(p);
            }
            // The device answered there and refused the credentials: nothing more to try
            // (least of all in clear).
            Err(e @ Error::NotAuthorized { .. }) => {
                tried.push(format!("over HTTPS at port {port}: {e}"));
                return Err(ladder_error(http_origin, tried));
            }
            Err(e) => tried.push(format!("over HTTPS at port {port}: {e}")),
        }
    }
    if !clear {
        // Not refused for want of credentials: no reason to send any in clear.
        return Err(ladder_error(http_origin, tried));
    }
    crate::log::debug!(
        "{}: the HTTPS port is not found over HTTPS ({}); GetNetworkProtocols with a \
         password digest over plain HTTP (never the password)",
        http_origin.peer(),
        tried.join("; ")
    );
    client.retarget(http_origin.clone(), None);
    client.set_credentials(s.creds.clone());
    // Anonymous first again (its refusal brings the challenge and the device's Date),
    // then one request with the credentials in clear: no clock re-read, no second
    // challenge.
    client.anonymous_refused = false;
    client.single_try = true;
    let read = client.network_protocols().await;
    client.single_try = false;
    match read {
        Ok(p) => {
            notes.push(format!(
                "GetNetworkProtocols read with a password digest over plain HTTP ({})",
                tried.join("; ")
            ));
            Ok(p)
        }
        Err(e) => {
            tried.push(format!("with a password digest over HTTP: {e}"));
            Err(ladder_error(http_origin, tried))
        }
    }
}

/// Every way the HTTPS port was asked for, and how each failed.
#[track_caller]
fn ladder_error(http_origin: &Origin, tried: &[String]) -> Error {
    crate::error::Context::new(http_origin.peer(), "GetNetworkProtocols")
        .broken(format!("tried {}", tried.join("; ")))
}

/// SetNetworkProtocols to `want`, then re-read (spec §4.2). Refusal and silent ignore
/// both become a warning; only an authentication failure stops the start.
pub(super) async fn set_https_port(
    client: &mut OnvifClient,
    protocols: &[NetworkProtocol],
    want: u16,
    current: u16,
    warn: &(dyn Fn(&str) + Sync),
) -> Result<Option<u16>, Error> {
    let mut new: Vec<NetworkProtocol> = protocols.to_vec();
    match new.iter_mut().find(|p| p.name == "HTTPS") {
        Some(p) => {
            p.enabled = true;
            p.ports = vec![want];
        }
        None => new.push(NetworkProtocol {
            name: "HTTPS".into(),
            enabled: true,
            ports: vec![want],
        }),
    }
    let fix = format!(
        "set the HTTPS port to {want} on the device's web page, or set https-port={current} \
         (or 0) to use the device's port"
    );
    match client
        .call(
            &client.device_path.clone(),
            &ops::set_network_protocols(&new),
            true,
        )
        .await
    {
        Ok(_) => {}
        Err(e @ Error::NotAuthorized { .. }) => {
            warn(&format!(
                "https-port={want} but {} uses HTTPS port {current}, and changing it was refused: {e}. Fix: {fix}",
                client.peer()
            ));
            return Ok(Some(current));
        }
        Err(Error::Fault { fault, .. }) => {
            warn(&format!(
                "https-port={want} but {} uses HTTPS port {current} and refused to change it \
                 (SetNetworkProtocols fault {fault}). Going on with port {want}. Fix: {fix}",
                client.peer()
            ));
            return Ok(Some(current));
        }
        Err(e) => {
            // Devices often restart their web server at once: no answer may mean applied.
            warn(&format!(
                "SetNetworkProtocols to HTTPS port {want} got no clean answer ({e}); checking"
            ));
        }
    }
    match client.network_protocols().await {
        Ok(p) if ops::https_port(&p) == Some(want) => Ok(None),
        Ok(p) => {
            let kept_port = ops::https_port(&p).unwrap_or(current);
            let kept = ops::https_port(&p)
                .map(|p| p.to_string())
                .unwrap_or_else(|| "none".into());
            warn(&format!(
                "https-port={want} but {} answered SetNetworkProtocols with success and kept \
                 HTTPS port {kept}. Going on with port {want}. Fix: {fix}",
                client.peer()
            ));
            Ok(Some(kept_port))
        }
        Err(e) => {
            warn(&format!(
                "could not re-read the HTTPS port after SetNetworkProtocols ({e}); going on with port {want}"
            ));
            Ok(None)
        }
    }
}
