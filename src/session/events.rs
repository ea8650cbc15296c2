// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The pull-point event task (`events=true`, spec §8): its own HTTPS connection (a held
//! PullMessages would otherwise block every other SOAP call), a subscription renewed
//! before it expires, a new subscription after a failure or a device reboot, and
//! Unsubscribe at stop.
//!
//! What devices get wrong (`docs/field-notes.md`): a relative `InitialTerminationTime`
//! answered with a termination time that has almost passed (then absolute times are used,
//! from the device clock); a Renew that is refused (then PullMessages keeps the
//! subscription alive, as ONVIF Core allows); subscriptions that vanish on reboot.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::onvif::{self, OnvifClient, StartSettings};
use crate::error::Error;
use crate::error::printable;
use crate::proto::clock;
use crate::proto::onvif::events::{self, Notification, Subscription};
use crate::proto::onvif::services::Service;
use crate::session::{Lost, Output};
use gst::prelude::*;

/// Lifetime asked for the subscription and in each Renew.
const SUBSCRIPTION_SECS: i64 = 60;
/// Device-side wait of one PullMessages.
const PULL_SECS: u32 = 10;
/// Messages fetched per PullMessages at most.
const PULL_LIMIT: u32 = 100;
/// Least time between the starts of two pulls (a device with a backlog answers at once).
const MIN_PULL_INTERVAL: Duration = Duration::from_millis(500);
/// Deadline of the Unsubscribe at stop: the element must reach NULL within a second.
const UNSUBSCRIBE_WAIT: Duration = Duration::from_millis(300);

/// A live subscription and its bookkeeping.
struct Live {
    client: OnvifClient,
    sub: Subscription,
    /// Path and query of the subscription address on our origin.
    path: String,
    /// Full address for `wsa:To`.
    to: String,
    /// When to renew next.
    renew_at: Instant,
    /// The device mishandles relative times: send absolute ones.
    absolute: bool,
    /// The device refused Renew: rely on PullMessages to keep the subscription.
    renew_refused: bool,
    seq: u64,
}

impl Live {
    fn message_id(&mut self) -> String {
        self.seq += 1;
        let r = crate::proto::auth::random::<8>();
        format!("urn:uuid:{:016x}-{}", u64::from_be_bytes(r), self.seq)
    }

