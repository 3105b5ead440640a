//! The `repositories` area, repositories and their tags: listing, creation, lookups, immutable-tag rules, group grants.

use std::sync::LazyLock;

use hyper::StatusCode;
use regex::Regex;
use serde_json::{Value, json};

use crate::auth::{self, RepoRight};
use crate::clock::rfc3339;
use crate::http::{
    ApiError, Reply, Request, opt_bool, opt_str, req_bool, req_i64, req_str, req_str_list,
};
use crate::pagination::Page;
use crate::state::{HubState, Image, Principal, Repo, RepoGroup, Tag};

static REPO_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$").expect("valid pattern"));

const ORDERINGS: &[&str] = &[
    "name",
    "-name",
    "last_updated",
    "-last_updated",
    "pull_count",
    "-pull_count",
];

fn media_types(repo: &Repo) -> Vec<&'static str> {
    if repo.tags.is_empty() {
        Vec::new()
    } else {
        vec!["application/vnd.oci.image.index.v1+json"]
    }
}

fn content_types(repo: &Repo) -> Vec<&'static str> {
    if repo.tags.is_empty() {
        Vec::new()
    } else {
        vec!["image"]
    }
}

fn storage_size(repo: &Repo) -> u64 {
    repo.tags
        .iter()
        .flat_map(|t| t.images.iter())
        .map(|i| i.size)
        .sum()
}

fn list_entry(repo: &Repo) -> Value {
    json!({
        "name": repo.name,
        "namespace": repo.namespace,
        "repository_type": "image",
        "status": repo.status,
        "status_description": status_description(repo.status),
        "description": repo.description,
        "is_private": repo.is_private,
        "star_count": repo.star_count,
        "pull_count": repo.pull_count,
        "last_updated": rfc3339(repo.last_updated),
        "last_modified": rfc3339(repo.last_updated),
        "date_registered": rfc3339(repo.date_registered),
        "affiliation": "",
        "media_types": media_types(repo),
        "content_types": content_types(repo),
        "categories": [],
        "storage_size": storage_size(repo),
    })
}

fn repo_info(state: &HubState, repo: &Repo, principal: Option<&Principal>) -> Value {
    let right = auth::repo_right(state, principal, &repo.namespace, Some(&repo.name));
    let read = right >= RepoRight::Read || !repo.is_private;
    json!({
        "user": repo.namespace,
        "name": repo.name,
        "namespace": repo.namespace,
        "repository_type": "image",
        "status": repo.status,
        "status_description": status_description(repo.status),
        "description": repo.description,
        "is_private": repo.is_private,
        "is_automated": false,
        "star_count": repo.star_count,
        "pull_count": repo.pull_count,
        "last_updated": rfc3339(repo.last_updated),
        "last_modified": rfc3339(repo.last_updated),
        "date_registered": rfc3339(repo.date_registered),
        "collaborator_count": 0,
        "affiliation": null,
        "hub_user": repo.namespace,
        "has_starred": false,
        "full_description": repo.full_description,
        "permissions": {
            "read": read,
            "write": right >= RepoRight::Write,
            "admin": right >= RepoRight::Admin,
        },
        "media_types": media_types(repo),
        "content_types": content_types(repo),
        "categories": [],
        "immutable_tags_settings": {
            "enabled": repo.immutable_tags,
            "rules": repo.immutable_tags_rules,
        },
        "storage_size": storage_size(repo),
        "source": null,
    })
}

fn image_json(image: &Image, tag: &Tag) -> Value {
    json!({
        "architecture": image.architecture,
        "features": image.features,
        "variant": image.variant,
        "digest": image.digest,
        "os": image.os,
        "os_features": image.os_features,
        "os_version": image.os_version,
        "size": image.size,
        "status": "active",
        "last_pulled": null,
        "last_pushed": rfc3339(tag.last_updated),
    })
}

fn tag_json(repo: &Repo, tag: &Tag) -> Value {
    json!({
        "id": tag.id,
        "images": tag.images.iter().map(|i| image_json(i, tag)).collect::<Vec<_>>(),
        "creator": 1,
        "last_updated": rfc3339(tag.last_updated),
        "last_updater": 1,
        "last_updater_username": tag.last_updater,
        "name": tag.name,
        "repository": repo.id,
        "full_size": tag.images.iter().map(|i| i.size).max().unwrap_or(0),
        "v2": true,
        "status": "active",
        "tag_last_pulled": null,
        "tag_last_pushed": rfc3339(tag.last_updated),
        "media_type": "application/vnd.oci.image.index.v1+json",
        "content_type": "image",
        "digest": tag.digest(&repo.namespace, &repo.name),
    })
}

