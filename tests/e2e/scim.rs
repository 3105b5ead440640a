//! SCIM provisioning, authenticated with the organization's SCIM token (account `acme`).

use crate::coverage::CLAIMS;
use dockhand_host::credentials::CredentialError;
use dockhand_host::{CallError, CallOptions, HubError};
use dockhand_mock::fixtures as fx;
use dockhand_tests::{Claim, Harness, ORG_ACCOUNT, SCIM_BEARER, SCIM_USER_URN, sent};
use serde_json::{Value, json};

pub const AREA: &str = "scim";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("scim_get_service_provider_config", "scim_service_provider_config"),
    ("scim_list_resource_types",         "scim_resource_types"),
    ("scim_get_resource_type",           "scim_resource_types"),
    ("scim_list_schemas",                "scim_schemas"),
    ("scim_get_schema",                  "scim_schemas"),
    ("scim_create_user",                 "scim_user_lifecycle"),
    ("scim_list_users",                  "scim_user_lifecycle"),
    ("scim_get_user",                    "scim_user_lifecycle"),
    ("scim_update_user",                 "scim_user_lifecycle"),
];

const SCIM: &str = "/v2/scim/2.0";

async fn scim(h: &Harness, operation: &str, args: Value) -> dockhand_tests::Call {
    h.call_as(ORG_ACCOUNT, operation, args).await
}

