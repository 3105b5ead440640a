//! The unauthenticated routes that mint JWTs. None of them may carry an `authorization` header,
//! whatever account the call names.

use crate::coverage::CLAIMS;
use dockhand_host::{CallOptions, HubError};
use dockhand_mock::fixtures as fx;
use dockhand_tests::{Auth, Claim, Harness, jwt_claims, post_to_mock, sent};
use serde_json::json;

pub const AREA: &str = "authentication";

#[rustfmt::skip]
pub const COVERED_BY_AREA: &[Claim] = &[
    ("create_auth_token",   "create_auth_token_for_a_user_and_an_org"),
    ("login",               "login_with_a_password"),
    ("login",               "login_then_second_factor"),
    ("login_second_factor", "login_then_second_factor"),
];

/// `default` holds alice's PAT: sending it (or exchanging it first) would show as a second
/// request or an `authorization` header.
async fn call_as_default(
    h: &Harness,
    operation: &str,
    args: serde_json::Value,
) -> dockhand_tests::Call {
    h.call_cold(operation, args, CallOptions::default()).await
}

#[track_caller]
fn assert_jwt(token: &serde_json::Value, subject: &str, token_type: &str) {
    let claims = jwt_claims(token.as_str().expect("a token string")).expect("a JWT");
    assert_eq!(claims["sub"], subject);
    assert_eq!(claims["token_type"], token_type);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_auth_token_for_a_user_and_an_org() {
    let h = Harness::start(CLAIMS).await;
    for (identifier, secret, token_type) in [
        (fx::ALICE, fx::ALICE_PAT, "pat"),
        (fx::ORG, fx::ORG_OAT, "oat"),
        (fx::CAROL, fx::CAROL_PASSWORD, "password"),
    ] {
        let args = json!({"identifier": identifier, "secret": secret});
        let call = call_as_default(&h, "create_auth_token", args.clone()).await;
        sent("POST", "/v2/auth/token", Auth::None)
            .json(args)
            .check(call.request());
        assert_jwt(&call.body()["access_token"], identifier, token_type);
    }

    let call = call_as_default(
        &h,
        "create_auth_token",
        json!({"identifier": fx::ALICE, "secret": "dckr_pat_wrong"}),
    )
    .await;
    assert_eq!(call.requests.len(), 1, "a failed exchange is not retried");
    assert_eq!(
        call.hub_error(),
        &HubError::Unauthorized("Incorrect authentication credentials".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_a_password() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"username": fx::ALICE, "password": fx::ALICE_PASSWORD});
    let call = call_as_default(&h, "login", args.clone()).await;
    sent("POST", "/v2/users/login", Auth::None)
        .json(args)
        .check(call.request());
    assert_jwt(&call.body()["token"], fx::ALICE, "password");
}

/// Bob has two-factor authentication: `login` answers 401 with a `login_2fa_token`, which
/// `login_second_factor` trades, with the one-time code, for a JWT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_then_second_factor() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"username": fx::BOB, "password": fx::BOB_PASSWORD});
    let call = call_as_default(&h, "login", args.clone()).await;
    sent("POST", "/v2/users/login", Auth::None)
        .json(args.clone())
        .check(call.request());
    assert!(
        matches!(call.hub_error(), HubError::Unauthorized(m) if m.contains("Two-factor")),
        "{:?}",
        call.result
    );

    // A fresh challenge straight from the mock keeps this test about the second step;
    // `login_error_carries_the_2fa_token` checks that the component hands the token back.
    let (status, answer) = post_to_mock(&h.mock, "/v2/users/login", &args).await;
    assert_eq!(status, 401);
    let pending = answer["login_2fa_token"]
        .as_str()
        .expect("a 2FA token")
        .to_string();

    let wrong = json!({"login_2fa_token": pending, "code": "000000"});
    let call = call_as_default(&h, "login_second_factor", wrong).await;
    assert!(matches!(call.hub_error(), HubError::Unauthorized(_)));

    let good = json!({"login_2fa_token": pending, "code": fx::BOB_TOTP_CODE});
    let call = call_as_default(&h, "login_second_factor", good.clone()).await;
    sent("POST", "/v2/users/2fa-login", Auth::None)
        .json(good)
        .check(call.request());
    assert_jwt(&call.body()["token"], fx::BOB, "password");
}

/// The catalog promises that `login` "hands back a login_2fa_token for login_second_factor":
/// the 401's `unauthorized` message must carry it, or a two-factor login cannot be finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_error_carries_the_2fa_token() {
    let h = Harness::start(CLAIMS).await;
    let args = json!({"username": fx::BOB, "password": fx::BOB_PASSWORD});
    let call = call_as_default(&h, "login", args).await;
    let message = match call.hub_error() {
        HubError::Unauthorized(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    let start = message
        .find("mock2fa_")
        .unwrap_or_else(|| panic!("no login_2fa_token in {message:?}"));
    let pending: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let call = call_as_default(
        &h,
        "login_second_factor",
        json!({"login_2fa_token": pending, "code": fx::BOB_TOTP_CODE}),
    )
    .await;
    assert_jwt(&call.body()["token"], fx::BOB, "password");
}
