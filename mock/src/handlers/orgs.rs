//! The `orgs` area: an organization's members (list, CSV export, role, removal), and the
//! lookups its sibling areas (`org-settings`, `invites`) share.

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::auth::{self, OrgNeed};
use crate::clock::{csv_time, rfc3339};
use crate::http::{ApiError, CSV, Reply, Request, req_str};
use crate::pagination::Page;
use crate::state::{HubState, Invite, Member, Org, Principal, Role};

pub(super) fn org<'a>(state: &'a HubState, name: &str) -> Result<&'a Org, ApiError> {
    state
        .orgs
        .get(name)
        .ok_or_else(|| ApiError::not_found(format!("organization {name} not found")))
}

pub(super) fn org_mut<'a>(state: &'a mut HubState, name: &str) -> Result<&'a mut Org, ApiError> {
    state
        .orgs
        .get_mut(name)
        .ok_or_else(|| ApiError::not_found(format!("organization {name} not found")))
}

/// Whether an invitee is an email address rather than a Docker ID.
pub(super) fn is_email(text: &str) -> bool {
    text.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
    })
}

fn member_json(state: &HubState, org: &Org, member: &Member) -> Value {
    let user = state.users.get(&member.username);
    let text =
        |f: fn(&crate::state::User) -> &String| user.map(|u| f(u).clone()).unwrap_or_default();
    json!({
        "id": text(|u| &u.id),
        "company": text(|u| &u.company),
        "date_joined": rfc3339(member.joined),
        "full_name": text(|u| &u.full_name),
        "gravatar_email": "",
        "gravatar_url": "",
        "location": text(|u| &u.location),
        "profile_url": "",
        "type": "User",
        "username": member.username,
        "email": text(|u| &u.email),
        "role": member.role.title(),
        "groups": org.groups_of(&member.username),
        "is_guest": false,
        "primary_email": text(|u| &u.email),
    })
}

fn invitee_json(invite: &Invite) -> Value {
    let email = if is_email(&invite.invitee) {
        invite.invitee.as_str()
    } else {
        ""
    };
    let username = if email.is_empty() {
        invite.invitee.as_str()
    } else {
        ""
    };
    json!({
        "id": invite.id,
        "company": "",
        "date_joined": rfc3339(invite.created_at),
        "full_name": "",
        "gravatar_email": "",
        "gravatar_url": "",
        "location": "",
        "profile_url": "",
        "type": "User",
        "username": username,
        "email": email,
        "role": "Invitee",
        "groups": invite.team.iter().collect::<Vec<_>>(),
        "is_guest": false,
        "primary_email": email,
    })
}

