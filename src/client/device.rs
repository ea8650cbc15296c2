// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF client: authenticated SOAP calls over one keep-alive connection, and the
//! start-up sequence of spec §4 and §5 (clock, HTTPS port, services, profiles, URIs).
//!
//! Authentication follows `docs/onvif-reference.md` §3.5: WS-UsernameToken PasswordDigest
//! first; on an HTTP 401 Digest challenge, HTTP Digest from then on (the nonce is reused
//! with a growing count, so it costs one round trip per connection, not per call). Over
//! plain HTTP no password ever travels in clear: Basic is only answered inside TLS.

use std::sync::Arc;
use std::time::Duration;

use crate::transport::tls;

use crate::error::Error;
use crate::proto::clock;
use crate::proto::onvif::addr::{self, Origin};
use crate::proto::onvif::ops::{self, NetworkProtocol, Profile, Request};
use crate::proto::onvif::services::{self, Service};
use crate::proto::onvif::soap::{self, SoapError, UsernameToken};
use crate::proto::onvif::xml::Element;
use crate::transport::net::{HttpClient, Response};

use super::boot::{Boot, BootCache};
use super::https_port::{find_https_port, set_https_port, wants_credentials};
use super::services::Services;

/// Largest SOAP answer accepted.
pub const MAX_SOAP_BODY: u64 = 4 * 1024 * 1024;
/// Largest snapshot accepted.
pub const MAX_SNAPSHOT_BODY: u64 = 16 * 1024 * 1024;
/// The device service path, fixed by ONVIF Core.
pub const DEVICE_SERVICE_PATH: &str = "/onvif/device_service";

use crate::proto::auth::{self, Credentials, HttpAuth, Policy, Unanswered};

/// An ONVIF SOAP client over one origin.
pub struct OnvifClient {
    pub http: HttpClient,
    creds: Option<Credentials>,
    /// Device clock minus local clock, in milliseconds.
    pub clock_offset_ms: Option<i64>,
    /// HTTP authentication once a 401 asked for it; until then (`None`) credentials go as
    /// a WS-UsernameToken.
    auth: HttpAuth,
    /// SOAP round trips made (for the benchmark's count).
    pub round_trips: u32,
    /// Path (and query) of the device service: `location`'s, else the ONVIF default.
    pub device_path: String,
    /// The device refused a PRE_AUTH operation without credentials and accepted it
    /// with them: every later call carries them.
    pub(super) anonymous_refused: bool,
    /// Inside GetSystemDateAndTime: a refused token does not re-read the clock again.
    no_clock_resync: bool,
    /// One authenticated request and no other (no clock re-read, no second challenge):
    /// the one GetNetworkProtocols with a password digest over plain HTTP.
    pub(super) single_try: bool,
    /// The user chose SOAP in clear (`https-enable=false`): see [`Policy::for_exchange`].
    pub(super) clear_chosen: bool,
}

impl OnvifClient {
    pub fn new(
        origin: Origin,
        tls: Option<Arc<tls::TlsConfig>>,
        timeout: Duration,
        creds: Option<Credentials>,
    ) -> Self {
        Self {
            http: HttpClient::new(origin, tls, timeout),
            creds,
            clock_offset_ms: None,
            auth: HttpAuth::None,
            round_trips: 0,
            device_path: DEVICE_SERVICE_PATH.to_string(),
            anonymous_refused: false,
            no_clock_resync: false,
            single_try: false,
            clear_chosen: false,
        }
    }

    /// Sets the credentials (given once the client is on HTTPS when they must not travel
    /// over the plain-HTTP bootstrap).
    pub fn set_credentials(&mut self, creds: Option<Credentials>) {
        self.creds = creds;
    }

    /// Moves to another origin (the HTTPS port), keeping clock offset and auth method.
    pub fn retarget(&mut self, origin: Origin, tls: Option<Arc<tls::TlsConfig>>) {
        let timeout = self.http.timeout;
        self.http = HttpClient::new(origin, tls, timeout);
        // device_path, clock offset and credentials stay.
        // A Digest nonce belongs to the server that issued it.
        self.auth = HttpAuth::None;
    }

