//! Personal access tokens of the signed-in user.

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{
    ACME_OAT_JWT, ALICE_PAT_JWT, ANONYMOUS_ACCOUNT, Claim, Harness, ORG_ACCOUNT, sent,
};
use serde_json::{Value, json};

pub const AREA: &str = "access-tokens";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("create_personal_access_token", "pat_lifecycle"),
    ("list_personal_access_tokens",  "pat_lifecycle"),
    ("get_personal_access_token",    "pat_lifecycle"),
    ("update_personal_access_token", "pat_lifecycle"),
    ("delete_personal_access_token", "pat_lifecycle"),
    ("list_personal_access_tokens",  "org_tokens_have_no_personal_tokens"),
];

/// Create → list → get → update → delete; the secret is shown by the create answer only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pat_lifecycle() {
    let h = Harness::start(CLAIMS).await;

    let create = json!({"token_label": "e2e token", "scopes": ["repo:read"],
                        "expires_at": "2099-01-01T00:00:00Z"});
    let call = h.call("create_personal_access_token", create.clone()).await;
    sent("POST", "/v2/access-tokens", ALICE_PAT_JWT)
        .json(create)
        .check(call.request());
    let created = call.ok();
    assert_eq!(created.status, 201);
    let uuid = created.body["uuid"].as_str().expect("a uuid").to_string();
    let secret = created.body["token"]
        .as_str()
        .expect("the secret")
        .to_string();
    assert!(secret.starts_with("dckr_pat_mock_"), "{secret}");
    assert_eq!(created.body["token_label"], "e2e token");
    assert_eq!(created.body["scopes"], json!(["repo:read"]));
    assert_eq!(created.body["is_active"], true);
    assert_eq!(created.body["expires_at"], "2099-01-01T00:00:00Z");

    // The secret really is a credential: the token exchange accepts it.
    let exchange = h
        .call_as(
            ANONYMOUS_ACCOUNT,
            "create_auth_token",
            json!({"identifier": fx::ALICE, "secret": secret}),
        )
        .await;
    assert!(exchange.body()["access_token"].is_string());

    let call = h
        .call(
            "list_personal_access_tokens",
            json!({"page": 1, "page_size": 100}),
        )
        .await;
    sent("GET", "/v2/access-tokens", ALICE_PAT_JWT)
        .query("page=1&page_size=100")
        .check(call.request());
    let list = call.body();
    assert_eq!(list["count"], 3);
    assert_eq!(list["active_count"], 3);
    let tokens = list["results"].as_array().unwrap();
    let uuids: Vec<&str> = tokens.iter().map(|t| t["uuid"].as_str().unwrap()).collect();
    assert_eq!(
        uuids,
        [
            fx::ALICE_PAT_UUID,
            fx::ALICE_PAT_READ_ONLY_UUID,
            uuid.as_str()
        ]
    );
    assert!(tokens.iter().all(|t| t["token"] == ""), "{tokens:?}");

    let call = h
        .call("get_personal_access_token", json!({"uuid": uuid}))
        .await;
    sent("GET", format!("/v2/access-tokens/{uuid}"), ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body()["token_label"], "e2e token");
    assert_eq!(call.body()["token"], "");

    let call = h
        .call(
            "update_personal_access_token",
            json!({"uuid": uuid, "token_label": "renamed", "is_active": false}),
        )
        .await;
    sent("PATCH", format!("/v2/access-tokens/{uuid}"), ALICE_PAT_JWT)
        .json(json!({"token_label": "renamed", "is_active": false}))
        .check(call.request());
    assert_eq!(call.body()["token_label"], "renamed");
    assert_eq!(call.body()["is_active"], false);
    assert_eq!(call.body()["token"], "");

    let call = h
        .call("delete_personal_access_token", json!({"uuid": uuid}))
        .await;
    sent("DELETE", format!("/v2/access-tokens/{uuid}"), ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);

    let gone = h
        .call("get_personal_access_token", json!({"uuid": uuid}))
        .await;
    assert!(
        matches!(gone.hub_error(), HubError::NotFound(m) if m.contains(&uuid)),
        "{:?}",
        gone.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_tokens_have_no_personal_tokens() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call_as(ORG_ACCOUNT, "list_personal_access_tokens", json!({}))
        .await;
    sent("GET", "/v2/access-tokens", ACME_OAT_JWT).check(call.request());
    assert_eq!(
        call.hub_error(),
        &HubError::Forbidden("organization access tokens cannot be used for this operation".into())
    );
}
