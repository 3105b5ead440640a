//! What a Hub call through the sandboxed component costs, against a native client doing the same
//! request, all in one process against the mock Hub on loopback.
//!
//! `cargo bench -p dockhand-host --bench hub [-- --json] [-- --rounds N]`
//!
//! Latency samples are interleaved (one call of each kind per round), so drift on a shared
//! machine hits every kind alike; the figures that matter are the ratios to `native`.

use dockhand_host::credentials::Accounts;
use dockhand_host::engine::EMBEDDED_COMPONENT;
use dockhand_host::http_client::{HttpClient, HttpClientConfig};
use dockhand_host::{CallOptions, Dockhand, HostConfig};
use dockhand_mock::{MockConfig, MockHub};
use http_body_util::Full;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wasmtime::component::Component;

const OPERATION: &str = "get_repository";

/// The component measured: the one built into the host, or `--component <file>` (one built
/// another way, say with its function names kept for `perf report`, without rebuilding the host).
static COMPONENT: OnceLock<Vec<u8>> = OnceLock::new();

fn measured_component() -> &'static [u8] {
    COMPONENT.get().map_or(EMBEDDED_COMPONENT, Vec::as_slice)
}

fn args() -> Value {
    json!({"namespace": "library", "repository": "alpine"})
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The median over rounds of a kind's time over `native`'s in the same round. A round takes
/// about a millisecond, so the machine's drift (large between runs on a shared VM: BENCHMARKS.md,
/// round 6) cancels within each pair, where a ratio of two medians keeps whatever drift differs
/// between the kinds' samples.
fn paired_ratio(kind: &[Duration], native: &[Duration]) -> f64 {
    let mut ratios: Vec<f64> = kind
        .iter()
        .zip(native)
        .map(|(k, n)| k.as_secs_f64() / n.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Resident memory of this process, from /proc (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn host(base_url: &str, cache: &std::path::Path, wasmtime_sender: bool) -> Dockhand {
    Dockhand::new(
        HostConfig {
            base_url: base_url.to_string(),
            cache_dir: Some(cache.to_path_buf()),
            wasmtime_sender,
            component: COMPONENT.get().cloned(),
            ..HostConfig::default()
        },
        Accounts::anonymous(),
    )
    .expect("the host starts")
}

async fn native_call(client: &HttpClient, url: &str) {
    let request = http::Request::get(url)
        .header("accept", "application/json")
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let response = client.send_buffered(request, 16 << 20).await.unwrap();
    // The same work the component does with the body.
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["name"], "alpine");
}

/// Calls per second with `concurrency` tasks sharing one host, each making calls until `total`
/// have been made; also the peak resident memory seen meanwhile, sampled by a task of its own
/// (reading /proc after every call would cost as much as a call).
async fn throughput(hub: &Arc<Dockhand>, concurrency: usize, total: usize) -> (f64, Option<u64>) {
    let done = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let sampling = sampling.clone();
        async move {
            let mut peak = None;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(resident_bytes());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak
        }
    });
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let hub = hub.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while done.fetch_add(1, Ordering::Relaxed) < total {
                hub.call(OPERATION, &args(), &CallOptions::default())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    (rate, sampler.await.unwrap())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let as_json = args.iter().any(|a| a == "--json");
    if args.iter().any(|a| a == "--mock-on-workers") {
        MOCK_ON_WORKERS.store(true, Ordering::Relaxed);
    }
    if let Some(path) = value_of("--component") {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("--component {path}: {e}"));
        COMPONENT.set(bytes).unwrap();
    }
    let rounds: usize = value_of("--rounds")
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    // `--workers N` (default 2, the machine's cores) shows what thread hand-offs cost.
    let workers: usize = value_of("--workers")
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    // Measured from a task, as a server embedding the host calls it: `block_on` would run the
    // loop on the main thread, outside the runtime's workers, making every wake-up a
    // cross-thread one for the native client and the component alike.
    if let Some(kind) = value_of("--only") {
        let calls = value_of("--calls")
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000);
        runtime.block_on(runtime.spawn(only(kind, calls))).unwrap();
        return;
    }
    let report = runtime.block_on(runtime.spawn(run(rounds))).unwrap();
    if as_json {
        println!("{report}");
    } else {
        print_table(&report);
    }
}

/// Where the mock Hub runs: by default on a thread and runtime of its own, as a remote server
/// would; with `--mock-on-workers`, as a task on the measuring runtime's workers.
static MOCK_ON_WORKERS: AtomicBool = AtomicBool::new(false);

