//! The gateway component (`gateway/`) under the real `wasmtime serve` (the wasmtime CLI of the
//! host's own 48.x line), configured through `--env` as an engine configures it, beside
//! `dockhand serve` with the same two clients, both against one mock Hub: the same calls get
//! the same answers, byte for byte; a read-only client's write is refused and a writer's goes
//! through; a bad client token is a 401; a typed error keeps its status; a 429 is waited out;
//! the personal access token is exchanged in the guest and never comes back out.

use crate::serve::{READER_TOKEN, Served, WRITER_TOKEN, home_with_clients, json_of, send};
use dockhand_host::http_client::BufferedResponse;
use dockhand_mock::{Fault, FaultKind, MockConfig, MockHub, fixtures};
use http::{Method, StatusCode};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The component's size budget.
const MAX_GATEWAY_BYTES: u64 = 600 * 1000;

/// The built gateway component (host/build.rs makes it beside the plugin).
fn gateway_wasm() -> PathBuf {
    match option_env!("DOCKHAND_GATEWAY_WASM") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "the host's build made no gateway (DOCKHAND_COMPONENT_WASM was set, so it built \
             nothing)"
        ),
    }
}

/// The wasmtime CLI: `DOCKHAND_WASMTIME`, else `wasmtime` on PATH, else where `.ci/run`
/// installs it.
fn wasmtime() -> PathBuf {
    if let Some(path) = std::env::var_os("DOCKHAND_WASMTIME") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("wasmtime"))
        .find(|p| p.is_file());
    let cached = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/dockhand-ci/tools/bin/wasmtime"))
        .filter(|p| p.is_file());
    on_path.or(cached).expect(
        "no wasmtime CLI: `cargo install wasmtime-cli --version 48.0.8 --locked \
         --no-default-features --features run,serve,cranelift,component-model,\
         component-model-async,parallel-compilation,pooling-allocator,wasi-config` \
         (.ci/run does), or set DOCKHAND_WASMTIME",
    )
}

