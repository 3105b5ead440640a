//! `dockhand serve` as a process on a free port, with two clients from config.yaml (one
//! read-only, one allowed to write), against the mock Hub: who may call, what each route answers,
//! the concurrency limit, metrics, graceful shutdown, and no secret in any answer or log line.

use crate::support::spawn_dockhand;
use bytes::Bytes;
use dockhand_host::http_client::{BufferedResponse, HttpClient, HttpClientConfig};
use dockhand_mock::{MockConfig, MockHub, fixtures};
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};

pub(crate) const READER_TOKEN: &str = "serve-client-token-reader-0001";
pub(crate) const WRITER_TOKEN: &str = "serve-client-token-writer-0002";

/// A home whose config.yaml names the two clients, their tokens in 0600 files.
pub(crate) fn home_with_clients() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/dockhand");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, token) in [
        ("reader.token", READER_TOKEN),
        ("writer.token", WRITER_TOKEN),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, token).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        "serve:\n  clients:\n    reader:\n      token_file: reader.token\n    writer:\n      \
         token_file: writer.token\n      allow_write: true\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    home
}

/// A running `dockhand serve`: its base URL, and everything it wrote on stderr so far.
pub(crate) struct Served {
    child: Child,
    pub(crate) base: String,
    stderr: Arc<Mutex<Vec<String>>>,
    /// The home it runs in, when it made its own.
    _home: Option<tempfile::TempDir>,
}

impl Drop for Served {
    /// A test that fails half-way must not leave its server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    pub(crate) fn start(home: &Path, hub: &MockHub, extra: &[&str]) -> Served {
        let mut args = vec![
            "--base-url",
            hub.base_url().leak(),
            "--no-cache",
            "serve",
            "--addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let mut child = spawn_dockhand(
            home,
            &args,
            &[
                ("DOCKHAND_USERNAME", fixtures::ALICE),
                ("DOCKHAND_TOKEN", fixtures::ALICE_PAT),
            ],
        );
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(url.to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("serve says where it listens");
        Served {
            child,
            base,
            stderr,
            _home: None,
        }
    }

    /// Serving in a home of its own with the two clients of [`home_with_clients`].
    pub(crate) fn with_clients(hub: &MockHub, extra: &[&str]) -> Served {
        let home = home_with_clients();
        let mut served = Served::start(home.path(), hub, extra);
        served._home = Some(home);
        served
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// SIGTERM, then the exit code.
    pub(crate) fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        // The reader thread ends with the pipe.
        std::thread::sleep(std::time::Duration::from_millis(50));
        (status.code(), self.log())
    }
}

pub(crate) async fn send(
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> BufferedResponse {
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    client
        .send_buffered(request, 16 * 1024 * 1024)
        .await
        .unwrap()
}

pub(crate) fn json_of(r: &BufferedResponse) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

/// Every secret the server holds or was given, none of which may show anywhere.
const SECRETS: [&str; 3] = [READER_TOKEN, WRITER_TOKEN, fixtures::ALICE_PAT];

pub(crate) fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "a secret in {what}: {text}");
    }
}

/// Nothing but token exchanges was POSTed to the Hub (since its requests were last cleared).
pub(crate) fn assert_no_write_sent(hub: &MockHub) {
    let requests = hub.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method != "POST" || r.path.contains("/auth/")),
        "{requests:#?}"
    );
}

