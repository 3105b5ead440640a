//! Pacing by the Hub's rate-limit headers, so that concurrent calls wait their turn instead of
//! collecting 429s.
//!
//! One [`RateBudget`] serves every call and instance of a host. It keeps a window per key: the
//! request's authority and `Authorization` value (hashed with a per-process key; in sealed mode
//! that value is the account's stable placeholder, so the key is the account; anonymous requests
//! share one key per authority). Each response's `X-RateLimit-Limit/Remaining/Reset` update the
//! window; a request may go while `remaining` exceeds the requests already sent and not yet
//! answered, since those may each spend a unit. When none is left it waits for the reset, or for
//! an answer that shows more room. A 429's `Retry-After` is left to the guest's retry rules: the
//! Hub's own 429s also carry `X-RateLimit-Remaining: 0` and the reset, which hold the key here.
//!
//! Until the first answer for a key shows whether the Hub sends the headers at all, one request
//! goes at a time. A Hub that sends none leaves the key unpaced.
//!
//! When the wait would run past the call's deadline, the request is not sent: the guest gets a
//! 429 with `Retry-After` made here, which its retry rules then treat like the Hub's own.
//!
//! A reset more than an hour ahead is not believed (see [`MAX_WINDOW`]): one such answer would
//! otherwise refuse every later request of the process.
//!
//! Clocks: `X-RateLimit-Reset` is a unix time, so pacing trusts that this machine's clock roughly
//! agrees with the Hub's; if not, the Hub's 429 and the guest's retry are the fallback. Requests the
//! host makes itself (the token exchange) are not paced.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio::time::Instant;
use wasmtime_wasi_http::WasiBody;

/// The longest rate-limit window believed: the Hub's are an hour at most (its pull limits
/// count over six hours, but those are the registry's, not this API's).
const MAX_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Windows are forgotten once this many are kept and theirs has passed with nothing in flight.
const PRUNE_ABOVE: usize = 256;

/// Which budget a request spends from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BudgetKey(u64);

impl BudgetKey {
    /// The key for a request to `authority` with this `Authorization` value (as the guest sent
    /// it, before any placeholder is swapped). Hashed so the table holds no credential: SipHash
    /// under a key drawn at random once per process reveals nothing of its input without the
    /// key, and costs a request far less than SHA-256 on a CPU without SHA extensions
    /// (BENCHMARKS.md, round 4). 64 bits make a collision among even thousands of keys
    /// negligible.
    pub fn new(authority: &str, authorization: Option<&[u8]>) -> BudgetKey {
        static KEY: OnceLock<RandomState> = OnceLock::new();
        let mut h = KEY.get_or_init(RandomState::new).build_hasher();
        for byte in authority.bytes() {
            h.write_u8(byte.to_ascii_lowercase());
        }
        h.write_u8(0);
        h.write(authorization.unwrap_or_default());
        BudgetKey(h.finish())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limits {
    /// No answer with rate-limit headers yet, and none without.
    Probing,
    /// The Hub answered without rate-limit headers.
    Unpaced,
    Known {
        limit: u64,
        remaining: u64,
        /// Unix seconds.
        reset: u64,
    },
}

#[derive(Debug)]
struct Window {
    limits: Limits,
    /// Sent and not yet answered.
    in_flight: u64,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            limits: Limits::Probing,
            in_flight: 0,
        }
    }
}

/// What a request must do now.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Go,
    /// Until this time since the unix epoch, or an answer to a request in flight, whichever
    /// comes first; `None`: only an answer can help.
    Wait(Option<Duration>),
}

impl Window {
    fn admit(&self, now: Duration) -> Admit {
        match self.limits {
            Limits::Unpaced => Admit::Go,
            Limits::Probing if self.in_flight == 0 => Admit::Go,
            Limits::Probing => Admit::Wait(None),
            Limits::Known {
                limit,
                remaining,
                reset,
            } => {
                let reset = Duration::from_secs(reset);
                // Past the reset the Hub has started a new window, whatever the last answer said.
                let left = if now >= reset { limit } else { remaining };
                if left > self.in_flight {
                    Admit::Go
                } else if now >= reset {
                    Admit::Wait(None)
                } else {
                    Admit::Wait(Some(reset))
                }
            }
        }
    }

