//! When a failed request is worth sending again, and how long to wait first.
//!
//! Two kinds of failure are retried:
//! - 429, for any operation: the Hub refused the request without acting on it. The wait is what
//!   the Hub asked for (`Retry-After` seconds, or the older `X-Retry-After` instant, already turned
//!   into seconds by the decoder), else until `X-RateLimit-Reset`, else the backoff below.
//! - 502/503/504 and transport failures that say nothing about whether the Hub acted
//!   (`connection-refused`, `connection-reset`, `timeout`), only for operations the catalog marks
//!   idempotent: sending a non-idempotent POST twice could create two things.
//!
//! Everything else (other statuses, decode errors, a body over the host's cap, a denial) would
//! fail the same way again. The waits come from a [`Clock`], so native tests run instantly and
//! check them exactly.

use crate::error::{HubError, TransportKind};
use core::time::Duration;

/// Retries per request when the caller does not say.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The most a call spends waiting between attempts when the caller does not say.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(30);

/// The first backoff step; each later one doubles, and jitter takes the wait anywhere in the
/// upper half of the step so that callers failing together do not come back together.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// Time and randomness, as the call path needs them.
pub trait Clock {
    /// Seconds since the unix epoch, for the older `X-Retry-After` and `X-RateLimit-Reset`.
    fn now_unix(&mut self) -> u64;
    /// Blocks for `duration`.
    fn sleep(&mut self, duration: Duration);
    /// Any 64 bits, for jitter; they need not be unpredictable.
    fn random(&mut self) -> u64;
}

/// How persistent one call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Further attempts for one request after its first.
    pub max_retries: u32,
    /// Total waiting between attempts over the whole call, pages included.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

/// What one call has spent of its [`RetryPolicy`].
#[derive(Debug)]
pub struct Budget {
    policy: RetryPolicy,
    waited: Duration,
}

impl Budget {
    pub fn new(policy: RetryPolicy) -> Budget {
        Budget {
            policy,
            waited: Duration::ZERO,
        }
    }

    /// How long to wait before sending again after `error` on attempt `attempt` (0 for the
    /// first), or `None` to give up with `error`. Counts the wait as spent.
    pub fn next_wait(
        &mut self,
        error: &HubError,
        idempotent: bool,
        attempt: u32,
        clock: &mut dyn Clock,
    ) -> Option<Duration> {
        if attempt >= self.policy.max_retries {
            return None;
        }
        let wait = match error {
            HubError::RateLimited {
                retry_after,
                rate_limit,
            } => {
                let until_reset = rate_limit
                    .and_then(|r| r.reset)
                    .map(|reset| reset.saturating_sub(clock.now_unix()));
                match retry_after.or(until_reset) {
                    Some(seconds) => Duration::from_secs(seconds),
                    None => backoff(attempt, clock.random()),
                }
            }
            HubError::Upstream {
                status: 502..=504, ..
            } if idempotent => backoff(attempt, clock.random()),
            HubError::Transport { kind, .. }
                if idempotent
                    && matches!(
                        kind,
                        TransportKind::ConnectionRefused
                            | TransportKind::ConnectionReset
                            | TransportKind::Timeout
                    ) =>
            {
                backoff(attempt, clock.random())
            }
            _ => return None,
        };
        // A wait that does not fit is not started: the caller learns now, not after sleeping,
        // and a 429 says itself when to come back.
        let waited = self.waited.checked_add(wait)?;
        if waited > self.policy.max_wait {
            return None;
        }
        self.waited = waited;
        Some(wait)
    }
}

/// The `attempt`th backoff (0-based): a step of `BACKOFF_BASE * 2^attempt` (capped), of which
/// the upper half is taken at random.
pub fn backoff(attempt: u32, random: u64) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    let half = step.as_millis() as u64 / 2;
    Duration::from_millis(half + random % (half + 1))
}

/// Time moves only by sleeping; "random" numbers come from a list, then 0.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct FakeClock {
    pub now: u64,
    pub slept: Vec<Duration>,
    pub randoms: Vec<u64>,
}

