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

/// Threads of the runtime: `ONVIFHTTPS_WORKERS` (1 to 64) when set, else as many as the
/// machine has cores, at most [`MAX_DEFAULT_WORKERS`]: 256 cameras must not queue on one
/// thread, and a small machine keeps its cores for decoding.
pub fn workers_from(env: Option<&str>, cores: usize) -> usize {
    env.and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| cores.clamp(1, MAX_DEFAULT_WORKERS))
}

/// The most threads the runtime gets without `ONVIFHTTPS_WORKERS`.
pub const MAX_DEFAULT_WORKERS: usize = 4;

/// The plugin's runtime: one single-threaded tokio runtime per thread ("shard"), each
/// element's tasks on one of them.
///
/// Not one multi-threaded runtime: its workers wake each other to steal work, and with a
/// camera's packets arriving one by one that cost a quarter of the client's CPU at 64
/// streams (`BENCHMARKS.md`). Each shard sleeps in its own `epoll_wait` and runs the
/// tasks its sockets woke; nothing moves between threads.
pub struct Runtime {
    first: Shard,
    rest: Vec<Shard>,
}

/// One thread running a single-threaded tokio runtime, and the tasks it was given.
#[derive(Clone)]
pub struct Shard {
    handle: tokio::runtime::Handle,
    /// Tasks spawned with [`Shard::spawn`] that have not ended: how busy it is.
    tasks: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a task of its shard until dropped (with the task's future).
struct Running(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Shard {
    fn start(index: usize) -> std::io::Result<Shard> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(format!("gst-onvifhttps-{index}"))
            .build()?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name(format!("gst-onvifhttps-{index}"))
            // Drives the shard's sockets and timers for the life of the process.
            .spawn(move || rt.block_on(std::future::pending::<()>()))?;
        Ok(Shard {
            handle,
            tasks: Arc::default(),
        })
    }

    /// Runs `future` on this shard's thread.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let running = Running(self.tasks.clone());
        self.handle.spawn(async move {
            let _running = running;
            future.await
        })
    }

    /// Runs `future` on the calling thread, its sockets and timers driven by the shard's
    /// thread; `tokio::spawn` inside it spawns on the shard.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }
}

impl Runtime {
    fn start(threads: usize) -> std::io::Result<Runtime> {
        Ok(Runtime {
            first: Shard::start(0)?,
            rest: (1..threads)
                .map(Shard::start)
                .collect::<std::io::Result<Vec<_>>>()?,
        })
    }

    /// The shard running the fewest tasks: an element's tasks all go there.
    pub fn pick(&self) -> Shard {
        let load = |s: &Shard| s.tasks.load(std::sync::atomic::Ordering::Relaxed);
        self.rest
            .iter()
            .fold(
                &self.first,
                |best, s| if load(s) < load(best) { s } else { best },
            )
            .clone()
    }

    /// Runs `future` on the calling thread (see [`Shard::block_on`]), on the least busy
    /// shard.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.pick().block_on(future)
    }

    /// Threads the runtime runs on.
    pub fn threads(&self) -> usize {
        self.rest.len().saturating_add(1)
    }
}

pub static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let env = std::env::var("ONVIFHTTPS_WORKERS").ok();
    Runtime::start(workers_from(env.as_deref(), cores))
        .expect("failed to start the onvifhttps runtime's threads")
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

    /// Issue 24 point 7: an element's tasks go to the shard running the fewest, each
    /// shard one thread; a shard is free again once its tasks end.
    #[test]
    fn test_tasks_go_to_the_least_busy_shard_and_stay_on_its_thread() {
        let rt = Runtime::start(2).expect("threads");
        assert_eq!(rt.threads(), 2);
        // A gate that stays open (a Notify's `notify_waiters` missed a task that had not
        // reached its wait yet: the test hung now and then).
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let spawn_on = |shard: &Shard| {
            let (tx, rx) = std::sync::mpsc::channel();
            let gate = gate.clone();
            let join = shard.spawn(async move {
                let _ = tx.send(std::thread::current().name().map(String::from));
                let _ = gate.acquire().await;
                tokio::task::yield_now().await;
                let _ = tx.send(std::thread::current().name().map(String::from));
            });
            (join, rx)
        };
        let names = |rx: &std::sync::mpsc::Receiver<Option<String>>| {
            rx.recv_timeout(Duration::from_secs(10))
                .expect("the task ran")
        };
        let (a, a_rx) = spawn_on(&rt.pick());
        let (b, b_rx) = spawn_on(&rt.pick());
        assert_eq!(names(&a_rx).as_deref(), Some("gst-onvifhttps-0"));
        assert_eq!(
            names(&b_rx).as_deref(),
            Some("gst-onvifhttps-1"),
            "the idle one"
        );
        gate.add_permits(2);
        assert_eq!(
            names(&a_rx).as_deref(),
            Some("gst-onvifhttps-0"),
            "never moved"
        );
        assert_eq!(names(&b_rx).as_deref(), Some("gst-onvifhttps-1"));
        rt.block_on(async {
            let _ = a.await;
            let _ = b.await;
        });
        let load = |s: &Shard| s.tasks.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!((load(&rt.first), load(&rt.rest[0])), (0, 0));
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
