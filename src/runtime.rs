// Copyright (C) 2026 onvifhttps developers
// SPDX-License-Identifier: MPL-2.0

//! The one place where a GStreamer thread blocks on tokio.
//!
//! [`RUNTIME`] runs every network task of every element in the process. [`wait`] runs a
//! future on it from a GStreamer thread, bounded by a timeout and abortable through a
//! [`Canceller`]; cancellation is reported as [`WaitError::Cancelled`], never as an error.

use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// The plugin's runtime: one worker thread is plenty for socket work, and keeps the
/// per-stream cost low.
/// Workers of the runtime: `ONVIFHTTPS_WORKERS` (1 to 64) when set, else as many as the
/// machine has cores, at most [`MAX_DEFAULT_WORKERS`]: 256 cameras must not queue on one
/// thread, and a small machine keeps its cores for decoding.
pub fn workers_from(env: Option<&str>, cores: usize) -> usize {
    env.and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| cores.clamp(1, MAX_DEFAULT_WORKERS))
}

/// The most workers the runtime gets without `ONVIFHTTPS_WORKERS`.
pub const MAX_DEFAULT_WORKERS: usize = 4;

pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let env = std::env::var("ONVIFHTTPS_WORKERS").ok();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers_from(env.as_deref(), cores))
        .thread_name("gst-onvifhttps-rt")
        .enable_all()
        .build()
        .expect("failed to build the onvifhttps tokio runtime")
});

/// Why [`wait`] returned without the future's result.
#[derive(Debug, PartialEq, Eq)]
pub enum WaitError<E> {
    /// [`cancel`] was called (an `unlock()` or a state change).
    Cancelled,
    /// The timeout passed first.
    TimedOut,
    /// The future itself failed.
    Failed(E),
}

/// Lets another thread abort the current [`wait`].
#[derive(Debug, Default)]
pub enum Canceller {
    #[default]
    Idle,
    Waiting(Arc<Notify>),
    Cancelled,
}

/// Aborts the current and every later [`wait`] until [`rearm`].
pub fn cancel(canceller: &Mutex<Canceller>) {
    let mut c = canceller.lock().unwrap();
    if let Canceller::Waiting(n) = &*c {
        n.notify_one();
    }
    *c = Canceller::Cancelled;
}

/// Lets [`wait`] run again after [`cancel`].
pub fn rearm(canceller: &Mutex<Canceller>) {
    *canceller.lock().unwrap() = Canceller::Idle;
}

/// Whether the calling thread is inside a tokio runtime, where blocking would panic.
///
/// An application that sets the pipeline to NULL from inside its own tokio runtime would
/// make a nested `block_on` panic (the same trap rtspsrc2 guards against); callers then
/// skip the wait and let the task finish on its own.
pub fn inside_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Runs `future` on [`RUNTIME`], blocking the calling (GStreamer) thread.
pub fn wait<F, T, E>(
    canceller: &Mutex<Canceller>,
    timeout: Option<Duration>,
    future: F,
) -> Result<T, WaitError<E>>
where
    F: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: Send,
{
    let notify = {
        let mut c = canceller.lock().unwrap();
        if matches!(*c, Canceller::Cancelled) {
            return Err(WaitError::Cancelled);
        }
        let n = Arc::new(Notify::new());
        *c = Canceller::Waiting(n.clone());
        n
    };
    if inside_runtime() {
        *canceller.lock().unwrap() = Canceller::Idle;
        return Err(WaitError::Cancelled);
    }
    let res = RUNTIME.block_on(async {
        let bounded = async {
            match timeout {
                Some(t) => match tokio::time::timeout(t, future).await {
                    Ok(r) => r.map_err(WaitErrorInner::Failed),
                    Err(_) => Err(WaitErrorInner::TimedOut),
                },
                None => future.await.map_err(WaitErrorInner::Failed),
            }
        };
        tokio::select! {
            r = bounded => r,
            _ = notify.notified() => Err(WaitErrorInner::Cancelled),
        }
    });
    let mut c = canceller.lock().unwrap();
    if matches!(*c, Canceller::Cancelled) {
        return Err(WaitError::Cancelled);
    }
    *c = Canceller::Idle;
    res.map_err(|e| match e {
        WaitErrorInner::Cancelled => WaitError::Cancelled,
        WaitErrorInner::TimedOut => WaitError::TimedOut,
        WaitErrorInner::Failed(e) => WaitError::Failed(e),
    })
}

