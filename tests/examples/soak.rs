//! Soak: many calls through one host against the mock Hub, to show that throughput holds and
//! memory stays flat (a fresh store and instance per call must leave nothing behind). Not part of
//! the test suite; run it by hand:
//!
//! ```sh
//! cargo run --release -p dockhand-tests --example soak            # 100,000 calls, 8 at a time
//! cargo run --release -p dockhand-tests --example soak -- 20000 4 # fewer calls, 4 at a time
//! ```
//!
//! Prints progress every tenth of the run and, at the end, throughput and the process's resident
//! memory at start and end. Exits non-zero if any call failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dockhand_host::credentials::Accounts;
use dockhand_host::{CallOptions, Dockhand};
use dockhand_mock::{MockConfig, MockHub};
use dockhand_tests::host_config;
use serde_json::{Value, json};

/// The calls cycle through a read, a paged list and a HEAD check.
fn nth_call(i: usize) -> (&'static str, Value) {
    match i % 3 {
        0 => (
            "get_repository",
            json!({"namespace": "library", "repository": "alpine"}),
        ),
        1 => (
            "list_repository_tags",
            json!({"namespace": "library", "repository": "alpine", "page_size": 10}),
        ),
        _ => (
            "check_repository",
            json!({"namespace": "library", "repository": "alpine"}),
        ),
    }
}

/// VmRSS from /proc (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| {
        format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8).max(1);

    let mock = Arc::new(
        MockHub::start(MockConfig::default())
            .await
            .expect("start the mock"),
    );
    let hub = Arc::new(
        Dockhand::new(host_config(mock.base_url()), Accounts::anonymous()).expect("build the host"),
    );
    // Warm up (compile cache, connection pool, allocator) before the first reading.
    for i in 0..30 {
        let (op, args) = nth_call(i);
        hub.call(op, &args, &CallOptions::default())
            .await
            .expect("warm-up call");
    }
    mock.clear_requests();
    let rss_start = resident_bytes();
    println!(
        "soak: {calls} calls, {concurrency} at a time; resident memory at start {}",
        mib(rss_start)
    );

    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (hub, mock, next, done, failed) = (
            hub.clone(),
            mock.clone(),
            next.clone(),
            done.clone(),
            failed.clone(),
        );
        workers.spawn(async move {
            let report_every = (calls / 10).max(1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let (op, args) = nth_call(i);
                if let Err(e) = hub.call(op, &args, &CallOptions::default()).await
                    && failed.fetch_add(1, Ordering::Relaxed) < 5
                {
                    eprintln!("call {i} ({op}) failed: {e}");
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished % report_every == 0 {
                    // The mock keeps every request it sees; the soak is about the host.
                    mock.clear_requests();
                    let secs = started.elapsed().as_secs_f64();
                    println!(
                        "  {finished:>7} calls  {:>8.0} calls/s  resident {}",
                        finished as f64 / secs,
                        mib(resident_bytes())
                    );
                }
            }
        });
    }
    workers.join_all().await;
    let elapsed = started.elapsed();
    let rss_end = resident_bytes();
    let failed = failed.load(Ordering::Relaxed);

    println!(
        "soak: {calls} calls in {:.1} s = {:.0} calls/s; {failed} failed",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    println!(
        "resident memory: start {}, end {} ({:+.1} MiB)",
        mib(rss_start),
        mib(rss_end),
        match (rss_start, rss_end) {
            (Some(a), Some(b)) => (b as f64 - a as f64) / (1 << 20) as f64,
            _ => 0.0,
        }
    );
    // Keep-alive holds under load: the pool should open about as many connections as calls in
    // flight, not one per call.
    println!(
        "connections opened to the mock: {}",
        mock.connections_accepted()
    );
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
