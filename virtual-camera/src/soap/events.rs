// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The Event service (`tev`) and its pull-point subscriptions (`wsnt` and `tev` at the
//! subscription's own address): subscribe, pull, renew, unsubscribe, synchronise; and the
//! changes the camera publishes (inputs, relays, motion).

use std::time::Duration;

use super::{Call, Op, base, camera_now, fault, ok};
use crate::Shared;
use crate::http::{Request, Response};

pub(super) const PATH: &str = "/onvif/event_service";
pub(super) const NS: &str = "http://www.onvif.org/ver10/events/wsdl";
/// Where a subscription lives (`?idx=N` names it).
const SUBSCRIPTION: &str = "/onvif/subscription";
const NS_WSNT: &str = "http://docs.oasis-open.org/wsn/b-2";

pub(super) const OPS: &[Op] = &[
    Op::now(
        PATH,
        NS,
        "CreatePullPointSubscription",
        create_pull_point_subscription,
    ),
    Op {
        path: SUBSCRIPTION,
        ns: NS,
        op: "PullMessages",
        handler: super::Handler::Held(|c| Box::pin(pull_messages(c))),
    },
    Op::now(
        SUBSCRIPTION,
        NS,
        "SetSynchronizationPoint",
        set_synchronization_point,
    ),
    Op::now(SUBSCRIPTION, NS_WSNT, "Renew", renew),
    Op::now(SUBSCRIPTION, NS_WSNT, "Unsubscribe", unsubscribe),
];

const EVENT_NS: &str = "xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" \
    xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" \
    xmlns:tns1=\"http://www.onvif.org/ver10/topics\"";

/// The subscription id in `/onvif/subscription?idx=N`.
fn subscription_id(req: &Request) -> Option<u32> {
    req.target
        .split_once("idx=")
        .and_then(|(_, v)| v.split('&').next())
        .and_then(|v| v.parse().ok())
}

fn resource_unknown() -> Response {
    fault(
        400,
        "s:Sender",
        &["wsrf-rw:ResourceUnknownFault"],
        "No such subscription",
    )
}

/// Toggles an input and publishes `tns1:Device/Trigger/DigitalInput`.
pub fn toggle_input(shared: &Shared, token: &str) -> Option<bool> {
    let mut bus = shared.events.lock().unwrap();
    let (_, state) = bus.inputs.iter_mut().find(|(t, _)| t == token)?;
    *state = !*state;
    let v = *state;
    let msg = crate::events::notification(
        "tns1:Device/Trigger/DigitalInput",
        "Changed",
        camera_now(shared),
        ("InputToken", token),
        ("LogicalState", if v { "true" } else { "false" }),
    );
    bus.publish(msg, None);
    Some(v)
}

/// Toggles the motion alarm and publishes `tns1:VideoSource/MotionAlarm`.
pub fn toggle_motion(shared: &Shared) {
    let mut bus = shared.events.lock().unwrap();
    bus.motion = !bus.motion;
    let v = if bus.motion { "true" } else { "false" };
    let msg = crate::events::notification(
        "tns1:VideoSource/MotionAlarm",
        "Changed",
        camera_now(shared),
        ("Source", "VideoSource_1"),
        ("State", v),
    );
    bus.publish(msg, None);
}

