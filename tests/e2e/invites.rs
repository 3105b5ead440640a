//! Invitations to the organization.

use crate::coverage::CLAIMS;
use dockhand_mock::fixtures as fx;
use dockhand_tests::{ALICE_PAT_JWT, Claim, Harness, sent};
use serde_json::{Value, json};

pub const AREA: &str = "invites";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("list_org_invites",    "list_org_invites"),
    ("list_org_invites",    "bulk_invites_dry_run_then_real"),
    ("bulk_create_invites", "bulk_invites_dry_run_then_real"),
    ("resend_invite",       "resend_then_cancel_an_invite"),
    ("cancel_invite",       "resend_then_cancel_an_invite"),
];

async fn invitees(h: &Harness) -> Vec<String> {
    let call = h
        .call("list_org_invites", json!({"org_name": "acme"}))
        .await;
    call.body()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["invitee"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_org_invites() {
    let h = Harness::start(CLAIMS).await;
    let call = h
        .call("list_org_invites", json!({"org_name": "acme"}))
        .await;
    sent("GET", "/v2/orgs/acme/invites", ALICE_PAT_JWT).check(call.request());
    let invite = &call.body()["data"][0];
    assert_eq!(call.body()["data"].as_array().unwrap().len(), 1);
    assert_eq!(invite["id"], fx::INVITE_ID);
    assert_eq!(invite["invitee"], fx::INVITEE);
    assert_eq!(invite["inviter_username"], fx::ALICE);
    assert_eq!(invite["team"], fx::GROUP_DEVELOPERS);
    assert_eq!(invite["role"], "member");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_then_cancel_an_invite() {
    let h = Harness::start(CLAIMS).await;
    let path = format!("/v2/invites/{}", fx::INVITE_ID);

    let call = h.call("resend_invite", json!({"id": fx::INVITE_ID})).await;
    sent("PATCH", format!("{path}/resend"), ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);
    assert_eq!(invitees(&h).await, [fx::INVITEE]);

    let call = h.call("cancel_invite", json!({"id": fx::INVITE_ID})).await;
    sent("DELETE", path, ALICE_PAT_JWT).check(call.request());
    assert_eq!(call.ok().status, 204);
    assert_eq!(call.body(), &Value::Null);
    assert!(invitees(&h).await.is_empty());
}

/// A dry run reports per invitee what would happen and creates nothing; the real run creates
/// exactly the invitations the dry run announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_invites_dry_run_then_real() {
    let h = Harness::start(CLAIMS).await;
    let people = json!(["erin@example.com", "bob", fx::INVITEE, "not a user"]);
    let statuses = [
        ("erin@example.com", "invited"),
        ("bob", "existing_org_member"),
        (fx::INVITEE, "already_invited"),
        ("not a user", "invalid_email_or_docker_id"),
    ];

    let call = h
        .call(
            "bulk_create_invites",
            json!({"org": "acme", "team": "developers", "role": "member",
                   "invitees": people, "dry_run": true,
                   "X-Analytics-Client-Feature": "file"}),
        )
        .await;
    let req = call.request();
    sent("POST", "/v2/invites/bulk", ALICE_PAT_JWT)
        .json(
            json!({"org": "acme", "team": "developers", "role": "member",
                     "invitees": people, "dry_run": true}),
        )
        .check(req);
    assert_eq!(req.header("x-analytics-client-feature"), Some("file"));
    assert_eq!(call.ok().status, 202);
    let answers = call.body()["invitees"].as_array().unwrap();
    for (answer, (who, status)) in answers.iter().zip(statuses) {
        assert_eq!(answer["invitee"], who);
        assert_eq!(answer["status"], status, "{who}");
        assert!(answer.get("invite").is_none(), "dry run created {answer}");
    }
    assert_eq!(answers.len(), statuses.len());
    assert_eq!(invitees(&h).await, [fx::INVITEE]);

    let call = h
        .call(
            "bulk_create_invites",
            json!({"org": "acme", "team": "developers", "invitees": people}),
        )
        .await;
    sent("POST", "/v2/invites/bulk", ALICE_PAT_JWT)
        .json(json!({"org": "acme", "team": "developers", "invitees": people}))
        .check(call.request());
    let answers = call.body()["invitees"].as_array().unwrap();
    let statuses_now: Vec<&str> = answers
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses_now, statuses.map(|(_, s)| s));
    let created = &answers[0]["invite"];
    assert_eq!(created["invitee"], "erin@example.com");
    assert_eq!(created["team"], "developers");
    assert_eq!(created["inviter_username"], fx::ALICE);
    assert_eq!(invitees(&h).await, [fx::INVITEE, "erin@example.com"]);
}