/// The mock Hub, on its own thread (see [`MOCK_ON_WORKERS`]) unless told otherwise.
///
/// On the measuring runtime, the mock's per-connection tasks land on whichever worker tokio
/// puts them, and each kind of call talks to the mock over its own connection (the native client
/// and the host have separate pools): whether a kind's requests hop between workers, and pay a
/// cross-thread wake-up twice per call, depends on that placement, which changes run to run.
/// On a thread of its own, every kind's request crosses the same boundary.
enum Mock {
    OnWorkers(MockHub),
    OwnThread { base_url: String },
}

impl Mock {
    async fn start() -> Mock {
        if MOCK_ON_WORKERS.load(Ordering::Relaxed) {
            return Mock::OnWorkers(MockHub::start(MockConfig::default()).await.unwrap());
        }
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("mock-hub".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let mock = MockHub::start(MockConfig::default()).await.unwrap();
                    sender.send(mock.base_url()).unwrap();
                    // Serves until the process exits with the benchmark.
                    std::future::pending::<()>().await
                })
            })
            .unwrap();
        Mock::OwnThread {
            base_url: receiver.await.unwrap(),
        }
    }

    fn base_url(&self) -> String {
        match self {
            Mock::OnWorkers(mock) => mock.base_url(),
            Mock::OwnThread { base_url } => base_url.clone(),
        }
    }
}

/// The measured component precompiled by `engine`: its bytes, and a file in `dir` holding them
/// (what the host's cache would map).
fn precompiled_artefact(
    engine: &wasmtime::Engine,
    dir: &std::path::Path,
) -> (Vec<u8>, std::path::PathBuf) {
    let bytes = engine.precompile_component(measured_component()).unwrap();
    let file = dir.join("measured.cwasm");
    std::fs::write(&file, &bytes).unwrap();
    (bytes, file)
}

/// `--only <kind> [--calls N]`: one kind of call, N times, and nothing else, for a profiler
/// (`perf record`, `strace -c`, callgrind) to attribute the time of.
async fn only(kind: String, calls: usize) {
    let mock = Mock::start().await;
    let base = mock.base_url();
    let cache = tempfile::tempdir().unwrap();
    let hub = host(&base, cache.path(), false);
    let url = format!("{base}/v2/namespaces/library/repositories/alpine");
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let mut reused = hub.instantiate().await.unwrap();
    let options = call_options(&base);
    let args_text = args().to_string();
    let engine = hub.runtime().engine().clone();
    // Compiling again takes a fifth of a second: only the loads need the artefact.
    let (precompiled, artefact) = if kind.starts_with("load") {
        precompiled_artefact(&engine, cache.path())
    } else {
        (Vec::new(), std::path::PathBuf::new())
    };
    let start = Instant::now();
    for _ in 0..calls {
        match kind.as_str() {
            "native" => native_call(&client, &url).await,
            "component" => reused_call(&mut reused, &args_text, &options).await,
            "fresh" => {
                hub.call(OPERATION, &args(), &CallOptions::default())
                    .await
                    .unwrap();
            }
            "instantiate" => drop(hub.instantiate_catalog().await.unwrap()),
            "instantiate_world" => drop(hub.instantiate().await.unwrap()),
            // SAFETY (both): bytes produced just above by this engine.
            "load" => drop(unsafe { Component::deserialize_file(&engine, &artefact) }.unwrap()),
            "load_bytes" => drop(unsafe { Component::deserialize(&engine, &precompiled) }.unwrap()),
            other => panic!(
                "--only takes native, component, fresh, instantiate, instantiate_world, load or \
                 load_bytes, not {other}"
            ),
        }
    }
    let each = start.elapsed() / calls as u32;
    println!("{kind}: {calls} calls, {:.1} µs each (mean)", micros(each));
}

/// The operation through the component's dynamic `call`, in an instance kept across calls.
async fn reused_call(
    session: &mut dockhand_host::Session,
    args_text: &str,
    options: &dockhand_host::bindings::exports::dockhand::hub::types::CallOptions,
) {
    let response = session
        .plugin
        .dockhand_hub_catalog()
        .call_call(&mut session.store, OPERATION, args_text, options)
        .await
        .unwrap()
        .unwrap();
    // The same work `native_call` and `Dockhand::call` do with the answer: the component hands
    // on checked JSON text, which a caller still has to read.
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["name"], "alpine");
}

fn call_options(base: &str) -> dockhand_host::bindings::exports::dockhand::hub::types::CallOptions {
    dockhand_host::bindings::exports::dockhand::hub::types::CallOptions {
        account: None,
        base_url: Some(base.to_string()),
        all_pages: None,
        max_pages: None,
        page_concurrency: None,
        max_retries: None,
        max_retry_wait_seconds: None,
    }
}

