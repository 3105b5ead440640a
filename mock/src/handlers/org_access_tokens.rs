//! The `org-access-tokens` area: organization access tokens. The secret is shown once, in the create reply; the exchange at
//! `/v2/auth/token` takes it with the organization's name as identifier.

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use crate::auth::{self, OrgNeed};
use crate::clock::{self, rfc3339};
use crate::http::{
    ApiError, Reply, Request, opt_bool, opt_object_list, opt_str, req_str, req_str_list,
};
use crate::pagination::Page;
use crate::state::{HubState, Oat, Principal};

fn oat_json(oat: &Oat) -> Value {
    json!({
        "id": oat.id,
        "label": oat.label,
        "description": oat.description,
        "created_by": oat.created_by,
        "is_active": oat.is_active,
        "created_at": rfc3339(oat.created_at),
        "expires_at": oat.expires_at,
        "last_used_at": oat.last_used_at.map(rfc3339),
        "resources": oat.resources,
    })
}

/// Checks each resource has a known `type`, a `path` and string `scopes`.
fn resources(body: &Map<String, Value>) -> Result<Option<Vec<Value>>, ApiError> {
    let Some(list) = opt_object_list(body, "resources")? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let wrap = |e: ApiError| {
            let field = format!("resources[{i}]");
            ApiError::field(&field, format!("{field}.{}", e.message))
        };
        let kind = req_str(item, "type").map_err(wrap)?;
        if kind != "TYPE_REPO" && kind != "TYPE_ORG" {
            return Err(ApiError::field(
                "resources",
                format!("resources[{i}].type: must be TYPE_REPO or TYPE_ORG"),
            ));
        }
        let path = req_str(item, "path").map_err(wrap)?;
        let scopes = req_str_list(item, "scopes").map_err(wrap)?;
        out.push(json!({"type": kind, "path": path, "scopes": scopes}));
    }
    Ok(Some(out))
}

pub(crate) fn list(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::AdminUser)?;
    let page = Page::from_request(req, 10)?;
    let oats = &state.orgs[org].oats;
    let mut body = page.respond(req, oats, |t| {
        let mut v = oat_json(t);
        if let Value::Object(m) = &mut v {
            m.remove("resources");
        }
        v
    })?;
    if let Value::Object(m) = &mut body {
        // This listing calls its total `total`, not `count`.
        if let Some(count) = m.remove("count") {
            m.insert("total".into(), count);
        }
    }
    Ok(Reply::ok(&body))
}

pub(crate) fn create(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::AdminUser)?;
    let body = req.json_object()?;
    let label = req_str(&body, "label")?;
    if label.trim().is_empty() {
        return Err(ApiError::field("label", "label: must not be empty"));
    }
    let description = opt_str(&body, "description")?.unwrap_or_default();
    let resources = resources(&body)?.unwrap_or_default();
    let expires_at = opt_str(&body, "expires_at")?;
    if let Some(text) = expires_at
        && clock::parse_rfc3339(text).is_none()
    {
        return Err(ApiError::field(
            "expires_at",
            "expires_at: must be an RFC 3339 date-time",
        ));
    }
    let oat = Oat {
        id: state.ids.uuid(),
        label: label.to_string(),
        description: description.to_string(),
        secret: state.ids.secret("dckr_oat_mock_", 27),
        created_by: principal.actor().to_string(),
        is_active: true,
        created_at: req.now,
        expires_at: expires_at.map(str::to_string),
        last_used_at: None,
        resources,
    };
    let reply = json!({
        "id": oat.id,
        "label": oat.label,
        "is_active": oat.is_active,
        "created_at": rfc3339(oat.created_at),
        "expires_at": oat.expires_at,
        "last_used_at": null,
        "token": oat.secret,
        "resources": oat.resources,
    });
    let id = oat.id.clone();
    state
        .orgs
        .get_mut(org)
        .expect("checked by org_access")
        .oats
        .push(oat);
    state.audit(
        org,
        "access_token.create",
        label,
        principal.actor(),
        &[("id", &id)],
        req.now,
    );
    Ok(Reply::json(StatusCode::CREATED, &reply))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("access token {id} not found"))
}

pub(crate) fn get(
    state: &HubState,
    principal: &Principal,
    org: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::AdminUser)?;
    let oat = state.orgs[org]
        .oats
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found(id))?;
    Ok(Reply::ok(&oat_json(oat)))
}

pub(crate) fn patch(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::AdminUser)?;
    if !state.orgs[org].oats.iter().any(|t| t.id == id) {
        return Err(not_found(id));
    }
    let body = req.json_object()?;
    let label = opt_str(&body, "label")?;
    if label.is_some_and(|l| l.trim().is_empty()) {
        return Err(ApiError::field("label", "label: must not be empty"));
    }
    let description = opt_str(&body, "description")?;
    let new_resources = resources(&body)?;
    let active = opt_bool(&body, "is_active")?;
    let oat = state
        .orgs
        .get_mut(org)
        .and_then(|o| o.oats.iter_mut().find(|t| t.id == id))
        .ok_or_else(|| not_found(id))?;
    if let Some(label) = label {
        oat.label = label.to_string();
    }
    if let Some(description) = description {
        oat.description = description.to_string();
    }
    if let Some(resources) = new_resources {
        oat.resources = resources;
    }
    if let Some(active) = active {
        oat.is_active = active;
    }
    let reply = oat_json(oat);
    let name = oat.label.clone();
    state.audit(
        org,
        "access_token.update",
        &name,
        principal.actor(),
        &[("id", id)],
        req.now,
    );
    Ok(Reply::ok(&reply))
}

pub(crate) fn delete(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::AdminUser)?;
    let oats = &mut state.orgs.get_mut(org).expect("checked by org_access").oats;
    let index = oats
        .iter()
        .position(|t| t.id == id)
        .ok_or_else(|| not_found(id))?;
    let removed = oats.remove(index);
    state.audit(
        org,
        "access_token.delete",
        &removed.label,
        principal.actor(),
        &[("id", id)],
        req.now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