    pub fn peer(&self) -> String {
        self.http.origin.peer()
    }

    fn authorization(&mut self, method: &str, target: &str) -> Option<String> {
        self.auth.authorization(self.creds.as_ref(), method, target)
    }

    /// What an answer to this origin's challenges may be: Basic only to an authenticated
    /// TLS peer; Digest in clear only with qop, unless SOAP was chosen in clear.
    fn policy(&self) -> Policy {
        Policy::for_exchange(
            self.http.tls().map(|t| t.peer_authenticated),
            self.clear_chosen,
        )
    }

    /// Why a 401 whose challenges this client will not answer was not answered: Basic to
    /// a peer that is not authenticated, Digest without qop in clear.
    #[track_caller]
    fn withheld(&self, operation: &str, resp: &Response) -> Option<Error> {
        let challenges = resp.head.headers_named("www-authenticate");
        let Err(Unanswered::Withheld(reason)) =
            HttpAuth::default().adopt(challenges, self.policy())
        else {
            return None;
        };
        Some(Error::CredentialsWithheld {
            at: crate::error::At::here(),
            peer: self.peer(),
            operation: operation.to_string(),
            reason: reason.to_string(),
        })
    }

    /// Adopts the challenge of a 401; false when there is none this client may answer.
    fn adopt_challenge(&mut self, resp: &Response) -> bool {
        let policy = self.policy();
        self.auth
            .adopt(resp.head.headers_named("www-authenticate"), policy)
            .is_ok()
    }

    /// An authenticated GET (snapshots), answering a Digest (or, inside TLS, Basic)
    /// challenge.
    pub async fn get(
        &mut self,
        operation: &str,
        target: &str,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        let mut answered_challenge = false;
        loop {
            let auth = self.authorization("GET", target);
            let mut headers = vec![("Cache-Control", "no-cache")];
            if let Some(a) = &auth {
                headers.push(("Authorization", a.as_str()));
            }
            let resp = self
                .http
                .request(operation, "GET", target, &headers, &[], limit)
                .await?;
            crate::log::trace!(
                "{} GET {target} -> HTTP {} ({} bytes)",
                self.peer(),
                resp.head.status,
                resp.body.len()
            );
            match resp.head.status {
                200 => return Ok(resp.body),
                401 if self.creds.is_none() => {
                    return Err(
                        self.not_authorized(operation, "HTTP 401 and no user-id/user-pw set")
                    );
                }
                401 if !answered_challenge && self.adopt_challenge(&resp) => {
                    answered_challenge = true;
                }
                401 => {
                    return Err(self.withheld(operation, &resp).unwrap_or_else(|| {
                        self.not_authorized(operation, "HTTP 401 to our credentials")
                    }));
                }
                status => {
                    return Err(Error::HttpStatus {
                        at: crate::error::At::here(),
                        peer: self.peer(),
                        operation: operation.to_string(),
                        status,
                        reason: resp.head.reason.clone(),
                    });
                }
            }
        }
    }

    #[track_caller]
    fn not_authorized(&self, operation: &str, detail: &str) -> Error {
        Error::NotAuthorized {
            at: crate::error::At::here(),
            peer: self.peer(),
            operation: operation.to_string(),
            detail: detail.to_string(),
        }
    }

    fn username_token(&self) -> Option<UsernameToken> {
        let creds = self.creds.as_ref()?;
        if !matches!(self.auth, HttpAuth::None) {
            return None;
        }
        let created = clock::format_iso8601_millis(
            clock::now_unix_millis() + self.clock_offset_ms.unwrap_or(0),
        );
        Some(UsernameToken::new(
            &creds.user,
            &creds.password,
            &auth::random::<16>(),
            &created,
        ))
    }