enum WaitErrorInner<E> {
    Cancelled,
    TimedOut,
    Failed(E),
}

/// A future that turns a panic while polling `F` into `Err(message)`, so that a task's
/// end is always observed (tokio would keep the panic in a JoinHandle nobody reads).
pub struct CatchPanic<F>(std::pin::Pin<Box<F>>);

/// Wraps `future` so that a panic inside it comes out as `Err` with the panic's message.
pub fn catch_panic<F: Future>(future: F) -> CatchPanic<F> {
    CatchPanic(Box::pin(future))
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// `(task, host:port)`: the task of an element whose `location` has that authority panics.
static PANICS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Test hook (reached through `testing`): makes `task` ("media", "events" or "signal")
/// panic for elements whose `location` is on `authority` (`host:port`), so that tests see
/// what a panic in a task becomes.
pub fn panic_in(task: &str, authority: &str) {
    PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((task.to_string(), authority.to_string()));
}

/// Panics when a test asked `task` to for `location`.
pub(crate) fn maybe_panic(task: &str, location: &url::Url) {
    let authority = format!(
        "{}:{}",
        location.host_str().unwrap_or(""),
        location.port_or_known_default().unwrap_or(0)
    );
    let wanted = PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .any(|(t, a)| t == task && *a == authority);
    if wanted {
        panic!("panic injected by a test into the {task} task");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_workers_follow_the_cores_up_to_four_unless_set() {
        assert_eq!(workers_from(None, 1), 1);
        assert_eq!(workers_from(None, 2), 2);
        assert_eq!(workers_from(None, 32), 4);
        assert_eq!(workers_from(Some("8"), 2), 8);
        assert_eq!(workers_from(Some(" 1 "), 32), 1);
        for bad in ["0", "65", "many", ""] {
            assert_eq!(workers_from(Some(bad), 2), 2, "{bad}");
        }
    }

    #[test]
    fn test_a_panic_in_a_task_is_an_err() {
        let c = Mutex::new(Canceller::default());
        let r = wait(&c, None, async {
            let inner = catch_panic(async {
                tokio::task::yield_now().await;
                if std::hint::black_box(true) {
                    panic!("boom {}", 7);
                }
            });
            Ok::<_, ()>(inner.await)
        });
        assert_eq!(r, Ok(Err("boom 7".to_string())));
    }

    #[test]
    fn test_wait_returns_result_and_times_out() {
        let c = Mutex::new(Canceller::default());
        assert_eq!(wait(&c, None, async { Ok::<_, ()>(5) }), Ok(5));
        assert_eq!(
            wait(&c, None, async { Err::<(), _>("boom") }),
            Err(WaitError::Failed("boom"))
        );
        let r = wait(&c, Some(Duration::from_millis(20)), async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, ()>(())
        });
        assert_eq!(r, Err(WaitError::TimedOut));
    }

    #[test]
    fn test_cancel_from_another_thread_and_rearm() {
        let c = Arc::new(Mutex::new(Canceller::default()));
        let c2 = c.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let r = wait(&c2, Some(Duration::from_secs(30)), async {
                let _ = tx.send(());
                std::future::pending::<Result<(), ()>>().await
            });
            assert_eq!(r, Err(WaitError::Cancelled));
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("wait started");
        cancel(&c);
        t.join().unwrap();
        assert_eq!(
            wait(&c, None, async { Ok::<_, ()>(1) }),
            Err(WaitError::Cancelled),
            "stays cancelled until rearmed"
        );
        rearm(&c);
        assert_eq!(wait(&c, None, async { Ok::<_, ()>(1) }), Ok(1));
    }
}
