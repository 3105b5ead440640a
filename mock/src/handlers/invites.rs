//! The `invites` area: an organization's pending invitations, sent in bulk, resent and
//! cancelled.

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use super::orgs::{is_email, org, org_mut};
use crate::auth::{self, OrgNeed};
use crate::clock::rfc3339;
use crate::http::{ApiError, Reply, Request, opt_bool, opt_str, req_str, req_str_list};
use crate::state::{HubState, Invite, Principal, Role};

fn invite_json(invite: &Invite) -> Value {
    json!({
        "id": invite.id,
        "inviter_username": invite.inviter,
        "invitee": invite.invitee,
        "org": invite.org,
        "team": invite.team,
        "role": invite.role.as_str(),
        "created_at": rfc3339(invite.created_at),
    })
}

pub(crate) fn list(state: &HubState, principal: &Principal, name: &str) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Owner)?;
    let data: Vec<Value> = org(state, name)?.invites.iter().map(invite_json).collect();
    Ok(Reply::ok(&json!({ "data": data })))
}

/// The organization holding invite `id`, after checking the caller may manage it.
fn invite_org(state: &HubState, principal: &Principal, id: &str) -> Result<String, ApiError> {
    let org_name = state
        .orgs
        .values()
        .find(|o| o.invites.iter().any(|i| i.id == id))
        .map(|o| o.name.clone())
        .ok_or_else(|| ApiError::not_found(format!("invite {id} not found")))?;
    auth::org_access(state, principal, &org_name, OrgNeed::Owner)?;
    Ok(org_name)
}

pub(crate) fn cancel(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    id: &str,
) -> Result<Reply, ApiError> {
    let org_name = invite_org(state, principal, id)?;
    let organization = org_mut(state, &org_name)?;
    let index = organization
        .invites
        .iter()
        .position(|i| i.id == id)
        .unwrap_or_default();
    let invite = organization.invites.remove(index);
    state.audit(
        &org_name,
        "member.invite.cancel",
        &invite.invitee,
        principal.actor(),
        &[("invite_id", id)],
        req.now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

pub(crate) fn resend(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    id: &str,
) -> Result<Reply, ApiError> {
    let org_name = invite_org(state, principal, id)?;
    let invitee = org(state, &org_name)?
        .invites
        .iter()
        .find(|i| i.id == id)
        .map(|i| i.invitee.clone())
        .unwrap_or_default();
    state.audit(
        &org_name,
        "member.invite.resend",
        &invitee,
        principal.actor(),
        &[("invite_id", id)],
        req.now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

pub(crate) fn bulk_create(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
) -> Result<Reply, ApiError> {
    let body: Map<String, Value> = req.json_object()?;
    let org_name = req_str(&body, "org")?.to_string();
    let team = opt_str(&body, "team")?.map(str::to_string);
    let role = match opt_str(&body, "role")? {
        None => Role::Member,
        Some(text) => Role::parse(text).ok_or_else(|| {
            ApiError::field(
                "role",
                format!("role: {text:?} is not one of owner, editor, member"),
            )
        })?,
    };
    let invitees = req_str_list(&body, "invitees")?;
    if invitees.is_empty() {
        return Err(ApiError::field(
            "invitees",
            "invitees: at least one invitee is required",
        ));
    }
    let dry_run = opt_bool(&body, "dry_run")?.unwrap_or(false);
    auth::org_access(state, principal, &org_name, OrgNeed::Owner)?;
    let organization = org(state, &org_name)?;
    if let Some(team) = &team
        && organization.group(team).is_none()
    {
        return Err(ApiError::field(
            "team",
            format!("team: {team} is not a group of {org_name}"),
        ));
    }
    let mut results = Vec::new();
    let mut created: Vec<Invite> = Vec::new();
    for raw in &invitees {
        let invitee = raw.trim();
        let user = state.users.values().find(|u| {
            u.username == invitee || (is_email(invitee) && u.email.eq_ignore_ascii_case(invitee))
        });
        let organization = org(state, &org_name)?;
        let status = if user.is_none() && !is_email(invitee) {
            "invalid_email_or_docker_id"
        } else if user.is_some_and(|u| organization.role_of(&u.username).is_some()) {
            "existing_org_member"
        } else if organization
            .invites
            .iter()
            .chain(created.iter())
            .any(|i| i.invitee.eq_ignore_ascii_case(invitee))
        {
            "already_invited"
        } else {
            "invited"
        };
        let mut entry = json!({ "invitee": invitee, "status": status });
        if status == "invited" && !dry_run {
            let invite = Invite {
                id: state.ids.uuid(),
                org: org_name.clone(),
                inviter: principal.actor().to_string(),
                invitee: invitee.to_string(),
                team: team.clone(),
                role,
                created_at: req.now,
            };
            entry["invite"] = invite_json(&invite);
            created.push(invite);
        }
        results.push(entry);
    }
    for invite in created {
        state.audit(
            &org_name,
            "member.invite.send",
            &invite.invitee,
            principal.actor(),
            &[("invite_id", &invite.id), ("role", invite.role.as_str())],
            req.now,
        );
        org_mut(state, &org_name)?.invites.push(invite);
    }
    Ok(Reply::json(
        StatusCode::ACCEPTED,
        &json!({ "invitees": results }),
    ))
}
