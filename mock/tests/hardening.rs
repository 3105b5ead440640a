//! The mock is safe to leave running: it refuses impossible dates, oversized bodies, slow or idle
//! connections and public addresses, and its request log stays bounded.

mod common;

use common::{start, start_with};
use dockhand_mock::MockConfig;
use dockhand_mock::fixtures as fx;

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
