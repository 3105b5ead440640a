//! From a resolved route to a reply: authentication first, then the operation's handler.

mod audit;
mod groups;
mod login;
mod oats;
mod orgs;
mod pats;
mod repos;

use crate::auth;
use crate::http::{ApiError, Reply, Request};
use crate::routing::{self, Access, Route};
use crate::scim;
use crate::state::HubState;

/// Answers one request against the state; never fails, errors become error replies.
pub(crate) fn handle(state: &mut HubState, req: &Request) -> Reply {
    let scim = routing::is_scim_path(&req.raw_path);
    run(state, req).unwrap_or_else(|e| e.into_reply(scim))
}

fn run(state: &mut HubState, req: &Request) -> Result<Reply, ApiError> {
    use Route::*;
    let route = routing::resolve(&req.method, &req.raw_path)?;
    match route.access() {
        Access::None => match route {
            Login => login::login(state, req),
            SecondFactorLogin => login::second_factor(state, req),
            _ => login::create_auth_token(state, req),
        },
        Access::Scim => {
            let org = auth::scim_org(state, req)?;
            match route {
                ScimServiceProviderConfig => Ok(scim::service_provider_config()),
                ScimResourceTypes => Ok(scim::resource_types()),
                ScimResourceType { name } => scim::resource_type(&name),
                ScimSchemas => Ok(scim::schemas()),
                ScimSchema { id } => scim::schema(&id),
                ScimListUsers => scim::list_users(state, req, &org),
                ScimCreateUser => scim::create_user(state, req, &org),
                ScimGetUser { id } => scim::get_user(state, req, &org, &id),
                ScimPutUser { id } => scim::put_user(state, req, &org, &id),
                _ => Err(ApiError::not_found("no such SCIM route")),
            }
        }
        Access::Optional => {
            let principal = auth::authenticate(state, req)?;
            let p = principal.as_ref();
            match route {
                ListRepos { ns } => repos::list(state, req, p, &ns),
                GetRepo { ns, repo } | HeadRepo { ns, repo } => repos::get(state, p, &ns, &repo),
                ListTags { ns, repo } => repos::list_tags(state, req, p, &ns, &repo),
                HeadTags { ns, repo } => repos::head_tags(state, p, &ns, &repo),
                GetTag { ns, repo, tag } | HeadTag { ns, repo, tag } => {
                    repos::get_tag(state, p, &ns, &repo, &tag)
                }
                _ => Err(ApiError::not_found("no such route")),
            }
        }
        Access::Bearer => {
            let principal = auth::authenticate(state, req)?;
            let p = auth::required(principal.as_ref())?;
            match route {
                ListPats => pats::list(state, req, p),
                CreatePat => pats::create(state, req, p),
                GetPat { uuid } => pats::get(state, p, &uuid),
                PatchPat { uuid } => pats::patch(state, req, p, &uuid),
                DeletePat { uuid } => pats::delete(state, req, p, &uuid),

                AuditActions { account } => audit::actions(state, p, &account),
                AuditLogs { account } => audit::logs(state, req, p, &account),

                GetOrgSettings { org } => orgs::get_settings(state, p, &org),
                PutOrgSettings { org } => orgs::put_settings(state, req, p, &org),

                ListOats { org } => oats::list(state, req, p, &org),
                CreateOat { org } => oats::create(state, req, p, &org),
                GetOat { org, id } => oats::get(state, p, &org, &id),
                PatchOat { org, id } => oats::patch(state, req, p, &org, &id),
                DeleteOat { org, id } => oats::delete(state, req, p, &org, &id),

                CreateRepo { ns } => repos::create(state, req, p, &ns),
                PatchImmutableTags { ns, repo } => {
                    repos::patch_immutable_tags(state, req, p, &ns, &repo)
                }
                VerifyImmutableTags { ns, repo } => {
                    repos::verify_immutable_tags(state, req, p, &ns, &repo)
                }
                AssignRepoGroup { ns, repo } => repos::assign_group(state, req, p, &ns, &repo),

                ListMembers { org } => orgs::list_members(state, req, p, &org),
                ExportMembers { org } => orgs::export_members(state, req, p, &org),
                PutMember { org, user } => orgs::put_member(state, req, p, &org, &user),
                DeleteMember { org, user } => orgs::delete_member(state, req, p, &org, &user),

                ListInvites { org } => orgs::list_invites(state, p, &org),
                CancelInvite { id } => orgs::cancel_invite(state, req, p, &id),
                ResendInvite { id } => orgs::resend_invite(state, req, p, &id),
                BulkInvite => orgs::bulk_invite(state, req, p),

                ListGroups { org } => groups::list(state, req, p, &org),
                CreateGroup { org } => groups::create(state, req, p, &org),
                GetGroup { org, group } => groups::get(state, p, &org, &group),
                PutGroup { org, group } => groups::update(state, req, p, &org, &group, true),
                PatchGroup { org, group } => groups::update(state, req, p, &org, &group, false),
                DeleteGroup { org, group } => groups::delete(state, req, p, &org, &group),
                ListGroupMembers { org, group } => {
                    groups::list_members(state, req, p, &org, &group)
                }
                AddGroupMember { org, group } => groups::add_member(state, req, p, &org, &group),
                RemoveGroupMember { org, group, user } => {
                    groups::remove_member(state, req, p, &org, &group, &user)
                }
                _ => Err(ApiError::not_found("no such route")),
            }
        }
    }
}
