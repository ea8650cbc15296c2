// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The start-up sequence of spec §4 and §5 (clock, HTTPS port, services, profiles, URIs),
//! over the ONVIF client of [`super::soap`], and what it found.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::proto::auth::Credentials;
use crate::proto::onvif::addr::Origin;
use crate::proto::onvif::ops::{self, Profile};
use crate::proto::onvif::services::{self, Service};
use crate::transport::tls;

use super::cache::{Boot, BootCache};
use super::https_port::{find_https_port, set_https_port, wants_credentials};
use super::services::Services;
use super::*;

/// Which media the element is asked for (the `streams` property).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wants {
    pub video: bool,
    pub audio: bool,
    pub metadata: bool,
}

impl Wants {
    /// Whether a profile carries every wanted medium.
    pub fn fits(&self, p: &Profile) -> bool {
        (!self.video || p.video.is_some())
            && (!self.audio || p.audio.is_some())
            && (!self.metadata || p.metadata)
    }

    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if self.video {
            v.push("video");
        }
        if self.audio {
            v.push("audio");
        }
        if self.metadata {
            v.push("metadata");
        }
        v.join("+")
    }
}

/// What the element asked for. `Debug` (by hand) shows the location without the
/// credentials it may carry.
#[derive(Clone)]
pub struct StartSettings {
    pub location: url::Url,
    pub creds: Option<Credentials>,
    pub https_enable: bool,
    pub https_port: u16,
    pub tls: Option<Arc<tls::TlsConfig>>,
    pub profile: Option<String>,
    pub timeout: Duration,
    pub wants: Wants,
    /// What was learnt of the device ([`Boot`]), shared by the element's media, events and
    /// control, and by every other element that reaches the device the same way
    /// ([`DeviceKey`]), for as long as one of them lives: the bootstrap runs once.
    pub boot: BootCache,
}

impl std::fmt::Debug for StartSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartSettings")
            .field("location", &crate::error::sanitize_url(&self.location))
            .field("creds", &self.creds)
            .field("https_enable", &self.https_enable)
            .field("https_port", &self.https_port)
            .field("tls", &self.tls.as_ref().map(|t| t.peer_authenticated))
            .field("profile", &self.profile)
            .field("timeout", &self.timeout)
            .field("wants", &self.wants)
            .field("boot", &self.boot.try_lock().ok().map(|b| *b))
            .finish()
    }
}

/// Where the media of the chosen profile is.
#[derive(Debug, Clone)]
pub struct MediaInfo {
    pub profile: Profile,
    pub media2: bool,
    pub media_path: String,
}

/// The result of the start-up: a connected client and what it found.
pub struct Started {
    pub client: OnvifClient,
    pub media: MediaInfo,
    /// Where the device's services are.
    pub services: Services,
    /// Debug lines worth logging.
    pub notes: Vec<String>,
}

pub(super) fn origin_of(url: &url::Url, scheme: &'static str, port: u16) -> Result<Origin, Error> {
    let host = match url.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        Some(h) => h.to_string(),
        None => {
            return Err(Error::Settings(format!(
                "location {} has no host",
                crate::error::sanitize_url(url)
            )));
        }
    };
    Ok(Origin { scheme, host, port })
}

