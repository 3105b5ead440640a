//! Organization members: listing, CSV export, roles, removal.

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{ALICE_PAT_JWT, CAROL_ACCOUNT, Claim, Harness, sent};
use serde_json::{Value, json};

pub const AREA: &str = "orgs";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("list_org_members",       "list_org_members_filters"),
    ("export_org_members",     "export_org_members_as_csv"),
    ("update_org_member_role", "update_org_member_role"),
    ("remove_org_member",      "remove_org_member"),
    ("list_org_members",       "remove_org_member"),
];

fn usernames(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {list}"))
        .iter()
        .map(|m| {
            // Invitees listed by email have an empty username.
            let name = m["username"].as_str().unwrap();
            if name.is_empty() {
                m["email"].as_str().unwrap().to_string()
            } else {
                name.to_string()
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_org_members_filters() {
    let h = Harness::start(CLAIMS).await;

    let call = h
        .call(
            "list_org_members",
            json!({"org_name": "acme", "role": "owner"}),
        )
        .await;
    sent("GET", "/v2/orgs/acme/members", ALICE_PAT_JWT)
        .query("role=owner")
        .check(call.request());
    assert_eq!(usernames(call.body()), ["alice"]);
    assert_eq!(call.body()["results"][0]["role"], "Owner");
    assert_eq!(call.body()["results"][0]["email"], fx::ALICE_EMAIL);

    let call = h
        .call(
            "list_org_members",
            json!({"org_name": "acme", "invites": true, "type": "all", "page_size": 10}),
        )
        .await;
    sent("GET", "/v2/orgs/acme/members", ALICE_PAT_JWT)
        .query("page_size=10&invites=true&type=all")
        .check(call.request());
    assert_eq!(call.body()["count"], 4);
    assert_eq!(
        usernames(call.body()),
        ["alice", "bob", "carol", fx::INVITEE]
    );
    assert_eq!(call.body()["results"][3]["role"], "Invitee");

    // A plain member may list the members too.
    let call = h
        .call_as(
            CAROL_ACCOUNT,
            "list_org_members",
            json!({"org_name": "acme", "search": "BOB"}),
        )
        .await;
    assert_eq!(call.request().query.as_deref(), Some("search=BOB"));
    assert_eq!(usernames(call.body()), ["bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_org_members_as_csv() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call("export_org_members", json!({"org_name": "acme"}))
        .await;
    let req = call.request();
    sent("GET", "/v2/orgs/acme/members/export", ALICE_PAT_JWT).check(req);
    assert_eq!(req.header("accept"), Some("text/csv"));

    let result = call.ok();
    assert_eq!(result.content_type.as_deref(), Some("text/csv"));
    assert_eq!(result.body["content_type"], "text/csv");
    assert_eq!(
        result.body.as_object().unwrap().len(),
        2,
        "only body and content_type: {}",
        result.body
    );
    let csv = result.body["body"].as_str().expect("the CSV text");
    let rows: Vec<Vec<&str>> = csv
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "Name",
            "Username",
            "Email",
            "Type",
            "Permission",
            "Teams",
            "Date Joined"
        ]
    );
    let people: Vec<(&str, &str, &str, &str)> =
        rows[1..].iter().map(|r| (r[1], r[2], r[3], r[4])).collect();
    assert_eq!(
        people,
        [
            ("alice", fx::ALICE_EMAIL, "User", "Owner"),
            ("bob", fx::BOB_EMAIL, "User", "Editor"),
            ("carol", fx::CAROL_EMAIL, "User", "Member"),
            ("", fx::INVITEE, "Invitee", "Member"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_org_member_role() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "update_org_member_role",
            json!({"org_name": "acme", "username": "carol", "role": "editor"}),
        )
        .await;
    sent("PUT", "/v2/orgs/acme/members/carol", ALICE_PAT_JWT)
        .json(json!({"role": "editor"}))
        .check(call.request());
    assert_eq!(call.body()["username"], "carol");
    assert_eq!(call.body()["role"], "Editor");

    // Only owners may change roles.
    let call = h
        .call_as(
            CAROL_ACCOUNT,
            "update_org_member_role",
            json!({"org_name": "acme", "username": "bob", "role": "member"}),
        )
        .await;
    assert!(
        matches!(call.hub_error(), HubError::Forbidden(m) if m.contains("only owners")),
        "{:?}",
        call.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_org_member() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "remove_org_member",
            json!({"org_name": "acme", "username": "bob"}),
        )
        .await;
    sent("DELETE", "/v2/orgs/acme/members/bob", ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);

    let call = h
        .call("list_org_members", json!({"org_name": "acme"}))
        .await;
    assert_eq!(usernames(call.body()), ["alice", "carol"]);

    let again = h
        .call(
            "remove_org_member",
            json!({"org_name": "acme", "username": "bob"}),
        )
        .await;
    assert!(
        matches!(again.hub_error(), HubError::NotFound(m) if m.contains("bob")),
        "{:?}",
        again.result
    );
}