async fn run(rounds: usize) -> Value {
    let mock = Mock::start().await;
    let base = mock.base_url();
    let cache = tempfile::tempdir().unwrap();
    let url = format!("{base}/v2/namespaces/library/repositories/alpine");

    // Compile, precompile and load, measured on their own.
    let compile_start = Instant::now();
    let hub = Arc::new(host(&base, cache.path(), false));
    let first_start = compile_start.elapsed();
    let engine = hub.runtime().engine().clone();
    let mut compile_times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        Component::new(&engine, measured_component()).unwrap();
        compile_times.push(t.elapsed());
    }
    // A load as the host does it from its cache (the file mapped), and from bytes in memory
    // (copied into fresh memory) for the record.
    let (precompiled, artefact) = precompiled_artefact(&engine, cache.path());
    let (mut load, mut load_bytes) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let t = Instant::now();
        // SAFETY (both): bytes produced just above by this engine.
        drop(unsafe { Component::deserialize_file(&engine, &artefact) }.unwrap());
        load.push(t.elapsed());
        let t = Instant::now();
        drop(unsafe { Component::deserialize(&engine, &precompiled) }.unwrap());
        load_bytes.push(t.elapsed());
    }
    let warm_start = Instant::now();
    let warm = host(&base, cache.path(), false);
    let warm_start = warm_start.elapsed();
    drop(warm);
    let default_sender = host(&base, cache.path(), true);

    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let mut reused = hub.instantiate().await.unwrap();
    let options = call_options(&base);
    let args_text = args().to_string();

    let (mut native, mut component, mut fresh, mut wasmtime_sender) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut instantiate, mut instantiate_world) = (Vec::new(), Vec::new());
    // Warm every path (connections, caches) before measuring. Each round starts one kind
    // further along, so that no kind always follows the same other kind (the one before leaves
    // caches and the runtime's idle worker in its own state).
    const KINDS: usize = 6;
    for round in 0..rounds + 20 {
        for step in 0..KINDS {
            let kind = (round + step) % KINDS;
            let t = Instant::now();
            // An instance is dropped after its time is taken, as before a call it would serve.
            let elapsed = match kind {
                0 => {
                    native_call(&client, &url).await;
                    t.elapsed()
                }
                1 => {
                    reused_call(&mut reused, &args_text, &options).await;
                    t.elapsed()
                }
                2 => {
                    hub.call(OPERATION, &args(), &CallOptions::default())
                        .await
                        .unwrap();
                    t.elapsed()
                }
                3 => {
                    default_sender
                        .call(OPERATION, &args(), &CallOptions::default())
                        .await
                        .unwrap();
                    t.elapsed()
                }
                4 => {
                    let session = hub.instantiate_catalog().await.unwrap();
                    let elapsed = t.elapsed();
                    drop(session);
                    elapsed
                }
                _ => {
                    let session = hub.instantiate().await.unwrap();
                    let elapsed = t.elapsed();
                    drop(session);
                    elapsed
                }
            };
            if round >= 20 {
                [
                    &mut native,
                    &mut component,
                    &mut fresh,
                    &mut wasmtime_sender,
                    &mut instantiate,
                    &mut instantiate_world,
                ][kind]
                    .push(elapsed);
            }
        }
    }

    // Before the medians sort the samples out of round order.
    let paired = json!({
        "component/native": paired_ratio(&component, &native),
        "component_fresh/native": paired_ratio(&fresh, &native),
        "component_default_sender/native": paired_ratio(&wasmtime_sender, &native),
    });
    let native_us = micros(median(&mut native));
    let component_us = micros(median(&mut component));
    let fresh_us = micros(median(&mut fresh));
    let default_us = micros(median(&mut wasmtime_sender));

    let rss_before = resident_bytes();
    let mut rates = serde_json::Map::new();
    let mut rss_64 = None;
    for concurrency in [1usize, 8, 64] {
        let (rate, peak) = throughput(&hub, concurrency, 3000).await;
        rates.insert(format!("c{concurrency}"), json!(rate.round()));
        if concurrency == 64 {
            rss_64 = peak;
        }
    }

    // The child process blocks; the mock it calls must keep running on the workers meanwhile.
    let cli = {
        let (base, cache) = (base.clone(), cache.path().to_path_buf());
        tokio::task::spawn_blocking(move || cli_process_ms(&base, &cache))
            .await
            .unwrap()
    };

    json!({
        "machine": format!("{} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), std::env::consts::ARCH),
        "operation": OPERATION,
        "rounds": rounds,
        "mock": if MOCK_ON_WORKERS.load(Ordering::Relaxed) { "on-workers" } else { "own-thread" },
        "latency_us": {
            "native": native_us,
            "component": component_us,
            "component_fresh": fresh_us,
            "component_default_sender": default_us,
        },
        "ratios": {
            "component/native": component_us / native_us,
            "component_fresh/native": fresh_us / native_us,
            "component_default_sender/native": default_us / native_us,
        },
        "ratios_paired": paired,
        "instantiate_us": micros(median(&mut instantiate)),
        "instantiate_world_us": micros(median(&mut instantiate_world)),
        "precompiled_load_us": micros(median(&mut load)),
        "precompiled_load_from_bytes_us": micros(median(&mut load_bytes)),
        "compile_ms": micros(median(&mut compile_times)) / 1000.0,
        "host_start_cold_ms": first_start.as_secs_f64() * 1000.0,
        "host_start_warm_cache_ms": warm_start.as_secs_f64() * 1000.0,
        "component_bytes": measured_component().len(),
        "pooling_allocator": hub.runtime().pooling,
        "throughput_calls_per_s": rates,
        "rss_bytes_idle": rss_before,
        "rss_bytes_64_in_flight": rss_64,
        "cli_call_process_ms": cli,
    })
}

