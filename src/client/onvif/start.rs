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
    /// What this start counts (the element's `stats`), shared by its tasks.
    pub stats: crate::stats::Stats,
}

impl std::fmt::Debug for StartSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartSettings")
            .field("location", &crate::error::sanitize_url(&self.location))
            .field("creds", &self.creds)
            .field("https_enable", &self.https_enable)
            .field("https_port", &self.https_port)
            .field("tls", &self.tls)
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
    /// Every profile the device has (the chosen one is in `media`).
    pub profiles: Vec<Profile>,
    /// How the HTTPS port was found, in words.
    pub https_port_how: String,
    /// Where the device's services are.
    pub services: Services,
    /// Debug lines worth logging.
    pub notes: Vec<String>,
}

/// The origin of `url`'s host at `scheme` and `port`.
pub fn origin_of(url: &url::Url, scheme: &'static str, port: u16) -> Result<Origin, Error> {
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

/// Runs the ONVIF start-up up to the chosen profile: the clock, the HTTPS port (spec §4),
/// the services, the profiles (spec §5). `warn` posts a warning at once (the port
/// mismatch of spec §4.2 must reach the user even when the start then fails).
pub async fn start(s: &StartSettings, warn: &(dyn Fn(&str) + Sync)) -> Result<Started, Error> {
    let mut notes = Vec::new();
    let plan = Plan::of(s)?;
    let (mut boot, remembered) = plan.lock_bootstrap(&mut notes).await;
    let mut cached = boot.as_deref().and_then(|b| b.https_port);
    let mut client = plan
        .first_contact(&mut cached, boot.as_deref_mut(), remembered, &mut notes)
        .await?;
    let found = if s.https_enable {
        let (target, found) = plan
            .https_port(&mut client, cached, warn, &mut notes)
            .await?;
        plan.move_to_https(&mut client, target, remembered).await?;
        // Kept only when the device itself gave the port and kept any asked one.
        if let Some(b) = boot.as_deref_mut()
            && found.cacheable()
        {
            b.https_port = Some(target);
        }
        found
    } else {
        PortFound {
            how: "none: https-enable=false".into(),
            ..PortFound::default()
        }
    };
    drop(boot);
    let mut services = find_services(&mut client, &found, &mut notes).await?;
    record_serial(s, &mut client, &mut notes).await;
    let (media2, media_path, profiles) = profiles(&mut client, &mut services, &mut notes).await?;
    let profile = choose_profile(s, &profiles, &client.peer())?;
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
        profiles,
        https_port_how: found.how,
        services,
        notes,
    })
}

/// What `location` and the HTTPS settings decide before anything is asked.
struct Plan<'a> {
    s: &'a StartSettings,
    loc_https: bool,
    loc_port: u16,
    /// Where the first request goes: `location`'s origin.
    boot_origin: Origin,
    boot_tls: Option<Arc<tls::TlsConfig>>,
    /// The credentials the first client carries.
    boot_creds: Option<Credentials>,
    /// Credentials may go over plain HTTP: the HTTPS port must be found (https-port
    /// unset), or nothing goes over HTTPS (https-enable=false).
    creds_in_clear: bool,
}

/// What the HTTPS-port step found, for the hints of later errors and the cache.
#[derive(Debug, Default)]
struct PortFound {
    /// (asked port, port the device kept) after a refused or ignored SetNetworkProtocols.
    mismatch: Option<(u16, u16)>,
    /// Why the HTTPS port is the default 443 and not one the device gave.
    guessed: Option<String>,
    /// The port may not be kept for the next starts (it is one the device does not use).
    not_cacheable: bool,
    /// How the port was found, in words (`gst-onvif`).
    how: String,
}

impl PortFound {
    fn cacheable(&self) -> bool {
        self.guessed.is_none() && self.mismatch.is_none() && !self.not_cacheable
    }
}