/// PullMessages: answers at once with queued messages, else holds the request until one
/// comes or the asked timeout passes.
async fn pull_messages(c: &Call<'_>) -> Response {
    let (shared, req, p) = (c.shared, c.req, c.p);
    let Some(id) = subscription_id(req) else {
        return resource_unknown();
    };
    let timeout = p
        .text("Timeout")
        .and_then(crate::state::parse_duration)
        .unwrap_or(Duration::from_secs(10))
        .min(Duration::from_secs(60));
    let limit = p
        .text("MessageLimit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100usize);
    let deadline = tokio::time::Instant::now() + timeout;
    if let Some(max) = shared.config.faults.pulls_per_subscription {
        let mut bus = shared.events.lock().unwrap();
        let n = bus.pulls.entry(id).or_insert(0);
        *n += 1;
        if *n > max {
            // The subscription dies after `max` pulls (a device that loses them).
            bus.remove(id);
            return resource_unknown();
        }
    }
    if let Some(n) = shared.config.faults.event_flood {
        // A hostile device: every poll answered at once with `n` notifications, the
        // source item of each with a name of its own (`Item<HTTP port>_<index>`).
        let now = camera_now(shared);
        let all: String = (0..n)
            .map(|i| {
                crate::events::notification(
                    "tns1:VideoSource/MotionAlarm",
                    "Changed",
                    now,
                    (&format!("Item{}_{i}", shared.http_port), "VideoSource_1"),
                    ("State", "true"),
                )
            })
            .collect();
        return ok(&format!(
            "<tev:PullMessagesResponse {EVENT_NS}><tev:CurrentTime>{}</tev:CurrentTime><tev:TerminationTime>{}</tev:TerminationTime>{all}</tev:PullMessagesResponse>",
            crate::events::fmt_time(now),
            crate::events::fmt_time(now + time::Duration::seconds(60)),
        ));
    }
    let messages = loop {
        let taken = {
            let mut bus = shared.events.lock().unwrap();
            if !bus.exists(id) {
                return resource_unknown();
            }
            if !shared.config.quirks.relative_termination_bug {
                // ONVIF Core: each PullMessages keeps the subscription for its timeout.
                bus.extend(id, timeout + Duration::from_secs(10));
            }
            bus.take(id, limit)
        };
        match taken {
            Some(Ok(m)) => break m,
            Some(Err(notify)) => {
                if tokio::time::timeout_at(deadline, notify.notified())
                    .await
                    .is_err()
                {
                    break Vec::new();
                }
            }
            None => return resource_unknown(),
        }
    };
    let now = camera_now(shared);
    let remaining = shared.events.lock().unwrap().remaining(id);
    let term = now + time::Duration::try_from(remaining).unwrap_or(time::Duration::ZERO);
    ok(&format!(
        "<tev:PullMessagesResponse {EVENT_NS}><tev:CurrentTime>{}</tev:CurrentTime><tev:TerminationTime>{}</tev:TerminationTime>{}</tev:PullMessagesResponse>",
        crate::events::fmt_time(now),
        crate::events::fmt_time(term),
        messages.concat()
    ))
}

fn cap(c: &crate::Config, grant: Duration) -> Duration {
    c.device.max_termination.map_or(grant, |m| grant.min(m))
}

/// The camera's time now and how long a subscription is granted for the time `asked`
/// (the request's `InitialTerminationTime` or `TerminationTime`), capped by the config.
fn granted(c: &Call<'_>, asked: Option<&str>) -> (time::OffsetDateTime, Duration) {
    let config = &c.shared.config;
    let now = camera_now(c.shared);
    let grant = crate::events::grant(asked, now, config.quirks.relative_termination_bug);
    (now, cap(config, grant))
}

/// `wsnt:CurrentTime` and `wsnt:TerminationTime`: `now`, and `now` + `grant`.
fn times(now: time::OffsetDateTime, grant: Duration) -> String {
    let fmt = crate::events::fmt_time;
    let t = now + time::Duration::try_from(grant).unwrap_or(time::Duration::ZERO);
    format!(
        "<wsnt:CurrentTime>{}</wsnt:CurrentTime><wsnt:TerminationTime>{}</wsnt:TerminationTime>",
        fmt(now),
        fmt(t)
    )
}

fn create_pull_point_subscription(c: &Call<'_>) -> Response {
    let (now, grant) = granted(c, c.p.text("InitialTerminationTime"));
    let id = c.shared.events.lock().unwrap().subscribe(grant);
    ok(&format!(
        "<tev:CreatePullPointSubscriptionResponse {EVENT_NS}><tev:SubscriptionReference><wsa:Address>{}{SUBSCRIPTION}?idx={id}</wsa:Address></tev:SubscriptionReference>{}</tev:CreatePullPointSubscriptionResponse>",
        base(c.shared, c.req),
        times(now, grant)
    ))
}

fn renew(c: &Call<'_>) -> Response {
    if c.shared.config.quirks.renew_refused {
        return fault(
            500,
            "s:Receiver",
            &["ter:ActionNotSupported"],
            "Renew is not supported",
        );
    }
    let Some(id) = subscription_id(c.req) else {
        return resource_unknown();
    };
    let (now, grant) = granted(c, c.p.text("TerminationTime"));
    if !c.shared.events.lock().unwrap().renew(id, grant) {
        return resource_unknown();
    }
    ok(&format!(
        "<wsnt:RenewResponse {EVENT_NS}>{}</wsnt:RenewResponse>",
        times(now, grant)
    ))
}

fn unsubscribe(c: &Call<'_>) -> Response {
    match subscription_id(c.req) {
        Some(id) if c.shared.events.lock().unwrap().remove(id) => {
            ok(&format!("<wsnt:UnsubscribeResponse {EVENT_NS}/>"))
        }
        _ => resource_unknown(),
    }
}

/// The inputs' and relays' states now, as `Initialized` notifications to this
/// subscription.
fn set_synchronization_point(c: &Call<'_>) -> Response {
    let Some(id) = subscription_id(c.req) else {
        return resource_unknown();
    };
    let now = camera_now(c.shared);
    let relays = c.shared.state.lock().unwrap().relays.clone();
    let mut bus = c.shared.events.lock().unwrap();
    let mut msgs = Vec::new();
    for (token, v) in bus.inputs.clone() {
        msgs.push(crate::events::notification(
            "tns1:Device/Trigger/DigitalInput",
            "Initialized",
            now,
            ("InputToken", &token),
            ("LogicalState", if v { "true" } else { "false" }),
        ));
    }
    for (token, v) in relays {
        msgs.push(crate::events::notification(
            "tns1:Device/Trigger/Relay",
            "Initialized",
            now,
            ("RelayToken", &token),
            ("LogicalState", if v { "active" } else { "inactive" }),
        ));
    }
    for m in msgs {
        bus.publish(m, Some(id));
    }
    ok(&format!(
        "<tev:SetSynchronizationPointResponse {EVENT_NS}/>"
    ))
}
