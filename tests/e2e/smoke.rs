use dockhand_host::credentials::Accounts;
use dockhand_host::{CallOptions, Dockhand, HostConfig};
use dockhand_mock::{MockConfig, MockHub};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_public_read_through_the_component() {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let config = HostConfig {
        base_url: mock.base_url(),
        cache_dir: None,
        ..HostConfig::default()
    };
    let hub = Dockhand::new(config, Accounts::anonymous()).unwrap();
    let result = hub
        .call(
            "get_repository",
            &json!({"namespace": "library", "repository": "alpine"}),
            &CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(result.status, 200);
    assert_eq!(result.body["name"], "alpine");
    let req = &mock.requests()[0];
    assert_eq!(req.path, "/v2/namespaces/library/repositories/alpine");
    assert_eq!(req.header("authorization"), None);
}
