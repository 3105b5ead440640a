//! Faults, rate limiting and connection handling, seen from the client side of the socket.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{head_value, raw, raw_get, split_response, start, start_with};
use dockhand_mock::{Fault, FaultKind, MockConfig, RateLimit};

const ALPINE: &str = "/v2/namespaces/library/repositories/alpine";
const TAGS: &str = "/v2/namespaces/library/repositories/alpine/tags";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn retry_after_headers_old_and_new() {
    let (hub, api) = start().await;
    hub.inject(Fault::retry_after(7));
    let r = api.get(ALPINE, None).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert!(r.header("x-ratelimit-limit").is_some());
    assert_eq!(
        api.get(ALPINE, None).await.status,
        200,
        "the fault is used up"
    );

    hub.inject(Fault::x_retry_after(30));
    let r = api.get(ALPINE, None).await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_none());
    let at: u64 = r.header("x-retry-after").unwrap().parse().unwrap();
    assert!(at.abs_diff(unix_now() + 30) <= 2, "{at}");
    // Faulted requests are recorded like any other.
    assert_eq!(hub.requests().len(), 3);
}

#[tokio::test]
async fn server_errors_with_json_bodies() {
    let (hub, api) = start().await;
    for status in [500, 502, 503, 504] {
        hub.inject(Fault::status(status));
    }
    hub.inject(Fault::new(FaultKind::Status {
        status: 503,
        body: Some(serde_json::json!({"detail": "maintenance"})),
    }));
    for status in [500, 502, 503, 504] {
        let r = api.get(ALPINE, None).await;
        assert_eq!(r.status, status);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .contains(&status.to_string())
        );
    }
    assert_eq!(api.get(ALPINE, None).await.json()["detail"], "maintenance");
    assert_eq!(api.get(ALPINE, None).await.status, 200);
}

#[tokio::test]
async fn faults_match_method_and_path_prefix() {
    let (hub, api) = start().await;
    hub.inject(Fault::status(503).method("POST").times(2));
    hub.inject(Fault::status(502).path_prefix("/v2/orgs/"));
    assert_eq!(api.get(ALPINE, None).await.status, 200);
    let body = serde_json::json!({"identifier": "x", "secret": "y"});
    assert_eq!(
        api.json("POST", "/v2/auth/token", None, body.clone())
            .await
            .status,
        503
    );
    assert_eq!(
        api.json("POST", "/v2/auth/token", None, body.clone())
            .await
            .status,
        503
    );
    assert_eq!(
        api.json("POST", "/v2/auth/token", None, body).await.status,
        401
    );
    assert_eq!(api.get("/v2/orgs/acme/members", None).await.status, 502);
    assert_eq!(api.get("/v2/orgs/acme/members", None).await.status, 401);

    hub.inject(Fault::status(500).times(10));
    hub.clear_faults();
    assert_eq!(api.get(ALPINE, None).await.status, 200);
}

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let (hub, api) = start().await;
    hub.inject(Fault::malformed_json());
    let r = api.get(TAGS, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    hub.inject(Fault::oversized_body(3_000_000));
    let r = api.get(TAGS, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 3_000_000);
    assert_eq!(r.header("content-length"), Some("3000000"));
    assert!(r.json()["results"].is_array());
}

#[tokio::test]
async fn redirect_to_another_host() {
    let (hub, api) = start().await;
    hub.inject(Fault::redirect());
    let r = api.get(&format!("{TAGS}?page_size=5"), None).await;
    assert_eq!(r.status, 302);
    let expected = format!("http://127.0.0.2:{}{TAGS}?page_size=5", hub.addr().port());
    assert_eq!(r.header("location"), Some(expected.as_str()));

    hub.inject(Fault::redirect_to("https://evil.example/"));
    let r = api.get(ALPINE, None).await;
    assert_eq!(
        r.header("location"),
        Some(format!("https://evil.example{ALPINE}").as_str())
    );
}

#[tokio::test]
async fn truncated_body_closes_early() {
    let (hub, _api) = start().await;
    hub.inject(Fault::truncated_body());
    let (bytes, _) = raw(hub.addr(), &raw_get(TAGS), Duration::from_secs(5)).await;
    let (head, body) = split_response(&bytes);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head_value(&head, "content-length")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        !body.is_empty() && body.len() < declared,
        "{} of {declared}",
        body.len()
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());

    // The same fault on a body-less answer still sends a cut body.
    hub.inject(Fault::truncated_body());
    let (bytes, _) = raw(
        hub.addr(),
        &raw_get("/v2/orgs/acme/nowhere"),
        Duration::from_secs(5),
    )
    .await;
    let (head, body) = split_response(&bytes);
    let declared: usize = head_value(&head, "content-length")
        .unwrap()
        .parse()
        .unwrap();
    assert!(body.len() < declared);
}