/// `/metrics`, checked to count what both the `/v1/call` and the MCP test do on `surface`: a
/// read, a read of a missing repository, a write refused and a write done; none in flight.
pub(crate) async fn metrics_counting_the_calls(base: &str, surface: &str) -> String {
    let r = send(base, Method::GET, "/metrics", Some(READER_TOKEN), "").await;
    assert_eq!(r.status, StatusCode::OK);
    let metrics = String::from_utf8_lossy(&r.body).to_string();
    for (operation, outcome) in [
        ("get_repository", "ok"),
        ("get_repository", "not-found"),
        ("create_repository", "denied"),
        ("create_repository", "ok"),
    ] {
        let line = format!(
            r#"dockhand_calls_total{{surface="{surface}",operation="{operation}",outcome="{outcome}"}} 1"#
        );
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("dockhand_calls_in_flight 0"), "{metrics}");
    metrics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_its_clients_and_only_them() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let served = Served::with_clients(&hub, &[]);
    let base = served.base.clone();
    let mut answers = String::new();

    let r = send(&base, Method::GET, "/healthz", None, "").await;
    assert_eq!(r.status, StatusCode::OK);

    // No token, or one no client has: 401, and nothing reaches the Hub.
    hub.clear_requests();
    for token in [None, Some("not-a-client-token"), Some(&READER_TOKEN[..10])] {
        let r = send(
            &base,
            Method::POST,
            "/v1/call/get_repository",
            token,
            r#"{"namespace":"alice","repository":"demo"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(r.headers["www-authenticate"], "Bearer");
        assert_eq!(json_of(&r)["error"]["kind"], "unauthorized");
    }
    let r = send(&base, Method::GET, "/v1/operations", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());

    let r = send(&base, Method::GET, "/v1/operations", Some(READER_TOKEN), "").await;
    assert_eq!(r.status, StatusCode::OK);
    let ops = json_of(&r);
    assert!(
        ops.as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "list_repository_tags")
    );
    let r = send(
        &base,
        Method::GET,
        "/v1/docs/get_repository",
        Some(READER_TOKEN),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&r.body).contains("get_repository"));

    // A call, its result as the body.
    let r = send(
        &base,
        Method::POST,
        "/v1/call/get_repository",
        Some(READER_TOKEN),
        r#"{"namespace":"alice","repository":"demo"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(json_of(&r)["name"], "demo");
    answers.push_str(&String::from_utf8_lossy(&r.body));
    // Pages and their options come from the query.
    let r = send(
        &base,
        Method::POST,
        "/v1/call/list_repository_tags?all_pages=true&page_concurrency=2",
        Some(READER_TOKEN),
        r#"{"namespace":"library","repository":"alpine","page_size":2}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["x-dockhand-pages"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 1
    );

    // Typed errors with their statuses.
    let cases = [
        (
            "/v1/call/get_repository",
            r#"{"namespace":"alice","repository":"nope"}"#,
            404,
            "not-found",
        ),
        (
            "/v1/call/get_repository",
            r#"{"namespace":"alice"}"#,
            400,
            "invalid-argument",
        ),
        ("/v1/call/no_such_operation", "{}", 404, "unknown-operation"),
        ("/v1/call/get_repository", "{not json", 400, "usage"),
        (
            "/v1/call/get_repository?namespace=alice",
            "{}",
            400,
            "usage",
        ),
    ];
    for (path, body, status, kind) in cases {
        let r = send(&base, Method::POST, path, Some(READER_TOKEN), body).await;
        assert_eq!(r.status.as_u16(), status, "{path} {body}");
        assert_eq!(json_of(&r)["error"]["kind"], kind, "{path} {body}");
        answers.push_str(&String::from_utf8_lossy(&r.body));
    }

    // Limits: a body over 1 MiB, and more headers than a client needs.
    let big = format!("{{\"namespace\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let r = send(
        &base,
        Method::POST,
        "/v1/call/get_repository",
        Some(READER_TOKEN),
        &big,
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let mut request = Request::builder()
        .uri(format!("{base}/v1/operations"))
        .header("authorization", format!("Bearer {READER_TOKEN}"));
    for i in 0..100 {
        request = request.header(format!("x-filler-{i}"), "x");
    }
    let r = client
        .send_buffered(request.body(Full::new(Bytes::new())).unwrap(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    // A write: refused for the read-only client with nothing sent, done for the writer.
    hub.clear_requests();
    let create = r#"{"namespace":"alice","name":"from-serve"}"#;
    let r = send(
        &base,
        Method::POST,
        "/v1/call/create_repository",
        Some(READER_TOKEN),
        create,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(json_of(&r)["error"]["kind"], "denied");
    assert_no_write_sent(&hub);
    let r = send(
        &base,
        Method::POST,
        "/v1/call/create_repository",
        Some(WRITER_TOKEN),
        create,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(json_of(&r)["name"], "from-serve");

    // Metrics count what happened.
    let r = send(&base, Method::GET, "/metrics", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let metrics = metrics_counting_the_calls(&base, "api").await;
    assert!(
        metrics.contains("dockhand_rejected_unauthenticated_total 5"),
        "{metrics}"
    );
    answers.push_str(&metrics);

    let (code, log) = served.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("client=reader surface=api operation=get_repository outcome=ok status=200"),
        "{log}"
    );
    assert!(
        log.contains("client=writer surface=api operation=create_repository outcome=ok"),
        "{log}"
    );
    assert_no_secret("the log", &log);
    assert_no_secret("the answers", &answers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_past_its_queue_and_finishes_calls_in_flight_on_sigterm() {
    let hub = MockHub::start(MockConfig {
        latency: std::time::Duration::from_millis(1500),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let home = home_with_clients();
    let served = Served::start(
        home.path(),
        &hub,
        &["--max-in-flight", "1", "--max-queued", "0"],
    );
    let base = served.base.clone();
    let call = |base: String| async move {
        send(
            &base,
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            r#"{"namespace":"alice","repository":"demo"}"#,
        )
        .await
    };
    let first = tokio::spawn(call(base.clone()));
    // The first call holds the only slot while the mock takes its time.
    let waited = std::time::Instant::now();
    while hub.requests().is_empty() {
        assert!(
            waited.elapsed().as_secs() < 30,
            "the first call never reached the Hub"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let second = call(base.clone()).await;
    assert_eq!(second.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.headers["retry-after"], "1");
    assert_eq!(json_of(&second)["error"]["kind"], "busy");

    // SIGTERM while the first call is in flight: it still gets its answer, then the server ends.
    let pid = served.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let first = first.await.unwrap();
    assert_eq!(
        first.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(json_of(&first)["name"], "demo");
    let (code, log) = served.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert_no_secret("the log", &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_will_not_listen_beyond_loopback_without_clients_and_tls_or_insecure_http() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let bare = tempfile::tempdir().unwrap();
    let run = crate::support::dockhand(
        bare.path(),
        &[
            "--base-url",
            &hub.base_url(),
            "serve",
            "--addr",
            "0.0.0.0:0",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("serve.clients"), "{}", run.stderr);
    let home = home_with_clients();
    let run = crate::support::dockhand(
        home.path(),
        &[
            "--base-url",
            &hub.base_url(),
            "serve",
            "--addr",
            "0.0.0.0:0",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--insecure-http"), "{}", run.stderr);
}

/// With --tls-cert and --tls-key serve speaks HTTPS: a client that trusts the certificate gets
/// its answers; a key file others can read is refused before anything listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_https_with_its_certificate_and_guards_its_key() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = home_with_clients();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (home.path().join("cert.pem"), home.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (cert_arg, key_arg) = (cert.to_str().unwrap(), key.to_str().unwrap());

    let run = crate::support::dockhand(
        home.path(),
        &[
            "--base-url",
            &hub.base_url(),
            "serve",
            "--tls-cert",
            cert_arg,
            "--tls-key",
            key_arg,
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let served = Served::start(
        home.path(),
        &hub,
        &["--tls-cert", cert_arg, "--tls-key", key_arg],
    );
    assert!(served.base.starts_with("https://"), "{}", served.base);
    let addr = served.base.trim_start_matches("https://").to_string();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let body = r#"{"namespace":"alice","repository":"demo"}"#;
    let request = format!(
        "POST /v1/call/get_repository HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {READER_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"name\":\"demo\""), "{answer}");

    // Plain HTTP to the TLS port gets no answer from the API.
    let plain = send_raw_plain(&addr).await;
    assert!(!plain.contains("demo"), "{plain}");

    let (code, log) = served.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert_no_secret("the log", &log);
}

/// A plain-HTTP request to `addr`, whatever comes back (nothing, or a TLS alert).
async fn send_raw_plain(addr: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = tcp
        .write_all(b"GET /v1/operations HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tcp.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Without clients every local caller is trusted, so what a web page could make a browser send
/// is refused: a request with an Origin, one addressed to a name that is not loopback (DNS
/// rebinding), and a call whose body is not declared JSON (a form post needs no preflight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_clients_refuses_what_a_web_page_could_send() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let bare = tempfile::tempdir().unwrap();
    let served = Served::start(bare.path(), &hub, &["--allow-write"]);
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let call = |headers: &[(&str, &str)]| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/v1/call/create_repository", served.base));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request
            .body(Full::new(Bytes::from(
                r#"{"namespace":"alice","name":"from-a-page"}"#,
            )))
            .unwrap()
    };
    hub.clear_requests();
    for (headers, status) in [
        (
            vec![
                ("content-type", "application/json"),
                ("origin", "https://evil.example"),
            ],
            403,
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("host", "evil.example:8080"),
            ],
            403,
        ),
        (vec![("content-type", "text/plain")], 415),
        (vec![], 415),
    ] {
        let r = client.send_buffered(call(&headers), 1 << 20).await.unwrap();
        assert_eq!(r.status.as_u16(), status, "{headers:?}");
    }
    assert!(
        hub.requests()
            .iter()
            .all(|r| r.method != "POST" || r.path.contains("/auth/"))
    );
    // The same call as a script sends it goes through.
    let r = client
        .send_buffered(call(&[("content-type", "application/json")]), 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let (code, log) = served.terminate();
    assert_eq!(code, Some(0), "{log}");
}

/// A server whose stderr is gone (the pipe closed) still answers: a log line that cannot be
/// written is dropped, not a reason to drop the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_after_its_stderr_is_closed() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = home_with_clients();
    let base = hub.base_url();
    let mut child = spawn_dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "serve",
            "--addr",
            "127.0.0.1:0",
        ],
        &[],
    );
    let url = {
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("serve says where it listens").unwrap();
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        }
        // The reader, and with it the pipe's only read end, is dropped here.
    };
    for _ in 0..2 {
        let r = send(
            &url,
            Method::POST,
            "/v1/call/get_repository",
            Some(READER_TOKEN),
            r#"{"namespace":"library","repository":"alpine"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(json_of(&r)["name"], "alpine");
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Writes one POST on a fresh connection and returns the connection, unread.
async fn post_and_hold(base: &str, path: &str, headers: &str, body: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {READER_TOKEN}\r\n\
         content-type: application/json\r\n{headers}content-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    tcp
}

/// A client that hangs up while its call waits on the Hub cancels it, over MCP as over
/// `/v1/call`: the call is counted and logged as cancelled at once, not when the Hub answers, and
/// no longer counts as in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_cancels_a_call_whose_client_hung_up() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let served = Served::with_clients(&hub, &[]);
    let base = served.base.clone();
    let repo_path = "/v2/namespaces/alice/repositories/demo";
    hub.inject(
        dockhand_mock::Fault::slow_headers(std::time::Duration::from_secs(20))
            .path_prefix(repo_path)
            .times(2),
    );
    let args = r#"{"namespace":"alice","repository":"demo"}"#;
    let mcp_call = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"get_repository","arguments":{args}}}}}"#
    );
    let calls = [
        ("/v1/call/get_repository", "", args.to_string()),
        (
            "/mcp",
            "accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\n",
            mcp_call,
        ),
    ];
    for (i, (path, headers, body)) in calls.iter().enumerate() {
        let held = post_and_hold(&base, path, headers, body).await;
        let waited = std::time::Instant::now();
        while hub
            .requests()
            .iter()
            .filter(|r| r.path == repo_path)
            .count()
            <= i
        {
            assert!(waited.elapsed().as_secs() < 30, "{path}: no Hub request");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        drop(held);
    }
    let hung_up = std::time::Instant::now();
    let wanted = [
        r#"dockhand_calls_total{surface="api",operation="get_repository",outcome="cancelled"} 1"#,
        r#"dockhand_calls_total{surface="mcp",operation="get_repository",outcome="cancelled"} 1"#,
        "dockhand_calls_in_flight 0",
    ];
    loop {
        let r = send(&base, Method::GET, "/metrics", Some(READER_TOKEN), "").await;
        let metrics = String::from_utf8_lossy(&r.body).to_string();
        if wanted.iter().all(|line| metrics.contains(line)) {
            break;
        }
        assert!(
            hung_up.elapsed().as_secs() < 5,
            "the calls were not cancelled when their clients hung up:\n{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (code, log) = served.terminate();
    assert_eq!(code, Some(0), "{log}");
    for surface in ["api", "mcp"] {
        let line =
            format!("client=reader surface={surface} operation=get_repository outcome=cancelled");
        assert!(log.contains(&line), "{line} in\n{log}");
    }
    assert_no_secret("the log", &log);
}

/// Past `--max-connections` the server accepts nothing more until a connection closes: idle
/// connections cannot pile up without bound; the next one is served as soon as there is room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_waits_for_room_past_its_connection_cap() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let served = Served::with_clients(&hub, &["--max-connections", "2"]);
    let addr = served.base.trim_start_matches("http://").to_string();
    let idle_a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _idle_b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Let the server take both before the third arrives.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let early = tokio::time::timeout(
        std::time::Duration::from_millis(700),
        third.read_to_end(&mut answer),
    )
    .await;
    assert!(
        early.is_err() && answer.is_empty(),
        "a third connection was served past the cap of 2: {}",
        String::from_utf8_lossy(&answer)
    );
    drop(idle_a);
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        third.read_to_end(&mut answer),
    )
    .await
    .expect("served once a connection closed")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