/// A running `wasmtime serve` of the gateway, and what it logged so far.
struct Gateway {
    child: Child,
    base: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    fn start(env: &[(&str, String)]) -> Gateway {
        let mut command = Command::new(wasmtime());
        command.args(["serve", "--addr", "127.0.0.1:0", "-Scli"]);
        for (name, value) in env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        let mut child = command
            .arg(gateway_wasm())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wasmtime serve starts");
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Serving HTTP on ") {
                    let _ = tx.send(url.trim().trim_end_matches('/').to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("wasmtime serve says where it listens");
        Gateway { child, base, log }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a client sees of an answer: status, content type, the dockhand headers, the body.
fn seen(r: &BufferedResponse) -> (StatusCode, Vec<String>, String) {
    let headers = [
        "content-type",
        "x-dockhand-pages",
        "retry-after",
        "www-authenticate",
    ]
    .iter()
    .filter_map(|name| {
        r.headers
            .get(*name)
            .map(|v| format!("{name}: {}", v.to_str().unwrap_or("?")))
    })
    .collect();
    (
        r.status,
        headers,
        String::from_utf8_lossy(&r.body).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_under_wasmtime_serve_answers_as_dockhand_serve_does() {
    let size = std::fs::metadata(gateway_wasm()).unwrap().len();
    assert!(
        size <= MAX_GATEWAY_BYTES,
        "the gateway is {size} bytes, over {MAX_GATEWAY_BYTES}"
    );

    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = home_with_clients();
    let served = Served::start(home.path(), &hub, &[]);
    let reader_digest = {
        use sha2::{Digest, Sha256};
        hex(&Sha256::digest(READER_TOKEN.as_bytes()))
    };
    let gateway = Gateway::start(&[
        ("DOCKHAND_BASE_URL", hub.base_url()),
        ("DOCKHAND_CLIENTS", "reader,writer".into()),
        ("DOCKHAND_CLIENT_READER_TOKEN_SHA256", reader_digest),
        ("DOCKHAND_CLIENT_WRITER_TOKEN", WRITER_TOKEN.into()),
        ("DOCKHAND_CLIENT_WRITER_ALLOW_WRITE", "true".into()),
        ("DOCKHAND_USERNAME", fixtures::ALICE.into()),
        ("DOCKHAND_TOKEN", fixtures::ALICE_PAT.into()),
    ]);

    // The same requests, to both: the same answers.
    let private = format!(
        r#"{{"namespace": "{}", "repository": "{}"}}"#,
        fixtures::ORG,
        fixtures::PRIVATE_REPO
    );
    let same: Vec<(Method, &str, Option<&str>, String)> = vec![
        (
            Method::GET,
            "/v1/operations",
            Some(READER_TOKEN),
            String::new(),
        ),
        (
            Method::GET,
            "/v1/docs/list_repository_tags",
            Some(READER_TOKEN),
            String::new(),
        ),
        (
            Method::GET,
            "/v1/docs/nope",
            Some(READER_TOKEN),
            String::new(),
        ),
        (
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            r#"{"namespace": "library", "repository": "alpine"}"#.into(),
        ),
        // Private: only with alice's token, which the gateway exchanged itself.
        (
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            private,
        ),
        (
            Method::POST,
            "/v1/call/list_repository_tags?all_pages=true&page_concurrency=1",
            Some(READER_TOKEN),
            r#"{"namespace": "library", "repository": "alpine", "page_size": 2}"#.into(),
        ),
        // A typed error with its status.
        (
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            r#"{"namespace": "library", "repository": "no-such-repo"}"#.into(),
        ),
        (
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            r#"{"namespace": "library", "page_size": 0}"#.into(),
        ),
        (
            Method::POST,
            "/v1/call/get_repositry",
            Some(READER_TOKEN),
            "{}".into(),
        ),
        // Refused before anything is sent.
        (
            Method::POST,
            "/v1/call/create_repository",
            Some(READER_TOKEN),
            r#"{"namespace": "alice", "name": "demo"}"#.into(),
        ),
        (
            Method::POST,
            "/v1/call/get_repository?nope=1",
            Some(READER_TOKEN),
            "{}".into(),
        ),
        (
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            "[1]".into(),
        ),
        (
            Method::GET,
            "/v1/operations",
            Some("not-a-client-token"),
            String::new(),
        ),
        (Method::GET, "/v1/operations", None, String::new()),
    ];
    for (method, path, token, body) in &same {
        let from_serve = send(&served.base, method.clone(), path, *token, body).await;
        let from_gateway = send(&gateway.base, method.clone(), path, *token, body).await;
        let (serve, gateway_seen) = (seen(&from_serve), seen(&from_gateway));
        assert_eq!(gateway_seen, serve, "{method} {path} {body}");
        for secret in [READER_TOKEN, WRITER_TOKEN, fixtures::ALICE_PAT] {
            assert!(
                !gateway_seen.2.contains(secret),
                "a secret in {gateway_seen:?}"
            );
        }
    }
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for (method, path, token, body) in &same {
            s.push(
                send(&gateway.base, method.clone(), path, *token, body)
                    .await
                    .status
                    .as_u16(),
            );
        }
        s
    };
    assert_eq!(
        statuses,
        [
            200, 200, 404, 200, 200, 200, 404, 400, 404, 403, 400, 400, 401, 401
        ],
        "each answer is what it says"
    );

    // The private repository was read with the JWT the gateway exchanged alice's token for,
    // at the mock's /v2/auth/token; the token itself went nowhere else.
    let requests = hub.requests();
    let exchanges = requests
        .iter()
        .filter(|r| r.path == "/v2/auth/token")
        .count();
    assert!(
        exchanges >= 1,
        "no exchange: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    for r in requests.iter().filter(|r| r.path != "/v2/auth/token") {
        for (name, value) in &r.headers {
            assert!(
                !value.contains(fixtures::ALICE_PAT),
                "{} {} sent the PAT in {name}",
                r.method,
                r.path
            );
        }
    }

    // A writer's write goes through.
    let created = send(
        &gateway.base,
        Method::POST,
        "/v1/call/create_repository",
        Some(WRITER_TOKEN),
        r#"{"namespace": "alice", "name": "made-by-the-gateway"}"#,
    )
    .await;
    assert_eq!(
        created.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(json_of(&created)["name"], "made-by-the-gateway");

    // A 429 is waited out: the mock asks for a second, the call still answers 200.
    hub.clear_requests();
    let repository = "/v2/namespaces/library/repositories/alpine";
    hub.inject(Fault {
        path_prefix: Some(repository.into()),
        ..Fault::new(FaultKind::RetryAfter { seconds: 1 })
    });
    let started = std::time::Instant::now();
    let waited = send(
        &gateway.base,
        Method::POST,
        "/v1/call/get_repository",
        Some(READER_TOKEN),
        r#"{"namespace": "library", "repository": "alpine"}"#,
    )
    .await;
    assert_eq!(
        waited.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&waited.body)
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    let sent = hub
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(repository))
        .count();
    assert_eq!(sent, 2, "the call was sent again after the 429");
}

/// A gateway whose settings are broken answers nothing but its health, and logs which setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_gateway_refuses_every_call_and_names_the_setting() {
    let gateway = Gateway::start(&[("DOCKHAND_CLIENTS", "ci".into())]);
    let health = send(&gateway.base, Method::GET, "/healthz", None, "").await;
    assert_eq!(health.status, StatusCode::OK);
    let refused = send(&gateway.base, Method::GET, "/v1/operations", Some("x"), "").await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    // The caller is told that, the engine's log which setting.
    let message = json_of(&refused)["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("misconfigured") && !message.contains("DOCKHAND"),
        "{message}"
    );
    let logged = gateway.log.lock().unwrap().join("\n");
    assert!(
        logged.contains("DOCKHAND_CLIENT_CI_TOKEN_SHA256"),
        "{logged}"
    );

    // Without clients, nobody is answered.
    let open = Gateway::start(&[]);
    let refused = send(
        &open.base,
        Method::GET,
        "/v1/operations",
        Some("anything"),
        "",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}