#[tokio::test]
async fn slow_headers_and_slow_body() {
    let (hub, api) = start().await;
    hub.inject(Fault::slow_headers(Duration::from_millis(300)));
    let started = Instant::now();
    let r = api.get(ALPINE, None).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "alpine");

    hub.inject(Fault::slow_body(Duration::from_millis(400)));
    let mut stream = tokio::net::TcpStream::connect(hub.addr()).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(raw_get(TAGS).as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut first = [0u8; 65536];
    let n = stream.read(&mut first).await.unwrap();
    let first_at = started.elapsed();
    let mut all = first[..n].to_vec();
    stream.read_to_end(&mut all).await.unwrap();
    let done_at = started.elapsed();
    assert!(
        first_at < Duration::from_millis(200),
        "head came after {first_at:?}"
    );
    assert!(
        done_at >= Duration::from_millis(400),
        "body done after {done_at:?}"
    );
    let (head, body) = split_response(&all);
    let declared: usize = head_value(&head, "content-length")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body.len(), declared);
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["count"], 5);
}

#[tokio::test]
async fn connection_reset_sends_nothing() {
    let (hub, api) = start().await;
    hub.inject(Fault::connection_reset());
    let (bytes, error) = raw(hub.addr(), &raw_get(ALPINE), Duration::from_secs(5)).await;
    assert!(bytes.is_empty(), "{}", String::from_utf8_lossy(&bytes));
    if let Some(e) = error {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    }
    assert_eq!(hub.requests().len(), 1);
    assert_eq!(api.get(ALPINE, None).await.status, 200);
}

#[tokio::test]
async fn rate_limit_headers_count_requests() {
    let (hub, api) = start().await;
    let first = api.get(ALPINE, None).await;
    let second = api.get("/v2/nowhere", None).await;
    assert_eq!(second.status, 404);
    let value = |r: &common::Resp, h: &str| -> u64 { r.header(h).unwrap().parse().unwrap() };
    assert_eq!(
        value(&first, "x-ratelimit-limit"),
        value(&second, "x-ratelimit-limit")
    );
    assert_eq!(
        value(&first, "x-ratelimit-remaining") - 1,
        value(&second, "x-ratelimit-remaining")
    );
    assert!(value(&first, "x-ratelimit-reset") >= unix_now());

    hub.set_rate_limit(Some(RateLimit::new(3, Duration::from_secs(2))));
    for left in [2, 1, 0] {
        let r = api.get(ALPINE, None).await;
        assert_eq!(r.status, 200);
        assert_eq!(value(&r, "x-ratelimit-limit"), 3);
        assert_eq!(value(&r, "x-ratelimit-remaining"), left);
    }
    let r = api.get(ALPINE, None).await;
    assert_eq!(r.status, 429);
    assert_eq!(value(&r, "x-ratelimit-remaining"), 0);
    let retry = value(&r, "retry-after");
    assert!((1..=2).contains(&retry), "{retry}");
    let reset = value(&r, "x-ratelimit-reset");
    assert!(reset >= unix_now() && reset <= unix_now() + 3);

    hub.set_rate_limit(None);
    assert_eq!(api.get(ALPINE, None).await.status, 200);
}

#[tokio::test]
async fn configured_rate_limit_window_resets() {
    let config = MockConfig {
        rate_limit: Some(RateLimit::new(1, Duration::from_secs(1))),
        ..MockConfig::default()
    };
    let (_hub, api) = start_with(config).await;
    assert_eq!(api.get(ALPINE, None).await.status, 200);
    assert_eq!(api.get(ALPINE, None).await.status, 429);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(api.get(ALPINE, None).await.status, 200);
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let (hub, api) = start().await;
    for _ in 0..5 {
        assert_eq!(api.get(ALPINE, None).await.status, 200);
    }
    assert_eq!(hub.connections_accepted(), 1);
    for _ in 0..2 {
        let (bytes, _) = raw(hub.addr(), &raw_get(ALPINE), Duration::from_secs(5)).await;
        assert!(bytes.starts_with(b"HTTP/1.1 200"));
    }
    assert_eq!(hub.connections_accepted(), 3);
    assert_eq!(hub.requests().len(), 7);
    hub.clear_requests();
    assert!(hub.requests().is_empty());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (hub, api) = start().await;
    assert_eq!(api.get(ALPINE, None).await.status, 200);
    let addr = hub.addr();
    hub.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let config = MockConfig {
        addr,
        ..MockConfig::default()
    };
    // The port is free again for a new mock.
    let (again, api) = start_with(config).await;
    assert_eq!(again.addr(), addr);
    assert_eq!(api.get(ALPINE, None).await.status, 200);
    drop(again);
}

#[test]
fn handle_can_move_between_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<dockhand_mock::MockHub>();
    shareable::<dockhand_mock::MockConfig>();
}
