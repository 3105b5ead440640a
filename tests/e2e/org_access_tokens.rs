//! Organization access tokens. Only an owner signed in with a password may manage them: the mock,
//! like the Hub, refuses PAT-minted JWTs and organization tokens on these routes.

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{
    ACME_OAT_JWT, ALICE_PASSWORD_JWT, ALICE_PAT_JWT, ANONYMOUS_ACCOUNT, Claim, Harness,
    ORG_ACCOUNT, PASSWORD_ACCOUNT, sent,
};
use serde_json::{Value, json};

pub const AREA: &str = "org-access-tokens";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("list_org_access_tokens",  "org_access_token_lifecycle"),
    ("create_org_access_token", "org_access_token_lifecycle"),
    ("get_org_access_token",    "org_access_token_lifecycle"),
    ("update_org_access_token", "org_access_token_lifecycle"),
    ("delete_org_access_token", "org_access_token_lifecycle"),
    ("list_org_access_tokens",  "pat_jwt_is_forbidden_on_org_access_tokens"),
    ("create_org_access_token", "org_token_cannot_manage_org_tokens"),
];

const TOKENS: &str = "/v2/orgs/acme/access-tokens";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_access_token_lifecycle() {
    let h = Harness::start(CLAIMS).await;

    let resources = json!([{"type": "TYPE_REPO", "path": "acme/private",
                            "scopes": ["scope-image-pull"]}]);
    let call = h
        .call_as(
            PASSWORD_ACCOUNT,
            "create_org_access_token",
            json!({"name": "acme", "label": "ci", "description": "pulls for CI",
                   "resources": resources, "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    sent("POST", TOKENS, ALICE_PASSWORD_JWT)
        .json(
            json!({"label": "ci", "description": "pulls for CI", "resources": resources,
                     "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .check(call.request());
    let created = call.ok();
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().expect("an id").to_string();
    let secret = created.body["token"]
        .as_str()
        .expect("the secret")
        .to_string();
    assert!(secret.starts_with("dckr_oat_mock_"), "{secret}");
    assert_eq!(created.body["resources"], resources);

    // The secret is shown once, and it works: the organization can exchange it.
    let exchange = h
        .call_as(
            ANONYMOUS_ACCOUNT,
            "create_auth_token",
            json!({"identifier": fx::ORG, "secret": secret}),
        )
        .await;
    assert!(exchange.body()["access_token"].is_string());

    let call = h
        .call_as(
            PASSWORD_ACCOUNT,
            "list_org_access_tokens",
            json!({"name": "acme", "page": 1, "page_size": 10}),
        )
        .await;
    sent("GET", TOKENS, ALICE_PASSWORD_JWT)
        .query("page=1&page_size=10")
        .check(call.request());
    let list = call.body();
    assert_eq!(list["total"], 2);
    let labels: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, [fx::ORG_OAT_LABEL, "ci"]);
    assert!(
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none()),
        "{list}"
    );

    let call = h
        .call_as(
            PASSWORD_ACCOUNT,
            "get_org_access_token",
            json!({"org_name": "acme", "access_token_id": id}),
        )
        .await;
    sent("GET", format!("{TOKENS}/{id}"), ALICE_PASSWORD_JWT).check(call.request());
    let token = call.body();
    assert_eq!(token["label"], "ci");
    assert_eq!(token["created_by"], fx::ALICE);
    assert_eq!(token["resources"], resources);
    assert!(token.get("token").is_none(), "{token}");

    let call = h
        .call_as(
            PASSWORD_ACCOUNT,
            "update_org_access_token",
            json!({"org_name": "acme", "access_token_id": id,
                   "label": "ci (paused)", "is_active": false}),
        )
        .await;
    sent("PATCH", format!("{TOKENS}/{id}"), ALICE_PASSWORD_JWT)
        .json(json!({"label": "ci (paused)", "is_active": false}))
        .check(call.request());
    assert_eq!(call.body()["label"], "ci (paused)");
    assert_eq!(call.body()["is_active"], false);

    let call = h
        .call_as(
            PASSWORD_ACCOUNT,
            "delete_org_access_token",
            json!({"org_name": "acme", "access_token_id": id}),
        )
        .await;
    sent("DELETE", format!("{TOKENS}/{id}"), ALICE_PASSWORD_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);

    let gone = h
        .call_as(
            PASSWORD_ACCOUNT,
            "get_org_access_token",
            json!({"org_name": "acme", "access_token_id": id}),
        )
        .await;
    assert!(
        matches!(gone.hub_error(), HubError::NotFound(m) if m.contains(&id)),
        "{:?}",
        gone.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pat_jwt_is_forbidden_on_org_access_tokens() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call("list_org_access_tokens", json!({"name": "acme"}))
        .await;
    sent("GET", TOKENS, ALICE_PAT_JWT).check(call.request());
    assert_eq!(
        call.hub_error(),
        &HubError::Forbidden(
            "token issued from personal access token is not allowed here; use a password or an \
             organization access token"
                .into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_token_cannot_manage_org_tokens() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call_as(
            ORG_ACCOUNT,
            "create_org_access_token",
            json!({"name": "acme", "label": "self-made"}),
        )
        .await;
    sent("POST", TOKENS, ACME_OAT_JWT)
        .json(json!({"label": "self-made"}))
        .check(call.request());
    assert_eq!(
        call.hub_error(),
        &HubError::Forbidden(
            "organization access tokens cannot manage organization access tokens".into()
        )
    );
}