pub(crate) fn list(
    state: &HubState,
    req: &Request,
    principal: Option<&Principal>,
    ns: &str,
) -> Result<Reply, ApiError> {
    if !state.namespace_exists(ns) {
        return Err(ApiError::not_found(format!("namespace {ns} not found")));
    }
    let ordering = req.query("ordering").unwrap_or("-last_updated");
    if !ORDERINGS.contains(&ordering) {
        return Err(ApiError::field(
            "ordering",
            format!(
                "Invalid ordering value. Must be one of: {}",
                ORDERINGS.join(", ")
            ),
        ));
    }
    let page = Page::from_request(req, 10)?;
    let filter = req.query("name").map(str::to_ascii_lowercase);
    let can_see_private = auth::repo_right(state, principal, ns, None) >= RepoRight::Read;
    let mut repos: Vec<&Repo> = state
        .repos
        .values()
        .filter(|r| r.namespace == ns)
        .filter(|r| {
            !r.is_private
                || can_see_private
                || auth::repo_right(state, principal, ns, Some(&r.name)) >= RepoRight::Read
        })
        .filter(|r| filter.as_deref().is_none_or(|f| r.name.contains(f)))
        .collect();
    let (field, descending) = match ordering.strip_prefix('-') {
        Some(f) => (f, true),
        None => (ordering, false),
    };
    repos.sort_by(|a, b| {
        let primary = match field {
            "name" => a.name.cmp(&b.name),
            "pull_count" => a.pull_count.cmp(&b.pull_count),
            _ => a.last_updated.cmp(&b.last_updated),
        };
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.name.cmp(&b.name))
    });
    let body = page.respond(req, &repos, |r| list_entry(r))?;
    Ok(Reply::ok(&body))
}

pub(crate) fn create(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
) -> Result<Reply, ApiError> {
    if !state.users.contains_key(ns) && !state.orgs.contains_key(ns) {
        return Err(ApiError::not_found(format!("namespace {ns} not found")));
    }
    auth::require_repo_right(state, principal, ns, None, RepoRight::Write)?;
    let body = req.json_object()?;
    let name = req_str(&body, "name")?;
    let namespace = req_str(&body, "namespace")?;
    let description = opt_str(&body, "description")?.unwrap_or_default();
    let full_description = opt_str(&body, "full_description")?.unwrap_or_default();
    opt_str(&body, "registry")?;
    let is_private = opt_bool(&body, "is_private")?.unwrap_or(false);
    if namespace != ns {
        return Err(ApiError::field(
            "namespace",
            format!("namespace: {namespace:?} does not match the namespace in the path ({ns:?})"),
        ));
    }
    if !(2..=255).contains(&name.len()) || !REPO_NAME.is_match(name) {
        return Err(ApiError::field(
            "name",
            "name: must be 2-255 characters of lowercase letters, digits and single '.', '_' \
             or '-' separators",
        ));
    }
    if description.chars().count() > 100 {
        return Err(ApiError::field(
            "description",
            "description: at most 100 characters",
        ));
    }
    if full_description.len() > 25_000 {
        return Err(ApiError::field(
            "full_description",
            "full_description: at most 25000 bytes",
        ));
    }
    if state.repo(ns, name).is_some() {
        return Err(ApiError::conflict(format!(
            "repository {ns}/{name} already exists"
        )));
    }
    let now = req.now;
    let id = state.next_id();
    let repo = Repo {
        id,
        namespace: ns.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        full_description: full_description.to_string(),
        is_private,
        status: 1,
        star_count: 0,
        pull_count: 0,
        last_updated: now,
        date_registered: now,
        immutable_tags: false,
        immutable_tags_rules: Vec::new(),
        groups: Vec::new(),
        tags: Vec::new(),
    };
    let full = format!("{ns}/{name}");
    let body = repo_info(state, &repo, Some(principal));
    state.repos.insert((ns.to_string(), name.to_string()), repo);
    let private = if is_private { "true" } else { "false" };
    state.audit(
        ns,
        "repo.create",
        &full,
        principal.actor(),
        &[("is_private", private)],
        now,
    );
    Ok(Reply::json(StatusCode::CREATED, &body))
}

pub(crate) fn get(
    state: &HubState,
    principal: Option<&Principal>,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    auth::check_visible(state, principal, ns, name)?;
    let repo = state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    Ok(Reply::ok(&repo_info(state, repo, principal)))
}

