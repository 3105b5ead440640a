//! From a resolved route to a reply: authentication first, then the operation's handler.
//!
//! One module per catalog area (the SCIM area is `crate::scim`). Which credentials a route
//! needs is the kind of route it is ([`Route`]); each kind is checked here, once, before its
//! handler runs, and every route is matched by name, so a route without a handler does not
//! compile.

mod access_tokens;
mod audit_logs;
mod authentication;
mod groups;
mod invites;
mod org_access_tokens;
mod org_settings;
mod orgs;
mod repositories;
mod search;
mod users;

use crate::auth;
use crate::http::{ApiError, Reply, Request};
use crate::routing::{self, HubRoute, OpenRoute, PublicRoute, Route, ScimRoute};
use crate::scim;
use crate::state::{HubState, Principal};

/// Answers one request against the state; never fails, errors become error replies.
pub(crate) fn handle(state: &mut HubState, req: &Request) -> Reply {
    let scim = routing::is_scim_path(&req.raw_path);
    run(state, req).unwrap_or_else(|e| e.into_reply(scim))
}

fn run(state: &mut HubState, req: &Request) -> Result<Reply, ApiError> {
    match routing::resolve(&req.method, &req.raw_path)? {
        Route::Open(route) => open(state, req, route),
        Route::Public(route) => {
            let principal = auth::authenticate(state, req)?;
            public(state, req, principal.as_ref(), route)
        }
        Route::Hub(route) => {
            let principal = auth::authenticate(state, req)?;
            let p = auth::required(principal.as_ref())?;
            hub(state, req, p, route)
        }
        Route::Scim(route) => {
            let org = auth::scim_org(state, req)?;
            scim_route(state, req, &org, route)
        }
    }
}

fn open(state: &mut HubState, req: &Request, route: OpenRoute) -> Result<Reply, ApiError> {
    match route {
        OpenRoute::Login => authentication::login(state, req),
        OpenRoute::LoginSecondFactor => authentication::second_factor(state, req),
        OpenRoute::CreateAuthToken => authentication::create_auth_token(state, req),
    }
}

fn public(
    state: &mut HubState,
    req: &Request,
    p: Option<&Principal>,
    route: PublicRoute,
) -> Result<Reply, ApiError> {
    use PublicRoute::*;
    match route {
        ListRepositories { ns } => repositories::list(state, req, p, &ns),
        GetRepository { ns, repo } | CheckRepository { ns, repo } => {
            repositories::get(state, p, &ns, &repo)
        }
        ListRepositoryTags { ns, repo } => repositories::list_tags(state, req, p, &ns, &repo),
        CheckRepositoryTags { ns, repo } => repositories::head_tags(state, p, &ns, &repo),
        GetRepositoryTag { ns, repo, tag } | CheckRepositoryTag { ns, repo, tag } => {
            repositories::get_tag(state, p, &ns, &repo, &tag)
        }
        SearchRepositories => search::search(state, req),
    }
}

fn hub(
    state: &mut HubState,
    req: &Request,
    p: &Principal,
    route: HubRoute,
) -> Result<Reply, ApiError> {
    use HubRoute::*;
    match route {
        ListPersonalAccessTokens => access_tokens::list(state, req, p),
        CreatePersonalAccessToken => access_tokens::create(state, req, p),
        GetPersonalAccessToken { uuid } => access_tokens::get(state, p, &uuid),
        UpdatePersonalAccessToken { uuid } => access_tokens::patch(state, req, p, &uuid),
        DeletePersonalAccessToken { uuid } => access_tokens::delete(state, req, p, &uuid),

        ListAuditLogActions { account } => audit_logs::actions(state, p, &account),
        ListAuditLogEvents { account } => audit_logs::logs(state, req, p, &account),

        GetOrgSettings { org } => org_settings::get(state, p, &org),
        UpdateOrgSettings { org } => org_settings::put(state, req, p, &org),

        ListOrgAccessTokens { org } => org_access_tokens::list(state, req, p, &org),
        CreateOrgAccessToken { org } => org_access_tokens::create(state, req, p, &org),
        GetOrgAccessToken { org, id } => org_access_tokens::get(state, p, &org, &id),
        UpdateOrgAccessToken { org, id } => org_access_tokens::patch(state, req, p, &org, &id),
        DeleteOrgAccessToken { org, id } => org_access_tokens::delete(state, req, p, &org, &id),

        CreateRepository { ns } => repositories::create(state, req, p, &ns),
        UpdateRepositoryImmutableTags { ns, repo } => {
            repositories::patch_immutable_tags(state, req, p, &ns, &repo)
        }
        VerifyRepositoryImmutableTags { ns, repo } => {
            repositories::verify_immutable_tags(state, req, p, &ns, &repo)
        }
        AssignRepositoryGroup { ns, repo } => repositories::assign_group(state, req, p, &ns, &repo),
        UpdateRepository { ns, repo } => repositories::update(state, req, p, &ns, &repo),
        DeleteRepository { ns, repo } => repositories::delete(state, req, p, &ns, &repo),
        DeleteRepositoryTag { ns, repo, tag } => {
            repositories::delete_tag(state, req, p, &ns, &repo, &tag)
        }

        GetCurrentUser => users::current(state, p),
        ListCurrentUserOrgs => users::orgs(state, req, p),

        ListOrgMembers { org } => orgs::list_members(state, req, p, &org),
        ExportOrgMembers { org } => orgs::export_members(state, req, p, &org),
        UpdateOrgMemberRole { org, user } => orgs::put_member(state, req, p, &org, &user),
        RemoveOrgMember { org, user } => orgs::delete_member(state, req, p, &org, &user),

        ListOrgInvites { org } => invites::list(state, p, &org),
        CancelInvite { id } => invites::cancel(state, req, p, &id),
        ResendInvite { id } => invites::resend(state, req, p, &id),
        BulkCreateInvites => invites::bulk_create(state, req, p),

        ListOrgGroups { org } => groups::list(state, req, p, &org),
        CreateOrgGroup { org } => groups::create(state, req, p, &org),
        GetOrgGroup { org, group } => groups::get(state, p, &org, &group),
        UpdateOrgGroup { org, group } => groups::update(state, req, p, &org, &group, true),
        PatchOrgGroup { org, group } => groups::update(state, req, p, &org, &group, false),
        DeleteOrgGroup { org, group } => groups::delete(state, req, p, &org, &group),
        ListGroupMembers { org, group } => groups::list_members(state, req, p, &org, &group),
        AddGroupMember { org, group } => groups::add_member(state, req, p, &org, &group),
        RemoveGroupMember { org, group, user } => {
            groups::remove_member(state, req, p, &org, &group, &user)
        }
    }
}

fn scim_route(
    state: &mut HubState,
    req: &Request,
    org: &str,
    route: ScimRoute,
) -> Result<Reply, ApiError> {
    use ScimRoute::*;
    match route {
        ScimGetServiceProviderConfig => Ok(scim::service_provider_config()),
        ScimListResourceTypes => Ok(scim::resource_types()),
        ScimGetResourceType { name } => scim::resource_type(&name),
        ScimListSchemas => Ok(scim::schemas()),
        ScimGetSchema { id } => scim::schema(&id),
        ScimListUsers => scim::list_users(state, req, org),
        ScimCreateUser => scim::create_user(state, req, org),
        ScimGetUser { id } => scim::get_user(state, req, org, &id),
        ScimUpdateUser { id } => scim::put_user(state, req, org, &id),
    }
}
