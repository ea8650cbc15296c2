// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The camera's event service: pull-point subscriptions, PullMessages held until an event
//! or the timeout, Renew, Unsubscribe, SetSynchronizationPoint, and the events themselves
//! (digital inputs, relays, motion). Switches reproduce devices that mishandle relative
//! termination times, refuse Renew, or lose subscriptions on reboot.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Messages queued per subscription at most; older ones are dropped.
const MAX_QUEUED: usize = 1000;
/// What a device with the relative-time bug grants instead of the asked duration.
const BUGGY_GRANT: Duration = Duration::from_secs(2);

struct Sub {
    queue: VecDeque<String>,
    termination: Instant,
    notify: Arc<Notify>,
}

/// Subscriptions and the state events report.
pub struct EventBus {
    subs: HashMap<u32, Sub>,
    next: u32,
    /// `(token, logical state)` of the digital inputs.
    pub inputs: Vec<(String, bool)>,
    pub motion: bool,
    /// PullMessages answered per subscription (for `pulls_per_subscription`).
    pub pulls: HashMap<u32, u32>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            subs: HashMap::new(),
            next: 1,
            pulls: HashMap::new(),
            inputs: vec![
                ("DigitalInput_1".into(), false),
                ("DigitalInput_2".into(), false),
            ],
            motion: false,
        }
    }
}

/// `xs:dateTime` of a time.
pub fn fmt_time(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// One `wsnt:NotificationMessage`.
pub fn notification(
    topic: &str,
    op: &str,
    utc: time::OffsetDateTime,
    source: (&str, &str),
    data: (&str, &str),
) -> String {
    format!(
        "<wsnt:NotificationMessage><wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">{topic}</wsnt:Topic>\
         <wsnt:Message><tt:Message UtcTime=\"{}\" PropertyOperation=\"{op}\"><tt:Source><tt:SimpleItem Name=\"{}\" Value=\"{}\"/></tt:Source>\
         <tt:Data><tt:SimpleItem Name=\"{}\" Value=\"{}\"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>",
        fmt_time(utc),
        source.0,
        source.1,
        data.0,
        data.1
    )
}

impl EventBus {
    fn expire(&mut self) {
        let now = Instant::now();
        self.subs.retain(|_, s| s.termination > now);
    }

    /// Creates a subscription living `grant`; returns its id.
    pub fn subscribe(&mut self, grant: Duration) -> u32 {
        self.expire();
        let id = self.next;
        self.next += 1;
        self.subs.insert(
            id,
            Sub {
                queue: VecDeque::new(),
                termination: Instant::now() + grant,
                notify: Arc::new(Notify::new()),
            },
        );
        id
    }

    pub fn exists(&mut self, id: u32) -> bool {
        self.expire();
        self.subs.contains_key(&id)
    }

    /// Sets the termination of `id` to `grant` from now; false if it does not exist.
    pub fn renew(&mut self, id: u32, grant: Duration) -> bool {
        self.expire();
        match self.subs.get_mut(&id) {
            Some(s) => {
                s.termination = Instant::now() + grant;
                true
            }
            None => false,
        }
    }

    /// Keeps `id` alive at least `grant` from now.
    pub fn extend(&mut self, id: u32, grant: Duration) {
        if let Some(s) = self.subs.get_mut(&id) {
            s.termination = s.termination.max(Instant::now() + grant);
        }
    }

    pub fn remove(&mut self, id: u32) -> bool {
        self.subs.remove(&id).is_some()
    }

    /// Forgets every subscription, as a reboot does; held PullMessages end at once.
    pub fn drop_all(&mut self) {
        for s in self.subs.values() {
            s.notify.notify_one();
        }
        self.subs.clear();
    }

    pub fn count(&mut self) -> usize {
        self.expire();
        self.subs.len()
    }

    /// Queues a message for every subscription (or one).
    pub fn publish(&mut self, msg: String, only: Option<u32>) {
        for (id, s) in self.subs.iter_mut() {
            if only.is_some_and(|o| o != *id) {
                continue;
            }
            if s.queue.len() >= MAX_QUEUED {
                s.queue.pop_front();
            }
            s.queue.push_back(msg.clone());
            s.notify.notify_one();
        }
    }

    /// Takes up to `limit` queued messages, or the waker to wait on.
    pub fn take(&mut self, id: u32, limit: usize) -> Option<Result<Vec<String>, Arc<Notify>>> {
        let s = self.subs.get_mut(&id)?;
        if s.queue.is_empty() {
            return Some(Err(s.notify.clone()));
        }
        let n = limit.min(s.queue.len());
        Some(Ok(s.queue.drain(..n).collect()))
    }

    /// Time left of `id`.
    pub fn remaining(&self, id: u32) -> Duration {
        self.subs
            .get(&id)
            .map(|s| s.termination.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }
}

/// How long a requested termination grants: `PT60S` or an absolute `xs:dateTime` read on
/// the camera clock `now`. With `relative_bug`, durations grant almost nothing.
pub fn grant(requested: Option<&str>, now: time::OffsetDateTime, relative_bug: bool) -> Duration {
    let default = Duration::from_secs(60);
    let Some(r) = requested.map(str::trim) else {
        return default;
    };
    if r.starts_with('P') {
        if relative_bug {
            return BUGGY_GRANT;
        }
        return crate::state::parse_duration(r).unwrap_or(default);
    }
    match time::OffsetDateTime::parse(r, &time::format_description::well_known::Rfc3339) {
        Ok(t) => Duration::try_from(t - now).unwrap_or(Duration::ZERO),
        Err(_) => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_grants() {
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(grant(Some("PT60S"), now, false), Duration::from_secs(60));
        assert_eq!(grant(Some("PT60S"), now, true), BUGGY_GRANT);
        let later = fmt_time(now + time::Duration::seconds(30));
        let g = grant(Some(&later), now, true);
        assert!(
            g > Duration::from_secs(28) && g <= Duration::from_secs(30),
            "{g:?}"
        );
    }

    #[test]
    fn test_publish_take_and_drop() {
        let mut bus = EventBus::default();
        let a = bus.subscribe(Duration::from_secs(60));
        let b = bus.subscribe(Duration::from_secs(60));
        bus.publish("m1".into(), None);
        bus.publish("m2".into(), Some(b));
        assert_eq!(bus.take(a, 10).unwrap().unwrap(), ["m1"]);
        assert_eq!(bus.take(b, 1).unwrap().unwrap(), ["m1"]);
        assert_eq!(bus.take(b, 10).unwrap().unwrap(), ["m2"]);
        assert!(bus.take(b, 10).unwrap().is_err(), "empty: wait");
        bus.drop_all();
        assert!(bus.take(a, 10).is_none());
    }
}
