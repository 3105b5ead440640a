//! The signed-in user and their organizations (extended operations: Docker's hub-tool uses them,
//! its published description does not list them).

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{
    ACME_OAT_JWT, ALICE_PAT_JWT, ANONYMOUS_ACCOUNT, Auth, CAROL_ACCOUNT, Claim, Harness,
    ORG_ACCOUNT, sent,
};
use serde_json::json;

pub const AREA: &str = "users";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("get_current_user",       "get_current_user_answers_for_the_bearer"),
    ("get_current_user",       "get_current_user_needs_a_user"),
    ("list_current_user_orgs", "list_current_user_orgs"),
    ("list_current_user_orgs", "list_current_user_orgs_of_a_plain_member"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_current_user_answers_for_the_bearer() {
    let h = Harness::start(CLAIMS).await;
    let call = h.call("get_current_user", json!({})).await;
    // The trailing slash is part of the route, as Docker's hub-tool sends it.
    sent("GET", "/v2/user/", ALICE_PAT_JWT).check(call.request());
    let user = call.body();
    assert_eq!(user["username"], fx::ALICE);
    assert_eq!(user["company"], "Acme Mock Corp");
    assert_eq!(user["type"], "User");
    assert_eq!(user["id"].as_str().map(str::len), Some(32), "{user}");

    let carol = h
        .call_as(CAROL_ACCOUNT, "get_current_user", json!({}))
        .await;
    assert_eq!(carol.body()["username"], fx::CAROL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_current_user_needs_a_user() {
    let h = Harness::start(CLAIMS).await;
    // An organization access token speaks for no user.
    let org = h.call_as(ORG_ACCOUNT, "get_current_user", json!({})).await;
    sent("GET", "/v2/user/", ACME_OAT_JWT).check(org.request());
    assert!(
        matches!(org.hub_error(), HubError::Forbidden(_)),
        "{:?}",
        org.hub_error()
    );
    let anonymous = h
        .call_as(ANONYMOUS_ACCOUNT, "get_current_user", json!({}))
        .await;
    sent("GET", "/v2/user/", Auth::None).check(anonymous.request());
    assert!(
        matches!(anonymous.hub_error(), HubError::Unauthorized(_)),
        "{:?}",
        anonymous.hub_error()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_current_user_orgs() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call("list_current_user_orgs", json!({"page": 1, "page_size": 5}))
        .await;
    sent("GET", "/v2/user/orgs/", ALICE_PAT_JWT)
        .query("page=1&page_size=5")
        .check(call.request());
    let page = call.body();
    assert_eq!(page["count"], 1);
    assert_eq!(page["next"], json!(null));
    assert_eq!(page["results"][0]["orgname"], fx::ORG);
    assert_eq!(page["results"][0]["type"], "Organization");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_current_user_orgs_of_a_plain_member() {
    let h = Harness::start(CLAIMS).await;
    let carol = h
        .call_as(CAROL_ACCOUNT, "list_current_user_orgs", json!({}))
        .await;
    sent(
        "GET",
        "/v2/user/orgs/",
        Auth::Jwt {
            subject: fx::CAROL,
            token_type: "pat",
        },
    )
    .check(carol.request());
    let names: Vec<&str> = carol.body()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orgname"].as_str().unwrap())
        .collect();
    assert_eq!(names, [fx::ORG]);
}
