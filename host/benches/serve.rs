//! What `dockhand serve` adds to a call, against the mock Hub on loopback, in one run: the same
//! `get_repository` through the library (`Dockhand::call`), through `POST /v1/call` and through an
//! MCP `tools/call` over Streamable HTTP (answered by `dockhand serve` itself, and once more by
//! rmcp's service, as a request it leaves to rmcp), interleaved round by round; where an MCP
//! call's time goes (the JSON-RPC parse, the tool handler around the call, the answer's
//! serialization, and what is left: HTTP); calls per second with 64 in flight
//! through `/v1/call`; and the resident memory of an idle `dockhand serve` process, started with
//! the component cache empty (it compiles the component) and again with it filled.
//!
//! `cargo bench -p dockhand-host --bench serve [-- --json] [-- --rounds N]`

use bytes::Bytes;
use dockhand_host::credentials::Accounts;
use dockhand_host::http_client::{HttpClient, HttpClientConfig};
use dockhand_host::mcp::{McpOptions, McpServer};
use dockhand_host::serve::{ServeOptions, Server};
use dockhand_host::{CallOptions, Dockhand, HostConfig};
use dockhand_mock::{MockConfig, MockHub};
use http::Request;
use http_body_util::Full;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `dockhand` executable's allocator, so that the server measured in process is the one
/// that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn args() -> Value {
    json!({"namespace": "library", "repository": "alpine"})
}

/// The mock on a thread and runtime of its own, as a remote server would be.
async fn mock() -> String {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mock = MockHub::start(MockConfig::default()).await.unwrap();
            sender.send(mock.base_url()).unwrap();
            std::future::pending::<()>().await
        })
    });
    receiver.await.unwrap()
}

/// How a request is sent: to `/v1/call`, or as an MCP message with the Accept header a client
/// sends (`accept`).
#[derive(Clone, Copy)]
enum Kind {
    Api,
    Mcp { accept: &'static str },
}

/// What MCP clients send: `dockhand serve` answers such a `tools/call` itself.
const MCP: Kind = Kind::Mcp {
    accept: "application/json, text/event-stream",
};

/// The same with a weight on one type, which `dockhand serve` leaves to rmcp's service: rmcp's
/// own path, for comparison.
const MCP_BY_RMCP: Kind = Kind::Mcp {
    accept: "application/json;q=1, text/event-stream",
};

async fn post(client: &HttpClient, url: &str, body: String, kind: Kind) -> Value {
    let mut request = Request::post(url).header("content-type", "application/json");
    if let Kind::Mcp { accept } = kind {
        request = request
            .header("accept", accept)
            .header("mcp-protocol-version", "2025-06-18");
    }
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    let response = client.send_buffered(request, 16 << 20).await.unwrap();
    assert!(response.status.is_success(), "{}", response.status);
    serde_json::from_slice(&response.body).unwrap()
}

fn tools_call(id: usize) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "get_repository", "arguments": args()}})
    .to_string()
}

/// Reads one HTTP/1.1 answer (head, then Content-Length bytes) and checks its status is 200.
async fn read_answer(tcp: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) {
    buffer.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a Content-Length");
            while buffer.len() < end + 4 + length {
                let n = tcp.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the server closed mid-answer");
                buffer.extend_from_slice(&chunk[..n]);
            }
            return;
        }
        let n = tcp.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed before answering");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// VmRSS of `pid`, in bytes.
