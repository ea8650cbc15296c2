// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The pull-point event task (`events=true`, spec §8): the subscription
//! (`client::onvif::events::PullPoint`) pulled in a loop, its notifications posted, a new
//! subscription after a failure or a device reboot (the one supervisor), and Unsubscribe
//! at stop.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::onvif::StartSettings;
use crate::client::onvif::events::{PULL_LIMIT, PullPoint, Renewed};
use crate::error::Error;
use crate::error::printable;
use crate::proto::onvif::events::{self, Notification};
use crate::session::{Lost, Output};
use gst::prelude::*;

/// Least time between the starts of two pulls (a device with a backlog answers at once).
const MIN_PULL_INTERVAL: Duration = Duration::from_millis(500);
/// Deadline of the Unsubscribe at stop: the element must reach NULL within a second.
const UNSUBSCRIBE_WAIT: Duration = Duration::from_millis(300);

async fn subscribe<O: Output>(start: &StartSettings, out: &O) -> Result<PullPoint, Error> {
    let (mut pp, granted) = PullPoint::subscribe(start, &|w: &str| out.warning(w)).await?;
    out.debug(format_args!(
        "event subscription {} (termination in {granted:?} s{})",
        pp.to,
        if pp.absolute {
            ", relative times mishandled: using absolute ones"
        } else {
            ""
        }
    ));
    if let Err(e) = pp.synchronize().await {
        out.debug(format_args!(
            "SetSynchronizationPoint failed ({e}); going on"
        ));
    }
    Ok(pp)
}

/// One round: Renew when due, then one PullMessages, its notifications posted.
async fn pull_round<O: Output>(
    pp: &mut PullPoint,
    out: &O,
    stats: &crate::stats::Stats,
) -> Result<(), Error> {
    if let Renewed::Refused(fault) = pp.renew_if_due().await? {
        out.debug(format_args!(
            "Renew refused ({fault}); PullMessages keeps the subscription"
        ));
    }
    let pulled = pp.pull().await?;
    let notifications = &pulled.notifications;
    for n in notifications {
        out.event(n);
    }
    let total = u64::try_from(pulled.total).unwrap_or(u64::MAX);
    let posted = u64::try_from(notifications.len()).unwrap_or(u64::MAX);
    stats.events(posted, total.saturating_sub(posted));
    let items_dropped: usize = notifications.iter().map(|n| n.items_dropped).sum();
    if items_dropped > 0 {
        out.warning(&format!(
            "the device sent notifications with more than {} SimpleItems in their source or \
             data: {items_dropped} left out",
            events::MAX_SIMPLE_ITEMS
        ));
    }
    if pulled.total > notifications.len() {
        out.warning(&format!(
            "the device answered PullMessages with {} notifications though {PULL_LIMIT} \
             were asked for: posted {}, dropped {}",
            pulled.total,
            notifications.len(),
            pulled.total - notifications.len()
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
    let mut supervisor =
        super::supervisor::Supervisor::new(Lost::Events, reconnect, start.stats.clone());
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
                            let r = pull_round(&mut live, &*out, &start.stats).await;
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
                            let _ = tokio::time::timeout(UNSUBSCRIBE_WAIT, live.unsubscribe()).await;
                            return;
                        }
                    }
                }
            }
        };
        // A certificate refused is refused again (spec §4.3: never retried).
        let retry = !matches!(failure, Error::Certificate { .. });
        if supervisor
            .after(&failure, retry, &*out, &mut commands)
            .await
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
