//! The mock is safe to leave running: it refuses impossible dates, oversized bodies, slow or idle
//! connections and public addresses, and its request log stays bounded.

mod common;

use common::start;
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
