//! The `users` area: who the bearer speaks for, and the organizations that user belongs to.
//! Neither is in Docker's published description; Docker's hub-tool reads both.

use serde_json::{Value, json};

use crate::auth;
use crate::clock::rfc3339;
use crate::http::{ApiError, Reply, Request};
use crate::ids::fnv;
use crate::pagination::Page;
use crate::state::{HubState, Org, Principal};

/// A stable ID in the Hub's style (32 hex digits) for an account that has none in the state.
fn stable_id(kind: &str, name: &str) -> String {
    format!("{:016x}{:016x}", fnv(&[kind, name]), fnv(&[name, kind]))
}

pub(crate) fn current(state: &HubState, principal: &Principal) -> Result<Reply, ApiError> {
    let username = auth::user_only(principal)?;
    let user = state
        .users
        .get(username)
        .ok_or_else(|| ApiError::not_found(format!("user {username} not found")))?;
    Ok(Reply::ok(&json!({
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "location": user.location,
        "company": user.company,
        "gravatar_email": "",
        "gravatar_url": "",
        "is_staff": false,
        "is_admin": false,
        "profile_url": "",
        "date_joined": rfc3339(user.date_joined),
        "type": "User",
    })))
}

fn org_json(org: &Org, joined: u64) -> Value {
    json!({
        "id": stable_id("org", &org.name),
        "orgname": org.name,
        "full_name": org.name,
        "company": "",
        "location": "",
        "type": "Organization",
        "date_joined": rfc3339(joined),
        "gravatar_email": "",
        "gravatar_url": "",
        "profile_url": "",
    })
}

pub(crate) fn orgs(
    state: &HubState,
    req: &Request,
    principal: &Principal,
) -> Result<Reply, ApiError> {
    let username = auth::user_only(principal)?;
    let page = Page::from_request(req, 10)?;
    let joined = state.users.get(username).map_or(0, |u| u.date_joined);
    // Sorted by name: the state's map order is its own business.
    let mut mine: Vec<&Org> = state
        .orgs
        .values()
        .filter(|o| o.role_of(username).is_some())
        .collect();
    mine.sort_by(|a, b| a.name.cmp(&b.name));
    let body = page.respond(req, &mine, |o| org_json(o, joined))?;
    Ok(Reply::ok(&body))
}