/// Newest first, as the Hub lists tags.
fn sorted_tags(repo: &Repo) -> Vec<&Tag> {
    let mut tags: Vec<&Tag> = repo.tags.iter().collect();
    tags.sort_by(|a, b| {
        b.last_updated
            .cmp(&a.last_updated)
            .then_with(|| a.name.cmp(&b.name))
    });
    tags
}

pub(crate) fn list_tags(
    state: &HubState,
    req: &Request,
    principal: Option<&Principal>,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    auth::check_visible(state, principal, ns, name)?;
    let repo = state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    let page = Page::from_request(req, 10)?;
    let filter = req.query("name");
    let tags: Vec<&Tag> = sorted_tags(repo)
        .into_iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .collect();
    let body = page.respond(req, &tags, |t| tag_json(repo, t))?;
    Ok(Reply::ok(&body))
}

pub(crate) fn head_tags(
    state: &HubState,
    principal: Option<&Principal>,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    auth::check_visible(state, principal, ns, name)?;
    let repo = state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    if repo.tags.is_empty() {
        return Err(ApiError::not_found(format!(
            "repository {ns}/{name} has no tags"
        )));
    }
    Ok(Reply::empty(StatusCode::OK))
}

pub(crate) fn get_tag(
    state: &HubState,
    principal: Option<&Principal>,
    ns: &str,
    name: &str,
    tag: &str,
) -> Result<Reply, ApiError> {
    auth::check_visible(state, principal, ns, name)?;
    let repo = state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    let found = repo
        .tags
        .iter()
        .find(|t| t.name == tag)
        .ok_or_else(|| ApiError::not_found(format!("tag {tag} not found in {ns}/{name}")))?;
    Ok(Reply::ok(&tag_json(repo, found)))
}

fn existing_repo<'a>(
    state: &'a HubState,
    principal: &Principal,
    ns: &str,
    name: &str,
) -> Result<&'a Repo, ApiError> {
    auth::check_visible(state, Some(principal), ns, name)?;
    state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))
}

pub(crate) fn patch_immutable_tags(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    existing_repo(state, principal, ns, name)?;
    auth::require_repo_right(state, principal, ns, Some(name), RepoRight::Admin)?;
    let body = req.json_object()?;
    let enabled = req_bool(&body, "immutable_tags")?;
    let rules = req_str_list(&body, "immutable_tags_rules")?;
    for rule in &rules {
        Regex::new(rule).map_err(|e| {
            ApiError::field(
                "immutable_tags_rules",
                format!("immutable_tags_rules: {rule:?} is not a valid pattern: {e}"),
            )
        })?;
    }
    let now = req.now;
    let repo = state
        .repo_mut(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    repo.immutable_tags = enabled;
    repo.immutable_tags_rules = rules;
    repo.last_updated = now;
    let enabled_text = enabled.to_string();
    state.audit(
        ns,
        "repo.immutable_tags.update",
        &format!("{ns}/{name}"),
        principal.actor(),
        &[("enabled", &enabled_text)],
        now,
    );
    let repo = state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    Ok(Reply::ok(&repo_info(state, repo, Some(principal))))
}

pub(crate) fn verify_immutable_tags(
    state: &HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    let repo = existing_repo(state, principal, ns, name)?;
    auth::require_repo_right(state, principal, ns, Some(name), RepoRight::Admin)?;
    let body = req.json_object()?;
    let pattern = req_str(&body, "regex")?;
    // A rule covers a whole tag name, not a substring of it.
    let anchored = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        ApiError::field(
            "regex",
            format!("regex: {pattern:?} is not a valid pattern: {e}"),
        )
    })?;
    let tags: Vec<&str> = sorted_tags(repo)
        .into_iter()
        .filter(|t| anchored.is_match(&t.name))
        .map(|t| t.name.as_str())
        .collect();
    Ok(Reply::ok(&json!({ "tags": tags })))
}

