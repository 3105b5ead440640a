//! The host's HTTP sender keeps connections alive: a TCP (and, on the real Hub, TLS) handshake
//! per call would dominate the cost of a Hub call. Over TLS it takes HTTP/2 when the server
//! offers it, so requests in flight together share one handshake.

use std::time::Duration;

use dockhand_host::credentials::Accounts;
use dockhand_host::{CallOptions, Dockhand, HostConfig};
use dockhand_mock::seed::{GeneratedTags, SeedRepository};
use dockhand_mock::{Fault, MockConfig, MockHub, fixtures};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_calls_to_one_authority_reuse_one_connection() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = Dockhand::new(
        HostConfig {
            base_url: mock.base_url(),
            cache_dir: None,
            ..HostConfig::default()
        },
        Accounts::anonymous(),
    )
    .unwrap();
    let args = json!({"namespace": "library", "repository": "alpine"});
    for _ in 0..20 {
        // Each call runs in a fresh component instance; the pool lives in the host.
        hub.call("get_repository", &args, &CallOptions::default())
            .await
            .unwrap();
    }
    assert_eq!(mock.requests().len(), 20);
    assert_eq!(
        mock.connections_accepted(),
        1,
        "20 sequential calls should share one keep-alive connection"
    );
}

/// A mock Hub over HTTPS, offering HTTP/2 by ALPN, answering after `latency`, with `tags`
/// generated tags in alice/big.
async fn tls_mock(latency: Duration, tags: usize) -> MockHub {
    let mut config = MockConfig {
        tls: true,
        latency,
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
    MockHub::start(config).await.unwrap()
}

fn trusting(mock: &MockHub, http2: bool) -> Dockhand {
    Dockhand::new(
        HostConfig {
            base_url: mock.base_url(),
            cache_dir: None,
            http2,
            extra_roots: vec![mock.certificate_der().unwrap().to_vec()],
            ..HostConfig::default()
        },
        Accounts::anonymous(),
    )
    .unwrap()
}

async fn all_tags(hub: &Dockhand) -> dockhand_host::CallResult {
    let options = CallOptions {
        all_pages: true,
        page_concurrency: Some(4),
        ..CallOptions::default()
    };
    let args = json!({"namespace": "alice", "repository": "big", "page_size": 10});
    hub.call("list_repository_tags", &args, &options)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_pages_over_tls_share_one_http2_connection() {
    let mock = tls_mock(Duration::from_millis(20), 95).await;
    let over_h2 = all_tags(&trusting(&mock, true)).await;
    assert_eq!(over_h2.pages, 10);
    assert_eq!(mock.requests().len(), 10);
    assert!(
        mock.most_in_flight() > 1,
        "the pages were not in flight together: {}",
        mock.most_in_flight()
    );
    assert_eq!(
        mock.connections_accepted(),
        1,
        "pages in flight together should share the one HTTP/2 connection"
    );

    // The same walk offering HTTP/1.1 only: a connection per page in flight, same result.
    let over_h1 = all_tags(&trusting(&mock, false)).await;
    assert!(
        mock.connections_accepted() > 2,
        "HTTP/1.1 needs a connection per request in flight: {} in all",
        mock.connections_accepted()
    );
    assert_eq!(over_h1.body, over_h2.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_that_is_reset_is_replaced() {
    let mock = tls_mock(Duration::ZERO, 5).await;
    let hub = trusting(&mock, true);
    let args = json!({"namespace": "library", "repository": "alpine"});
    hub.call("get_repository", &args, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(mock.connections_accepted(), 1);
    // The server drops the connection under the next request: the component's retry of the
    // idempotent GET, and every call after it, go on a new connection.
    mock.inject(Fault::connection_reset());
    let retried = hub
        .call("get_repository", &args, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(retried.status, 200);
    hub.call("get_repository", &args, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(mock.connections_accepted(), 2);
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_no_trusted_root_vouches_for_is_refused_before_any_request() {
    let mock = tls_mock(Duration::ZERO, 5).await;
    // The mock's own certificate is not among the roots: it is any server claiming the name.
    let hub = Dockhand::new(
        HostConfig {
            base_url: mock.base_url(),
            cache_dir: None,
            ..HostConfig::default()
        },
        Accounts::anonymous(),
    )
    .unwrap();
    let args = json!({"namespace": "library", "repository": "alpine"});
    let error = hub
        .call("get_repository", &args, &CallOptions::default())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("(tls)"), "{text}");
    assert!(mock.requests().is_empty(), "a request got through: {text}");
}