#[track_caller]
fn assert_scim_answer(call: &dockhand_tests::Call) {
    let req = call.request();
    assert_eq!(req.header("accept"), Some("application/scim+json"));
    assert_eq!(
        call.ok().content_type.as_deref(),
        Some("application/scim+json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_service_provider_config() {
    let h = Harness::start(CLAIMS).await;
    let call = scim(&h, "scim_get_service_provider_config", json!({})).await;
    sent("GET", format!("{SCIM}/ServiceProviderConfig"), SCIM_BEARER).check(call.request());
    assert_scim_answer(&call);
    let config = call.body();
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(config["patch"]["supported"], false);
    assert_eq!(config["authenticationSchemes"]["type"], "oauthbearertoken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_resource_types() {
    let h = Harness::start(CLAIMS).await;
    let call = scim(&h, "scim_list_resource_types", json!({})).await;
    sent("GET", format!("{SCIM}/ResourceTypes"), SCIM_BEARER).check(call.request());
    assert_scim_answer(&call);
    assert_eq!(call.body()["totalResults"], 1);
    assert_eq!(call.body()["Resources"][0]["id"], "User");

    let call = scim(&h, "scim_get_resource_type", json!({"name": "User"})).await;
    sent("GET", format!("{SCIM}/ResourceTypes/User"), SCIM_BEARER).check(call.request());
    assert_eq!(call.body()["endpoint"], "/Users");
    assert_eq!(call.body()["schema"], SCIM_USER_URN);

    let call = scim(&h, "scim_get_resource_type", json!({"name": "Group"})).await;
    assert_eq!(
        call.hub_error(),
        &HubError::NotFound("resource type Group not found".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_schemas() {
    let h = Harness::start(CLAIMS).await;
    let call = scim(&h, "scim_list_schemas", json!({})).await;
    sent("GET", format!("{SCIM}/Schemas"), SCIM_BEARER).check(call.request());
    assert_scim_answer(&call);
    assert_eq!(call.body()["Resources"][0]["id"], SCIM_USER_URN);

    // The URN's colons are percent-encoded; the mock decodes the segment back.
    let call = scim(&h, "scim_get_schema", json!({"id": SCIM_USER_URN})).await;
    sent(
        "GET",
        format!("{SCIM}/Schemas/urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser"),
        SCIM_BEARER,
    )
    .check(call.request());
    assert_eq!(call.body()["id"], SCIM_USER_URN);
    assert_eq!(call.body()["name"], "User");
}

/// Provision a user, find them by filter, page through everyone, read, deactivate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_user_lifecycle() {
    let h = Harness::start(CLAIMS).await;
    let erin = "erin@acme.example";

    let new_user = json!({"schemas": [SCIM_USER_URN], "userName": erin,
                          "name": {"givenName": "Erin", "familyName": "Example"}});
    let call = scim(&h, "scim_create_user", new_user.clone()).await;
    sent("POST", format!("{SCIM}/Users"), SCIM_BEARER)
        .scim_json(new_user)
        .check(call.request());
    assert_scim_answer(&call);
    let created = call.ok();
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().expect("an id").to_string();
    assert_eq!(created.body["userName"], erin);
    assert_eq!(created.body["active"], true);

    let call = scim(
        &h,
        "scim_list_users",
        json!({"filter": format!("userName eq \"{erin}\"")}),
    )
    .await;
    sent("GET", format!("{SCIM}/Users"), SCIM_BEARER)
        .query("filter=userName%20eq%20%22erin%40acme.example%22")
        .check(call.request());
    assert_eq!(call.body()["totalResults"], 1);
    assert_eq!(call.body()["Resources"][0]["id"], id.as_str());

    let call = scim(&h, "scim_list_users", json!({"startIndex": 2, "count": 1})).await;
    sent("GET", format!("{SCIM}/Users"), SCIM_BEARER)
        .query("startIndex=2&count=1")
        .check(call.request());
    let page = call.body();
    assert_eq!(
        (
            &page["totalResults"],
            &page["itemsPerPage"],
            &page["startIndex"]
        ),
        (&json!(3), &json!(1), &json!(2))
    );
    assert_eq!(page["Resources"][0]["userName"], fx::CAROL_EMAIL);

    // all_pages steps startIndex by what each page returned.
    let options = CallOptions {
        account: Some(ORG_ACCOUNT.into()),
        all_pages: true,
        ..CallOptions::default()
    };
    let call = h
        .call_with("scim_list_users", json!({"count": 1}), options)
        .await;
    let mut queries: Vec<_> = call
        .requests
        .iter()
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    // Once the first page gives the total, pages 2 and 3 go out together and may arrive in
    // either order; the merged result below is in page order regardless.
    queries[1..].sort();
    assert_eq!(
        queries,
        ["count=1", "count=1&startIndex=2", "count=1&startIndex=3"]
    );
    let everyone: Vec<&str> = call.body()["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(everyone, [fx::ALICE_EMAIL, fx::CAROL_EMAIL, erin]);
    assert_eq!(call.ok().pages, 3);

    let call = scim(&h, "scim_get_user", json!({"id": id})).await;
    sent("GET", format!("{SCIM}/Users/{id}"), SCIM_BEARER).check(call.request());
    assert_eq!(call.body()["name"]["familyName"], "Example");

    let update = json!({"schemas": [SCIM_USER_URN],
                        "name": {"givenName": "Erin", "familyName": "Renamed"},
                        "enabled": false});
    let mut args = update.clone();
    args["id"] = json!(id);
    let call = scim(&h, "scim_update_user", args).await;
    sent("PUT", format!("{SCIM}/Users/{id}"), SCIM_BEARER)
        .scim_json(update)
        .check(call.request());
    assert_eq!(call.body()["active"], false);
    assert_eq!(call.body()["name"]["familyName"], "Renamed");

    let call = scim(
        &h,
        "scim_list_users",
        json!({"filter": "active eq false", "attributes": "userName"}),
    )
    .await;
    assert_eq!(
        call.body()["Resources"],
        json!([{"schemas": [SCIM_USER_URN], "id": id, "userName": erin}])
    );
}

/// The SCIM token is the account's own; an account without one sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_without_a_scim_token_sends_nothing() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call_cold("scim_list_users", json!({}), CallOptions::default())
        .await;
    assert!(call.requests.is_empty(), "{:#?}", call.requests);
    assert!(
        matches!(
            &call.result,
            Err(CallError::Credentials(CredentialError::NoScimToken { .. }))
        ),
        "{:?}",
        call.result
    );
}
