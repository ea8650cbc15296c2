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
}

/// The element's end.
pub type Commander = mpsc::UnboundedSender<Command>;

/// A session's end: a seek that came while the session could not act on it (start-up,
/// a reconnection's wait) is kept for when it can; only the latest seek counts.
#[derive(Debug)]
pub struct Commands {
    rx: mpsc::UnboundedReceiver<Command>,
    seek: Option<Command>,
    stopped: bool,
}

/// A command channel.
pub fn channel() -> (Commander, Commands) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        tx,
        Commands {
            rx,
            seek: None,
            stopped: false,
        },
    )
}

impl Commands {
    /// The next command: a kept seek first; a stop for ever once stopped.
    pub async fn next(&mut self) -> Command {
        if self.stopped {
            return Command::Stop;
        }
        if let Some(seek) = self.seek.take() {
            return seek;
        }
        let cmd = self.rx.recv().await.unwrap_or(Command::Stop);
        self.take(cmd)
    }

    /// Waits for a stop; seeks meanwhile are kept for [`Commands::next`].
    pub async fn stopped(&mut self) {
        while !self.stopped {
            let cmd = self.rx.recv().await.unwrap_or(Command::Stop);
            if let seek @ Command::Seek { .. } = self.take(cmd) {
                self.seek = Some(seek);
            }
        }
    }

    /// A seek that failed with its session goes again with the next one (a newer seek
    /// kept meanwhile wins).
    pub fn keep(&mut self, seek: Command) {
        if matches!(seek, Command::Seek { .. }) && self.seek.is_none() {
            self.seek = Some(seek);
        }
    }

    /// Records a stop; of seeks already queued behind a seek, the latest wins.
    fn take(&mut self, cmd: Command) -> Command {
        match cmd {
            Command::Stop => {
                self.stopped = true;
                Command::Stop
            }
            Command::Seek { .. } => {
                let mut latest = cmd;
                while let Ok(next) = self.rx.try_recv() {
                    if next == Command::Stop {
                        self.stopped = true;
                        return Command::Stop;
                    }
                    latest = next;
                }
                latest
            }
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

    /// A seek whose session was lost goes again with the next session.
    #[test]
    fn test_a_failed_seek_is_kept() {
        let (tx, mut rx) = channel();
        let seek = Command::Seek {
            position: 9,
            epoch: 2,
        };
        tx.send(seek).expect("send");
        assert_eq!(block(rx.next()), seek);
        rx.keep(seek);
        assert_eq!(block(rx.next()), seek);
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