/// The whole `dockhand call` process, start to exit, with a warm precompiled cache.
fn cli_process_ms(base: &str, cache: &std::path::Path) -> Option<f64> {
    let bin = env!("CARGO_BIN_EXE_dockhand");
    let run = || {
        let t = Instant::now();
        let status = std::process::Command::new(bin)
            .args(["--base-url", base, "--cache-dir"])
            .arg(cache)
            .args([
                "--anonymous",
                "call",
                OPERATION,
                "namespace=library",
                "repository=alpine",
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| t.elapsed())
    };
    run()?; // fills the cache if needed
    let mut samples: Vec<Duration> = (0..15).filter_map(|_| run()).collect();
    (!samples.is_empty()).then(|| micros(median(&mut samples)) / 1000.0)
}

fn print_table(r: &Value) {
    let l = &r["latency_us"];
    let q = &r["ratios"];
    let p = &r["ratios_paired"];
    println!(
        "dockhand benchmark: {} against the mock Hub on loopback ({}, mock {}), {} rounds",
        r["operation"], r["machine"], r["mock"], r["rounds"]
    );
    println!("median latency per call:");
    println!(
        "  native (pooled hyper client)        {:>9.1} µs",
        l["native"].as_f64().unwrap()
    );
    println!(
        "  component, one instance reused      {:>9.1} µs   x{:.2} native (paired x{:.2})",
        l["component"].as_f64().unwrap(),
        q["component/native"].as_f64().unwrap(),
        p["component/native"].as_f64().unwrap()
    );
    println!(
        "  component, fresh instance per call  {:>9.1} µs   x{:.2} native (paired x{:.2})",
        l["component_fresh"].as_f64().unwrap(),
        q["component_fresh/native"].as_f64().unwrap(),
        p["component_fresh/native"].as_f64().unwrap()
    );
    println!(
        "  component, wasmtime default sender  {:>9.1} µs   x{:.2} native (paired x{:.2})",
        l["component_default_sender"].as_f64().unwrap(),
        q["component_default_sender/native"].as_f64().unwrap(),
        p["component_default_sender/native"].as_f64().unwrap()
    );
    println!(
        "instantiate (as a call does)          {:>9.1} µs",
        r["instantiate_us"].as_f64().unwrap()
    );
    println!(
        "instantiate, all typed exports loaded {:>9.1} µs",
        r["instantiate_world_us"].as_f64().unwrap()
    );
    println!(
        "precompiled load (cache file mapped)  {:>9.1} µs",
        r["precompiled_load_us"].as_f64().unwrap()
    );
    println!(
        "precompiled load from bytes (copied)  {:>9.1} µs",
        r["precompiled_load_from_bytes_us"].as_f64().unwrap()
    );
    println!(
        "compile                               {:>9.1} ms",
        r["compile_ms"].as_f64().unwrap()
    );
    println!(
        "host start, warm cache                {:>9.1} ms",
        r["host_start_warm_cache_ms"].as_f64().unwrap()
    );
    println!(
        "component size                        {:>9} bytes",
        r["component_bytes"]
    );
    println!(
        "pooling allocator                     {:>9}",
        r["pooling_allocator"]
    );
    let t = &r["throughput_calls_per_s"];
    println!(
        "throughput (calls/s)                  c1 {}  c8 {}  c64 {}",
        t["c1"], t["c8"], t["c64"]
    );
    let mib = |v: &Value| {
        v.as_u64()
            .map(|b| format!("{:.1} MiB", b as f64 / 1048576.0))
            .unwrap_or("-".into())
    };
    println!(
        "resident memory                       idle {}  64 in flight {}",
        mib(&r["rss_bytes_idle"]),
        mib(&r["rss_bytes_64_in_flight"])
    );
    match r["cli_call_process_ms"].as_f64() {
        Some(ms) => println!("`dockhand call` process, warm cache   {ms:>9.1} ms"),
        None => println!("`dockhand call` process               not measured"),
    }
}
