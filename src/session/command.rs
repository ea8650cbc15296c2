// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The one way the element tells a session something: [`Command`]s on one channel. A
//! dropped sender is a `Stop` (the element went away).

use tokio::sync::mpsc;

/// What the element asks of a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Replay: play from `position` (stream time, ns). The element has flushed its pads
    /// and set the segment; it drops what the session delivers until the session says it
    /// delivers for this `epoch` ([`super::Output::seek_applied`]).
    Seek { position: u64, epoch: u64 },
    /// End: TEARDOWN within its deadline, then return.
    Stop,
    /// Replace the SRTP keys of the element (`rekey-srtp`); asked twice before it is
    /// taken, it is done once.
    Rekey,
}

/// The element's end.
pub type Commander = mpsc::UnboundedSender<Command>;

/// The element's end as the pads hold it: it does not keep the channel open, so that the
/// session stops when the element drops its [`Commander`].
pub type WeakCommander = mpsc::WeakUnboundedSender<Command>;

/// A session's end: a seek that came while the session could not act on it (start-up,
/// a reconnection's wait) is kept for when it can; only the newest seek counts (the
/// highest epoch: two seeks sent from two threads may arrive out of order).
#[derive(Debug)]
pub struct Commands {
    rx: mpsc::UnboundedReceiver<Command>,
    seek: Option<Command>,
    /// A re-keying asked for.
    rekey: bool,
    stopped: bool,
    /// The highest seek epoch seen.
    newest: u64,
    /// The epoch of the seek kept after its session was lost: it goes again once only.
    retried: Option<u64>,
}

/// A command channel.
pub fn channel() -> (Commander, Commands) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        tx,
        Commands {
            rx,
            seek: None,
            rekey: false,
            stopped: false,
            newest: 0,
            retried: None,
        },
    )
}

impl Commands {
    /// The next command: a stop first, then the newest seek; a stop for ever once
    /// stopped. Cancel-safe (it runs inside `select!`).
    pub async fn next(&mut self) -> Command {
        loop {
            self.drain();
            if self.stopped {
                return Command::Stop;
            }
            if let Some(seek) = self.seek.take() {
                return seek;
            }
            if std::mem::take(&mut self.rekey) {
                return Command::Rekey;
            }
            let cmd = self.rx.recv().await.unwrap_or(Command::Stop);
            self.absorb(cmd);
        }
    }

    /// Waits for a stop; seeks meanwhile are kept for [`Commands::next`].
    pub async fn stopped(&mut self) {
        loop {
            self.drain();
            if self.stopped {
                return;
            }
            let cmd = self.rx.recv().await.unwrap_or(Command::Stop);
            self.absorb(cmd);
        }
    }

    /// A seek that failed with its session goes again with the next session (a newer
    /// seek kept meanwhile wins); false when it already went again once and failed: it is
    /// given up (a device that fails every seek must not reconnect for ever).
    pub fn keep(&mut self, seek: Command) -> bool {
        let Command::Seek { epoch, .. } = seek else {
            return false;
        };
        if self.retried == Some(epoch) {
            return false;
        }
        self.retried = Some(epoch);
        if self.seek.is_none() {
            self.seek = Some(seek);
        }
        true
    }

    /// Takes what is queued without waiting.
    fn drain(&mut self) {
        while let Ok(cmd) = self.rx.try_recv() {
            self.absorb(cmd);
        }
    }

    fn absorb(&mut self, cmd: Command) {
        match cmd {
            Command::Stop => self.stopped = true,
            Command::Seek { epoch, .. } if epoch >= self.newest => {
                self.newest = epoch;
                self.seek = Some(cmd);
            }
            // Older than one already seen: stale.
            Command::Seek { .. } => {}
            Command::Rekey => self.rekey = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        crate::runtime::RUNTIME.block_on(f)
    }

    #[test]
    fn test_queued_seeks_coalesce_and_stop_wins() {
        let (tx, mut rx) = channel();
        for (position, epoch) in [(1, 1), (2, 2), (3, 3)] {
            tx.send(Command::Seek { position, epoch }).expect("send");
        }
        assert_eq!(
            block(rx.next()),
            Command::Seek {
                position: 3,
                epoch: 3
            }
        );
        tx.send(Command::Seek {
            position: 4,
            epoch: 4,
        })
        .expect("send");
        tx.send(Command::Stop).expect("send");
        assert_eq!(block(rx.next()), Command::Stop);
        assert_eq!(block(rx.next()), Command::Stop, "stopped for ever");
    }

    /// A seek whose session was lost goes again with the next session, once.
    #[test]
    fn test_a_failed_seek_is_kept_once() {
        let (tx, mut rx) = channel();
        let seek = Command::Seek {
            position: 9,
            epoch: 2,
        };
        tx.send(seek).expect("send");
        assert_eq!(block(rx.next()), seek);
        assert!(rx.keep(seek));
        assert_eq!(block(rx.next()), seek);
        assert!(!rx.keep(seek), "failed again: given up");
        tx.send(Command::Stop).expect("send");
        assert_eq!(block(rx.next()), Command::Stop);
    }

    /// Seeks sent from two threads can arrive out of order: the older epoch is stale.
    /// A stop queued behind a kept seek comes first.
    #[test]
    fn test_an_older_epoch_is_stale_and_a_stop_comes_first() {
        let (tx, mut rx) = channel();
        let new = Command::Seek {
            position: 2,
            epoch: 5,
        };
        tx.send(new).expect("send");
        assert_eq!(block(rx.next()), new);
        tx.send(Command::Seek {
            position: 1,
            epoch: 4,
        })
        .expect("send");
        let newer = Command::Seek {
            position: 3,
            epoch: 6,
        };
        tx.send(newer).expect("send");
        assert_eq!(block(rx.next()), newer, "epoch 4 skipped");
        assert!(rx.keep(newer));
        tx.send(Command::Stop).expect("send");
        assert_eq!(block(rx.next()), Command::Stop, "before the kept seek");
    }

    /// A seek during a wait for stop (start-up, a reconnection's back-off) is kept; a
    /// dropped sender is a stop.
    #[test]
    fn test_a_seek_while_waiting_is_kept_and_a_dropped_sender_stops() {
        let (tx, mut rx) = channel();
        tx.send(Command::Seek {
            position: 7,
            epoch: 1,
        })
        .expect("send");
        drop(tx);
        block(rx.stopped());
        assert_eq!(block(rx.next()), Command::Stop);
        let (tx, mut rx) = channel();
        tx.send(Command::Seek {
            position: 7,
            epoch: 1,
        })
        .expect("send");
        // Polled once: nothing but the seek is there, so it is not stopped.
        let stopped = block(async {
            tokio::select! {
                biased;
                () = rx.stopped() => true,
                () = std::future::ready(()) => false,
            }
        });
        assert!(!stopped, "no stop yet");
        assert_eq!(
            block(rx.next()),
            Command::Seek {
                position: 7,
                epoch: 1
            }
        );
    }
}