#[cfg(test)]
impl Clock for FakeClock {
    fn now_unix(&mut self) -> u64 {
        self.now
    }
    fn sleep(&mut self, d: Duration) {
        self.now += d.as_secs();
        self.slept.push(d);
    }
    fn random(&mut self) -> u64 {
        if self.randoms.is_empty() {
            0
        } else {
            self.randoms.remove(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RateLimit;

    fn clock() -> FakeClock {
        FakeClock {
            now: 1_000,
            slept: Vec::new(),
            randoms: Vec::new(),
        }
    }

    fn upstream(status: u16) -> HubError {
        HubError::Upstream {
            status,
            message: String::new(),
        }
    }

    fn limited(retry_after: Option<u64>, reset: Option<u64>) -> HubError {
        HubError::RateLimited {
            retry_after,
            rate_limit: reset.map(|r| RateLimit {
                reset: Some(r),
                ..RateLimit::default()
            }),
        }
    }

    #[test]
    fn backoff_doubles_within_its_upper_half_and_is_capped() {
        assert_eq!(backoff(0, 0), Duration::from_millis(125));
        assert_eq!(backoff(0, 125), Duration::from_millis(250));
        assert_eq!(backoff(0, 126), Duration::from_millis(125));
        assert_eq!(backoff(1, 0), Duration::from_millis(250));
        assert_eq!(
            backoff(1, u64::MAX),
            Duration::from_millis(250 + u64::MAX % 251)
        );
        assert_eq!(backoff(40, 0), Duration::from_secs(4));
        assert!(backoff(40, u64::MAX) <= BACKOFF_CAP);
    }

    #[test]
    fn a_429_waits_what_the_hub_asked_for_any_method() {
        let mut b = Budget::new(RetryPolicy::default());
        let wait = b.next_wait(&limited(Some(7), Some(1_100)), false, 0, &mut clock());
        assert_eq!(wait, Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_429_without_retry_after_waits_until_the_window_resets() {
        let mut b = Budget::new(RetryPolicy::default());
        let wait = b.next_wait(&limited(None, Some(1_012)), true, 0, &mut clock());
        assert_eq!(wait, Some(Duration::from_secs(12)));
        // Nothing to go by: backoff.
        let mut c = clock();
        c.randoms = vec![50];
        let wait = b.next_wait(&limited(None, None), true, 1, &mut c);
        assert_eq!(wait, Some(Duration::from_millis(300)));
    }

    #[test]
    fn a_429_longer_than_the_wait_budget_is_not_waited_for() {
        let mut b = Budget::new(RetryPolicy {
            max_retries: 5,
            max_wait: Duration::from_secs(10),
        });
        assert_eq!(
            b.next_wait(&limited(Some(11), None), true, 0, &mut clock()),
            None
        );
        // The budget is for the whole call: 6 + 6 does not fit in 10.
        assert!(
            b.next_wait(&limited(Some(6), None), true, 0, &mut clock())
                .is_some()
        );
        assert_eq!(
            b.next_wait(&limited(Some(6), None), true, 1, &mut clock()),
            None
        );
        assert_eq!(
            b.next_wait(&limited(Some(4), None), true, 1, &mut clock()),
            Some(Duration::from_secs(4))
        );
    }

    #[test]
    fn the_retry_count_is_per_request() {
        let mut b = Budget::new(RetryPolicy {
            max_retries: 2,
            max_wait: Duration::from_secs(60),
        });
        let e = upstream(503);
        assert!(b.next_wait(&e, true, 0, &mut clock()).is_some());
        assert!(b.next_wait(&e, true, 1, &mut clock()).is_some());
        assert_eq!(b.next_wait(&e, true, 2, &mut clock()), None);
        let mut none = Budget::new(RetryPolicy {
            max_retries: 0,
            max_wait: Duration::from_secs(60),
        });
        assert_eq!(
            none.next_wait(&limited(Some(1), None), true, 0, &mut clock()),
            None
        );
    }

    #[test]
    fn gateway_errors_are_retried_only_when_idempotent() {
        for status in [502, 503, 504] {
            let mut b = Budget::new(RetryPolicy::default());
            assert_eq!(
                b.next_wait(&upstream(status), true, 0, &mut clock()),
                Some(Duration::from_millis(125))
            );
            assert_eq!(b.next_wait(&upstream(status), false, 0, &mut clock()), None);
        }
    }

    #[test]
    fn other_statuses_are_final() {
        let mut b = Budget::new(RetryPolicy::default());
        for status in [400, 404, 409, 500, 501, 505] {
            assert_eq!(b.next_wait(&upstream(status), true, 0, &mut clock()), None);
        }
        for e in [
            HubError::Unauthorized(String::new()),
            HubError::Forbidden(String::new()),
            HubError::NotFound(String::new()),
            HubError::Conflict(String::new()),
            HubError::Decode(String::new()),
            HubError::Denied(String::new()),
        ] {
            assert_eq!(b.next_wait(&e, true, 0, &mut clock()), None, "{e:?}");
        }
    }

    #[test]
    fn transport_failures_are_retried_by_kind_only_when_idempotent() {
        use TransportKind::*;
        for kind in [ConnectionRefused, ConnectionReset, Timeout] {
            let e = HubError::transport(kind, "x");
            let mut b = Budget::new(RetryPolicy::default());
            assert!(b.next_wait(&e, true, 0, &mut clock()).is_some(), "{kind:?}");
            assert_eq!(b.next_wait(&e, false, 0, &mut clock()), None, "{kind:?}");
        }
        for kind in [Dns, Tls, Protocol, BodyTooLarge, Other] {
            let e = HubError::transport(kind, "x");
            let mut b = Budget::new(RetryPolicy::default());
            assert_eq!(b.next_wait(&e, true, 0, &mut clock()), None, "{kind:?}");
        }
    }
}
