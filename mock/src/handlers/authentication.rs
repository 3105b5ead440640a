//! The `authentication` area: the three unauthenticated routes (token exchange, password login,
//! and its second factor).

use serde_json::{Value, json};

use crate::auth;
use crate::clock;
use crate::http::{ApiError, Reply, Request, req_str};
use crate::state::{HubState, Principal, Via};

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("Incorrect authentication credentials")
}

/// A PAT of `username` whose secret is `secret`, if it may still be used.
fn pat_principal(
    state: &mut HubState,
    username: &str,
    secret: &str,
    now: u64,
) -> Option<Result<Principal, ApiError>> {
    let user = state.users.get_mut(username)?;
    let pat = user.pats.iter_mut().find(|p| p.secret == secret)?;
    if !pat.is_active {
        return Some(Err(ApiError::unauthorized(
            "personal access token is disabled",
        )));
    }
    let expired = pat
        .expires_at
        .as_deref()
        .and_then(clock::parse_rfc3339)
        .is_some_and(|t| t <= now);
    if expired {
        return Some(Err(ApiError::unauthorized(
            "personal access token has expired",
        )));
    }
    pat.last_used = Some(now);
    Some(Ok(Principal::User {
        username: username.to_string(),
        via: Via::Pat {
            scopes: pat.scopes.clone(),
        },
    }))
}

fn password_matches(state: &HubState, username: &str, secret: &str) -> bool {
    state
        .users
        .get(username)
        .and_then(|u| u.password.as_deref())
        .is_some_and(|p| p == secret)
}

pub(crate) fn create_auth_token(state: &mut HubState, req: &Request) -> Result<Reply, ApiError> {
    let body = req.json_object()?;
    let identifier = req_str(&body, "identifier")?;
    let secret = req_str(&body, "secret")?;
    let now = req.now;
    let principal = if state.users.contains_key(identifier) {
        match pat_principal(state, identifier, secret, now) {
            Some(result) => result?,
            None if password_matches(state, identifier, secret) => {
                if state.users[identifier].two_factor_code.is_some() {
                    return Err(ApiError::unauthorized(
                        "two-factor authentication is enabled for this account; \
                         exchange a personal access token instead of the password",
                    ));
                }
                Principal::User {
                    username: identifier.to_string(),
                    via: Via::Password,
                }
            }
            None => return Err(bad_credentials()),
        }
    } else if let Some(org) = state.orgs.get_mut(identifier) {
        let oat = org
            .oats
            .iter_mut()
            .find(|t| t.secret == secret)
            .ok_or_else(bad_credentials)?;
        if !oat.is_active {
            return Err(ApiError::unauthorized(
                "organization access token is disabled",
            ));
        }
        oat.last_used_at = Some(now);
        Principal::Org {
            org: identifier.to_string(),
            token_id: oat.id.clone(),
        }
    } else {
        return Err(bad_credentials());
    };
    let token = auth::mint(state, principal, now);
    Ok(Reply::ok(&json!({ "access_token": token })))
}

pub(crate) fn login(state: &mut HubState, req: &Request) -> Result<Reply, ApiError> {
    let body = req.json_object()?;
    let username = req_str(&body, "username")?;
    let password = req_str(&body, "password")?;
    let now = req.now;
    // The deprecated login also takes a PAT in place of the password.
    let principal = match pat_principal(state, username, password, now) {
        Some(result) => result?,
        None if password_matches(state, username, password) => {
            if state.users[username].two_factor_code.is_some() {
                let pending = auth::mint_second_factor(state, username, now);
                let body = json!({
                    "detail": "Two-factor authentication required",
                    "login_2fa_token": pending,
                });
                return Ok(Reply::json(hyper::StatusCode::UNAUTHORIZED, &body));
            }
            Principal::User {
                username: username.to_string(),
                via: Via::Password,
            }
        }
        None => return Err(bad_credentials()),
    };
    let token = auth::mint(state, principal, now);
    Ok(Reply::ok(&json!({ "token": token })))
}

pub(crate) fn second_factor(state: &mut HubState, req: &Request) -> Result<Reply, ApiError> {
    let body = req.json_object()?;
    let pending_token = req_str(&body, "login_2fa_token")?;
    // Authenticator codes are digits, and some clients send them as a JSON number.
    let code = match body.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => {
            return Err(ApiError::field("code", "code: this field is required"));
        }
        Some(_) => return Err(ApiError::field("code", "code: must be a string")),
    };
    let now = req.now;
    let pending = state
        .second_factor
        .get(pending_token)
        .filter(|p| p.expires > now)
        .cloned()
        .ok_or_else(bad_credentials)?;
    let expected = state
        .users
        .get(&pending.username)
        .and_then(|u| u.two_factor_code.clone());
    if expected.as_deref() != Some(code.trim()) {
        return Err(bad_credentials());
    }
    state.second_factor.remove(pending_token);
    let principal = Principal::User {
        username: pending.username,
        via: Via::Password,
    };
    let token = auth::mint(state, principal, now);
    Ok(Reply::ok(&json!({ "token": token })))
}