/// The guard of a device's bootstrap, held while this start runs it.
type BootGuard<'a> = Option<tokio::sync::MutexGuard<'a, Boot>>;

impl<'a> Plan<'a> {
    fn of(s: &'a StartSettings) -> Result<Self, Error> {
        let loc = &s.location;
        let loc_https = loc.scheme() == "https";
        let loc_port = loc.port().unwrap_or(if loc_https { 443 } else { 80 });
        // Over plain HTTP credentials go out only when the HTTPS port must be found, or
        // when nothing goes over HTTPS at all; a man in the middle could replay them
        // within their window.
        let creds_in_clear = !loc_https && (s.https_port == 0 || !s.https_enable);
        Ok(Plan {
            s,
            loc_https,
            loc_port,
            boot_origin: origin_of(loc, if loc_https { "https" } else { "http" }, loc_port)?,
            boot_tls: if loc_https { s.tls.clone() } else { None },
            boot_creds: if loc_https || creds_in_clear {
                s.creds.clone()
            } else {
                None
            },
            creds_in_clear,
        })
    }

    /// The bootstrap runs once per device: the other starts (of this element and of the
    /// process's other elements for the device) wait for it and use its port. They wait
    /// at most their own `timeout`: then this start bootstraps alone and keeps nothing,
    /// so that another element's slow bootstrap cannot hold it longer than its own bound.
    /// (No lock for an https:// location: it has no bootstrap.)
    async fn lock_bootstrap(&self, notes: &mut Vec<String>) -> (BootGuard<'a>, Boot) {
        let s = self.s;
        let bootstraps = !self.loc_https && s.https_enable;
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
        (boot, remembered)
    }

    /// The first client: on the HTTPS port found earlier, else on `location`.
    fn client(&self, cached: Option<u16>, remembered: Boot) -> Result<OnvifClient, Error> {
        let s = self.s;
        let loc = &s.location;
        let (origin, tls, creds) = match cached {
            Some(port) => (
                origin_of(loc, "https", port)?,
                s.tls.clone(),
                s.creds.clone(),
            ),
            None => (
                self.boot_origin.clone(),
                self.boot_tls.clone(),
                self.boot_creds.clone(),
            ),
        };
        // Only inside TLS: over plain HTTP the bootstrap asks anonymously first, always.
        let on_tls = tls.is_some();
        let mut client = OnvifClient::new(origin, tls, s.timeout, creds);
        client.stats = s.stats.clone();
        client.anonymous_refused = remembered.anonymous_refused && on_tls;
        client.clear_chosen = !s.https_enable && !on_tls;
        if !matches!(loc.path(), "" | "/") {
            client.device_path = match loc.query() {
                Some(q) => format!("{}?{q}", loc.path()),
                None => loc.path().to_string(),
            };
        }
        Ok(client)
    }