enum Row<'a> {
    Member(&'a Member),
    Invitee(&'a Invite),
}

pub(crate) fn list_members(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    name: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Member)?;
    let organization = org(state, name)?;
    let page = Page::from_request(req, 10)?;
    let include_invites = match req.query("invites") {
        None | Some("") => false,
        Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => {
            return Err(ApiError::field(
                "invites",
                format!("invites: {other:?} is not a boolean"),
            ));
        }
    };
    let (members, invitees) = match req.query("type") {
        None | Some("") => (true, include_invites),
        Some("all") => (true, true),
        Some("member") => (true, false),
        Some("invitee") => (false, true),
        Some(other) => {
            return Err(ApiError::field(
                "type",
                format!("type: {other:?} is not one of all, invitee, member"),
            ));
        }
    };
    let role = match req.query("role") {
        None | Some("") => None,
        Some(text) => Some(Role::parse(text).ok_or_else(|| {
            ApiError::field(
                "role",
                format!("role: {text:?} is not one of owner, editor, member"),
            )
        })?),
    };
    let search = req.query("search").map(str::to_lowercase);
    let matches = |fields: &[&str]| {
        search
            .as_deref()
            .is_none_or(|s| fields.iter().any(|f| f.to_lowercase().contains(s)))
    };
    let mut rows: Vec<Row> = Vec::new();
    if members {
        let mut list: Vec<&Member> = organization
            .members
            .iter()
            .filter(|m| role.is_none_or(|r| m.role == r))
            .filter(|m| {
                let user = state.users.get(&m.username);
                matches(&[
                    &m.username,
                    user.map(|u| u.full_name.as_str()).unwrap_or(""),
                    user.map(|u| u.email.as_str()).unwrap_or(""),
                ])
            })
            .collect();
        list.sort_by(|a, b| a.username.cmp(&b.username));
        rows.extend(list.into_iter().map(Row::Member));
    }
    if invitees && role.is_none() {
        rows.extend(
            organization
                .invites
                .iter()
                .filter(|i| matches(&[&i.invitee]))
                .map(Row::Invitee),
        );
    }
    let body = page.respond(req, &rows, |row| match row {
        Row::Member(m) => member_json(state, organization, m),
        Row::Invitee(i) => invitee_json(i),
    })?;
    Ok(Reply::ok(&body))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub(crate) fn export_members(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    name: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Owner)?;
    let organization = org(state, name)?;
    let mut out = String::from("Name,Username,Email,Type,Permission,Teams,Date Joined\r\n");
    let mut push = |cells: [&str; 7]| {
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    for m in &organization.members {
        let user = state.users.get(&m.username);
        push([
            user.map(|u| u.full_name.as_str()).unwrap_or(""),
            &m.username,
            user.map(|u| u.email.as_str()).unwrap_or(""),
            "User",
            m.role.title(),
            &organization.groups_of(&m.username).join(", "),
            &csv_time(m.joined),
        ]);
    }
    for i in &organization.invites {
        let email = if is_email(&i.invitee) {
            i.invitee.as_str()
        } else {
            ""
        };
        push([
            "",
            if email.is_empty() { &i.invitee } else { "" },
            email,
            "Invitee",
            i.role.title(),
            i.team.as_deref().unwrap_or(""),
            &csv_time(i.created_at),
        ]);
    }
    let mut reply = Reply::empty(StatusCode::OK).with_header(
        "content-disposition",
        format!("attachment;filename=\"{name}-members-{}.csv\"", req.now),
    );
    reply.content_type = Some(CSV);
    reply.body = out.into_bytes().into();
    Ok(reply)
}

fn owners(org: &Org) -> usize {
    org.members.iter().filter(|m| m.role == Role::Owner).count()
}

pub(crate) fn put_member(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    name: &str,
    username: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Owner)?;
    let body = req.json_object()?;
    let role_text = req_str(&body, "role")?;
    let role = Role::parse(role_text).ok_or_else(|| {
        ApiError::field(
            "role",
            format!("role: {role_text:?} is not one of owner, editor, member"),
        )
    })?;
    let organization = org_mut(state, name)?;
    let owner_count = owners(organization);
    let member = organization
        .members
        .iter_mut()
        .find(|m| m.username == username)
        .ok_or_else(|| ApiError::not_found(format!("{username} is not a member of {name}")))?;
    if member.role == Role::Owner && role != Role::Owner && owner_count == 1 {
        return Err(ApiError::bad_request(format!(
            "{username} is the last owner of {name}"
        )));
    }
    member.role = role;
    let member = member.clone();
    let organization = org(state, name)?;
    let reply = member_json(state, organization, &member);
    state.audit(
        name,
        "member.role.change",
        username,
        principal.actor(),
        &[("role", role.as_str())],
        req.now,
    );
    Ok(Reply::ok(&reply))
}

pub(crate) fn delete_member(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    name: &str,
    username: &str,
) -> Result<Reply, ApiError> {
    auth::org_access(state, principal, name, OrgNeed::Owner)?;
    let organization = org_mut(state, name)?;
    let index = organization
        .members
        .iter()
        .position(|m| m.username == username)
        .ok_or_else(|| ApiError::not_found(format!("{username} is not a member of {name}")))?;
    if organization.members[index].role == Role::Owner && owners(organization) == 1 {
        return Err(ApiError::bad_request(format!(
            "{username} is the last owner of {name} and cannot be removed"
        )));
    }
    organization.members.remove(index);
    for group in &mut organization.groups {
        group.members.retain(|m| m != username);
    }
    state.audit(
        name,
        "member.remove",
        username,
        principal.actor(),
        &[],
        req.now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