pub(crate) fn assign_group(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    existing_repo(state, principal, ns, name)?;
    auth::require_repo_right(state, principal, ns, Some(name), RepoRight::Admin)?;
    let body = req.json_object()?;
    let group_id = req_i64(&body, "group_id")?;
    let permission = req_str(&body, "permission")?;
    if !["read", "write", "admin"].contains(&permission) {
        return Err(ApiError::field(
            "permission",
            "permission: must be one of read, write, admin",
        ));
    }
    let org = state.orgs.get(ns).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{ns} is not an organization; only organization repositories have group access"
        ))
    })?;
    let group = org
        .groups
        .iter()
        .find(|g| i64::try_from(g.id).ok() == Some(group_id))
        .ok_or_else(|| ApiError::not_found(format!("group {group_id} not found in {ns}")))?;
    let grant = RepoGroup {
        group_id: group.id,
        group_name: group.name.clone(),
        permission: permission.to_string(),
    };
    let reply = json!({
        "group_name": grant.group_name,
        "permission": grant.permission,
        "group_id": grant.group_id,
    });
    let now = req.now;
    let repo = state
        .repo_mut(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    repo.groups.retain(|g| g.group_id != grant.group_id);
    let group_name = grant.group_name.clone();
    repo.groups.push(grant);
    state.audit(
        ns,
        "repo.group.assign",
        &format!("{ns}/{name}"),
        principal.actor(),
        &[("group", &group_name), ("permission", permission)],
        now,
    );
    Ok(Reply::ok(&reply))
}

/// The Hub's statuses of a repository, by the number `update_repository` takes.
fn status_description(status: i64) -> &'static str {
    if status == 0 { "inactive" } else { "active" }
}

pub(crate) fn update(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    existing_repo(state, principal, ns, name)?;
    auth::require_repo_right(state, principal, ns, Some(name), RepoRight::Write)?;
    let body = req.json_object()?;
    let description = opt_str(&body, "description")?;
    let full_description = opt_str(&body, "full_description")?;
    let status = match body.get("status") {
        None | Some(Value::Null) => None,
        Some(_) => Some(req_i64(&body, "status")?),
    };
    if let Some(d) = description
        && d.chars().count() > 100
    {
        return Err(ApiError::field(
            "description",
            "description: at most 100 characters",
        ));
    }
    if let Some(f) = full_description
        && f.len() > 25_000
    {
        return Err(ApiError::field(
            "full_description",
            "full_description: at most 25000 bytes",
        ));
    }
    if let Some(s) = status {
        if !(0..=1).contains(&s) {
            return Err(ApiError::field(
                "status",
                "status: must be 1 (active) or 0 (inactive)",
            ));
        }
        let repo = state
            .repo(ns, name)
            .ok_or_else(|| auth::repo_not_found(ns, name))?;
        if s == 1 && repo.status == 0 && repo.tags.is_empty() {
            return Err(ApiError::bad_request(
                "an inactive repository without images cannot be made active",
            ));
        }
    }
    let now = req.now;
    let repo = state
        .repo_mut(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    let mut changed = Vec::new();
    if let Some(d) = description {
        repo.description = d.to_string();
        changed.push("description");
    }
    if let Some(f) = full_description {
        repo.full_description = f.to_string();
        changed.push("full_description");
    }
    if let Some(s) = status {
        repo.status = s;
        changed.push("status");
    }
    repo.last_updated = now;
    let fields = changed.join(",");
    state.audit(
        ns,
        "repo.update",
        &format!("{ns}/{name}"),
        principal.actor(),
        &[("fields", &fields)],
        now,
    );
    let repo = state
        .repo(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    Ok(Reply::ok(&repo_info(state, repo, Some(principal))))
}

pub(crate) fn delete(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
    name: &str,
) -> Result<Reply, ApiError> {
    existing_repo(state, principal, ns, name)?;
    auth::require_repo_right(state, principal, ns, Some(name), RepoRight::Admin)?;
    state.repos.remove(&(ns.to_string(), name.to_string()));
    state.audit(
        ns,
        "repo.delete",
        &format!("{ns}/{name}"),
        principal.actor(),
        &[],
        req.now,
    );
    Ok(Reply::empty(StatusCode::ACCEPTED))
}

pub(crate) fn delete_tag(
    state: &mut HubState,
    req: &Request,
    principal: &Principal,
    ns: &str,
    name: &str,
    tag: &str,
) -> Result<Reply, ApiError> {
    existing_repo(state, principal, ns, name)?;
    auth::require_repo_right(state, principal, ns, Some(name), RepoRight::Write)?;
    let now = req.now;
    let repo = state
        .repo_mut(ns, name)
        .ok_or_else(|| auth::repo_not_found(ns, name))?;
    let before = repo.tags.len();
    repo.tags.retain(|t| t.name != tag);
    if repo.tags.len() == before {
        return Err(ApiError::not_found(format!(
            "tag {tag} not found in {ns}/{name}"
        )));
    }
    repo.last_updated = now;
    state.audit(
        ns,
        "repo.tag.delete",
        &format!("{ns}/{name}"),
        principal.actor(),
        &[("tag", tag)],
        now,
    );
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