    /// One SOAP call. `authenticated=false` (PRE_AUTH operations) goes out without
    /// credentials first; with credentials set, any refusal of it is retried once
    /// authenticated (`docs/rtsp-urls-and-vendors.md` §3), and a device that refused once
    /// gets credentials on every later call.
    pub async fn call(
        &mut self,
        path: &str,
        req: &Request,
        authenticated: bool,
    ) -> Result<Element, Error> {
        self.call_with_header(path, req, authenticated, None).await
    }

    /// The authentication the next authenticated request carries, for messages.
    fn method_name(&self) -> &'static str {
        self.auth.name().unwrap_or("WS-UsernameToken")
    }

    /// As [`Self::call`], with extra SOAP header children (WS-Addressing).
    pub async fn call_with_header(
        &mut self,
        path: &str,
        req: &Request,
        authenticated: bool,
        header: Option<&str>,
    ) -> Result<Element, Error> {
        let have_creds = self.creds.is_some();
        let mut with_creds = have_creds && (authenticated || self.anonymous_refused);
        let mut answered_challenge = false;
        let mut resynced_clock = false;
        // The device's words when it refused the anonymous request.
        let mut anonymous_refusal: Option<String> = None;
        loop {
            let token = if with_creds {
                self.username_token()
            } else {
                None
            };
            let envelope = soap::envelope_with_header(&req.body, token.as_ref(), header);
            let auth = if with_creds {
                self.authorization("POST", path)
            } else {
                None
            };
            let content_type = format!(
                "application/soap+xml; charset=utf-8; action=\"{}\"",
                req.action
            );
            let mut headers = vec![("Content-Type", content_type.as_str())];
            if let Some(a) = &auth {
                headers.push(("Authorization", a.as_str()));
            }
            self.round_trips += 1;
            let resp = self
                .http
                .request(
                    req.operation,
                    "POST",
                    path,
                    &headers,
                    envelope.as_bytes(),
                    MAX_SOAP_BODY,
                )
                .await?;
            let status = resp.head.status;
            crate::log::debug!(
                "{} POST {path} {} -> HTTP {status} ({} bytes, auth: {})",
                self.peer(),
                req.operation,
                resp.body.len(),
                if with_creds {
                    self.method_name()
                } else {
                    "none"
                }
            );
            let parsed = soap::parse_response(&resp.body);
            if status == 200
                && let Ok(el) = parsed
            {
                if anonymous_refusal.is_some() {
                    // Remembered for this device's next PRE_AUTH calls.
                    self.anonymous_refused = true;
                }
                return Ok(el);
            }
            let words = refusal_words(status, &resp.head.reason, &parsed);
            if !with_creds {
                if !have_creds {
                    if status == 401 || matches!(&parsed, Err(SoapError::Fault(f)) if f.is_auth()) {
                        return Err(self.not_authorized(
                            req.operation,
                            &format!("{words}; no user-id/user-pw set"),
                        ));
                    }
                    return Err(self.answer_error(req.operation, status, &resp, parsed));
                }
                // Any refusal of an anonymous request: once more, authenticated. A
                // challenge says how; otherwise WS-UsernameToken, with the device's clock
                // from its Date header when it was never read (GetSystemDateAndTime may
                // be the refused call).
                if status == 401 && self.adopt_challenge(&resp) {
                    answered_challenge = true;
                }
                if self.clock_offset_ms.is_none()
                    && let Some(d) = resp.head.header("date").and_then(clock::parse_http_date)
                {
                    self.clock_offset_ms = Some(d * 1000 - clock::now_unix_millis());
                }
                crate::log::debug!(
                    "{} refused {} without credentials ({words}); again with {}",
                    self.peer(),
                    req.operation,
                    self.method_name()
                );
                anonymous_refusal = Some(words);
                with_creds = true;
                continue;
            }
            // An authenticated request refused.
            if status == 401
                && !answered_challenge
                && !self.single_try
                && self.adopt_challenge(&resp)
            {
                answered_challenge = true;
                continue;
            }
            let auth_refusal = matches!(status, 401 | 403)
                || matches!(&parsed, Err(SoapError::Fault(f)) if f.is_auth());
            if !auth_refusal {
                return Err(self.answer_error(req.operation, status, &resp, parsed));
            }
            if matches!(self.auth, HttpAuth::None)
                && !resynced_clock
                && !self.no_clock_resync
                && !self.single_try
            {
                // The token may have been refused for its Created time: re-read the
                // device clock once (spec §5) and retry.
                resynced_clock = true;
                self.sync_clock().await?;
                continue;
            }
            if status == 401
                && let Some(e) = self.withheld(req.operation, &resp)
            {
                return Err(e);
            }
            let method = self.method_name();
            return Err(self.not_authorized(
                req.operation,
                &format!("{words} to our credentials ({method})"),
            ));
        }
    }

    /// The error for an answer that is neither a result nor an authentication refusal.
    #[track_caller]
    fn answer_error(
        &self,
        operation: &str,
        status: u16,
        resp: &Response,
        parsed: Result<Element, SoapError>,
    ) -> Error {
        match parsed {
            Err(SoapError::Fault(fault)) => Error::Fault {
                at: crate::error::At::here(),
                peer: self.peer(),
                operation: operation.to_string(),
                fault: Box::new(fault),
            },
            _ if status != 200 => Error::HttpStatus {
                at: crate::error::At::here(),
                peer: self.peer(),
                operation: operation.to_string(),
                status,
                reason: resp.head.reason.clone(),
            },
            Err(e) => self.malformed_at(
                operation,
                e.to_string(),
                e.position().map(crate::error::Position::BodyByte),
            ),
            Ok(_) => self.malformed(operation, "an answer with no result".into()),
        }
    }

    /// A `Malformed` error for an answer to `operation` from this device.
    #[track_caller]
    pub fn malformed(&self, operation: &str, detail: String) -> Error {
        self.malformed_at(operation, detail, None)
    }

    /// As [`Self::malformed`], with where in the answer it breaks.
    #[track_caller]
    fn malformed_at(
        &self,
        operation: &str,
        detail: String,
        position: Option<crate::error::Position>,
    ) -> Error {
        Error::Malformed {
            at: crate::error::At::here(),
            peer: self.peer(),
            operation: operation.to_string(),
            detail,
            position,
        }
    }

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

