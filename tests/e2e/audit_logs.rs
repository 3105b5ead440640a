//! The audit log of an organization.

use crate::coverage::CLAIMS;
use dockhand_tests::{ALICE_PAT_JWT, Claim, Harness, sent};
use serde_json::json;

pub const AREA: &str = "audit-logs";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("list_audit_log_actions", "list_audit_log_actions"),
    ("list_audit_log_events",  "list_audit_log_events_filters"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_audit_log_actions() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call("list_audit_log_actions", json!({"account": "acme"}))
        .await;
    sent("GET", "/v2/auditlogs/acme/actions", ALICE_PAT_JWT).check(call.request());
    let actions = &call.body()["actions"];
    let mut groups: Vec<&String> = actions.as_object().unwrap().keys().collect();
    groups.sort();
    assert_eq!(groups, ["account", "org", "repo"]);
    assert_eq!(actions["org"]["label"], "Organization");
    let org_actions: Vec<&str> = actions["org"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(org_actions.contains(&"team.create"), "{org_actions:?}");
}

/// Events come from writes made through the component, then are read back filtered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_audit_log_events_filters() {
    let h = Harness::start(CLAIMS).await;
    for group in ["qa", "ops"] {
        let created = h
            .call(
                "create_org_group",
                json!({"org_name": "acme", "name": group}),
            )
            .await;
        assert_eq!(created.ok().status, 201);
    }

    let call = h
        .call(
            "list_audit_log_events",
            json!({"account": "acme", "action": "team.create", "actor": "alice",
                   "from": "2000-01-01T00:00:00Z", "page_size": 5}),
        )
        .await;
    sent("GET", "/v2/auditlogs/acme", ALICE_PAT_JWT)
        .query("action=team.create&actor=alice&from=2000-01-01T00%3A00%3A00Z&page_size=5")
        .check(call.request());
    let logs = call.body()["logs"].as_array().unwrap();
    let events: Vec<(&str, &str, &str, &str)> = logs
        .iter()
        .map(|e| {
            (
                e["account"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["name"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
            )
        })
        .collect();
    // Newest first.
    assert_eq!(
        events,
        [
            ("acme", "team.create", "ops", "alice"),
            ("acme", "team.create", "qa", "alice")
        ]
    );

    let call = h
        .call(
            "list_audit_log_events",
            json!({"account": "acme", "name": "qa"}),
        )
        .await;
    assert_eq!(call.request().query.as_deref(), Some("name=qa"));
    assert_eq!(call.body()["logs"].as_array().unwrap().len(), 1);

    let call = h
        .call(
            "list_audit_log_events",
            json!({"account": "acme", "to": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(call.body()["logs"], json!([]));
}