fn resident(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// An idle `dockhand serve` process: its resident memory once it has started and answered one
/// health check, and again after one call.
async fn idle_process_rss(base: &str, cache: &std::path::Path) -> (Option<u64>, Option<u64>) {
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .env_clear()
        .env("HOME", home.path())
        .args(["--base-url", base, "--cache-dir"])
        .arg(cache)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    // Read to the end, so the server's log lines always have somewhere to go.
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("listening on ").nth(1)
                && let Some(tx) = tx.take()
            {
                let url = rest.split_whitespace().next().unwrap_or_default();
                let _ = tx.send(url.to_string());
            }
        }
    });
    let url: String = rx.await.unwrap();
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let health = Request::get(format!("{url}/healthz"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    client.send_buffered(health, 1 << 20).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = resident(child.id());
    post(
        &client,
        &format!("{url}/v1/call/get_repository"),
        args().to_string(),
        Kind::Api,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_call = resident(child.id());
    let _ = child.kill();
    let _ = child.wait();
    (idle, after_call)
}

async fn run(rounds: usize) -> Value {
    let base = mock().await;
    let cache = tempfile::tempdir().unwrap();
    let hub = Arc::new(
        Dockhand::new(
            HostConfig {
                base_url: base.clone(),
                cache_dir: Some(cache.path().to_path_buf()),
                ..HostConfig::default()
            },
            Accounts::anonymous(),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::start(
        hub.clone(),
        ServeOptions {
            log: false,
            ..ServeOptions::default()
        },
        listener,
    )
    .await
    .unwrap();
    let url = format!("http://{}", server.addr());
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let api = format!("{url}/v1/call/get_repository");
    let mcp = format!("{url}/mcp");

    let library = || async {
        let t = Instant::now();
        let r = hub
            .call("get_repository", &args(), &CallOptions::default())
            .await
            .unwrap();
        assert_eq!(r.body["name"], "alpine");
        t.elapsed()
    };
    let over_api = || async {
        let t = Instant::now();
        let body = post(&client, &api, args().to_string(), Kind::Api).await;
        assert_eq!(body["name"], "alpine");
        t.elapsed()
    };
    let over_mcp = |id: usize, kind: Kind| {
        let (client, mcp) = (&client, &mcp);
        async move {
            let t = Instant::now();
            let body = post(client, mcp, tools_call(id), kind).await;
            assert_eq!(
                body["result"]["structuredContent"]["name"], "alpine",
                "{body}"
            );
            t.elapsed()
        }
    };
    // The MCP tool handler alone, in process: the call plus turning its result into MCP's.
    let tools = McpServer::new(
        hub.clone(),
        McpOptions {
            allow_write: false,
            account: None,
        },
    )
    .await
    .unwrap();
    let handler = |id: usize| {
        let tools = &tools;
        async move {
            let message: rmcp::model::ClientJsonRpcMessage =
                serde_json::from_str(&tools_call(id)).unwrap();
            let rmcp::model::ClientJsonRpcMessage::Request(request) = message else {
                unreachable!("a request")
            };
            let rmcp::model::ClientRequest::CallToolRequest(call) = request.request else {
                unreachable!("tools/call")
            };
            let t = Instant::now();
            let result = tools
                .call(&call.params.name, call.params.arguments)
                .await
                .unwrap();
            let took = t.elapsed();
            assert!(result.structured_content.is_some());
            took
        }
    };
    for i in 0..20 {
        library().await;
        handler(i).await;
        over_api().await;
        over_mcp(i, MCP).await;
        over_mcp(i, MCP_BY_RMCP).await;
    }
    let (mut lib, mut api_t, mut mcp_t, mut handler_t) = (vec![], vec![], vec![], vec![]);
    let mut rmcp_t = vec![];
    for round in 0..rounds {
        // Each round starts one kind further along, so no kind always follows the same one.
        for k in 0..5 {
            match (round + k) % 5 {
                0 => lib.push(library().await),
                1 => api_t.push(over_api().await),
                2 => mcp_t.push(over_mcp(round, MCP).await),
                3 => rmcp_t.push(over_mcp(round, MCP_BY_RMCP).await),
                _ => handler_t.push(handler(round).await),
            }
        }
    }
    let (lib, api_m, mcp_m, handler) = (
        median(&mut lib),
        median(&mut api_t),
        median(&mut mcp_t),
        median(&mut handler_t),
    );
    let rmcp_m = median(&mut rmcp_t);

    // The JSON-RPC parse and the answer's serialization, each on its own.
    let (mut parse, mut write) = (vec![], vec![]);
    for round in 0..rounds {
        let text = tools_call(round);
        let t = Instant::now();
        let message: rmcp::model::ClientJsonRpcMessage = serde_json::from_str(&text).unwrap();
        parse.push(t.elapsed());
        let rmcp::model::ClientJsonRpcMessage::Request(request) = message else {
            unreachable!("a request")
        };
        let rmcp::model::ClientRequest::CallToolRequest(call) = request.request else {
            unreachable!("tools/call")
        };
        let result = tools
            .call(&call.params.name, call.params.arguments)
            .await
            .unwrap();
        let t = Instant::now();
        let answer = rmcp::model::ServerJsonRpcMessage::response(
            rmcp::model::ServerResult::CallToolResult(result),
            request.id,
        );
        let bytes = serde_json::to_vec(&answer).unwrap();
        write.push(t.elapsed());
        assert!(bytes.len() > 100);
    }
    let (parse, write) = (median(&mut parse), median(&mut write));

    // 64 in flight through /v1/call.
    let total = 20_000;
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, api, done) = (client.clone(), api.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while done.fetch_add(1, Ordering::Relaxed) < total {
                post(&client, &api, args().to_string(), Kind::Api).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let per_second = total as f64 / start.elapsed().as_secs_f64();

    // The same with a load generator that costs almost nothing: 64 connections, each writing one
    // prepared request and reading its answer by Content-Length. The two cores are shared with
    // the client, so the lighter it is, the more of them the server has, as with a remote client.
    let raw_request = Arc::new(format!(
        "POST /v1/call/get_repository HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{}",
        server.addr(),
        args().to_string().len(),
        args()
    ));
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (addr, request, done) = (server.addr(), raw_request.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let mut buffer = Vec::with_capacity(8192);
            while done.fetch_add(1, Ordering::Relaxed) < total {
                tcp.write_all(request.as_bytes()).await.unwrap();
                read_answer(&mut tcp, &mut buffer).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let raw_per_second = total as f64 / start.elapsed().as_secs_f64();
    server.shutdown().await;

    let process_cache = tempfile::tempdir().unwrap();
    let (cold_idle, cold_after_call) = idle_process_rss(&base, process_cache.path()).await;
    let (idle, after_call) = idle_process_rss(&base, process_cache.path()).await;
    json!({
        "rounds": rounds,
        "median_us": {
            "library": micros(lib),
            "v1_call": micros(api_m),
            "mcp_tools_call": micros(mcp_m),
            "mcp_tool_handler_in_process": micros(handler),
            "mcp_tools_call_by_rmcp_service": micros(rmcp_m),
        },
        "added_us": {
            "v1_call": micros(api_m) - micros(lib),
            "mcp_tools_call": micros(mcp_m) - micros(lib),
            "mcp_tools_call_by_rmcp_service": micros(rmcp_m) - micros(lib),
        },
        "mcp_breakdown_us": {
            "json_rpc_parse": micros(parse),
            "tool_handler": micros(handler),
            "tool_handler_minus_library_call": micros(handler) - micros(lib),
            "answer_serialization": micros(write),
            "http": micros(mcp_m) - micros(handler) - micros(parse) - micros(write),
            "rmcp_service_instead": micros(rmcp_m) - micros(mcp_m),
        },
        "v1_call_per_s_64_in_flight": per_second,
        "v1_call_per_s_64_in_flight_raw_client": raw_per_second,
        "serve_rss_bytes_idle": idle,
        "serve_rss_bytes_after_one_call": after_call,
        "serve_rss_bytes_idle_cold_cache": cold_idle,
        "serve_rss_bytes_after_one_call_cold_cache": cold_after_call,
    })
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let rounds = argv
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| argv.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let r = runtime.block_on(runtime.spawn(run(rounds))).unwrap();
    if argv.iter().any(|a| a == "--json") {
        println!("{r}");
        return;
    }
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mib = |v: &Value| v.as_f64().map_or(f64::NAN, |b| b / (1024.0 * 1024.0));
    println!("dockhand serve against the mock Hub on loopback, {rounds} interleaved rounds:");
    println!(
        "  Dockhand::call (the library)        {:>8.1} µs",
        f(&r["median_us"]["library"])
    );
    println!(
        "  POST /v1/call                       {:>8.1} µs   +{:.1} µs",
        f(&r["median_us"]["v1_call"]),
        f(&r["added_us"]["v1_call"])
    );
    println!(
        "  MCP tools/call over HTTP            {:>8.1} µs   +{:.1} µs",
        f(&r["median_us"]["mcp_tools_call"]),
        f(&r["added_us"]["mcp_tools_call"])
    );
    println!(
        "  the same through rmcp's service     {:>8.1} µs   +{:.1} µs",
        f(&r["median_us"]["mcp_tools_call_by_rmcp_service"]),
        f(&r["added_us"]["mcp_tools_call_by_rmcp_service"])
    );
    let b = &r["mcp_breakdown_us"];
    println!("  an MCP call, stage by stage:");
    println!(
        "    JSON-RPC parse                    {:>8.1} µs",
        f(&b["json_rpc_parse"])
    );
    println!(
        "    tool handler (the call inside)    {:>8.1} µs   +{:.1} µs over the library call",
        f(&b["tool_handler"]),
        f(&b["tool_handler_minus_library_call"])
    );
    println!(
        "    answer serialization              {:>8.1} µs",
        f(&b["answer_serialization"])
    );
    println!(
        "    HTTP (the rest)                   {:>8.1} µs",
        f(&b["http"])
    );
    println!(
        "    rmcp's per-request service instead {:>7.1} µs more",
        f(&b["rmcp_service_instead"])
    );
    println!(
        "  /v1/call, 64 in flight              {:>8.0} calls/s",
        f(&r["v1_call_per_s_64_in_flight"])
    );
    println!(
        "  the same, minimal load generator    {:>8.0} calls/s",
        f(&r["v1_call_per_s_64_in_flight_raw_client"])
    );
    println!(
        "  dockhand serve resident, idle       {:>8.1} MiB (after one call {:.1} MiB), cache filled",
        mib(&r["serve_rss_bytes_idle"]),
        mib(&r["serve_rss_bytes_after_one_call"])
    );
    println!(
        "  the same, cache empty (compiles)    {:>8.1} MiB (after one call {:.1} MiB)",
        mib(&r["serve_rss_bytes_idle_cold_cache"]),
        mib(&r["serve_rss_bytes_after_one_call_cold_cache"])
    );
}
