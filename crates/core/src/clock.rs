//! The one clock every time-based behaviour reads (visibility, delays, retention, dedup
//! windows). It is wall-clock time plus an offset that tests may move forward, and it
//! announces such jumps so that timers waiting on the old time re-evaluate at once.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Default)]
struct ClockInner {
    offset_ms: AtomicI64,
    jumped: Notify,
}

impl Clock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch, as nimbus sees time.
    pub fn now_ms(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        (wall + self.inner.offset_ms.load(Ordering::Relaxed)).max(0) as u64
    }

    /// Whole seconds since the epoch.
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves time forward (tests only) and wakes everything waiting on a deadline.
    pub fn advance_ms(&self, ms: u64) {
        self.inner.offset_ms.fetch_add(ms as i64, Ordering::Relaxed);
        self.inner.jumped.notify_waiters();
    }

    /// Resolves when time is moved by [`Clock::advance_ms`].
    pub async fn jumped(&self) {
        self.inner.jumped.notified().await
    }

    /// Waits until the clock reads `deadline_ms` or later, following jumps.
    pub async fn sleep_until(&self, deadline_ms: u64) {
        loop {
            // Registered before reading the time, so a jump in between is not missed.
            let jumped = self.inner.jumped.notified();
            let now = self.now_ms();
            if now >= deadline_ms {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(deadline_ms - now)) => {}
                _ = jumped => {}
            }
        }
    }
}
