//! Organization settings (the restricted-images policy).

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_tests::{
    ACME_OAT_JWT, ALICE_PASSWORD_JWT, ALICE_PAT_JWT, Claim, Harness, ORG_ACCOUNT, PASSWORD_ACCOUNT,
    sent,
};
use serde_json::json;

pub const AREA: &str = "org-settings";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("get_org_settings",    "get_org_settings"),
    ("update_org_settings", "update_org_settings_with_the_org_token"),
    ("update_org_settings", "update_org_settings_with_a_password"),
    ("update_org_settings", "pat_jwt_is_forbidden_on_org_settings_update"),
];

const SETTINGS: &str = "/v2/orgs/acme/settings";

fn policy(enabled: bool, official: bool, verified: bool) -> serde_json::Value {
    json!({"restricted_images": {"enabled": enabled, "allow_official_images": official,
                                 "allow_verified_publishers": verified}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_org_settings() {
    let h = Harness::start(CLAIMS).await;
    let call = h.call("get_org_settings", json!({"name": "acme"})).await;
    sent("GET", SETTINGS, ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.body(), &policy(false, true, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_org_settings_with_the_org_token() {
    let h = Harness::start(CLAIMS).await;
    let wanted = policy(true, true, false);
    let mut args = wanted.clone();
    args["name"] = json!("acme");
    let call = h.call_as(ORG_ACCOUNT, "update_org_settings", args).await;
    sent("PUT", SETTINGS, ACME_OAT_JWT)
        .json(wanted.clone())
        .check(call.request());
    assert_eq!(call.body(), &wanted);

    let stored = h.call("get_org_settings", json!({"name": "acme"})).await;
    assert_eq!(stored.body(), &wanted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_org_settings_with_a_password() {
    let h = Harness::start(CLAIMS).await;
    let wanted = policy(true, false, false);
    // The body may also be given whole, as `body`.
    let call = h
        .call_as(
            PASSWORD_ACCOUNT,
            "update_org_settings",
            json!({"name": "acme", "body": wanted}),
        )
        .await;
    sent("PUT", SETTINGS, ALICE_PASSWORD_JWT)
        .json(wanted.clone())
        .check(call.request());
    assert_eq!(call.body(), &wanted);
}

/// Like the Hub, the mock refuses JWTs minted from a personal access token here; the component
/// must hand the Hub's reason back as a typed `forbidden`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pat_jwt_is_forbidden_on_org_settings_update() {
    let h = Harness::start(CLAIMS).await;
    let wanted = policy(true, true, true);
    let mut args = wanted.clone();
    args["name"] = json!("acme");
    let call = h.call("update_org_settings", args).await;
    sent("PUT", SETTINGS, ALICE_PAT_JWT)
        .json(wanted)
        .check(call.request());
    assert_eq!(
        call.hub_error(),
        &HubError::Forbidden(
            "token issued from personal access token is not allowed here; use a password or an \
             organization access token"
                .into()
        )
    );

    let unchanged = h.call("get_org_settings", json!({"name": "acme"})).await;
    assert_eq!(unchanged.body(), &policy(false, true, true));
}
