//! Round trips, where a user far from the Hub waits: the mock Hub answers every request after a
//! fixed delay (50 ms by default, as a Hub 100 ms of round trip away would), and each job is
//! measured beside the same job done the slower way, in one run.
//!
//! `cargo bench -p dockhand-host --bench round_trips [-- --json] [-- --latency-ms N] [-- --runs N]`
//!
//! - A `dockhand call` process with a PAT: the first process exchanges the PAT and calls (two
//!   round trips); the next ones reuse the cached JWT (one). Beside them: the same with
//!   `--no-token-cache`, and the process against a mock without delay (what the process itself
//!   costs), so that "one round trip plus the process" is measured, not assumed.
//! - `list_repository_tags` with all pages over 2,000 tags at `page_size=100` (20 pages):
//!   page by page (`page_concurrency` 1), four at a time (the default) and eight at a time,
//!   same merged result.
//! - The same listing over HTTPS from a fresh host (as a new process starts), where a new
//!   connection also waits out two round trips of handshakes (TCP, TLS 1.3): offering HTTP/1.1
//!   only (a connection per page in flight) beside HTTP/2 (one connection for all), and one
//!   `get_repository` call each way, where HTTP/2 should change nothing.

use dockhand_host::credentials::Accounts;
use dockhand_host::{CallOptions, Dockhand, HostConfig};
use dockhand_mock::seed::{GeneratedTags, SeedRepository};
use dockhand_mock::{MockConfig, MockHub, fixtures};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The mock world plus alice/big with `tags` generated tags.
fn config(latency: Duration, tags: usize) -> MockConfig {
    tls_config(latency, Duration::ZERO, false, tags)
}

/// [`config`], over HTTPS when `tls` is set, with a delay before each new connection's first
/// byte is read.
fn tls_config(latency: Duration, handshakes: Duration, tls: bool, tags: usize) -> MockConfig {
    let mut config = MockConfig {
        latency,
        connection_latency: handshakes,
        tls,
        ..MockConfig::default()
    };
    config.seed.repositories.push(SeedRepository {
        namespace: fixtures::ALICE.into(),
        name: "big".into(),
        generated_tags: Some(GeneratedTags {
            count: tags,
            prefix: "build-".into(),
        }),
        ..SeedRepository::default()
    });
    config
}

