// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The event service's calls (spec §8): a pull-point subscription on its own HTTPS
//! connection (a held PullMessages would otherwise block every other SOAP call), renewed
//! before it expires, pulled, and unsubscribed. The task that runs it, reconnects and
//! posts the notifications is `session::events`.
//!
//! What devices get wrong (`docs/field-notes.md`): a relative `InitialTerminationTime`
//! answered with a termination time that has almost passed (then absolute times are used,
//! from the device clock); a Renew that is refused (then PullMessages keeps the
//! subscription alive, as ONVIF Core allows).

use std::time::Duration;

use tokio::time::Instant;

use super::{OnvifClient, StartSettings};
use crate::error::Error;
use crate::proto::clock;
use crate::proto::onvif::events::{self, Notification, Subscription};
use crate::proto::onvif::ops::Request;
use crate::proto::onvif::services::Service;
use crate::proto::onvif::xml::Element;

/// Lifetime asked for the subscription and in each Renew.
const SUBSCRIPTION_SECS: i64 = 60;
/// Device-side wait of one PullMessages.
const PULL_SECS: u32 = 10;
/// Messages fetched per PullMessages at most.
pub const PULL_LIMIT: u32 = 100;

/// A live pull-point subscription.
pub struct PullPoint {
    client: OnvifClient,
    sub: Subscription,
    /// Path and query of the subscription address on our origin.
    path: String,
    /// Full address for `wsa:To`.
    pub to: String,
    /// When to renew next.
    renew_at: Instant,
    /// The device mishandles relative times: absolute ones are sent.
    pub absolute: bool,
    /// The device refused Renew: PullMessages keeps the subscription.
    renew_refused: bool,
    seq: u64,
}

/// What a Renew did.
#[derive(Debug)]
pub enum Renewed {
    /// Not due yet, or refused before: nothing sent.
    NotDue,
    Renewed,
    /// Refused as not supported (the fault, for the log): PullMessages keeps the
    /// subscription from now on.
    Refused(String),
}

/// One PullMessages' notifications: at most [`PULL_LIMIT`], and how many the device sent.
pub struct Pulled {
    pub notifications: Vec<Notification>,
    pub total: usize,
}

impl PullPoint {
    /// The ONVIF start, then CreatePullPointSubscription on the event service; also the
    /// termination the device granted, in seconds (for the log). `warn` says what the
    /// start-up warns of.
    pub async fn subscribe(
        start: &StartSettings,
        warn: &(dyn Fn(&str) + Sync),
    ) -> Result<(PullPoint, Option<i64>), Error> {
        let started = super::start(start, warn).await?;
        let mut client = started.client;
        let origin = client.http.origin.clone();
        let mut services = started.services;
        let Some(event_path) = services.find(&mut client, Service::Events).await? else {
            return Err(Error::NotFound {
                at: crate::error::At::here(),
                peer: origin.peer(),
                what: "the device offers no event service".into(),
            });
        };
        let event_to = format!("{}{event_path}", origin.base());
        let req = events::create_pull_point_subscription(&format!("PT{SUBSCRIPTION_SECS}S"));
        let header = events::wsa_header(&req.action, "urn:uuid:create", &event_to, &[]);
        let el = client
            .call_with_header(&event_path, &req, true, Some(&header))
            .await?;
        let sub = events::parse_subscription(&el).map_err(|detail| {
            crate::error::Context::new(origin.peer(), "CreatePullPointSubscription")
                .malformed(detail, None)
        })?;
        // The subscription address gets the same rewriting as XAddrs (spec §4.1).
        let path = crate::proto::onvif::addr::path_and_query(&sub.address).unwrap_or(event_path);
        let to = format!("{}{path}", origin.base());
        let (current, termination) = (sub.current_time, sub.termination_time);
        let mut pp = PullPoint {
            client,
            sub,
            path,
            to,
            renew_at: Instant::now(),
            absolute: false,
            renew_refused: false,
            seq: 0,
        };
        pp.schedule(current, termination);
        Ok((
            pp,
            termination.zip(current).map(|(t, c)| t.saturating_sub(c)),
        ))
    }

