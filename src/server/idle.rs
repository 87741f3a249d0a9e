//! Idle sessions: a connection that has done nothing for `server.idle_session_timeout_secs` is
//! closed, as PostgreSQL's `idle_session_timeout` does, so forgotten BI connections do not hold
//! `max_connections` slots forever. A connection is busy while a statement runs and while its
//! rows stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// When a connection last finished something, and whether it is doing something now.
#[derive(Debug)]
pub struct Activity {
    since: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    /// A connection that has just started.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            since: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        })
    }

    /// Marks the connection busy until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    fn idle_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::SeqCst));
        Some(self.since.elapsed().saturating_sub(last))
    }
}

/// Holds a connection busy.
#[derive(Debug)]
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.since.elapsed().as_millis() as u64;
        self.0.last_ms.store(now, Ordering::SeqCst);
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Completes once the connection has been idle for `timeout`; never when `timeout` is None.
pub async fn expired(activity: Arc<Activity>, timeout: Option<Duration>) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    let tick = (timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if activity.idle_for().is_some_and(|idle| idle >= timeout) {
            return;
        }
    }
}