    /// The first client and the device's clock. A cached HTTPS port that no longer
    /// answers (a rebooted device may have moved it) is forgotten, and the bootstrap
    /// runs again.
    async fn first_contact(
        &self,
        cached: &mut Option<u16>,
        boot: Option<&mut Boot>,
        remembered: Boot,
        notes: &mut Vec<String>,
    ) -> Result<OnvifClient, Error> {
        let mut client = self.client(*cached, remembered)?;
        match client.sync_clock().await {
            Ok(()) => {}
            // Refused anonymously with the credentials withheld: read over HTTPS later.
            Err(Error::NotAuthorized { .. }) if !client.http.is_tls() && !self.creds_in_clear => {}
            Err(e) if cached.is_some() && e.is_transient() => {
                notes.push(format!(
                    "the HTTPS port found earlier no longer answers ({e}); reading it again"
                ));
                if let Some(b) = boot {
                    b.https_port = None;
                }
                *cached = None;
                client = self.client(None, remembered)?;
                match client.sync_clock().await {
                    Ok(()) => {}
                    Err(Error::NotAuthorized { .. }) if !self.creds_in_clear => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        Ok(client)
    }

    /// Which HTTPS port the device uses (spec §4.1), and https-port set on it when they
    /// differ (spec §4.2): the port to use, and what was found.
    async fn https_port(
        &self,
        client: &mut OnvifClient,
        cached: Option<u16>,
        warn: &(dyn Fn(&str) + Sync),
        notes: &mut Vec<String>,
    ) -> Result<(u16, PortFound), Error> {
        let s = self.s;
        let mut found = PortFound::default();
        let (target, protocols) = self
            .current_port(client, cached, warn, &mut found, notes)
            .await?;
        if s.https_port != 0 && s.https_port != target && !protocols.is_empty() {
            self.set_port(client, target, &protocols, warn, &mut found)
                .await?;
        }
        if s.https_port != 0 || self.loc_https {
            found.guessed = None;
        }
        if s.https_port != 0 {
            let asked = s.https_port;
            found.how = if let Some((_, kept)) = found.mismatch {
                format!(
                    "https-port={asked}; the device kept {kept} (SetNetworkProtocols refused or \
                     ignored)"
                )
            } else if protocols.is_empty() {
                format!("https-port={asked} (the device's own could not be read)")
            } else if target == asked {
                format!("https-port={asked}, the one the device uses (GetNetworkProtocols)")
            } else {
                format!(
                    "https-port={asked}, set on the device with SetNetworkProtocols (it was {target})"
                )
            };
        }
        Ok((
            if s.https_port != 0 {
                s.https_port
            } else {
                target
            },
            found,
        ))
    }

    /// The device's current HTTPS port, read when an https:// location does not give it
    /// or when https-port must be checked against it (with the protocols read; none when
    /// not read or not readable).
    async fn current_port(
        &self,
        client: &mut OnvifClient,
        cached: Option<u16>,
        warn: &(dyn Fn(&str) + Sync),
        found: &mut PortFound,
        notes: &mut Vec<String>,
    ) -> Result<(u16, Vec<ops::NetworkProtocol>), Error> {
        let default = match cached {
            Some(port) => port,
            None if self.loc_https => self.loc_port,
            None => 443,
        };
        if cached.is_some() || (self.loc_https && self.s.https_port == 0) {
            found.how = if cached.is_some() {
                "found by an earlier start for this device in this process".into()
            } else {
                "the location's".into()
            };
            return Ok((default, Vec::new()));
        }
        match self.read_protocols(client, notes).await {
            Ok(protocols) => {
                found.how = "GetNetworkProtocols".into();
                let port = ops::https_port(&protocols).unwrap_or_else(|| {
                    found.how = format!("{default}: GetNetworkProtocols lists no enabled HTTPS");
                    notes.push(format!(
                        "{} lists no enabled HTTPS port; using {default}",
                        client.peer()
                    ));
                    found.guessed = Some("its GetNetworkProtocols lists no enabled HTTPS".into());
                    default
                });
                Ok((port, protocols))
            }
            Err(e @ (Error::NotAuthorized { .. } | Error::CredentialsWithheld { .. }))
                if self.creds_in_clear || self.loc_https =>
            {
                Err(e)
            }
            Err(e) => {
                notes.push(format!(
                    "GetNetworkProtocols failed ({e}); using HTTPS port {default}"
                ));
                if self.s.https_port != 0 {
                    warn(&self.unreadable_port(&e));
                }
                found.guessed = Some(format!("GetNetworkProtocols failed: {e}"));
                found.how = format!("{default}: GetNetworkProtocols failed ({e})");
                Ok((default, Vec::new()))
            }
        }
    }

    /// https-port differs from the device's `current` port: SetNetworkProtocols, with
    /// credentials, on the device's current HTTPS port (never over plain HTTP). A device
    /// with no enabled HTTPS port cannot be switched so: a warning says how.
    async fn set_port(
        &self,
        client: &mut OnvifClient,
        current: u16,
        protocols: &[ops::NetworkProtocol],
        warn: &(dyn Fn(&str) + Sync),
        found: &mut PortFound,
    ) -> Result<(), Error> {
        let s = self.s;
        if found.guessed.is_some() {
            warn(&format!(
                "{} lists no enabled HTTPS port; enabling it on port {} needs credentials, \
                 which are not sent over plain HTTP: enable HTTPS on the device's web page, \
                 or use an https:// location",
                client.peer(),
                s.https_port
            ));
            found.not_cacheable = true;
            return Ok(());
        }
        if !client.http.is_tls() {
            client.retarget(origin_of(&s.location, "https", current)?, s.tls.clone());
            client.set_credentials(s.creds.clone());
        }
        found.mismatch = set_https_port(client, protocols, s.https_port, current, warn)
            .await?
            .map(|kept| (s.https_port, kept));
        Ok(())
    }

    /// GetNetworkProtocols. With https-port set on an http:// location the credentials
    /// were withheld over HTTP, and a device that wants them (most) refused: its HTTPS
    /// port is then found the safe ways first (spec §4.2: it must be known to be set),
    /// the digest over HTTP last.
    async fn read_protocols(
        &self,
        client: &mut OnvifClient,
        notes: &mut Vec<String>,
    ) -> Result<Vec<ops::NetworkProtocol>, Error> {
        let s = self.s;
        let read = client.network_protocols().await;
        match &read {
            Err(anonymous)
                if !self.loc_https
                    && s.https_port != 0
                    && !self.creds_in_clear
                    && s.creds.is_some() =>
            {
                // Credentials in clear only to a device that refused for want of them.
                let clear = wants_credentials(anonymous);
                let anonymous = anonymous.to_string();
                find_https_port(client, s, &s.location, anonymous, clear, notes).await
            }
            _ => read,
        }
    }

    /// The warning for an https-port that could not be checked (spec §4.2: not set
    /// either). The port asked for is kept for the next starts (they do not ask again,
    /// nor warn again, unless it stops answering).
    fn unreadable_port(&self, e: &Error) -> String {
        let s = self.s;
        let fix = if self.loc_https {
            "set the port on the device's web page"
        } else if s.creds.is_none() {
            "set user-id and user-pw (this device wants them for GetNetworkProtocols), \
             use an https:// location on the device's current HTTPS port, or set the port \
             on the device's web page"
        } else {
            "use an https:// location on the device's current HTTPS port, or set the port \
             on the device's web page"
        };
        format!(
            "https-port={} is set, but the HTTPS port of {} could not be read ({e}), so it \
             could not be checked or set on the device. Going on with port {}. Fix: {fix}",
            s.https_port,
            self.boot_origin.peer(),
            s.https_port
        )
    }

    /// The client moves to the HTTPS port with the credentials, and reads the clock if
    /// it has not yet.
    async fn move_to_https(
        &self,
        client: &mut OnvifClient,
        target: u16,
        remembered: Boot,
    ) -> Result<(), Error> {
        let s = self.s;
        if !client.http.is_tls() || client.http.origin.port != target {
            client.retarget(origin_of(&s.location, "https", target)?, s.tls.clone());
        }
        client.set_credentials(s.creds.clone());
        client.anonymous_refused |= remembered.anonymous_refused;
        if client.clock_offset_ms.is_none() {
            client.sync_clock().await?;
        }
        Ok(())
    }
}

/// A `host:port` trusted on first use gets the device's serial number in its trust store
/// entry (GetDeviceInformation, one round trip, only then); what fails is a note.
async fn record_serial(s: &StartSettings, client: &mut OnvifClient, notes: &mut Vec<String>) {
    let host = crate::transport::net::bare_host(&client.http.origin.host).to_string();
    let Some(tls) = s.tls.as_ref().filter(|t| t.wants_serial(&host)) else {
        return;
    };
    let path = client.device_path.clone();
    let serial = match client
        .call(&path, &ops::get_device_information(), true)
        .await
    {
        Ok(el) => match ops::parse_device_information(&el) {
            Ok(info) if !info.serial.is_empty() => info.serial,
            Ok(_) => return notes.push("GetDeviceInformation gives no serial number".into()),
            Err(e) => return notes.push(format!("GetDeviceInformation: {e}")),
        },
        Err(e) => return notes.push(format!("GetDeviceInformation failed ({e})")),
    };
    if let Err(e) = tls.record_serial(&host, &serial) {
        notes.push(e);
    }
}

/// Where the services are: GetServices, else GetCapabilities. A connection that fails on
/// a port the element was not told gets a hint naming the port to set.
async fn find_services(
    client: &mut OnvifClient,
    found: &PortFound,
    notes: &mut Vec<String>,
) -> Result<Services, Error> {
    let path = client.device_path.clone();
    let first = client
        .call(&path, &ops::get_services(), false)
        .await
        .map_err(|e| with_port_hint(e, found));
    match first {
        Ok(el) => Ok(Services::listed(
            ops::parse_services(&el).map_err(|d| client.malformed("GetServices", d))?,
        )),
        Err(
            e @ (Error::NotAuthorized { .. }
            | Error::Certificate { .. }
            | Error::Connect { .. }
            | Error::Tls { .. }
            | Error::TimedOut { .. }),
        ) => Err(e),
        Err(e) => {
            notes.push(format!("GetServices failed ({e}); trying GetCapabilities"));
            let el = client.call(&path, &ops::get_capabilities(), false).await?;
            Ok(Services::from_capabilities(
                services::parse_capabilities(&el)
                    .map_err(|d| client.malformed("GetCapabilities", d))?,
            ))
        }
    }
}

/// A connection error on a port that was a guess or that the device did not take: which
/// port to set.
fn with_port_hint(e: Error, found: &PortFound) -> Error {
    let hint = match (found.mismatch, found.guessed.as_deref()) {
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
}

/// The media service (Media2 when offered, Media1 otherwise) and its profiles; a Media2
/// listed but not working (faults, or the path is missing) gives way to Media1.
async fn profiles(
    client: &mut OnvifClient,
    services: &mut Services,
    notes: &mut Vec<String>,
) -> Result<(bool, String, Vec<Profile>), Error> {
    let no_media = |client: &OnvifClient| Error::NotFound {
        at: crate::error::At::here(),
        peer: client.peer(),
        what: "the device offers no media service (neither Media2 nor Media1)".into(),
    };
    let (mut media2, mut media_path) = match services.find(client, Service::Media2).await? {
        Some(p) => (true, p),
        None => match services.find(client, Service::Media).await? {
            Some(p) => (false, p),
            None => return Err(no_media(client)),
        },
    };
    let mut req = ops::get_profiles(media2);
    let el = match client.call(&media_path, &req, true).await {
        Ok(el) => el,
        Err(e @ (Error::Fault { .. } | Error::HttpStatus { .. } | Error::Malformed { .. }))
            if media2 =>
        {
            let Ok(Some(media1)) = services.find(client, Service::Media).await else {
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
    Ok((media2, media_path, profiles))
}

/// The profile `profile` names (token, else name), or the first that carries the wanted
/// streams.
fn choose_profile(s: &StartSettings, profiles: &[Profile], peer: &str) -> Result<Profile, Error> {
    let profile = match &s.profile {
        Some(want) => profiles
            .iter()
            .find(|p| &p.token == want)
            .or_else(|| profiles.iter().find(|p| &p.name == want)),
        None => profiles.iter().find(|p| s.wants.fits(p)),
    };
    if let Some(p) = profile {
        return Ok(p.clone());
    }
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
    Err(Error::NotFound {
        at: crate::error::At::here(),
        peer: peer.to_string(),
        what,
    })
}