    fn observe(&mut self, headers: &HeaderMap, now: Duration) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        match (
            num("x-ratelimit-limit"),
            num("x-ratelimit-remaining"),
            num("x-ratelimit-reset"),
        ) {
            // A reset further ahead than any window the Hub keeps (a broken or hostile answer)
            // would otherwise hold every later request of a long-running host until restart:
            // treat the headers as unknown, send, and learn from the next answer.
            // So would a window that allows nothing (limit 0) or counts more left than it
            // allows: no answer could ever free it.
            (Some(limit), Some(remaining), Some(reset))
                if Duration::from_secs(reset) > now.saturating_add(MAX_WINDOW)
                    || limit == 0
                    || remaining > limit =>
            {
                self.limits = Limits::Unpaced;
            }
            (Some(limit), Some(remaining), Some(reset)) => {
                self.limits = match self.limits {
                    // Answers arrive out of order: within one window the lowest count is the
                    // latest, and a late answer from a window already over says nothing now. A
                    // reset that is earlier but still ahead is a new, shorter window.
                    Limits::Known {
                        remaining: known,
                        reset: known_reset,
                        ..
                    } if reset == known_reset => Limits::Known {
                        limit,
                        remaining: remaining.min(known),
                        reset,
                    },
                    Limits::Known {
                        reset: known_reset, ..
                    } if reset < known_reset && Duration::from_secs(reset) <= now => self.limits,
                    _ => Limits::Known {
                        limit,
                        remaining,
                        reset,
                    },
                };
            }
            _ if self.limits == Limits::Probing => self.limits = Limits::Unpaced,
            _ => {}
        }
    }

    /// Nothing in flight and nothing to wait for: the default state would serve as well.
    fn idle(&self, now: Duration) -> bool {
        self.in_flight == 0
            && match self.limits {
                Limits::Known { reset, .. } => Duration::from_secs(reset) <= now,
                _ => true,
            }
    }
}

/// The shared pacing state of one host.
#[derive(Debug, Default)]
pub struct RateBudget {
    windows: Mutex<HashMap<BudgetKey, Window>>,
    changed: Notify,
}

/// Why a request was not sent: it would have had to wait past the call's deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Seconds until the Hub should accept it again.
    pub retry_after: u64,
    pub limit: Option<u64>,
    pub reset: Option<u64>,
}

