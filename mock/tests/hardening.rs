//! The mock is safe to leave running: it refuses impossible dates, oversized bodies, slow or idle
//! connections and public addresses, and its request log stays bounded.

mod common;

use std::time::Duration;

use common::{head_value, raw, split_response, start, start_with};
use dockhand_mock::fixtures as fx;
use dockhand_mock::{MockConfig, MockHub, check_listen_addr, parse_listen_addr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

#[tokio::test]
async fn audit_log_filters_refuse_impossible_dates() {
    let (_hub, api) = start().await;
    let pw = api.token(fx::ALICE, fx::ALICE_PASSWORD).await;
    for bad in [
        "from=2023-02-31",
        "to=2023-02-29T00:00:00Z",
        "from=2024-06-01T24:00:00Z",
    ] {
        let r = api
            .get(&format!("/v2/auditlogs/acme?{bad}"), Some(&pw))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        let name = bad.split('=').next().unwrap();
        assert!(r.text().contains(name), "{bad}: {}", r.text());
    }
    let r = api
        .get("/v2/auditlogs/acme?from=2024-02-29T00:00:00Z", Some(&pw))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn access_tokens_refuse_an_impossible_expiry() {
    let (_hub, api) = start().await;
    let pw = api.token(fx::ALICE, fx::ALICE_PASSWORD).await;
    let r = api
        .json(
            "POST",
            "/v2/access-tokens",
            Some(&pw),
            serde_json::json!({
                "token_label": "t",
                "scopes": ["repo:read"],
                "expires_at": "2030-02-30T00:00:00Z",
            }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("expires_at"), "{}", r.text());
}

#[test]
fn seed_files_refuse_impossible_dates() {
    let err = MockConfig::from_seed_yaml(
        "repositories: [{namespace: n, name: r, last_updated: '2023-02-31T00:00:00Z'}]",
    )
    .unwrap_err();
    assert!(err.contains("2023-02-31"), "{err}");
}

#[tokio::test]
async fn the_request_log_keeps_only_the_newest_requests() {
    let config = MockConfig {
        request_log_limit: 3,
        ..MockConfig::default()
    };
    let (hub, api) = start_with(config).await;
    for i in 0..5 {
        api.get(
            &format!("/v2/namespaces/library/repositories/alpine?n={i}"),
            None,
        )
        .await;
    }
    let queries: Vec<_> = hub.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        queries,
        [Some("n=2".into()), Some("n=3".into()), Some("n=4".into())]
    );
    assert_eq!(hub.requests_dropped(), 2);
    hub.clear_requests();
    api.get("/v2/namespaces/library/repositories/alpine", None)
        .await;
    assert_eq!(hub.requests().len(), 1);
}

#[tokio::test]
async fn the_request_log_is_bounded_in_bytes_too() {
    let config = MockConfig {
        request_log_bytes: 64 << 10,
        ..MockConfig::default()
    };
    let (hub, api) = start_with(config).await;
    let big = vec![b' '; 40 << 10];
    for _ in 0..3 {
        api.send(
            "POST",
            "/v2/auth/token",
            None,
            Some(("application/json", big.clone())),
        )
        .await;
    }
    // Two 40 KiB bodies do not fit in 64 KiB: only the newest request is left.
    assert_eq!(hub.requests().len(), 1);
    assert_eq!(hub.requests_dropped(), 2);

    // A request bigger than the whole budget is still kept, alone, as the newest.
    let config = MockConfig {
        request_log_bytes: 1,
        ..MockConfig::default()
    };
    let (hub, api) = start_with(config).await;
    api.get("/v2/namespaces/library/repositories/alpine", None)
        .await;
    api.get("/v2/namespaces/library/repositories/alpine?last", None)
        .await;
    let requests = hub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].query.as_deref(), Some("last"));
}

fn small_body_limit() -> MockConfig {
    MockConfig {
        max_request_body: 1024,
        ..MockConfig::default()
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body_is_read() {
    let (hub, _api) = start_with(small_body_limit()).await;
    // Only the head is sent: an answer proves the mock did not wait for the body.
    let head = "POST /v2/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/json\r\nContent-Length: 1025\r\n\r\n";
    let (bytes, _) = raw(hub.addr(), head, Duration::from_secs(5)).await;
    let (status, body) = split_response(&bytes);
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("1024 bytes"),
        "{body}"
    );
    let recorded = hub.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, "/v2/auth/token");
    assert!(recorded[0].body.is_empty());
}

#[tokio::test]
async fn a_chunked_body_is_read_only_up_to_the_limit() {
    let (hub, _api) = start_with(small_body_limit()).await;
    let mut request = String::from(
        "POST /v2/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..3 {
        request.push_str(&format!("200\r\n{}\r\n", " ".repeat(512)));
    }
    // No last chunk: the body never ends, so only the count can stop the read.
    let (bytes, _) = raw(hub.addr(), &request, Duration::from_secs(5)).await;
    let (status, _) = split_response(&bytes);
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
}

