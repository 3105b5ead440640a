//! The `org-settings` area: an organization's restricted-images policy.

use serde_json::{Value, json};

use super::orgs::{org, org_mut};
use crate::auth::{self, OrgNeed};
use crate::http::{ApiError, Reply, Request, req_bool};
use crate::state::{HubState, Org, Principal};

fn settings_json(org: &Org) -> Value {
    let ri = &org.restricted_images;
    json!({
        "restricted_images": {
            "enabled": ri.enabled,
            "allow_official_images": ri.allow_official_images,
            "allow_verified_publishers": ri.allow_verified_publishers,
        }
    })
}

pub(crate) fn get(state: &HubState, principal: &Principal, name: &str) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Owner)?;
    Ok(Reply::ok(&settings_json(org(state, name)?)))
}

pub(crate) fn put(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    name: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Admin)?;
    let body = req.json_object()?;
    let ri = match body.get("restricted_images") {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => {
            return Err(ApiError::field(
                "restricted_images",
                "restricted_images: this field is required",
            ));
        }
        Some(_) => {
            return Err(ApiError::field(
                "restricted_images",
                "restricted_images: must be an object",
            ));
        }
    };
    let flag = |key: &str| {
        req_bool(ri, key).map_err(|e| {
            let path = format!("restricted_images.{key}");
            ApiError::field(&path, e.message.replacen(key, &path, 1))
        })
    };
    let (enabled, official, verified) = (
        flag("enabled")?,
        flag("allow_official_images")?,
        flag("allow_verified_publishers")?,
    );
    let organization = org_mut(state, name)?;
    organization.restricted_images.enabled = enabled;
    organization.restricted_images.allow_official_images = official;
    organization.restricted_images.allow_verified_publishers = verified;
    let reply = settings_json(organization);
    let enabled_text = enabled.to_string();
    state.audit(
        name,
        "settings.update",
        name,
        principal.actor(),
        &[("restricted_images.enabled", &enabled_text)],
        req.now,
    );
    Ok(Reply::ok(&reply))
}
