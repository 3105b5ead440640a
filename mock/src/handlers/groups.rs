//! The `groups` area: groups (teams) of an organization and their members.

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::auth::{self, OrgNeed};
use crate::clock::rfc3339;
use crate::http::{ApiError, Reply, Request, opt_str, req_str};
use crate::pagination::Page;
use crate::state::{Group, HubState, Org, Principal};

fn group_json(group: &Group) -> Value {
    json!({
        "id": group.id,
        "uuid": group.uuid,
        "name": group.name,
        "description": group.description,
        "member_count": group.members.len(),
    })
}

fn group_not_found(org: &str, group: &str) -> ApiError {
    ApiError::not_found(format!("group {group} not found in {org}"))
}

fn find<'a>(state: &'a HubState, org: &str, group: &str) -> Result<(&'a Org, &'a Group), ApiError> {
    let organization = &state.orgs[org];
    let found = organization
        .group(group)
        .ok_or_else(|| group_not_found(org, group))?;
    Ok((organization, found))
}

fn find_mut<'a>(
    state: &'a mut HubState,
    org: &str,
    group: &str,
) -> Result<&'a mut Group, ApiError> {
    state
        .orgs
        .get_mut(org)
        .and_then(|o| o.groups.iter_mut().find(|g| g.name == group))
        .ok_or_else(|| group_not_found(org, group))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 30
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "name",
            "name: must be 1-30 letters, digits, '.', '_' or '-'",
        ))
    }
}

pub(crate) fn list(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Member)?;
    let page = Page::from_request(req, 10)?;
    let username = req.query("username").filter(|u| !u.is_empty());
    let search = req.query("search").map(str::to_lowercase);
    let mut groups: Vec<&Group> = state.orgs[org]
        .groups
        .iter()
        .filter(|g| username.is_none_or(|u| g.members.iter().any(|m| m == u)))
        .filter(|g| {
            search
                .as_deref()
                .is_none_or(|s| g.name.to_lowercase().contains(s))
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Reply::ok(&page.respond(req, &groups, |g| group_json(g))?))
}

pub(crate) fn create(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Owner)?;
    let body = req.json_object()?;
    let name = req_str(&body, "name")?;
    check_name(name)?;
    let description = opt_str(&body, "description")?.unwrap_or_default();
    if state.orgs[org].group(name).is_some() {
        return Err(ApiError::conflict(format!(
            "group {name} already exists in {org}"
        )));
    }
    let group = Group {
        id: state.next_id(),
        uuid: state.ids.uuid(),
        name: name.to_string(),
        description: description.to_string(),
        members: Vec::new(),
    };
    let reply = group_json(&group);
    state
        .orgs
        .get_mut(org)
        .expect("checked by org_access")
        .groups
        .push(group);
    state.audit(org, "team.create", name, principal.actor(), &[], req.now);
    Ok(Reply::json(StatusCode::CREATED, &reply))
}

pub(crate) fn get(
    state: &HubState,
    principal: &Principal,
    org: &str,
    group: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Member)?;
    let (_, found) = find(state, org, group)?;
    Ok(Reply::ok(&group_json(found)))
}

/// PUT and PATCH: `name_required` is what tells the two apart.
pub(crate) fn update(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    group: &str,
    name_required: bool,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Owner)?;
    find(state, org, group)?;
    let body = req.json_object()?;
    let name = if name_required {
        Some(req_str(&body, "name")?)
    } else {
        opt_str(&body, "name")?
    };
    if let Some(name) = name {
        check_name(name)?;
        if name != group && state.orgs[org].group(name).is_some() {
            return Err(ApiError::conflict(format!(
                "group {name} already exists in {org}"
            )));
        }
    }
    let description = opt_str(&body, "description")?;
    let target = find_mut(state, org, group)?;
    if let Some(name) = name {
        target.name = name.to_string();
    }
    if let Some(description) = description {
        target.description = description.to_string();
    }
    let reply = group_json(target);
    let (id, new_name) = (target.id, target.name.clone());
    // Repository grants show the group's name, so they follow a rename.
    for repo in state.repos.values_mut().filter(|r| r.namespace == org) {
        for grant in repo.groups.iter_mut().filter(|g| g.group_id == id) {
            grant.group_name = new_name.clone();
        }
    }
    state.audit(
        org,
        "team.update",
        &new_name,
        principal.actor(),
        &[("previous_name", group)],
        req.now,
    );
    Ok(Reply::ok(&reply))
}

pub(crate) fn delete(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    group: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Owner)?;
    let (_, found) = find(state, org, group)?;
    let id = found.id;
    let organization = state.orgs.get_mut(org).expect("checked by org_access");
    organization.groups.retain(|g| g.id != id);
    for repo in state.repos.values_mut().filter(|r| r.namespace == org) {
        repo.groups.retain(|g| g.group_id != id);
    }
    state.audit(org, "team.delete", group, principal.actor(), &[], req.now);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

pub(crate) fn list_members(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    group: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Member)?;
    let (organization, found) = find(state, org, group)?;
    let page = Page::from_request(req, 10)?;
    let search = req.query("search").map(str::to_lowercase);
    let users: Vec<&crate::state::User> = found
        .members
        .iter()
        .filter_map(|m| state.users.get(m))
        .filter(|u| {
            search.as_deref().is_none_or(|s| {
                [&u.username, &u.full_name, &u.email]
                    .iter()
                    .any(|f| f.to_lowercase().contains(s))
            })
        })
        .collect();
    let body = page.respond(req, &users, |u| {
        let joined = organization
            .members
            .iter()
            .find(|m| m.username == u.username)
            .map(|m| m.joined)
            .unwrap_or(u.date_joined);
        json!({
            "id": u.id,
            "company": u.company,
            "date_joined": rfc3339(joined),
            "full_name": u.full_name,
            "gravatar_email": "",
            "gravatar_url": "",
            "location": u.location,
            "profile_url": "",
            "type": "User",
            "username": u.username,
            "email": u.email,
        })
    })?;
    Ok(Reply::ok(&body))
}

pub(crate) fn add_member(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    group: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Owner)?;
    find(state, org, group)?;
    let body = req.json_object()?;
    let member = req_str(&body, "member")?;
    if state.orgs[org].role_of(member).is_none() {
        return Err(ApiError::not_found(format!(
            "{member} is not a member of organization {org}"
        )));
    }
    let target = find_mut(state, org, group)?;
    if !target.members.iter().any(|m| m == member) {
        target.members.push(member.to_string());
        state.audit(
            org,
            "team.member.add",
            group,
            principal.actor(),
            &[("member", member)],
            req.now,
        );
    }
    Ok(Reply::empty(StatusCode::OK))
}

pub(crate) fn remove_member(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    org: &str,
    group: &str,
    username: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, org, OrgNeed::Owner)?;
    let target = find_mut(state, org, group)?;
    let index = target
        .members
        .iter()
        .position(|m| m == username)
        .ok_or_else(|| ApiError::not_found(format!("{username} is not in group {group}")))?;
    target.members.remove(index);
    state.audit(
        org,
        "team.member.remove",
        group,
        principal.actor(),
        &[("member", username)],
        req.now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
