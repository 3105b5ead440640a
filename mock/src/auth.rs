//! Credentials: minting JWTs, checking bearers, and deciding who may do what.
//!
//! Tokens look like real JWTs (so a client can read `exp` from the payload) but the mock never
//! trusts what a token says: it keeps every token it issued and looks the bearer up. That is also
//! what lets `expire_tokens()` expire them all at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::http::{ApiError, Request};
use crate::ids::{IdGen, fnv};
use crate::state::{HubState, Principal, Role, Session, Via};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Issues a bearer for `principal`, valid for the configured lifetime.
pub(crate) fn mint(state: &mut HubState, principal: Principal, now: u64) -> String {
    let expires = now + state.token_lifetime_secs;
    let jti = state.ids.uuid();
    let (kind, scopes) = match &principal {
        Principal::User {
            via: Via::Password, ..
        } => ("password", Vec::new()),
        Principal::User {
            via: Via::Pat { scopes },
            ..
        } => ("pat", scopes.clone()),
        Principal::Org { .. } => ("oat", Vec::new()),
    };
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "dockhand-mock"});
    let payload = json!({
        "iss": "dockhand-mock",
        "aud": "hub.docker.com",
        "sub": principal.actor(),
        "iat": now,
        "exp": expires,
        "jti": jti,
        "token_type": kind,
        "scopes": scopes,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    // Not a real HMAC: nobody verifies it, it only has to look like 32 bytes of signature.
    let mut rng = IdGen::new(fnv(&[&signing_input, "dockhand-mock signing key"]));
    let signature: Vec<u8> = (0..4).flat_map(|_| rng.next_u64().to_be_bytes()).collect();
    let token = format!("{signing_input}.{}", b64(&signature));
    state
        .sessions
        .insert(token.clone(), Session { principal, expires });
    token
}

/// A short-lived token for the second login step; not a bearer for anything else.
pub(crate) fn mint_second_factor(state: &mut HubState, username: &str, now: u64) -> String {
    let token = state.ids.secret("mock2fa_", 40);
    state.second_factor.insert(
        token.clone(),
        crate::state::PendingSecondFactor {
            username: username.to_string(),
            expires: now + 300,
        },
    );
    token
}

pub(crate) fn expire_all(state: &mut HubState, now: u64) {
    for session in state.sessions.values_mut() {
        session.expires = session.expires.min(now.saturating_sub(1));
    }
}

fn bearer(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.header("authorization") else {
        return Ok(None);
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "authorization header must be 'Bearer <token>'",
        ));
    }
    Ok(Some(token.trim()))
}

/// The principal behind the request's bearer: `None` without one, 401 for a bearer that is
/// unknown, expired, or whose organization token was revoked since.
pub(crate) fn authenticate(state: &HubState, req: &Request) -> Result<Option<Principal>, ApiError> {
    let Some(token) = bearer(req)? else {
        return Ok(None);
    };
    let session = state
        .sessions
        .get(token)
        .ok_or_else(|| ApiError::unauthorized("invalid authentication token"))?;
    if session.expires <= req.now {
        return Err(ApiError::unauthorized("authentication token has expired"));
    }
    if let Principal::Org { org, token_id } = &session.principal {
        let live = state
            .orgs
            .get(org)
            .and_then(|o| o.oats.iter().find(|t| &t.id == token_id))
            .is_some_and(|t| t.is_active);
        if !live {
            return Err(ApiError::unauthorized(
                "organization access token was revoked",
            ));
        }
    }
    Ok(Some(session.principal.clone()))
}

/// The organization whose SCIM token the request carries.
pub(crate) fn scim_org(state: &HubState, req: &Request) -> Result<String, ApiError> {
    let token = bearer(req)?.ok_or_else(|| ApiError::unauthorized("SCIM bearer token required"))?;
    state
        .orgs
        .values()
        .find(|o| o.scim_token.as_deref() == Some(token))
        .map(|o| o.name.clone())
        .ok_or_else(|| ApiError::unauthorized("invalid SCIM bearer token"))
}

pub(crate) fn required(principal: Option<&Principal>) -> Result<&Principal, ApiError> {
    principal.ok_or_else(|| ApiError::unauthorized("authentication required"))
}

/// The username of a user principal; organization tokens act for no user.
pub(crate) fn user_only(principal: &Principal) -> Result<&str, ApiError> {
    match principal {
        Principal::User { username, .. } => Ok(username),
        Principal::Org { .. } => Err(ApiError::forbidden(
            "organization access tokens cannot be used for this operation",
        )),
    }
}

/// What an organization route asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgNeed {
    /// Any member (or the organization's own access token).
    Member,
    /// An owner (or the organization's own access token).
    Owner,
    /// An owner signed in with a password or an organization token, not a PAT-minted JWT.
    Admin,
    /// An owner in person: organization tokens may not manage organization tokens.
    AdminUser,
}