/// One `dockhand call get_repository` process with alice's PAT and `home` as HOME (where the
/// token cache lives); its wall time, start to exit.
fn cli_call(base: &str, cache: &Path, home: &Path, extra: &[&str]) -> Duration {
    let t = Instant::now();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("DOCKHAND_USERNAME", fixtures::ALICE)
        .env("DOCKHAND_TOKEN", fixtures::ALICE_PAT)
        .args(["--base-url", base, "--cache-dir"])
        .arg(cache)
        .args(extra)
        .args([
            "call",
            "get_repository",
            "namespace=alice",
            "repository=demo",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run dockhand");
    assert!(status.success(), "dockhand call failed");
    t.elapsed()
}

/// Requests the mock received since it was last cleared.
fn requests(mock: &MockHub) -> usize {
    let n = mock.requests().len();
    mock.clear_requests();
    n
}

async fn run(latency: Duration, runs: usize) -> Value {
    let slow = MockHub::start(config(latency, 2000)).await.unwrap();
    let instant = MockHub::start(config(Duration::ZERO, 2000)).await.unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let cache = scratch.path().join("components");

    // ---- A process with a PAT ----
    let cli = |base: String, home: std::path::PathBuf, extra: Vec<&'static str>| {
        let cache = cache.clone();
        tokio::task::spawn_blocking(move || cli_call(&base, &cache, &home, &extra))
    };
    // Fills the component cache, so that every measured process starts warm.
    let warm_home = scratch.path().join("warm");
    cli(instant.base_url(), warm_home.clone(), vec![])
        .await
        .unwrap();
    let (mut first, mut cached, mut uncached, mut bare) = (vec![], vec![], vec![], vec![]);
    let (mut first_requests, mut cached_requests, mut uncached_requests) = (0, 0, 0);
    for i in 0..runs {
        // A fresh HOME: no cached token yet.
        let home = scratch.path().join(format!("home-{i}"));
        // Tokens live in the cache directory: none yet for the first process.
        let _ = std::fs::remove_dir_all(cache.join("tokens"));
        requests(&slow);
        first.push(cli(slow.base_url(), home.clone(), vec![]).await.unwrap());
        first_requests = requests(&slow);
        cached.push(cli(slow.base_url(), home.clone(), vec![]).await.unwrap());
        cached_requests = requests(&slow);
        uncached.push(
            cli(slow.base_url(), home, vec!["--no-token-cache"])
                .await
                .unwrap(),
        );
        uncached_requests = requests(&slow);
        bare.push(
            cli(instant.base_url(), warm_home.clone(), vec![])
                .await
                .unwrap(),
        );
    }
    let (first, cached, uncached, bare) = (
        median(&mut first),
        median(&mut cached),
        median(&mut uncached),
        median(&mut bare),
    );
    let target = latency + bare;

    // ---- 2,000 tags, 20 pages ----
    let hub = Dockhand::new(
        HostConfig {
            base_url: slow.base_url(),
            cache_dir: Some(cache.clone()),
            ..HostConfig::default()
        },
        Accounts::anonymous(),
    )
    .expect("the host starts");
    let args = json!({"namespace": "alice", "repository": "big", "page_size": 100});
    let list = |concurrency: u32| {
        let (hub, args) = (&hub, &args);
        async move {
            let options = CallOptions {
                all_pages: true,
                page_concurrency: Some(concurrency),
                ..CallOptions::default()
            };
            let t = Instant::now();
            let result = hub
                .call("list_repository_tags", args, &options)
                .await
                .expect("the listing");
            (t.elapsed(), result)
        }
    };
    list(4).await; // compiles the component's first instance outside the figures
    let (mut walk, mut side, mut eight) = (vec![], vec![], vec![]);
    let (mut walk_body, mut side_body, mut eight_body) = (Value::Null, Value::Null, Value::Null);
    let (mut walk_requests, mut side_requests, mut eight_requests) = (0, 0, 0);
    for _ in 0..runs {
        requests(&slow);
        let (t, r) = list(1).await;
        walk.push(t);
        walk_requests = requests(&slow);
        walk_body = r.body;
        let (t, r) = list(4).await;
        side.push(t);
        side_requests = requests(&slow);
        side_body = r.body;
        let (t, r) = list(8).await;
        eight.push(t);
        eight_requests = requests(&slow);
        eight_body = r.body;
    }
    assert_eq!(side_body, walk_body, "the merged listings differ");
    assert_eq!(eight_body, walk_body, "the merged listings differ");
    assert_eq!(walk_body["results"].as_array().map(Vec::len), Some(2000));
    let (walk, side, eight) = (median(&mut walk), median(&mut side), median(&mut eight));
    let trips = |d: Duration| d.as_secs_f64() / latency.as_secs_f64();

    // ---- The same over HTTPS, from a fresh host each time: HTTP/1.1 beside HTTP/2 ----
    let tls = MockHub::start(tls_config(latency, latency * 2, true, 2000))
        .await
        .unwrap();
    let fresh = |http2: bool| {
        Dockhand::new(
            HostConfig {
                base_url: tls.base_url(),
                cache_dir: Some(cache.clone()),
                http2,
                extra_roots: vec![tls.certificate_der().unwrap().to_vec()],
                ..HostConfig::default()
            },
            Accounts::anonymous(),
        )
        .expect("the host starts")
    };
    let over_tls = |http2: bool, all: bool| {
        let hub = fresh(http2);
        let (tls, args) = (&tls, &args);
        async move {
            let options = CallOptions {
                all_pages: all,
                ..CallOptions::default()
            };
            let (operation, args) = if all {
                ("list_repository_tags", args.clone())
            } else {
                (
                    "get_repository",
                    json!({"namespace": "alice", "repository": "big"}),
                )
            };
            let before = tls.connections_accepted();
            let t = Instant::now();
            let result = hub
                .call(operation, &args, &options)
                .await
                .expect("the call");
            let took = t.elapsed();
            (took, tls.connections_accepted() - before, result.body)
        }
    };
    let mut tls_runs: [Vec<Duration>; 4] = Default::default();
    let mut tls_connections = [0u64; 4];
    let mut tls_bodies: [Value; 2] = Default::default();
    for _ in 0..runs {
        for (i, (http2, all)) in [(false, true), (true, true), (false, false), (true, false)]
            .into_iter()
            .enumerate()
        {
            let (t, connections, body) = over_tls(http2, all).await;
            tls_runs[i].push(t);
            tls_connections[i] = connections;
            if all {
                tls_bodies[i] = body;
            }
        }
    }
    assert_eq!(
        tls_bodies[0], walk_body,
        "the listing over HTTP/1.1 differs"
    );
    assert_eq!(tls_bodies[1], walk_body, "the listing over HTTP/2 differs");
    let [h1_list, h2_list, h1_one, h2_one] = tls_runs.map(|mut runs| median(&mut runs));

    json!({
        "date": dockhand_vocab::time::Rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        ).to_string(),
        "latency_ms": ms(latency),
        "runs": runs,
        "pat_process": {
            "first_ms": ms(first),
            "first_requests": first_requests,
            "cached_token_ms": ms(cached),
            "cached_token_requests": cached_requests,
            "no_token_cache_ms": ms(uncached),
            "no_token_cache_requests": uncached_requests,
            "process_without_latency_ms": ms(bare),
            "cached_over_one_trip_plus_process": cached.as_secs_f64() / target.as_secs_f64(),
        },
        "all_pages_2000_tags": {
            "page_by_page_ms": ms(walk),
            "page_by_page_requests": walk_requests,
            "page_by_page_round_trips": trips(walk),
            "four_at_a_time_ms": ms(side),
            "four_at_a_time_requests": side_requests,
            "four_at_a_time_round_trips": trips(side),
            "speedup": walk.as_secs_f64() / side.as_secs_f64(),
            "eight_at_a_time_ms": ms(eight),
            "eight_at_a_time_requests": eight_requests,
            "eight_at_a_time_round_trips": trips(eight),
            "same_result": true,
        },
        "https_fresh_host": {
            "handshake_ms": ms(latency * 2),
            "all_pages_http1_ms": ms(h1_list),
            "all_pages_http1_connections": tls_connections[0],
            "all_pages_http2_ms": ms(h2_list),
            "all_pages_http2_connections": tls_connections[1],
            "all_pages_http1_over_http2": h1_list.as_secs_f64() / h2_list.as_secs_f64(),
            "one_call_http1_ms": ms(h1_one),
            "one_call_http2_ms": ms(h2_one),
            "one_call_http1_over_http2": h1_one.as_secs_f64() / h2_one.as_secs_f64(),
        },
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let latency = Duration::from_millis(value_of("--latency-ms").unwrap_or(50));
    let runs = value_of("--runs").unwrap_or(5).max(1) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(runtime.spawn(run(latency, runs))).unwrap();
    if args.iter().any(|a| a == "--json") {
        println!("{report}");
        return;
    }
    let p = &report["pat_process"];
    let l = &report["all_pages_2000_tags"];
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    println!(
        "dockhand round trips: mock Hub answering after {} ms, median of {} runs",
        report["latency_ms"], runs
    );
    println!("`dockhand call get_repository` with a PAT, whole process:");
    println!(
        "  first process (exchange + call)      {:>8.1} ms  {} requests",
        f(&p["first_ms"]),
        p["first_requests"]
    );
    println!(
        "  next process (cached JWT)            {:>8.1} ms  {} requests",
        f(&p["cached_token_ms"]),
        p["cached_token_requests"]
    );
    println!(
        "  next process, --no-token-cache       {:>8.1} ms  {} requests",
        f(&p["no_token_cache_ms"]),
        p["no_token_cache_requests"]
    );
    println!(
        "  the process itself (no latency)      {:>8.1} ms",
        f(&p["process_without_latency_ms"])
    );
    println!(
        "  cached / (one round trip + process)  {:>8.2}",
        f(&p["cached_over_one_trip_plus_process"])
    );
    println!("list_repository_tags, all pages, 2,000 tags at page_size 100:");
    println!(
        "  page by page                         {:>8.1} ms  {} requests  {:.1} round trips",
        f(&l["page_by_page_ms"]),
        l["page_by_page_requests"],
        f(&l["page_by_page_round_trips"])
    );
    println!(
        "  four pages at a time                 {:>8.1} ms  {} requests  {:.1} round trips",
        f(&l["four_at_a_time_ms"]),
        l["four_at_a_time_requests"],
        f(&l["four_at_a_time_round_trips"])
    );
    println!(
        "  eight pages at a time                {:>8.1} ms  {} requests  {:.1} round trips",
        f(&l["eight_at_a_time_ms"]),
        l["eight_at_a_time_requests"],
        f(&l["eight_at_a_time_round_trips"])
    );
    println!(
        "  speedup of four, same merged result  {:>8.2}x",
        f(&l["speedup"])
    );
    let h = &report["https_fresh_host"];
    println!(
        "over HTTPS from a fresh host, {} ms of handshakes per new connection:",
        h["handshake_ms"]
    );
    println!(
        "  all pages, HTTP/1.1                  {:>8.1} ms  {} connections",
        f(&h["all_pages_http1_ms"]),
        h["all_pages_http1_connections"]
    );
    println!(
        "  all pages, HTTP/2                    {:>8.1} ms  {} connections",
        f(&h["all_pages_http2_ms"]),
        h["all_pages_http2_connections"]
    );
    println!(
        "  HTTP/1.1 / HTTP/2                    {:>8.2}x",
        f(&h["all_pages_http1_over_http2"])
    );
    println!(
        "  one get_repository, HTTP/1.1         {:>8.1} ms",
        f(&h["one_call_http1_ms"])
    );
    println!(
        "  one get_repository, HTTP/2           {:>8.1} ms",
        f(&h["one_call_http2_ms"])
    );
}
