//! Arguments are checked against the catalog before anything is sent: a bad call costs no
//! request, not even the token exchange its credential would need.

use crate::coverage::CLAIMS;
use dockhand_host::{CallOptions, HubError};
use dockhand_tests::{Call, Harness, invalid_argument_name};
use serde_json::{Value, json};

async fn refused(h: &Harness, operation: &str, args: Value) -> Call {
    let call = h.call_cold(operation, args, CallOptions::default()).await;
    assert!(
        call.requests.is_empty(),
        "`{operation}` sent requests: {:#?}",
        call.requests
    );
    call
}

#[track_caller]
fn assert_invalid(call: &Call, name: &str, reason_contains: &str) {
    assert_eq!(invalid_argument_name(call), name, "{:?}", call.result);
    match call.hub_error() {
        HubError::InvalidArgument(a) => assert!(
            a.reason.contains(reason_contains),
            "reason for `{name}`: {:?}",
            a.reason
        ),
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_arguments() {
    let h = Harness::start(CLAIMS).await;
    let cases = [
        (
            "get_repository",
            json!({"namespace": "library"}),
            "repository",
        ),
        ("list_org_groups", json!({}), "org_name"),
        ("create_repository", json!({"namespace": "alice"}), "name"),
        (
            "scim_create_user",
            json!({"userName": "x@example.com"}),
            "schemas",
        ),
        (
            "login_second_factor",
            json!({"code": "123456"}),
            "login_2fa_token",
        ),
        // null counts as absent.
        ("get_personal_access_token", json!({"uuid": null}), "uuid"),
    ];
    for (operation, args, name) in cases {
        let call = refused(&h, operation, args).await;
        assert_invalid(&call, name, "missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_of_the_wrong_type() {
    let h = Harness::start(CLAIMS).await;
    let cases = [
        (
            "list_repository_tags",
            json!({"namespace": "library", "repository": "alpine", "page_size": "lots"}),
            "page_size",
            "an integer",
        ),
        (
            "create_personal_access_token",
            json!({"token_label": "x", "scopes": "repo:read"}),
            "scopes",
            "a JSON array",
        ),
        (
            "update_personal_access_token",
            json!({"uuid": "u", "is_active": "yes"}),
            "is_active",
            "true or false",
        ),
        (
            "assign_repository_group",
            json!({"namespace": "acme", "repository": "private", "group_id": "developers",
                   "permission": "read"}),
            "group_id",
            "an integer",
        ),
        (
            "update_org_settings",
            json!({"name": "acme", "restricted_images": true}),
            "restricted_images",
            "a JSON object",
        ),
        (
            "get_repository",
            json!(["library", "alpine"]),
            "args",
            "JSON object",
        ),
    ];
    for (operation, args, name, expected) in cases {
        let call = refused(&h, operation, args).await;
        assert_invalid(&call, name, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_arguments() {
    let h = Harness::start(CLAIMS).await;
    let cases = [
        (
            "get_repository",
            json!({"namespace": "library", "repository": "alpine", "tag": "latest"}),
            "tag",
        ),
        ("list_personal_access_tokens", json!({"bogus": 1}), "bogus"),
        (
            "create_org_group",
            json!({"org_name": "acme", "name": "qa", "colour": "red"}),
            "colour",
        ),
    ];
    for (operation, args, name) in cases {
        let call = refused(&h, operation, args).await;
        assert_invalid(&call, name, "not an argument");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_outside_an_enum() {
    let h = Harness::start(CLAIMS).await;
    let cases = [
        (
            "assign_repository_group",
            json!({"namespace": "acme", "repository": "private", "group_id": 1002,
                   "permission": "owner"}),
            "permission",
        ),
        (
            "list_repositories",
            json!({"namespace": "acme", "ordering": "size"}),
            "ordering",
        ),
        (
            "update_org_member_role",
            json!({"org_name": "acme", "username": "carol", "role": "admin"}),
            "role",
        ),
        (
            "scim_list_users",
            json!({"sortOrder": "sideways"}),
            "sortOrder",
        ),
    ];
    for (operation, args, name) in cases {
        let call = refused(&h, operation, args).await;
        assert_invalid(&call, name, "is not one of");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_operations_suggest_names() {
    let h = Harness::start(CLAIMS).await;
    let call = refused(&h, "list_repo_tags", json!({})).await;
    match call.hub_error() {
        HubError::UnknownOperation(m) => assert!(m.contains("list_repository_tags"), "{m}"),
        other => panic!("{other:?}"),
    }
}
