//! The host's HTTP sender keeps connections alive: a TCP (and, on the real Hub, TLS) handshake
//! per call would dominate the cost of a Hub call.

use dockhand_host::credentials::Accounts;
use dockhand_host::{CallOptions, Dockhand, HostConfig};
use dockhand_mock::{MockConfig, MockHub};
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
