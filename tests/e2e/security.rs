//! Arguments cannot steer a request to another route, and the component goes nowhere the Hub's
//! answers point it to off the Hub's origin — even where the host's egress policy would allow it.

use std::net::{Ipv4Addr, SocketAddr};

use crate::coverage::CLAIMS;
use dockhand_host::policy::{Origin, Policy};
use dockhand_host::{CallOptions, Dockhand, HostConfig, HubError};
use dockhand_mock::{Fault, FaultKind, MockConfig, MockHub};
use dockhand_tests::{ALICE_PAT_JWT, Harness, host_config, sent, standard_accounts};
use serde_json::json;

/// Path traversal attempts stay inside the one segment they were given for: the mock sees
/// `get_repository`'s route with an odd repository name, and answers that this repository does
/// not exist — with alice's bearer attached, `/v2/access-tokens` would have answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_are_percent_encoded_into_their_segment() {
    let h = Harness::start(CLAIMS).await;
    let cases = [
        (
            "../../v2/access-tokens",
            "a/b",
            "/v2/namespaces/..%2F..%2Fv2%2Faccess-tokens/repositories/a%2Fb",
            "repository ../../v2/access-tokens/a/b not found",
        ),
        (
            "library",
            "../../../access-tokens",
            "/v2/namespaces/library/repositories/..%2F..%2F..%2Faccess-tokens",
            "repository library/../../../access-tokens not found",
        ),
        (
            "%2e%2e",
            "x?y#z",
            "/v2/namespaces/%252e%252e/repositories/x%3Fy%23z",
            "repository %2e%2e/x?y#z not found",
        ),
    ];
    for (namespace, repository, raw_path, message) in cases {
        let call = h
            .call(
                "get_repository",
                json!({"namespace": namespace, "repository": repository}),
            )
            .await;
        sent("GET", raw_path, ALICE_PAT_JWT).check(call.request());
        assert_eq!(
            call.hub_error(),
            &HubError::NotFound(message.into()),
            "{namespace} / {repository}"
        );
    }

    // A bare dot segment would be normalised away by URL handling, so it never leaves.
    for dots in [".", ".."] {
        let call = h
            .call_cold(
                "get_repository",
                json!({"namespace": dots, "repository": "alpine"}),
                CallOptions::default(),
            )
            .await;
        assert!(call.requests.is_empty(), "{:#?}", call.requests);
        assert_eq!(dockhand_tests::invalid_argument_name(&call), "namespace");
    }
}

/// Another mock on 127.0.0.2, allowed by the host's policy, standing for "somewhere else".
async fn elsewhere() -> MockHub {
    MockHub::start(MockConfig {
        addr: SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0)),
        ..MockConfig::default()
    })
    .await
    .expect("bind 127.0.0.2")
}

/// The host's egress policy admits both mocks, so only the component's own rules keep it home.
fn permissive_host(mock: &MockHub, other: &MockHub) -> Dockhand {
    let config = HostConfig {
        policy: Policy {
            allowed: vec![
                Origin::parse(&mock.base_url()).unwrap(),
                Origin::parse(&other.base_url()).unwrap(),
            ],
            ..Policy::default()
        },
        ..host_config(mock.base_url())
    };
    Dockhand::new(config, standard_accounts()).expect("build the host")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_to_another_host_is_not_followed() {
    let other = elsewhere().await;
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = permissive_host(&mock, &other);
    let h = Harness::around(CLAIMS, mock, hub);

    let tags = "/v2/namespaces/library/repositories/alpine/tags";
    let off_host = format!("{}{tags}?page=2", other.base_url());
    h.mock.inject(
        Fault::new(FaultKind::Status {
            status: 200,
            body: Some(json!({"count": 4, "next": off_host, "previous": null,
                              "results": [{"name": "latest"}, {"name": "3.20"}]})),
        })
        .path_prefix(tags),
    );
    let options = CallOptions {
        all_pages: true,
        ..CallOptions::default()
    };
    let call = h
        .call_with(
            "list_repository_tags",
            json!({"namespace": "library", "repository": "alpine", "page_size": 2}),
            options,
        )
        .await;
    sent("GET", tags, ALICE_PAT_JWT)
        .query("page_size=2")
        .check(call.request());
    let result = call.ok();
    assert_eq!(result.pages, 1);
    assert_eq!(result.body["results"].as_array().unwrap().len(), 2);
    // The link is handed back for the caller to judge, not fetched.
    assert_eq!(result.body["next"], off_host);
    assert!(other.requests().is_empty(), "{:#?}", other.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_not_followed() {
    let other = elsewhere().await;
    let mock = MockHub::start(MockConfig::default()).await.unwrap();
    let hub = permissive_host(&mock, &other);
    let h = Harness::around(CLAIMS, mock, hub);

    h.mock
        .inject(Fault::redirect_to(&other.base_url()).method("GET"));
    let call = h
        .call(
            "get_repository",
            json!({"namespace": "alice", "repository": "demo"}),
        )
        .await;
    sent(
        "GET",
        "/v2/namespaces/alice/repositories/demo",
        ALICE_PAT_JWT,
    )
    .check(call.request());
    match call.hub_error() {
        HubError::Upstream(e) => assert_eq!((e.status, e.message.as_str()), (302, "moved")),
        other => panic!("a redirect should come back as upstream 302: {other:?}"),
    }
    assert!(other.requests().is_empty(), "{:#?}", other.requests());
}