#[tokio::test]
async fn bodies_up_to_the_limit_are_served() {
    let (_hub, api) = start_with(small_body_limit()).await;
    let mut body = br#"{"identifier": "alice", "secret": "mock-password-alice"}"#.to_vec();
    body.resize(1024, b' ');
    let r = api
        .send(
            "POST",
            "/v2/auth/token",
            None,
            Some(("application/json", body)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    // The default limit is far above the Hub's largest request.
    let (_hub, api) = start().await;
    let pat = api.token(fx::ALICE, fx::ALICE_PAT).await;
    let r = api
        .json(
            "POST",
            "/v2/namespaces/alice/repositories",
            Some(&pat),
            serde_json::json!({
                "name": "long-readme",
                "namespace": "alice",
                "full_description": "x".repeat(25_000),
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

fn short_timeouts(header: Duration, idle: Duration) -> MockConfig {
    MockConfig {
        header_read_timeout: header,
        idle_timeout: idle,
        ..MockConfig::default()
    }
}

/// Whether the peer closes (or resets) `stream` within `limit`, discarding what it sends.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Reads one response with a Content-Length body and returns its status line.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let (head, _) = split_response(&bytes);
            let length: usize = head_value(&head, "content-length")
                .unwrap()
                .parse()
                .unwrap();
            if bytes.len() >= at + 4 + length {
                return head.lines().next().unwrap().to_string();
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a response within 5 s")
            .unwrap();
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&buf[..n]);
    }
}

const KEEP_ALIVE_GET: &str =
    "GET /v2/namespaces/library/repositories/alpine HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test]
async fn a_connection_that_never_finishes_its_head_is_closed() {
    let (hub, _api) = start_with(short_timeouts(
        Duration::from_millis(200),
        Duration::from_secs(30),
    ))
    .await;

    // Silent from the start.
    let mut silent = TcpStream::connect(hub.addr()).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(2)).await);

    // Slowloris: a byte at a time, each well within the timeout, the head never complete.
    let mut dribbling = TcpStream::connect(hub.addr()).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for byte in KEEP_ALIVE_GET.bytes().cycle().take(40) {
        if dribbling.write_all(&[byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed || closed_within(&mut dribbling, Duration::from_secs(2)).await);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let (hub, _api) = start_with(short_timeouts(
        Duration::from_secs(30),
        Duration::from_millis(300),
    ))
    .await;
    let mut stream = TcpStream::connect(hub.addr()).await.unwrap();
    stream.write_all(KEEP_ALIVE_GET.as_bytes()).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    // Not at once: the connection was given its idle time first.
    assert!(idle_from.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn waiting_between_requests_is_not_held_against_the_next_head() {
    // The head timeout is shorter than the pause; the idle timeout is not.
    let (hub, _api) = start_with(short_timeouts(
        Duration::from_millis(200),
        Duration::from_secs(30),
    ))
    .await;
    let mut stream = TcpStream::connect(hub.addr()).await.unwrap();
    for _ in 0..2 {
        stream.write_all(KEEP_ALIVE_GET.as_bytes()).await.unwrap();
        assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(hub.connections_accepted(), 1);
}

#[test]
fn only_loopback_addresses_are_allowed_without_public() {
    for addr in [
        "127.0.0.1:8080",
        "127.8.9.10:0",
        "[::1]:8080",
        "[::ffff:127.0.0.1]:8080",
    ] {
        let addr = addr.parse().unwrap();
        assert_eq!(check_listen_addr(addr, false), Ok(()), "{addr}");
    }
    for addr in [
        "0.0.0.0:8080",
        "[::]:8080",
        "192.168.1.10:8080",
        "[2001:db8::1]:8080",
        "[::ffff:10.0.0.1]:8080",
    ] {
        let addr = addr.parse().unwrap();
        let err = check_listen_addr(addr, false).unwrap_err();
        assert!(
            err.contains(&addr.to_string()) && err.contains("loopback") && err.contains("--public"),
            "{err}"
        );
        assert_eq!(check_listen_addr(addr, true), Ok(()), "{addr}");
    }
}

#[test]
fn listen_addresses_may_name_localhost() {
    assert_eq!(
        parse_listen_addr("localhost:8080"),
        Ok("127.0.0.1:8080".parse().unwrap())
    );
    assert_eq!(parse_listen_addr("[::1]:0"), Ok("[::1]:0".parse().unwrap()));
    for bad in ["localhost", "example.com:80", "127.0.0.1", ":8080", ""] {
        let err = parse_listen_addr(bad).unwrap_err();
        assert!(err.contains("127.0.0.1:8080"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn start_refuses_a_public_address_unless_told() {
    // TEST-NET-1, never a local address: nothing is bound however the check goes.
    let config = MockConfig {
        addr: "192.0.2.1:8080".parse().unwrap(),
        ..MockConfig::default()
    };
    let err = MockHub::start(config.clone()).await.err().unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("--public"), "{err}");
    // Told, it gets as far as the bind, which fails here only because the address is not ours.
    let err = MockHub::start(MockConfig {
        public: true,
        ..config
    })
    .await
    .err()
    .unwrap();
    assert!(!err.to_string().contains("--public"), "{err}");
}

/// `latency` delays every answer, and requests wait side by side: two sent together are both
/// answered after about one latency, not two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_each_answer_and_requests_wait_side_by_side() {
    let latency = Duration::from_secs(1);
    let hub = MockHub::start(MockConfig {
        latency,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let api = common::Api::new(&hub.base_url());
    let path = "/v2/namespaces/library/repositories/alpine";
    let started = Instant::now();
    let (a, b) = tokio::join!(api.get(path, None), api.get(path, None));
    let elapsed = started.elapsed();
    assert_eq!((a.status, b.status), (200, 200));
    assert!(elapsed >= latency, "answered after {elapsed:?}");
    // Both waited at once: well under two latencies even on a busy machine.
    assert!(elapsed < latency * 19 / 10, "{elapsed:?}");
}
