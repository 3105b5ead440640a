//! Fixed-window request counting behind the `X-RateLimit-*` headers and the mock's own 429s.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::RateLimit;

/// What the headers of one response report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset: u64,
    /// Set when this request is over the limit: seconds until the window resets (at least 1).
    pub retry_after: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct RateWindow {
    started: Instant,
    count: u32,
}

impl RateWindow {
    pub(crate) fn new() -> Self {
        RateWindow {
            started: Instant::now(),
            count: 0,
        }
    }

    /// Starts a fresh window, e.g. when the limit changes.
    pub(crate) fn reset(&mut self) {
        *self = RateWindow::new();
    }

    /// Counts one request against `limit`; `enforced` says whether going over means 429.
    pub(crate) fn hit(&mut self, limit: RateLimit, enforced: bool) -> RateStatus {
        let now = Instant::now();
        let window = limit.window.max(Duration::from_millis(1));
        if now.duration_since(self.started) >= window {
            self.started = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        let left = window.saturating_sub(now.duration_since(self.started));
        let unix_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let reset = (unix_now + left).as_secs_f64().ceil() as u64;
        let over = enforced && self.count > limit.limit;
        RateStatus {
            limit: limit.limit,
            remaining: limit.limit.saturating_sub(self.count),
            reset,
            retry_after: over.then(|| left.as_secs_f64().ceil().max(1.0) as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_limits_within_a_window() {
        let mut w = RateWindow::new();
        let limit = RateLimit::new(2, Duration::from_secs(60));
        assert_eq!(w.hit(limit, true).remaining, 1);
        let second = w.hit(limit, true);
        assert_eq!((second.remaining, second.retry_after), (0, None));
        let third = w.hit(limit, true);
        assert!(third.retry_after.is_some_and(|s| (1..=60).contains(&s)));
        assert!(w.hit(limit, false).retry_after.is_none());
    }
}