/// Runs the ONVIF start-up up to the chosen profile. `warn` posts a warning at once (the
/// port mismatch of spec §4.2 must reach the user even when the start then fails).
pub async fn start(s: &StartSettings, warn: &(dyn Fn(&str) + Sync)) -> Result<Started, Error> {
    let mut notes = Vec::new();
    let loc = &s.location;
    let loc_https = loc.scheme() == "https";
    let loc_port = loc.port().unwrap_or(if loc_https { 443 } else { 80 });
    let boot_origin = origin_of(loc, if loc_https { "https" } else { "http" }, loc_port)?;
    let boot_tls = if loc_https { s.tls.clone() } else { None };
    // Over plain HTTP credentials go out only when the HTTPS port must be found
    // (https-port unset), or when nothing goes over HTTPS at all (https-enable=false); a
    // man in the middle could replay them within their window.
    let creds_in_clear = !loc_https && (s.https_port == 0 || !s.https_enable);
    let boot_creds = if loc_https || creds_in_clear {
        s.creds.clone()
    } else {
        None
    };
    // The bootstrap runs once per device: the other starts (of this element and of the
    // process's other elements for the device) wait for it and use its port. They wait at
    // most their own `timeout`: then this start bootstraps alone and keeps nothing, so
    // that another element's slow bootstrap cannot hold it longer than its own bound.
    // (No lock for an https:// location: it has no bootstrap.)
    let bootstraps = !loc_https && s.https_enable;
    let mut boot = None;
    if bootstraps {
        match tokio::time::timeout(s.timeout, s.boot.lock()).await {
            Ok(guard) => boot = Some(guard),
            Err(_) => notes.push(format!(
                "another start's bootstrap of this device still runs after {} s: \
                 bootstrapping alone",
                s.timeout.as_secs()
            )),
        }
    }
    let remembered = match boot.as_deref() {
        Some(b) => *b,
        // Held by a bootstrap past our bound: nothing remembered for this start.
        None if bootstraps => Boot::default(),
        // Nobody holds it long without a bootstrap.
        None => *s.boot.lock().await,
    };
    let mut cached = boot.as_deref().and_then(|b| b.https_port);
    let new_client = |cached: Option<u16>| -> Result<OnvifClient, Error> {
        let (origin, tls, creds) = match cached {
            Some(port) => (
                origin_of(loc, "https", port)?,
                s.tls.clone(),
                s.creds.clone(),
            ),
            None => (boot_origin.clone(), boot_tls.clone(), boot_creds.clone()),
        };
        // Only inside TLS: over plain HTTP the bootstrap asks anonymously first, always.
        let on_tls = tls.is_some();
        let mut client = OnvifClient::new(origin, tls, s.timeout, creds);
        client.anonymous_refused = remembered.anonymous_refused && on_tls;
        client.clear_chosen = !s.https_enable && !on_tls;
        if !matches!(loc.path(), "" | "/") {
            client.device_path = match loc.query() {
                Some(q) => format!("{}?{q}", loc.path()),
                None => loc.path().to_string(),
            };
        }
        Ok(client)
    };
    let mut client = new_client(cached)?;
    match client.sync_clock().await {
        Ok(()) => {}
        // Refused anonymously with the credentials withheld: read over HTTPS below.
        Err(Error::NotAuthorized { .. }) if !client.http.is_tls() && !creds_in_clear => {}
        // The cached HTTPS port no longer answers (a rebooted device may have moved it):
        // forget it and run the bootstrap again.
        Err(e) if cached.is_some() && e.is_transient() => {
            notes.push(format!(
                "the HTTPS port found earlier no longer answers ({e}); reading it again"
            ));
            if let Some(b) = boot.as_deref_mut() {
                b.https_port = None;
            }
            cached = None;
            client = new_client(None)?;
            match client.sync_clock().await {
                Ok(()) => {}
                Err(Error::NotAuthorized { .. }) if !creds_in_clear => {}
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    }
    // (asked port, port the device kept) after a refused or ignored SetNetworkProtocols.
    let mut mismatch: Option<(u16, u16)> = None;
    // Whether the HTTPS port found may be kept for the next starts.
    let mut cacheable = true;
    // Why the HTTPS port is the default 443 and not one the device gave.
    let mut guessed: Option<String> = None;

    if s.https_enable {
        // Which HTTPS port the device uses (spec §4.1): read it when it is not given by
        // an https:// location, or when https-port must be checked against it.
        let mut target = match cached {
            Some(port) => port,
            None if loc_https => loc_port,
            None => 443,
        };
        let need_read = cached.is_none() && (!loc_https || s.https_port != 0);
        let mut protocols = Vec::new();
        if need_read {
            let mut read = client.network_protocols().await;
            // https-port set on an http:// location: the credentials were withheld over
            // HTTP, and a device that wants them for GetNetworkProtocols (most) refused.
            // Find its HTTPS port the safe ways first (spec §4.2: it must be known to be
            // set), the digest over HTTP last.
            if let Err(anonymous) = &read
                && !loc_https
                && s.https_port != 0
                && !creds_in_clear
                && s.creds.is_some()
            {
                // Credentials in clear only to a device that refused for want of them.
                let clear = wants_credentials(anonymous);
                let anonymous = anonymous.to_string();
                read = find_https_port(&mut client, s, loc, anonymous, clear, &mut notes).await;
            }
            match read {
                Ok(p) => {
                    protocols = p;
                    match ops::https_port(&protocols) {
                        Some(p) => target = p,
                        None => {
                            notes.push(format!(
                                "{} lists no enabled HTTPS port; using {target}",
                                client.peer()
                            ));
                            guessed = Some("its GetNetworkProtocols lists no enabled HTTPS".into());
                        }
                    }
                }
                Err(e @ (Error::NotAuthorized { .. } | Error::CredentialsWithheld { .. }))
                    if creds_in_clear || loc_https =>
                {
                    return Err(e);
                }
                Err(e) => {
                    notes.push(format!(
                        "GetNetworkProtocols failed ({e}); using HTTPS port {target}"
                    ));
                    if s.https_port != 0 {
                        // Spec §4.2: the port could not be checked, so not set either. The
                        // port asked for is kept for the next starts (they do not ask
                        // again, nor warn again, unless it stops answering).
                        let fix = if loc_https {
                            "set the port on the device's web page"
                        } else if s.creds.is_none() {
                            "set user-id and user-pw (this device wants them for \
                             GetNetworkProtocols), use an https:// location on the device's \
                             current HTTPS port, or set the port on the device's web page"
                        } else {
                            "use an https:// location on the device's current HTTPS port, or \
                             set the port on the device's web page"
                        };
                        warn(&format!(
                            "https-port={} is set, but the HTTPS port of {} could not be read \
                             ({e}), so it could not be checked or set on the device. Going on \
                             with port {}. Fix: {fix}",
                            s.https_port,
                            boot_origin.peer(),
                            s.https_port
                        ));
                    }
                    guessed = Some(format!("GetNetworkProtocols failed: {e}"));
                }
            }
        }
        if s.https_port != 0
            && s.https_port != target
            && need_read
            && !protocols.is_empty()
            && guessed.is_some()
        {
            // The device has no enabled HTTPS port: switching it on needs
            // SetNetworkProtocols with credentials, which do not travel in clear.
            warn(&format!(
                "{} lists no enabled HTTPS port; enabling it on port {} needs credentials, \
                 which are not sent over plain HTTP: enable HTTPS on the device's web page, \
                 or use an https:// location",
                client.peer(),
                s.https_port
            ));
            target = s.https_port;
            cacheable = false;
        } else if s.https_port != 0 && s.https_port != target && need_read && !protocols.is_empty()
        {
            // SetNetworkProtocols carries credentials: on the device's current HTTPS port,
            // never over plain HTTP.
            if !client.http.is_tls() {
                client.retarget(origin_of(loc, "https", target)?, s.tls.clone());
                client.set_credentials(s.creds.clone());
            }
            mismatch = set_https_port(&mut client, &protocols, s.https_port, target, warn)
                .await?
                .map(|kept| (s.https_port, kept));
            target = s.https_port;
        } else if s.https_port != 0 {
            target = s.https_port;
        }
        if s.https_port != 0 || loc_https {
            guessed = None;
        }
        if !client.http.is_tls() || client.http.origin.port != target {
            let o = origin_of(loc, "https", target)?;
            client.retarget(o, s.tls.clone());
        }
        client.set_credentials(s.creds.clone());
        client.anonymous_refused |= remembered.anonymous_refused;
        if client.clock_offset_ms.is_none() {
            client.sync_clock().await?;
        }
        // Kept only when the device itself gave the port and kept any asked one.
        if let Some(b) = boot.as_deref_mut()
            && guessed.is_none()
            && mismatch.is_none()
            && cacheable
        {
            b.https_port = Some(target);
        }
    }
    drop(boot);

    // Services: Media2 when offered, Media1 otherwise (GetServices, then GetCapabilities).
    let origin = client.http.origin.clone();
    let first = client
        .call(&client.device_path.clone(), &ops::get_services(), false)
        .await
        .map_err(|e| {
            // A connection that failed on a port we were not told: say which port to set.
            let hint = match (mismatch, guessed.as_deref()) {
                (Some((want, kept)), _) => format!(
                    "the device's HTTPS port is {kept}, not {want} (https-port): set \
                     https-port={kept}, or change the port on the device's web page"
                ),
                (None, Some(guess)) => format!(
                    "port 443 was tried because the device gave no HTTPS port ({guess}): set \
                     https-port to the device's HTTPS port, or use an https:// location"
                ),
                (None, None) => return e,
            };
            match e {
                Error::Connect {
                    peer,
                    detail,
                    source,
                    ..
                }
                | Error::Tls {
                    peer,
                    detail,
                    source,
                    ..
                } => Error::Connect {
                    at: crate::error::At::here(),
                    peer,
                    detail: format!("{detail}; {hint}"),
                    source,
                },
                e => e,
            }
        });
    let mut services = match first {
        Ok(el) => Services::listed(
            ops::parse_services(&el).map_err(|d| client.malformed("GetServices", d))?,
        ),
        Err(
            e @ (Error::NotAuthorized { .. }
            | Error::Certificate { .. }
            | Error::Connect { .. }
            | Error::Tls { .. }
            | Error::TimedOut { .. }),
        ) => {
            return Err(e);
        }
        Err(e) => {
            notes.push(format!("GetServices failed ({e}); trying GetCapabilities"));
            let el = client
                .call(&client.device_path.clone(), &ops::get_capabilities(), false)
                .await?;
            Services::from_capabilities(
                services::parse_capabilities(&el)
                    .map_err(|d| client.malformed("GetCapabilities", d))?,
            )
        }
    };
    let no_media = || Error::NotFound {
        at: crate::error::At::here(),
        peer: origin.peer(),
        what: "the device offers no media service (neither Media2 nor Media1)".into(),
    };
    let (mut media2, mut media_path) = match services.find(&mut client, Service::Media2).await? {
        Some(p) => (true, p),
        None => (
            false,
            services
                .find(&mut client, Service::Media)
                .await?
                .ok_or_else(no_media)?,
        ),
    };
    let mut req = ops::get_profiles(media2);
    let el = match client.call(&media_path, &req, true).await {
        Ok(el) => el,
        // Media2 listed but not working (faults, or the path is missing): Media1 instead.
        Err(e @ (Error::Fault { .. } | Error::HttpStatus { .. } | Error::Malformed { .. }))
            if media2 =>
        {
            let Ok(Some(media1)) = services.find(&mut client, Service::Media).await else {
                return Err(e);
            };
            notes.push("Media2 GetProfiles failed; using Media1".to_string());
            media2 = false;
            media_path = media1;
            req = ops::get_profiles(false);
            client.call(&media_path, &req, true).await?
        }
        Err(e) => return Err(e),
    };
    let profiles =
        ops::parse_profiles(&el, media2).map_err(|d| client.malformed(req.operation, d))?;
    let profile = match &s.profile {
        Some(want) => profiles
            .iter()
            .find(|p| &p.token == want)
            .or_else(|| profiles.iter().find(|p| &p.name == want)),
        None => profiles.iter().find(|p| s.wants.fits(p)),
    };
    let Some(profile) = profile.cloned() else {
        let list = profiles
            .iter()
            .map(|p| format!("{} ({})", p.token, p.name))
            .collect::<Vec<_>>()
            .join(", ");
        let what = match &s.profile {
            Some(want) => format!("profile {want:?} not found; the device has: {list}"),
            None => format!(
                "no profile carries {}; the device has: {list}",
                s.wants.describe()
            ),
        };
        return Err(Error::NotFound {
            at: crate::error::At::here(),
            peer: origin.peer(),
            what,
        });
    };
    // Remembered unless another start's bootstrap holds the knowledge right now (then
    // that start learns it itself).
    if client.anonymous_refused
        && !remembered.anonymous_refused
        && let Ok(mut b) = s.boot.try_lock()
    {
        b.anonymous_refused = true;
    }
    Ok(Started {
        client,
        media: MediaInfo {
            profile,
            media2,
            media_path,
        },
        services,
        notes,
    })
}
