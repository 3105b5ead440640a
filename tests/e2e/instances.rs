//! Fresh instances: what each dynamic call runs in, and what the pooling allocator hands back
//! after resetting a slot another call used.

use dockhand_host::credentials::Accounts;
use dockhand_host::{CallError, CallOptions, Dockhand, HubError};
use dockhand_mock::fixtures::{ALICE_REPO, ALPINE, LIBRARY};
use dockhand_mock::{MockConfig, MockHub};
use dockhand_tests::{host_config, wit_call_options};
use serde_json::{Value, json};

async fn start() -> (MockHub, Dockhand) {
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = Dockhand::new(host_config(mock.base_url()), Accounts::anonymous()).unwrap();
    (mock, hub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_session_answers_a_dynamic_call_as_hub_call_does() {
    let (mock, hub) = start().await;
    let args = json!({"namespace": LIBRARY, "repository": ALPINE});

    let mut session = hub.instantiate_catalog().await.unwrap();
    let options = wit_call_options(mock.base_url());
    let response = session
        .catalog
        .call_call(
            &mut session.store,
            "get_repository",
            &args.to_string(),
            &options,
        )
        .await
        .expect("no trap")
        .expect("a response");
    let direct: Value = serde_json::from_str(&response.body).unwrap();

    let through_hub = hub
        .call("get_repository", &args, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(direct, through_hub.body);
    assert_eq!(direct["name"], ALPINE);
}

/// Slots are reset (zeroed pages, kept resident) and handed to the next call: a call must see
/// nothing of the one before it, success or failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_reused_slots_each_start_clean() {
    let (_mock, hub) = start().await;
    for round in 0..120 {
        let (namespace, repository) = match round % 3 {
            0 => (LIBRARY, ALPINE),
            1 => ("alice", ALICE_REPO),
            _ => (LIBRARY, "no-such-repository"),
        };
        let args = json!({"namespace": namespace, "repository": repository});
        let result = hub
            .call("get_repository", &args, &CallOptions::default())
            .await;
        match (round % 3, result) {
            (2, Err(CallError::Hub(HubError::NotFound(_)))) => {}
            (2, other) => panic!("round {round}: expected not-found, got {other:?}"),
            (_, Ok(found)) => {
                assert_eq!(found.body["name"], repository, "round {round}");
                assert_eq!(found.body["namespace"], namespace, "round {round}");
            }
            (_, Err(e)) => panic!("round {round}: {e:?}"),
        }
    }
}