    /// SetSynchronizationPoint: the state of every property, as Initialized messages
    /// (optional on devices).
    pub async fn synchronize(&mut self) -> Result<(), Error> {
        self.call(&events::set_synchronization_point())
            .await
            .map(drop)
    }

    /// Renew when due.
    pub async fn renew_if_due(&mut self) -> Result<Renewed, Error> {
        if self.renew_refused || Instant::now() < self.renew_at {
            return Ok(Renewed::NotDue);
        }
        let req = events::renew(&self.termination());
        match self.call(&req).await {
            Ok(el) => {
                let (c, t) = events::parse_times(&el);
                self.schedule(c, t);
                Ok(Renewed::Renewed)
            }
            Err(Error::Fault { fault, .. }) if fault.is_not_supported() => {
                self.renew_refused = true;
                Ok(Renewed::Refused(fault.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// One PullMessages. The device holds it up to its wait: never past the next Renew,
    /// or a device that grants little would expire the subscription under a held poll.
    pub async fn pull(&mut self) -> Result<Pulled, Error> {
        let wait = if self.renew_refused {
            PULL_SECS
        } else {
            let until = self
                .renew_at
                .saturating_duration_since(Instant::now())
                .as_secs();
            u32::try_from(until)
                .unwrap_or(PULL_SECS)
                .clamp(1, PULL_SECS)
        };
        let pull = events::pull_messages(wait, PULL_LIMIT);
        // The long poll needs more than the usual exchange bound.
        let usual = self.client.http.timeout;
        self.client.http.timeout = usual + Duration::from_secs(u64::from(wait));
        let res = self.call(&pull).await;
        self.client.http.timeout = usual;
        let el = res?;
        let (c, t) = events::parse_times(&el);
        if self.renew_refused {
            self.schedule(c, t);
        }
        // At most PULL_LIMIT per answer, whatever the device sent (we asked for that many).
        let (notifications, total) = events::parse_notifications(&el, PULL_LIMIT as usize);
        Ok(Pulled {
            notifications,
            total,
        })
    }

    /// Unsubscribe.
    pub async fn unsubscribe(&mut self) -> Result<(), Error> {
        self.call(&events::unsubscribe()).await.map(drop)
    }

    fn message_id(&mut self) -> String {
        self.seq += 1;
        let r = crate::proto::auth::random::<8>();
        format!("urn:uuid:{:016x}-{}", u64::from_be_bytes(r), self.seq)
    }

    async fn call(&mut self, req: &Request) -> Result<Element, Error> {
        let id = self.message_id();
        let header = events::wsa_header(&req.action, &id, &self.to, &self.sub.reference_parameters);
        let path = self.path.clone();
        self.client
            .call_with_header(&path, req, true, Some(&header))
            .await
    }

    /// Device time now (Unix seconds), from the clock offset read at start.
    fn device_now(&self) -> i64 {
        (clock::now_unix_millis() + self.client.clock_offset_ms.unwrap_or(0)) / 1000
    }

    /// Schedules the next Renew from a (current, termination) pair of device times.
    fn schedule(&mut self, current: Option<i64>, termination: Option<i64>) {
        let remaining = match (current, termination) {
            (Some(c), Some(t)) => t.saturating_sub(c),
            _ => SUBSCRIPTION_SECS,
        };
        if !self.absolute && remaining < SUBSCRIPTION_SECS / 2 {
            // Asked for PT60S, got (almost) nothing: the relative-time bug.
            self.absolute = true;
        }
        let secs = (remaining / 2).clamp(0, SUBSCRIPTION_SECS) as u64;
        self.renew_at = Instant::now() + Duration::from_secs(secs);
    }

    fn termination(&self) -> String {
        if self.absolute {
            events::format_datetime(self.device_now() + SUBSCRIPTION_SECS)
        } else {
            format!("PT{SUBSCRIPTION_SECS}S")
        }
    }
}
