//! The `audit-logs` area, reading the audit log: the action catalogue and filtered, paged events of one account.

use serde_json::{Map, Value, json};

use crate::audit::{ACTIONS, GROUPS};
use crate::auth::{self, OrgNeed};
use crate::clock::{self, rfc3339};
use crate::http::{ApiError, Reply, Request};
use crate::pagination::Page;
use crate::state::{HubState, Principal};

/// A user reads only their own log; an organization's log is for its owners (and its tokens).
fn check_account(state: &HubState, principal: &Principal, account: &str) -> Result<(), ApiError> {
    if state.orgs.contains_key(account) {
        return auth::org_access(state, principal, account, OrgNeed::Owner);
    }
    if !state.users.contains_key(account) {
        return Err(ApiError::not_found(format!("account {account} not found")));
    }
    if auth::user_only(principal)? != account {
        return Err(ApiError::forbidden(format!(
            "{} may not read the audit log of {account}",
            principal.actor()
        )));
    }
    Ok(())
}

pub(crate) fn actions(
    state: &HubState,
    principal: &Principal,
    account: &str,
) -> Result<Reply, ApiError> {
    check_account(state, principal, account)?;
    let mut groups = Map::new();
    for (group, label) in GROUPS {
        let actions: Vec<Value> = ACTIONS
            .iter()
            .filter(|a| a.group == *group)
            .map(|a| json!({"name": a.name, "description": a.description, "label": a.label}))
            .collect();
        groups.insert(
            group.to_string(),
            json!({"actions": actions, "label": label}),
        );
    }
    Ok(Reply::ok(&json!({ "actions": groups })))
}

fn time_param(req: &Request, name: &str) -> Result<Option<u64>, ApiError> {
    match req.query(name) {
        None | Some("") => Ok(None),
        Some(text) => clock::parse_rfc3339(text).map(Some).ok_or_else(|| {
            ApiError::field(
                name,
                format!("{name}: {text:?} is not an RFC 3339 date-time"),
            )
        }),
    }
}

pub(crate) fn logs(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    account: &str,
) -> Result<Reply, ApiError> {
    check_account(state, principal, account)?;
    let page = Page::from_request(req, 25)?;
    let from = time_param(req, "from")?;
    let to = time_param(req, "to")?;
    let wanted = |name: &str| req.query(name).filter(|v| !v.is_empty());
    let (action, name, actor) = (wanted("action"), wanted("name"), wanted("actor"));
    let events: Vec<_> = state
        .audit
        .iter()
        .rev()
        .filter(|e| e.account == account)
        .filter(|e| action.is_none_or(|a| e.action == a))
        .filter(|e| name.is_none_or(|n| e.name == n))
        .filter(|e| actor.is_none_or(|a| e.actor == a))
        .filter(|e| from.is_none_or(|f| e.timestamp >= f))
        .filter(|e| to.is_none_or(|t| e.timestamp <= t))
        .collect();
    let logs: Vec<Value> = page
        .slice(&events)?
        .iter()
        .map(|e| {
            json!({
                "account": e.account,
                "action": e.action,
                "name": e.name,
                "actor": e.actor,
                "data": e.data,
                "timestamp": rfc3339(e.timestamp),
                "action_description": e.description,
            })
        })
        .collect();
    Ok(Reply::ok(&json!({ "logs": logs })))
}
