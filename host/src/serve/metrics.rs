//! What `/metrics` reports, in Prometheus' text format: calls by surface, operation and outcome,
//! a latency histogram, calls in flight, the last rate-limit `remaining` the Hub reported per
//! account, and connections accepted. Counters only grow; nothing here holds a token.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The server's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    /// (surface, operation, outcome) -> calls.
    calls: Mutex<BTreeMap<(&'static str, String, String), u64>>,
    latency: Mutex<Histogram>,
    pub(crate) in_flight: AtomicU64,
    /// account -> the last `X-RateLimit-Remaining`.
    remaining: Mutex<BTreeMap<String, u64>>,
    pub(crate) connections: AtomicU64,
    pub(crate) rejected_busy: AtomicU64,
    pub(crate) rejected_unauthenticated: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A label value as Prometheus' text format needs it quoted.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// One call done: `outcome` is `ok` or the error's kind.
    pub(crate) fn call(
        &self,
        surface: &'static str,
        operation: &str,
        outcome: &str,
        took: Duration,
    ) {
        *lock(&self.calls)
            .entry((surface, operation.to_string(), outcome.to_string()))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let mut h = lock(&self.latency);
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Hub's `X-RateLimit-Remaining` for `account`, as last seen.
    pub(crate) fn remaining(&self, account: &str, remaining: u64) {
        lock(&self.remaining).insert(account.to_string(), remaining);
    }

    /// The text `/metrics` answers.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP dockhand_calls_total Calls answered, by surface, operation and outcome (ok or the error kind).\n# TYPE dockhand_calls_total counter"
        );
        for ((surface, op, outcome), n) in lock(&self.calls).iter() {
            let _ = writeln!(
                out,
                "dockhand_calls_total{{surface=\"{surface}\",operation=\"{}\",outcome=\"{}\"}} {n}",
                label(op),
                label(outcome)
            );
        }
        let h = lock(&self.latency);
        let _ = writeln!(
            out,
            "# HELP dockhand_call_duration_seconds Time from a call's arrival to its answer.\n# TYPE dockhand_call_duration_seconds histogram"
        );
        for (bound, n) in BUCKETS.iter().zip(h.counts) {
            let _ = writeln!(
                out,
                "dockhand_call_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "dockhand_call_duration_seconds_bucket{{le=\"+Inf\"}} {}\ndockhand_call_duration_seconds_sum {}\ndockhand_call_duration_seconds_count {}",
            h.count, h.sum, h.count
        );
        drop(h);
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "dockhand_calls_in_flight",
            "Calls being answered now.",
            self.in_flight.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP dockhand_rate_limit_remaining The Hub's last X-RateLimit-Remaining, per account.\n# TYPE dockhand_rate_limit_remaining gauge"
        );
        for (account, n) in lock(&self.remaining).iter() {
            let _ = writeln!(
                out,
                "dockhand_rate_limit_remaining{{account=\"{}\"}} {n}",
                label(account)
            );
        }
        counter(
            &mut out,
            "dockhand_connections_accepted_total",
            "Client connections accepted.",
            self.connections.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "dockhand_rejected_busy_total",
            "Calls refused with 503 because the queue was full.",
            self.rejected_busy.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "dockhand_rejected_unauthenticated_total",
            "Requests refused with 401: no client token, or an unknown one.",
            self.rejected_unauthenticated.load(Ordering::Relaxed),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_latency_render_as_prometheus_text() {
        let m = Metrics::default();
        m.call("api", "get_repository", "ok", Duration::from_millis(3));
        m.call("api", "get_repository", "ok", Duration::from_millis(30));
        m.call(
            "mcp",
            "get_repository",
            "not-found",
            Duration::from_millis(2),
        );
        m.remaining("default", 177);
        let text = m.render();
        assert!(text.contains(
            "dockhand_calls_total{surface=\"api\",operation=\"get_repository\",outcome=\"ok\"} 2"
        ));
        assert!(text.contains("outcome=\"not-found\"} 1"));
        assert!(text.contains("dockhand_call_duration_seconds_bucket{le=\"0.005\"} 2"));
        assert!(text.contains("dockhand_call_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("dockhand_call_duration_seconds_count 3"));
        assert!(text.contains("dockhand_rate_limit_remaining{account=\"default\"} 177"));
        assert_eq!(label("a\"b\\c"), "a\\\"b\\\\c");
    }
}
