//! The `access-tokens` area: personal access tokens of the signed-in user. The secret is shown
//! once, in the create reply.

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::auth;
use crate::clock::{self, rfc3339};
use crate::http::{ApiError, Reply, Request, opt_bool, opt_str, req_str, req_str_list};
use crate::pagination::Page;
use crate::state::{HubState, Pat, Principal};

const SCOPES: &[&str] = &["repo:admin", "repo:write", "repo:read", "repo:public_read"];

fn pat_json(pat: &Pat, reveal: bool) -> Value {
    json!({
        "uuid": pat.uuid,
        "client_id": "HUB",
        "creator_ip": pat.creator_ip,
        "creator_ua": pat.creator_ua,
        "created_at": rfc3339(pat.created_at),
        "last_used": pat.last_used.map(rfc3339),
        "generated_by": "manual",
        "is_active": pat.is_active,
        "token": if reveal { pat.secret.as_str() } else { "" },
        "token_label": pat.label,
        "scopes": pat.scopes,
        "expires_at": pat.expires_at,
    })
}

fn check_label(label: &str) -> Result<(), ApiError> {
    if label.trim().is_empty() || label.chars().count() > 100 {
        return Err(ApiError::field(
            "token_label",
            "token_label: must be 1-100 characters",
        ));
    }
    Ok(())
}

fn user_pats<'a>(
    state: &'a mut HubState,
    principal: &Principal,
) -> Result<&'a mut Vec<Pat>, ApiError> {
    let username = auth::user_only(principal)?;
    state
        .users
        .get_mut(username)
        .map(|u| &mut u.pats)
        .ok_or_else(|| ApiError::unauthorized("the token's user no longer exists"))
}

pub(crate) fn list(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
) -> Result<Reply, ApiError> {
    let page = Page::from_request(req, 10)?;
    let pats = user_pats(state, principal)?;
    let mut body = page.respond(req, pats, |p| pat_json(p, false))?;
    body["active_count"] = json!(pats.iter().filter(|p| p.is_active).count());
    Ok(Reply::ok(&body))
}

pub(crate) fn create(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
) -> Result<Reply, ApiError> {
    auth::user_only(principal)?;
    let body = req.json_object()?;
    let label = req_str(&body, "token_label")?;
    check_label(label)?;
    let scopes = req_str_list(&body, "scopes")?;
    if scopes.is_empty() {
        return Err(ApiError::field(
            "scopes",
            "scopes: at least one scope is required",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::field(
            "scopes",
            format!("scopes: {bad:?} is not one of {}", SCOPES.join(", ")),
        ));
    }
    let expires_at = opt_str(&body, "expires_at")?;
    if let Some(text) = expires_at
        && clock::parse_rfc3339(text).is_none()
    {
        return Err(ApiError::field(
            "expires_at",
            "expires_at: must be an RFC 3339 date-time",
        ));
    }
    let pat = Pat {
        uuid: state.ids.uuid(),
        label: label.to_string(),
        secret: state.ids.secret("dckr_pat_mock_", 27),
        scopes,
        is_active: true,
        created_at: req.now,
        last_used: None,
        expires_at: expires_at.map(str::to_string),
        creator_ip: "127.0.0.1".into(),
        creator_ua: req.header("user-agent").unwrap_or("").to_string(),
    };
    let body = pat_json(&pat, true);
    let account = principal.actor().to_string();
    let uuid = pat.uuid.clone();
    user_pats(state, principal)?.push(pat);
    state.audit(
        &account,
        "pat.create",
        label,
        &account,
        &[("uuid", &uuid)],
        req.now,
    );
    Ok(Reply::json(StatusCode::CREATED, &body))
}

fn not_found(uuid: &str) -> ApiError {
    ApiError::not_found(format!("access token {uuid} not found"))
}

pub(crate) fn get(
    state: &mut HubState,
    principal: &Principal,
    uuid: &str,
) -> Result<Reply, ApiError> {
    let pats = user_pats(state, principal)?;
    let pat = pats
        .iter()
        .find(|p| p.uuid == uuid)
        .ok_or_else(|| not_found(uuid))?;
    Ok(Reply::ok(&pat_json(pat, false)))
}

pub(crate) fn patch(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    uuid: &str,
) -> Result<Reply, ApiError> {
    user_pats(state, principal)?
        .iter()
        .find(|p| p.uuid == uuid)
        .ok_or_else(|| not_found(uuid))?;
    let body = req.json_object()?;
    let label = opt_str(&body, "token_label")?;
    if let Some(label) = label {
        check_label(label)?;
    }
    let active = opt_bool(&body, "is_active")?;
    let pat = user_pats(state, principal)?
        .iter_mut()
        .find(|p| p.uuid == uuid)
        .ok_or_else(|| not_found(uuid))?;
    if let Some(label) = label {
        pat.label = label.to_string();
    }
    if let Some(active) = active {
        pat.is_active = active;
    }
    let reply = pat_json(pat, false);
    let name = pat.label.clone();
    let account = principal.actor().to_string();
    state.audit(
        &account,
        "pat.update",
        &name,
        &account,
        &[("uuid", uuid)],
        req.now,
    );
    Ok(Reply::ok(&reply))
}

pub(crate) fn delete(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    uuid: &str,
) -> Result<Reply, ApiError> {
    let pats = user_pats(state, principal)?;
    let index = pats
        .iter()
        .position(|p| p.uuid == uuid)
        .ok_or_else(|| not_found(uuid))?;
    let removed = pats.remove(index);
    let account = principal.actor().to_string();
    state.audit(
        &account,
        "pat.delete",
        &removed.label,
        &account,
        &[("uuid", uuid)],
        req.now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
