//! Groups (teams) of the organization and their members.

use crate::coverage::CLAIMS;
use dockhand_host::HubError;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{ACME_OAT_JWT, ALICE_PAT_JWT, Claim, Harness, ORG_ACCOUNT, sent};
use serde_json::{Value, json};

pub const AREA: &str = "groups";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("create_org_group",    "group_membership_lifecycle"),
    ("add_group_member",    "group_membership_lifecycle"),
    ("list_group_members",  "group_membership_lifecycle"),
    ("remove_group_member", "group_membership_lifecycle"),
    ("delete_org_group",    "group_membership_lifecycle"),
    ("get_org_group",       "group_membership_lifecycle"),
    ("list_org_groups",     "list_org_groups_filters"),
    ("get_org_group",       "get_org_group"),
    ("update_org_group",    "update_org_group_renames"),
    ("patch_org_group",     "patch_org_group_changes_only_what_is_sent"),
    ("list_group_members",  "list_group_members_search"),
];

const GROUPS: &str = "/v2/orgs/acme/groups";

fn member_names(list: &Value) -> Vec<&str> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {list}"))
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect()
}

/// Create a group, add a member, list, remove, delete — as the organization's own token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_membership_lifecycle() {
    let h = Harness::start(CLAIMS).await;
    let qa = format!("{GROUPS}/qa");

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "create_org_group",
            json!({"org_name": "acme", "name": "qa", "description": "Quality"}),
        )
        .await;
    sent("POST", GROUPS, ACME_OAT_JWT)
        .json(json!({"name": "qa", "description": "Quality"}))
        .check(call.request());
    assert_eq!(call.ok().status, 201);
    assert_eq!(call.body()["name"], "qa");
    assert_eq!(call.body()["member_count"], 0);

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "add_group_member",
            json!({"org_name": "acme", "group_name": "qa", "member": "carol"}),
        )
        .await;
    sent("POST", format!("{qa}/members"), ACME_OAT_JWT)
        .json(json!({"member": "carol"}))
        .check(call.request());
    // 200 with an empty body: nothing to decode.
    assert_eq!(call.ok().status, 200);
    assert_eq!(call.body(), &Value::Null);

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "list_group_members",
            json!({"org_name": "acme", "group_name": "qa"}),
        )
        .await;
    sent("GET", format!("{qa}/members"), ACME_OAT_JWT).check(call.request());
    assert_eq!(member_names(call.body()), ["carol"]);
    assert_eq!(call.body()["results"][0]["email"], fx::CAROL_EMAIL);

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "remove_group_member",
            json!({"org_name": "acme", "group_name": "qa", "username": "carol"}),
        )
        .await;
    sent("DELETE", format!("{qa}/members/carol"), ACME_OAT_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "list_group_members",
            json!({"org_name": "acme", "group_name": "qa"}),
        )
        .await;
    assert_eq!(call.body()["count"], 0);

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "delete_org_group",
            json!({"org_name": "acme", "group_name": "qa"}),
        )
        .await;
    sent("DELETE", qa.clone(), ACME_OAT_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);

    let call = h
        .call_as(
            ORG_ACCOUNT,
            "get_org_group",
            json!({"org_name": "acme", "group_name": "qa"}),
        )
        .await;
    sent("GET", qa, ACME_OAT_JWT).check(call.request());
    assert_eq!(
        call.hub_error(),
        &HubError::NotFound("group qa not found in acme".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_org_groups_filters() {
    let h = Harness::start(CLAIMS).await;
    let call = h.call("list_org_groups", json!({"org_name": "acme"})).await;
    sent("GET", GROUPS, ALICE_PAT_JWT).check(call.request());
    let names: Vec<&str> = call.body()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [fx::GROUP_DEVELOPERS, fx::GROUP_OWNERS]);

    let call = h
        .call(
            "list_org_groups",
            json!({"org_name": "acme", "page_size": 5, "username": "bob", "search": "dev"}),
        )
        .await;
    sent("GET", GROUPS, ALICE_PAT_JWT)
        .query("page_size=5&username=bob&search=dev")
        .check(call.request());
    assert_eq!(call.body()["count"], 1);
    assert_eq!(call.body()["results"][0]["id"], fx::GROUP_DEVELOPERS_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_org_group() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "get_org_group",
            json!({"org_name": "acme", "group_name": "developers"}),
        )
        .await;
    sent("GET", format!("{GROUPS}/developers"), ALICE_PAT_JWT).check(call.request());
    let group = call.body();
    assert_eq!(group["id"], fx::GROUP_DEVELOPERS_ID);
    assert_eq!(group["name"], "developers");
    assert_eq!(group["description"], "People who push images");
    assert_eq!(group["member_count"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_org_group_renames() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "update_org_group",
            json!({"org_name": "acme", "group_name": "developers",
                   "name": "builders", "description": "Push and pull"}),
        )
        .await;
    sent("PUT", format!("{GROUPS}/developers"), ALICE_PAT_JWT)
        .json(json!({"name": "builders", "description": "Push and pull"}))
        .check(call.request());
    assert_eq!(call.body()["id"], fx::GROUP_DEVELOPERS_ID);
    assert_eq!(call.body()["name"], "builders");
    assert_eq!(call.body()["description"], "Push and pull");

    let old = h
        .call(
            "get_org_group",
            json!({"org_name": "acme", "group_name": "developers"}),
        )
        .await;
    assert!(matches!(old.hub_error(), HubError::NotFound(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_org_group_changes_only_what_is_sent() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "patch_org_group",
            json!({"org_name": "acme", "group_name": "owners", "description": "The bosses"}),
        )
        .await;
    sent("PATCH", format!("{GROUPS}/owners"), ALICE_PAT_JWT)
        .json(json!({"description": "The bosses"}))
        .check(call.request());
    assert_eq!(
        call.body(),
        &json!({"id": fx::GROUP_OWNERS_ID, "uuid": call.body()["uuid"], "name": "owners",
                "description": "The bosses", "member_count": 1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_group_members_search() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call(
            "list_group_members",
            json!({"org_name": "acme", "group_name": "developers", "search": "bob@"}),
        )
        .await;
    sent("GET", format!("{GROUPS}/developers/members"), ALICE_PAT_JWT)
        .query("search=bob%40")
        .check(call.request());
    assert_eq!(member_names(call.body()), ["bob"]);
}