    async fn call(
        &mut self,
        req: &crate::proto::onvif::ops::Request,
    ) -> Result<crate::proto::onvif::xml::Element, Error> {
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
            (Some(c), Some(t)) => t - c,
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

async fn subscribe<O: Output>(start: &StartSettings, out: &O) -> Result<Live, Error> {
    let started = onvif::start(start, &|w: &str| out.warning(w)).await?;
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
    let mut live = Live {
        client,
        sub,
        path,
        to,
        renew_at: Instant::now(),
        absolute: false,
        renew_refused: false,
        seq: 0,
    };
    live.schedule(current, termination);
    out.debug(format_args!(
        "event subscription {} (termination in {:?} s{})",
        live.to,
        termination.zip(current).map(|(t, c)| t - c),
        if live.absolute {
            ", relative times mishandled: using absolute ones"
        } else {
            ""
        }
    ));
    // The state of every property, as Initialized messages; optional on devices.
    if let Err(e) = live.call(&events::set_synchronization_point()).await {
        out.debug(format_args!(
            "SetSynchronizationPoint failed ({e}); going on"
        ));
    }
    Ok(live)
}

/// One round: Renew when due, then one PullMessages.
async fn pull_round<O: Output>(live: &mut Live, out: &O) -> Result<(), Error> {
    if !live.renew_refused && Instant::now() >= live.renew_at {
        let req = events::renew(&live.termination());
        match live.call(&req).await {
            Ok(el) => {
                let (c, t) = events::parse_times(&el);
                live.schedule(c, t);
            }
            Err(Error::Fault { fault, .. }) if fault.is_not_supported() => {
                out.debug(format_args!(
                    "Renew refused ({fault}); PullMessages keeps the subscription"
                ));
                live.renew_refused = true;
            }
            Err(e) => return Err(e),
        }
    }
    // The device holds the request up to `wait`: never past the next Renew, or a device
    // that grants little would expire the subscription under a held poll.
    let wait = if live.renew_refused {
        PULL_SECS
    } else {
        let until = live
            .renew_at
            .saturating_duration_since(Instant::now())
            .as_secs();
        u32::try_from(until)
            .unwrap_or(PULL_SECS)
            .clamp(1, PULL_SECS)
    };
    let pull = events::pull_messages(wait, PULL_LIMIT);
    // The long poll needs more than the usual exchange bound.
    let usual = live.client.http.timeout;
    live.client.http.timeout = usual + Duration::from_secs(u64::from(wait));
    let res = live.call(&pull).await;
    live.client.http.timeout = usual;
    let el = res?;
    let (c, t) = events::parse_times(&el);
    if live.renew_refused {
        live.schedule(c, t);
    }
    // At most PULL_LIMIT per answer, whatever the device sent (we asked for that many).
    let (notifications, total) = events::parse_notifications(&el, PULL_LIMIT as usize);
    for n in &notifications {
        out.event(n);
    }
    let items_dropped: usize = notifications.iter().map(|n| n.items_dropped).sum();
    if items_dropped > 0 {
        out.warning(&format!(
            "the device sent notifications with more than {} SimpleItems in their source or \
             data: {items_dropped} left out",
            events::MAX_SIMPLE_ITEMS
        ));
    }
    if total > notifications.len() {
        out.warning(&format!(
            "the device answered PullMessages with {total} notifications though {PULL_LIMIT} \
             were asked for: posted {}, dropped {}",
            notifications.len(),
            total - notifications.len()
        ));
    }
    Ok(())
}

/// Runs until `stop`: subscribe, pull, renew, and subscribe again after any failure.
/// With `reconnect` (the longest wait between two attempts) a failure is an
/// `onvif-reconnecting` message and a warning, and the waits grow as for the media
/// (spec §9); the count starts over once a PullMessages has gone through, so a device
/// that accepts subscriptions and then fails every poll is not asked again at once.
/// Without it, the first failure is an error.
pub async fn run<O: Output>(
    start: StartSettings,
    reconnect: Option<Duration>,
    out: Arc<O>,
    mut commands: super::command::Commands,
) {
    crate::runtime::maybe_panic("events", &start.location);
    let mut supervisor = super::supervisor::Supervisor::new(Lost::Events, reconnect);
    loop {
        let subscribed = tokio::select! {
            r = subscribe(&start, &*out) => r,
            () = commands.stopped() => return,
        };
        let failure = match subscribed {
            Err(e) => e,
            Ok(mut live) => {
                let subscribed_at = Instant::now();
                loop {
                    tokio::select! {
                        r = async {
                            let began = Instant::now();
                            let r = pull_round(&mut live, &*out).await;
                            // A pull answered at once: space the next one, so that a device
                            // answering every poll at once cannot flood the bus.
                            if r.is_ok() {
                                let took = began.elapsed();
                                if took < MIN_PULL_INTERVAL {
                                    tokio::time::sleep(MIN_PULL_INTERVAL - took).await;
                                }
                            }
                            r
                        } => match r {
                            // Waits start over only after a healthy period: a device that
                            // subscribes and fails soon after keeps backing off.
                            Ok(()) if subscribed_at.elapsed() >= super::supervisor::HEALTHY => {
                                supervisor.healthy()
                            }
                            Ok(()) => {}
                            Err(e) => break e,
                        },
                        () = commands.stopped() => {
                            let _ = tokio::time::timeout(UNSUBSCRIBE_WAIT, live.call(&events::unsubscribe())).await;
                            return;
                        }
                    }
                }
            }
        };
        if supervisor.after(&failure, true, &*out, &mut commands).await
            == super::supervisor::Next::End
        {
            return;
        }
    }
}

/// The structure of an `onvif-event` element message. The SimpleItems of `source` and
/// `data` are arrays of `item, name=..., value=...` structures: a device's item names are
/// values, never structure field names (each would be a GQuark, kept for the life of the
/// process, and a device can choose new ones in every notification).
pub fn event_structure(n: &Notification) -> gst::Structure {
    let items = |items: &[(String, String)]| {
        gst::Array::new(items.iter().map(|(name, value)| {
            gst::Structure::builder("item")
                .field("name", printable(name).as_ref())
                .field("value", printable(value).as_ref())
                .build()
                .to_send_value()
        }))
    };
    gst::Structure::builder("onvif-event")
        .field("topic", printable(&n.topic).as_ref())
        .field("utc-time", printable(&n.utc_time).as_ref())
        .field(
            "property-operation",
            printable(&n.property_operation).as_ref(),
        )
        .field("source", items(&n.source))
        .field("data", items(&n.data))
        .build()
}