impl Refusal {
    /// The 429 the guest sees, shaped like the Hub's own so its retry rules apply unchanged.
    pub fn response(&self) -> Response<WasiBody> {
        let body = serde_json::json!({
            "detail": "rate limit reached: the host held this request back, it was not sent",
            "message": "rate limit reached: the host held this request back, it was not sent",
        });
        let mut response = Response::new(
            Full::new(Bytes::from(body.to_string()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(RETRY_AFTER, HeaderValue::from(self.retry_after));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
        if let Some(limit) = self.limit {
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        }
        if let Some(reset) = self.reset {
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
        }
        response
    }
}

/// Leave to send one request; give the answer's headers to [`Permit::record`]. Dropping it
/// (answered or not) frees its place.
pub struct Permit {
    budget: Arc<RateBudget>,
    key: BudgetKey,
}

impl Permit {
    pub fn record(&self, headers: &HeaderMap) {
        let now = unix_now();
        if let Some(w) = self.budget.lock().get_mut(&self.key) {
            w.observe(headers, now);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(w) = self.budget.lock().get_mut(&self.key) {
            w.in_flight = w.in_flight.saturating_sub(1);
        }
        self.budget.changed.notify_waiters();
    }
}

impl RateBudget {
    fn lock(&self) -> MutexGuard<'_, HashMap<BudgetKey, Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a request for `key` may go, or refuses it if that would be after
    /// `give_up_at`.
    pub async fn acquire(
        self: &Arc<Self>,
        key: BudgetKey,
        give_up_at: Instant,
    ) -> Result<Permit, Refusal> {
        loop {
            // Registered before the state is read, so a change in between still wakes us.
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();

            let now = unix_now();
            let (until, in_flight, limits) = {
                let mut windows = self.lock();
                if windows.len() > PRUNE_ABOVE {
                    windows.retain(|k, w| *k == key || !w.idle(now));
                }
                let w = windows.entry(key).or_default();
                match w.admit(now) {
                    Admit::Go => {
                        w.in_flight += 1;
                        return Ok(Permit {
                            budget: self.clone(),
                            key,
                        });
                    }
                    Admit::Wait(until) => (until, w.in_flight, w.limits),
                }
            };
            let wake = until.map(|u| Instant::now() + u.saturating_sub(now));
            let refuse = || {
                let (limit, reset) = match limits {
                    Limits::Known { limit, reset, .. } => (Some(limit), Some(reset)),
                    _ => (None, None),
                };
                let left = until.map_or(Duration::from_secs(1), |u| u.saturating_sub(now));
                Refusal {
                    // Whole seconds, rounded up: coming back early would only be refused again.
                    retry_after: left.as_secs() + u64::from(left.subsec_nanos() > 0),
                    limit,
                    reset,
                }
            };
            // With nothing in flight no answer can bring the time forward.
            if in_flight == 0 && wake.is_some_and(|w| w > give_up_at) {
                return Err(refuse());
            }
            let sleep_until = wake.map_or(give_up_at, |w| w.min(give_up_at));
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
            if Instant::now() >= give_up_at {
                return Err(refuse());
            }
        }
    }
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_700_000_000);

    fn headers(pairs: &[(&'static str, u64)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from(*v));
        }
        h
    }

    fn rate(limit: u64, remaining: u64, reset: u64) -> HeaderMap {
        headers(&[
            ("x-ratelimit-limit", limit),
            ("x-ratelimit-remaining", remaining),
            ("x-ratelimit-reset", reset),
        ])
    }

    const RESET: u64 = 1_700_000_010;

    #[test]
    fn one_request_probes_until_the_first_answer() {
        let mut w = Window::default();
        assert_eq!(w.admit(NOW), Admit::Go);
        w.in_flight = 1;
        assert_eq!(w.admit(NOW), Admit::Wait(None));
        w.observe(&rate(10, 9, RESET), NOW);
        w.in_flight = 0;
        assert_eq!(w.admit(NOW), Admit::Go);
    }

    #[test]
    fn a_hub_without_headers_is_not_paced() {
        let mut w = Window::default();
        w.observe(&HeaderMap::new(), NOW);
        w.in_flight = 50;
        assert_eq!(w.admit(NOW), Admit::Go);
        // Once known, a later answer without headers does not undo it.
        w.observe(&rate(10, 0, RESET), NOW);
        w.observe(&HeaderMap::new(), NOW);
        w.in_flight = 0;
        assert_eq!(w.admit(NOW), Admit::Wait(Some(Duration::from_secs(RESET))));
    }

    #[test]
    fn a_reset_beyond_any_real_window_is_not_believed() {
        let ten_years = NOW.as_secs() + 10 * 365 * 24 * 60 * 60;
        let mut w = Window::default();
        w.observe(&rate(10, 0, ten_years), NOW);
        assert_eq!(w.admit(NOW), Admit::Go, "nothing is held for ten years");
        // Also when it follows a window that was known.
        w.observe(&rate(10, 0, RESET), NOW);
        assert_eq!(w.admit(NOW), Admit::Wait(Some(Duration::from_secs(RESET))));
        w.observe(&rate(10, 0, ten_years), NOW);
        assert_eq!(w.admit(NOW), Admit::Go);
        // A window that allows nothing, or has more left than it allows, is not believed.
        w.observe(&rate(0, 0, RESET), NOW);
        assert_eq!(w.admit(Duration::from_secs(RESET)), Admit::Go);
        w.observe(&rate(10, 0, RESET), NOW);
        w.observe(&rate(10, 11, RESET), NOW);
        assert_eq!(w.admit(NOW), Admit::Go);
        // An hour ahead is still a window the Hub may keep.
        let hour = NOW.as_secs() + 3600;
        w.observe(&rate(10, 0, hour), NOW);
        assert_eq!(w.admit(NOW), Admit::Wait(Some(Duration::from_secs(hour))));
    }

    #[test]
    fn requests_in_flight_spend_the_remaining_units() {
        let mut w = Window::default();
        w.observe(&rate(10, 3, RESET), NOW);
        w.in_flight = 2;
        assert_eq!(w.admit(NOW), Admit::Go);
        w.in_flight = 3;
        assert_eq!(w.admit(NOW), Admit::Wait(Some(Duration::from_secs(RESET))));
        // Past the reset the whole limit is there again.
        let later = Duration::from_secs(RESET);
        assert_eq!(w.admit(later), Admit::Go);
        w.in_flight = 10;
        assert_eq!(w.admit(later), Admit::Wait(None));
    }

    #[test]
    fn out_of_order_answers_keep_the_lowest_count_of_the_newest_window() {
        let mut w = Window::default();
        w.observe(&rate(10, 4, RESET), NOW);
        w.observe(&rate(10, 6, RESET), NOW);
        assert_eq!(
            w.limits,
            Limits::Known {
                limit: 10,
                remaining: 4,
                reset: RESET
            }
        );
        // A late answer from a window already over is ignored; a newer window's replaces.
        w.observe(&rate(10, 0, RESET - 20), NOW);
        assert!(matches!(w.limits, Limits::Known { remaining: 4, .. }));
        w.observe(&rate(10, 9, RESET + 60), NOW);
        assert!(matches!(w.limits, Limits::Known { remaining: 9, .. }));
        // An earlier reset still ahead: the Hub started a shorter window (a lower limit).
        w.observe(&rate(3, 2, RESET), NOW);
        assert_eq!(
            w.limits,
            Limits::Known {
                limit: 3,
                remaining: 2,
                reset: RESET
            }
        );
    }

    #[test]
    fn keys_separate_authorities_and_credentials() {
        let a = BudgetKey::new("hub.docker.com", Some(b"Bearer x"));
        assert_eq!(a, BudgetKey::new("HUB.docker.com", Some(b"Bearer x")));
        assert_ne!(a, BudgetKey::new("hub.docker.com", Some(b"Bearer y")));
        assert_ne!(a, BudgetKey::new("hub.docker.com", None));
        assert_ne!(a, BudgetKey::new("other:443", Some(b"Bearer x")));
    }

    fn known(budget: &RateBudget, key: BudgetKey, remaining: u64, reset_in: Duration) {
        let reset = (unix_now() + reset_in).as_secs() + 1;
        let mut windows = budget.lock();
        windows.entry(key).or_default().limits = Limits::Known {
            limit: 100,
            remaining,
            reset,
        };
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_is_refused_at_once_with_when_to_retry() {
        let budget = Arc::new(RateBudget::default());
        let key = BudgetKey::new("h", None);
        known(&budget, key, 0, Duration::from_secs(30));
        let started = Instant::now();
        let refusal = budget
            .acquire(key, Instant::now() + Duration::from_secs(5))
            .await
            .err()
            .expect("refused");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!((30..=32).contains(&refusal.retry_after), "{refusal:?}");
        assert_eq!(refusal.limit, Some(100));
        let response = refusal.response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers()[RETRY_AFTER],
            refusal.retry_after.to_string()
        );
    }

    #[tokio::test]
    async fn an_answer_in_flight_wakes_a_waiter() {
        let budget = Arc::new(RateBudget::default());
        let key = BudgetKey::new("h", None);
        let first = budget
            .acquire(key, Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
        // Probing: the second waits for the first's answer.
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move {
                budget
                    .acquire(key, Instant::now() + Duration::from_secs(5))
                    .await
                    .map(drop)
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        first.record(&rate(10, 5, RESET));
        drop(first);
        tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("woken")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_waiter_goes_once_the_window_resets() {
        let budget = Arc::new(RateBudget::default());
        let key = BudgetKey::new("h", None);
        // Resets at the next whole second, within about a second.
        known(&budget, key, 0, Duration::ZERO);
        let started = Instant::now();
        let permit = budget
            .acquire(key, Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
        drop(permit);
        assert!(started.elapsed() < Duration::from_millis(2100));
    }
}
