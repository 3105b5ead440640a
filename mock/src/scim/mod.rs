//! SCIM 2.0 provisioning for the organization that owns the SCIM bearer token.
//!
//! Errors here are SCIM-shaped (`application/scim+json`, `status` as a string) and request
//! bodies must be declared `application/scim+json`.

mod filter;
mod meta;

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;
use crate::http::{ApiError, Reply, Request, opt_bool, opt_str, req_str, req_str_list};
use crate::state::{HubState, Org, ScimUser};
use filter::AttrValue;

fn invalid_value(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::field(field, message).scim_type("invalidValue")
}

fn user_json(req: &Request, org: &Org, user: &ScimUser) -> Value {
    let groups: Vec<Value> = org
        .groups_of(&user.display_name)
        .into_iter()
        .map(|g| json!({"value": g, "display": g}))
        .collect();
    json!({
        "schemas": [meta::USER_URN],
        "id": user.id,
        "userName": user.user_name,
        "name": {"givenName": user.given_name, "familyName": user.family_name},
        "displayName": user.display_name,
        "active": user.active,
        "emails": [{"value": user.user_name, "display": user.user_name, "primary": true}],
        "groups": groups,
        "meta": {
            "resourceType": "User",
            "location": format!("{}/v2/scim/2.0/Users/{}", req.origin, user.id),
            "created": rfc3339(user.created),
            "lastModified": rfc3339(user.last_modified),
        },
    })
}

fn lookup(user: &ScimUser, attr: &str) -> Option<AttrValue> {
    let text = |s: &str| Some(AttrValue::Str(s.to_string()));
    match attr {
        "id" => text(&user.id),
        "username" | "emails" | "emails.value" => text(&user.user_name),
        "displayname" => text(&user.display_name),
        "active" => Some(AttrValue::Bool(user.active)),
        "name.givenname" => user.given_name.as_deref().and_then(text),
        "name.familyname" => user.family_name.as_deref().and_then(text),
        "meta.created" => text(&rfc3339(user.created)),
        "meta.lastmodified" => text(&rfc3339(user.last_modified)),
        _ => None,
    }
}

fn sort_key(user: &ScimUser, attr: &str) -> String {
    match lookup(user, attr) {
        Some(AttrValue::Str(s)) => s.to_lowercase(),
        Some(AttrValue::Bool(b)) => b.to_string(),
        None => String::new(),
    }
}

/// Keeps only the requested top-level attributes (plus `schemas` and `id`, always returned).
fn project(value: Value, attributes: Option<&str>) -> Value {
    let Some(list) = attributes.filter(|a| !a.trim().is_empty()) else {
        return value;
    };
    let wanted: Vec<String> = list
        .split(',')
        .map(|a| {
            a.trim()
                .split('.')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        })
        .collect();
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    k == "schemas" || k == "id" || wanted.contains(&k.to_ascii_lowercase())
                })
                .collect(),
        ),
        other => other,
    }
}

fn int_param(req: &Request, name: &str) -> Result<Option<i64>, ApiError> {
    match req.query(name) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| invalid_value(name, format!("{name}: {text:?} is not an integer"))),
    }
}

pub(crate) fn service_provider_config() -> Reply {
    Reply::scim(StatusCode::OK, &meta::service_provider_config())
}

pub(crate) fn resource_types() -> Reply {
    Reply::scim(
        StatusCode::OK,
        &meta::list(vec![meta::resource_type_user()]),
    )
}

pub(crate) fn resource_type(name: &str) -> Result<Reply, ApiError> {
    if name != "User" {
        return Err(ApiError::not_found(format!(
            "resource type {name} not found"
        )));
    }
    Ok(Reply::scim(StatusCode::OK, &meta::resource_type_user()))
}

pub(crate) fn schemas() -> Reply {
    Reply::scim(StatusCode::OK, &meta::list(vec![meta::user_schema()]))
}

pub(crate) fn schema(id: &str) -> Result<Reply, ApiError> {
    if id != meta::USER_URN {
        return Err(ApiError::not_found(format!("schema {id} not found")));
    }
    Ok(Reply::scim(StatusCode::OK, &meta::user_schema()))
}

pub(crate) fn list_users(state: &HubState, req: &Request, org: &str) -> Result<Reply, ApiError> {
    let organization = &state.orgs[org];
    let start = int_param(req, "startIndex")?.unwrap_or(1).max(1) as usize;
    let count = int_param(req, "count")?.unwrap_or(10).clamp(0, 200) as usize;
    let filter = match req.query("filter").filter(|f| !f.trim().is_empty()) {
        None => None,
        Some(text) => Some(filter::parse(text).map_err(|e| {
            ApiError::bad_request(format!("invalid filter: {e}")).scim_type("invalidFilter")
        })?),
    };
    let mut users: Vec<&ScimUser> = organization
        .scim_users
        .iter()
        .filter(|u| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|attr: &str| lookup(u, attr)))
        })
        .collect();
    if let Some(sort_by) = req.query("sortBy").filter(|s| !s.is_empty()) {
        let attr = sort_by.to_ascii_lowercase();
        users.sort_by_key(|u| sort_key(u, &attr));
    }
    match req.query("sortOrder") {
        None | Some("") | Some("ascending") => {}
        Some("descending") => users.reverse(),
        Some(other) => {
            return Err(invalid_value(
                "sortOrder",
                format!("sortOrder: {other:?} is not ascending or descending"),
            ));
        }
    }
    let total = users.len();
    let attributes = req.query("attributes");
    let page: Vec<Value> = users
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|u| project(user_json(req, organization, u), attributes))
        .collect();
    let body = json!({
        "schemas": [meta::LIST_URN],
        "totalResults": total,
        "itemsPerPage": page.len(),
        "startIndex": start,
        "Resources": page,
    });
    Ok(Reply::scim(StatusCode::OK, &body))
}

fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("user {id} not found"))
}

pub(crate) fn get_user(
    state: &HubState,
    req: &Request,
    org: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let organization = &state.orgs[org];
    let user = organization
        .scim_users
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(|| user_not_found(id))?;
    let body = project(user_json(req, organization, user), req.query("attributes"));
    Ok(Reply::scim(StatusCode::OK, &body))
}

fn check_schemas(body: &Map<String, Value>) -> Result<(), ApiError> {
    let schemas = req_str_list(body, "schemas").map_err(|e| e.scim_type("invalidValue"))?;
    if !schemas.iter().any(|s| s == meta::USER_URN) {
        return Err(invalid_value(
            "schemas",
            format!("schemas: must include {}", meta::USER_URN),
        ));
    }
    Ok(())
}

/// The parts of a SCIM `name` that a request sets.
#[derive(Default)]
struct NameParts {
    given: Option<String>,
    family: Option<String>,
}

/// `name.givenName` / `name.familyName` when `name` is present.
fn name_parts(body: &Map<String, Value>) -> Result<Option<NameParts>, ApiError> {
    match body.get("name") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(name)) => {
            let given = opt_str(name, "givenName").map_err(|e| e.scim_type("invalidValue"))?;
            let family = opt_str(name, "familyName").map_err(|e| e.scim_type("invalidValue"))?;
            Ok(Some(NameParts {
                given: given.map(str::to_string),
                family: family.map(str::to_string),
            }))
        }
        Some(_) => Err(invalid_value("name", "name: must be an object")),
    }
}

fn duplicate(org: &Org, user_name: &str, except: Option<&str>) -> bool {
    org.scim_users
        .iter()
        .any(|u| u.user_name.eq_ignore_ascii_case(user_name) && Some(u.id.as_str()) != except)
}

pub(crate) fn create_user(
    state: &mut HubState,
    req: &Request,
    org: &str,
) -> Result<Reply, ApiError> {
    let body = req.scim_object()?;
    check_schemas(&body)?;
    let user_name = req_str(&body, "userName").map_err(|e| e.scim_type("invalidValue"))?;
    if user_name.trim().is_empty() {
        return Err(invalid_value("userName", "userName: must not be empty"));
    }
    let NameParts { given, family } = name_parts(&body)?.unwrap_or_default();
    let display = opt_str(&body, "displayName").map_err(|e| e.scim_type("invalidValue"))?;
    if duplicate(&state.orgs[org], user_name, None) {
        return Err(
            ApiError::conflict(format!("user {user_name} already exists")).scim_type("uniqueness"),
        );
    }
    let user = ScimUser {
        id: state.ids.uuid(),
        user_name: user_name.to_string(),
        display_name: display
            .map(str::to_string)
            .unwrap_or_else(|| user_name.split('@').next().unwrap_or_default().to_string()),
        given_name: given,
        family_name: family,
        active: true,
        created: req.now,
        last_modified: req.now,
    };
    let organization = state.orgs.get_mut(org).expect("SCIM org exists");
    let body = user_json(req, organization, &user);
    let location = body["meta"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    organization.scim_users.push(user);
    state.audit(org, "scim.user.create", user_name, "scim", &[], req.now);
    Ok(Reply::scim(StatusCode::CREATED, &body).with_header("location", location))
}

pub(crate) fn put_user(
    state: &mut HubState,
    req: &Request,
    org: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    if !state.orgs[org].scim_users.iter().any(|u| u.id == id) {
        return Err(user_not_found(id));
    }
    let body = req.scim_object()?;
    check_schemas(&body)?;
    let name = name_parts(&body)?;
    let user_name = opt_str(&body, "userName").map_err(|e| e.scim_type("invalidValue"))?;
    let display = opt_str(&body, "displayName").map_err(|e| e.scim_type("invalidValue"))?;
    // Docker documents `enabled` (absent = deactivate); SCIM clients commonly send `active`.
    let enabled = match opt_bool(&body, "enabled").map_err(|e| e.scim_type("invalidValue"))? {
        Some(flag) => flag,
        None => opt_bool(&body, "active")
            .map_err(|e| e.scim_type("invalidValue"))?
            .unwrap_or(false),
    };
    if let Some(user_name) = user_name
        && duplicate(&state.orgs[org], user_name, Some(id))
    {
        return Err(
            ApiError::conflict(format!("user {user_name} already exists")).scim_type("uniqueness"),
        );
    }
    let organization = state.orgs.get_mut(org).expect("SCIM org exists");
    let user = organization
        .scim_users
        .iter_mut()
        .find(|u| u.id == id)
        .ok_or_else(|| user_not_found(id))?;
    if let Some(NameParts { given, family }) = name {
        // Docker only ever changes a name part, never clears it.
        if given.is_some() {
            user.given_name = given;
        }
        if family.is_some() {
            user.family_name = family;
        }
    }
    if let Some(user_name) = user_name {
        user.user_name = user_name.to_string();
    }
    if let Some(display) = display {
        user.display_name = display.to_string();
    }
    user.active = enabled;
    user.last_modified = req.now;
    let user = user.clone();
    let reply = user_json(req, organization, &user);
    let active = enabled.to_string();
    state.audit(
        org,
        "scim.user.update",
        &user.user_name,
        "scim",
        &[("active", &active)],
        req.now,
    );
    Ok(Reply::scim(StatusCode::OK, &reply))
}