/// Checks `principal` against organization `org`; 404 when the organization does not exist.
pub(crate) fn org_access(
    state: &HubState,
    principal: &Principal,
    org: &str,
    need: OrgNeed,
) -> Result<(), ApiError> {
    let organization = state
        .orgs
        .get(org)
        .ok_or_else(|| ApiError::not_found(format!("organization {org} not found")))?;
    match principal {
        Principal::Org { org: own, .. } => {
            if own != org {
                return Err(ApiError::forbidden(format!(
                    "this organization access token belongs to {own}, not {org}"
                )));
            }
            if need == OrgNeed::AdminUser {
                return Err(ApiError::forbidden(
                    "organization access tokens cannot manage organization access tokens",
                ));
            }
            Ok(())
        }
        Principal::User { username, via } => {
            let role = organization.role_of(username).ok_or_else(|| {
                ApiError::forbidden(format!("{username} is not a member of organization {org}"))
            })?;
            if need != OrgNeed::Member && role != Role::Owner {
                return Err(ApiError::forbidden(format!(
                    "only owners of organization {org} may do this ({username} is {})",
                    role.as_str()
                )));
            }
            let admin = matches!(need, OrgNeed::Admin | OrgNeed::AdminUser);
            if admin && state.pat_forbidden_on_org_admin && matches!(via, Via::Pat { .. }) {
                return Err(ApiError::forbidden(
                    "token issued from personal access token is not allowed here; \
                     use a password or an organization access token",
                ));
            }
            Ok(())
        }
    }
}

/// Repository rights, ordered so that a higher one implies the lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RepoRight {
    None,
    Read,
    Write,
    Admin,
}

impl RepoRight {
    fn name(self) -> &'static str {
        match self {
            RepoRight::None => "no",
            RepoRight::Read => "read",
            RepoRight::Write => "write",
            RepoRight::Admin => "admin",
        }
    }
}

/// The caller's right on namespace `ns` (and on `repo` there, through group grants), before any
/// token scope is applied.
fn membership_right(
    state: &HubState,
    principal: &Principal,
    ns: &str,
    repo: Option<&str>,
) -> RepoRight {
    match principal {
        Principal::Org { org, .. } => {
            if org == ns {
                RepoRight::Admin
            } else {
                RepoRight::None
            }
        }
        Principal::User { username, .. } => {
            if username == ns {
                return RepoRight::Admin;
            }
            let Some(org) = state.orgs.get(ns) else {
                return RepoRight::None;
            };
            match org.role_of(username) {
                Some(Role::Owner) | Some(Role::Editor) => RepoRight::Admin,
                Some(Role::Member) => {
                    let groups = org.groups_of(username);
                    let granted = repo
                        .and_then(|r| state.repo(ns, r))
                        .map(|r| {
                            r.groups
                                .iter()
                                .filter(|g| groups.contains(&g.group_name))
                                .map(|g| match g.permission.as_str() {
                                    "admin" => RepoRight::Admin,
                                    "write" => RepoRight::Write,
                                    _ => RepoRight::Read,
                                })
                                .max()
                                .unwrap_or(RepoRight::Read)
                        })
                        .unwrap_or(RepoRight::Read);
                    granted.max(RepoRight::Read)
                }
                None => RepoRight::None,
            }
        }
    }
}

/// The most a token's scopes allow, whatever the membership.
fn scope_cap(principal: &Principal) -> RepoRight {
    match principal {
        Principal::User {
            via: Via::Pat { scopes },
            ..
        } => scopes
            .iter()
            .map(|s| match s.as_str() {
                "repo:admin" => RepoRight::Admin,
                "repo:write" => RepoRight::Write,
                "repo:read" => RepoRight::Read,
                _ => RepoRight::None,
            })
            .max()
            .unwrap_or(RepoRight::None),
        _ => RepoRight::Admin,
    }
}

/// The effective right: membership capped by token scope.
pub(crate) fn repo_right(
    state: &HubState,
    principal: Option<&Principal>,
    ns: &str,
    repo: Option<&str>,
) -> RepoRight {
    principal
        .map(|p| membership_right(state, p, ns, repo).min(scope_cap(p)))
        .unwrap_or(RepoRight::None)
}

/// Lets the caller see `ns/repo` (public, or private with read access). Private repositories
/// are hidden as 404 from signed-in callers without access and ask anonymous ones to sign in.
pub(crate) fn check_visible(
    state: &HubState,
    principal: Option<&Principal>,
    ns: &str,
    repo: &str,
) -> Result<(), ApiError> {
    let found = state
        .repo(ns, repo)
        .ok_or_else(|| repo_not_found(ns, repo))?;
    if !found.is_private || repo_right(state, principal, ns, Some(repo)) >= RepoRight::Read {
        return Ok(());
    }
    match principal {
        None => Err(ApiError::unauthorized(
            "authentication required to access this repository",
        )),
        Some(_) => Err(repo_not_found(ns, repo)),
    }
}

pub(crate) fn repo_not_found(ns: &str, repo: &str) -> ApiError {
    ApiError::not_found(format!("repository {ns}/{repo} not found"))
}

/// Requires `need` on namespace `ns` (and repository `repo` when given).
pub(crate) fn require_repo_right(
    state: &HubState,
    principal: &Principal,
    ns: &str,
    repo: Option<&str>,
    need: RepoRight,
) -> Result<(), ApiError> {
    let membership = membership_right(state, principal, ns, repo);
    if membership < need {
        return Err(ApiError::forbidden(format!(
            "{} needs {} permission on {ns}{}, and has {}",
            principal.actor(),
            need.name(),
            repo.map(|r| format!("/{r}")).unwrap_or_default(),
            membership.name()
        )));
    }
    let cap = scope_cap(principal);
    if cap < need {
        return Err(ApiError::forbidden(format!(
            "insufficient scope: this token allows {} access, {} is needed",
            cap.name(),
            need.name()
        )));
    }
    Ok(())
}
