// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The ONVIF client: authenticated SOAP calls over one keep-alive connection. The start-up
//! sequence of spec §4 and §5 (clock, HTTPS port, services, profiles, URIs) is in
//! `start.rs`, re-exported here.
//!
//! Authentication follows `docs/onvif-reference.md` §3.5: WS-UsernameToken PasswordDigest
//! first; on an HTTP 401 Digest challenge, HTTP Digest from then on (the nonce is reused
//! with a growing count, so it costs one round trip per connection, not per call). Over
//! plain HTTP no password ever travels in clear: Basic is only answered inside TLS.

use std::sync::Arc;
use std::time::Duration;

use crate::transport::tls;

use crate::error::{Context, Error};
use crate::proto::clock;
use crate::proto::onvif::addr::Origin;
use crate::proto::onvif::ops::Request;
use crate::proto::onvif::soap::{self, SoapError, UsernameToken};
use crate::proto::onvif::xml::Element;
use crate::transport::net::{HttpClient, Response};

/// Largest SOAP answer accepted.
pub const MAX_SOAP_BODY: u64 = 4 * 1024 * 1024;
/// Largest snapshot accepted.
pub const MAX_SNAPSHOT_BODY: u64 = 16 * 1024 * 1024;
/// The device service path, fixed by ONVIF Core.
pub const DEVICE_SERVICE_PATH: &str = "/onvif/device_service";

use crate::proto::auth::{self, Attempt, Credentials, HttpAuth, Policy, Unanswered, Verdict};

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
    pub(super) no_clock_resync: bool,
    /// One authenticated request and no other (no clock re-read, no second challenge):
    /// the one GetNetworkProtocols with a password digest over plain HTTP.
    pub(super) single_try: bool,
    /// The user chose SOAP in clear (`https-enable=false`): see [`Policy::for_exchange`].
    pub(super) clear_chosen: bool,
    /// Round trips and the scheme that worked, for the element's `stats`.
    pub stats: crate::stats::Stats,
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
            stats: Default::default(),
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
            self.http.tls().map(|t| {
                t.authenticates(
                    crate::transport::net::bare_host(&self.http.origin.host),
                    self.http.origin.port,
                )
            }),
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
        Some(self.ctx(operation).withheld(reason))
    }

    /// What a 401 means for the request making `attempt` (the one rule of
    /// [`Attempt::on_401`]).
    fn on_401(&mut self, attempt: &mut Attempt, resp: &Response) -> Verdict {
        let policy = self.policy();
        attempt.on_401(
            &mut self.auth,
            self.creds.is_some(),
            resp.head.headers_named("www-authenticate"),
            policy,
        )
    }

    /// An authenticated GET (snapshots), answering a Digest (or, inside TLS, Basic)
    /// challenge.
    pub async fn get(
        &mut self,
        operation: &str,
        target: &str,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        let mut attempt = Attempt::default();
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
                401 => match self.on_401(&mut attempt, &resp) {
                    Verdict::Again => {}
                    Verdict::NoCredentials => {
                        return Err(
                            self.not_authorized(operation, "HTTP 401 and no user-id/user-pw set")
                        );
                    }
                    Verdict::Withheld(reason) => return Err(self.ctx(operation).withheld(reason)),
                    // A second challenge may be one the policy withholds.
                    Verdict::NoChallenge | Verdict::Refused => {
                        return Err(self.withheld(operation, &resp).unwrap_or_else(|| {
                            self.not_authorized(operation, "HTTP 401 to our credentials")
                        }));
                    }
                },
                status => return Err(self.ctx(operation).status(status, resp.head.reason.clone())),
            }
        }
    }

    #[track_caller]
    fn not_authorized(&self, operation: &str, detail: &str) -> Error {
        self.ctx(operation).not_authorized(detail)
    }

    /// What an error of `operation` with this device is about.
    fn ctx(&self, operation: &str) -> Context {
        Context::new(self.peer(), operation)
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
        let mut attempt = Attempt::default();
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
            // Counted as sent: a long PullMessages cut off at the stop reached the device.
            self.stats.soap_round_trip();
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
                self.stats.soap_auth(if with_creds {
                    self.method_name()
                } else {
                    "none"
                });
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
                if status == 401 {
                    // Adopted when it is one to answer; otherwise the token goes.
                    self.on_401(&mut attempt, &resp);
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
                && !self.single_try
                && self.on_401(&mut attempt, &resp) == Verdict::Again
            {
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
            _ if status != 200 => self.ctx(operation).status(status, resp.head.reason.clone()),
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
        self.ctx(operation).malformed(detail, position)
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