/// How a device refused a SOAP request, in its own words, for messages: `HTTP 500, SOAP
/// fault env:Sender (Authentication failed)`, `HTTP 401 Unauthorized`.
fn refusal_words(status: u16, reason: &str, parsed: &Result<Element, SoapError>) -> String {
    match parsed {
        Err(SoapError::Fault(f)) => format!("HTTP {status}, SOAP fault {f}"),
        _ => format!("HTTP {status} {reason}").trim_end().to_string(),
    }
}

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

/// Asks for the stream URI of the chosen profile for `transport`; returns the URI as the
/// device gave it.
pub async fn stream_uri(
    client: &mut OnvifClient,
    media: &MediaInfo,
    transport: ops::StreamTransport,
) -> Result<String, Error> {
    let req = ops::get_stream_uri(media.media2, &media.profile.token, transport);
    let el = client.call(&media.media_path, &req, true).await?;
    ops::parse_media_uri(&el, media.media2, req.operation)
        .map_err(|d| client.malformed(req.operation, d))
}

/// Asks for the snapshot URI of the chosen profile and rewrites it onto the origin.
pub async fn snapshot_target(client: &mut OnvifClient, media: &MediaInfo) -> Result<String, Error> {
    let req = ops::get_snapshot_uri(media.media2, &media.profile.token);
    let el = client.call(&media.media_path, &req, true).await?;
    let uri = ops::parse_media_uri(&el, media.media2, req.operation)
        .map_err(|d| client.malformed(req.operation, d))?;
    addr::path_and_query(&uri)
        .ok_or_else(|| client.malformed(req.operation, format!("snapshot URI {uri:?} has no path")))
}
