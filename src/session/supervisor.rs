// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The one reconnection policy of the media and the event subscription (spec §9): after a
//! loss, an `onvif-reconnecting` message and a warning, then a wait of 250 ms doubling up
//! to `reconnect-max-delay`; the waits start over only once the session worked for
//! [`HEALTHY`]; stop ends every wait at once. Without `reconnect`, the loss is an error.

use std::time::Duration;

use super::{Lost, Output};
use crate::error::Error;

/// How long a session must have worked (media flowed, pulls went through) before the
/// reconnection waits start over: a device that accepts and fails soon after keeps
/// backing off.
pub(super) const HEALTHY: Duration = Duration::from_secs(10);

/// The wait before reconnection attempt `attempt` (1, 2, ...): 250 ms, doubling, at most
/// `max`.
pub fn reconnect_delay(attempt: u32, max: Duration) -> Duration {
    let ms = 250u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    Duration::from_millis(ms).min(max)
}

/// What comes after a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Try again (the wait is over).
    Retry,
    /// Stop: the error was posted, or the element stopped.
    End,
}

/// The reconnection state of one task.
pub(super) struct Supervisor {
    what: Lost,
    /// The longest wait (`reconnect-max-delay`); `None`: no reconnection.
    max: Option<Duration>,
    attempt: u32,
    /// Counts the reconnections and their last cause.
    stats: crate::stats::Stats,
}

impl Supervisor {
    pub(super) fn new(what: Lost, max: Option<Duration>, stats: crate::stats::Stats) -> Self {
        Supervisor {
            what,
            max,
            attempt: 0,
            stats,
        }
    }

    /// The session worked for [`HEALTHY`]: the next loss waits the shortest again.
    pub(super) fn healthy(&mut self) {
        self.attempt = 0;
    }

    /// Attempts since the last healthy session.
    pub(super) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// After `err`: the error when it may not be retried (`retry` false, or no
    /// reconnection), else the message and the wait, ended early by `stop`.
    pub(super) async fn after<O: Output>(
        &mut self,
        err: &Error,
        retry: bool,
        out: &O,
        commands: &mut super::command::Commands,
    ) -> Next {
        let Some(max) = self.max.filter(|_| retry) else {
            out.error(err);
            return Next::End;
        };
        self.attempt = self.attempt.saturating_add(1);
        let delay = reconnect_delay(self.attempt, max);
        self.stats.reconnecting(format!(
            "{}: {}",
            self.what.name(),
            crate::error::printable(&err.to_string())
        ));
        out.reconnecting(self.what, err, self.attempt, delay);
        tokio::select! {
            _ = tokio::time::sleep(delay) => Next::Retry,
            () = commands.stopped() => Next::End,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_delays_double_up_to_the_max() {
        let max = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=9)
            .map(|a| reconnect_delay(a, max).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]
        );
        assert_eq!(reconnect_delay(u32::MAX, max), max);
    }
}
