//! Maps a method and a raw, percent-encoded path to one of the 54 Hub operations.
//!
//! The path is split on `/` *before* each segment is decoded, so an encoded slash (`a%2Fb`) or
//! dot-segment (`..%2F..`) stays inside one parameter and can only ever fail a lookup; it cannot
//! climb to another route.

use hyper::Method;
use percent_encoding::percent_decode_str;

use crate::http::ApiError;

/// One Hub operation with its decoded path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Login,
    SecondFactorLogin,
    CreateAuthToken,

    ListPats,
    CreatePat,
    GetPat {
        uuid: String,
    },
    PatchPat {
        uuid: String,
    },
    DeletePat {
        uuid: String,
    },

    AuditActions {
        account: String,
    },
    AuditLogs {
        account: String,
    },

    GetOrgSettings {
        org: String,
    },
    PutOrgSettings {
        org: String,
    },

    ListOats {
        org: String,
    },
    CreateOat {
        org: String,
    },
    GetOat {
        org: String,
        id: String,
    },
    PatchOat {
        org: String,
        id: String,
    },
    DeleteOat {
        org: String,
        id: String,
    },

    ListRepos {
        ns: String,
    },
    CreateRepo {
        ns: String,
    },
    GetRepo {
        ns: String,
        repo: String,
    },
    HeadRepo {
        ns: String,
        repo: String,
    },
    ListTags {
        ns: String,
        repo: String,
    },
    HeadTags {
        ns: String,
        repo: String,
    },
    GetTag {
        ns: String,
        repo: String,
        tag: String,
    },
    HeadTag {
        ns: String,
        repo: String,
        tag: String,
    },
    PatchImmutableTags {
        ns: String,
        repo: String,
    },
    VerifyImmutableTags {
        ns: String,
        repo: String,
    },
    AssignRepoGroup {
        ns: String,
        repo: String,
    },

    ListMembers {
        org: String,
    },
    ExportMembers {
        org: String,
    },
    PutMember {
        org: String,
        user: String,
    },
    DeleteMember {
        org: String,
        user: String,
    },

    ListInvites {
        org: String,
    },
    CancelInvite {
        id: String,
    },
    ResendInvite {
        id: String,
    },
    BulkInvite,

    ListGroups {
        org: String,
    },
    CreateGroup {
        org: String,
    },
    GetGroup {
        org: String,
        group: String,
    },
    PutGroup {
        org: String,
        group: String,
    },
    PatchGroup {
        org: String,
        group: String,
    },
    DeleteGroup {
        org: String,
        group: String,
    },
    ListGroupMembers {
        org: String,
        group: String,
    },
    AddGroupMember {
        org: String,
        group: String,
    },
    RemoveGroupMember {
        org: String,
        group: String,
        user: String,
    },

    ScimServiceProviderConfig,
    ScimResourceTypes,
    ScimResourceType {
        name: String,
    },
    ScimSchemas,
    ScimSchema {
        id: String,
    },
    ScimListUsers,
    ScimCreateUser,
    ScimGetUser {
        id: String,
    },
    ScimPutUser {
        id: String,
    },
}

/// What a route asks of the caller's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The login and token exchange routes.
    None,
    /// Public repository reads: anonymous works, a bearer (if sent) must be valid.
    Optional,
    Bearer,
    Scim,
}

impl Route {
    pub(crate) fn access(&self) -> Access {
        use Route::*;
        match self {
            Login | SecondFactorLogin | CreateAuthToken => Access::None,
            ListRepos { .. }
            | GetRepo { .. }
            | HeadRepo { .. }
            | ListTags { .. }
            | HeadTags { .. }
            | GetTag { .. }
            | HeadTag { .. } => Access::Optional,
            ScimServiceProviderConfig
            | ScimResourceTypes
            | ScimResourceType { .. }
            | ScimSchemas
            | ScimSchema { .. }
            | ScimListUsers
            | ScimCreateUser
            | ScimGetUser { .. }
            | ScimPutUser { .. } => Access::Scim,
            _ => Access::Bearer,
        }
    }
}

/// Whether errors on this raw path should be SCIM-shaped, decided even when no route matched.
pub(crate) fn is_scim_path(raw_path: &str) -> bool {
    raw_path.starts_with("/v2/scim/")
}

fn decode_segments(raw_path: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Ok(None);
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut out = Vec::new();
    for raw in rest.split('/') {
        if raw.is_empty() {
            return Ok(None);
        }
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ApiError::bad_request("path segment is not valid UTF-8"))?;
        out.push(decoded.into_owned());
    }
    Ok(Some(out))
}

fn pick(
    method: &Method,
    allow: &'static str,
    options: Vec<(Method, Route)>,
) -> Result<Route, ApiError> {
    // HEAD of a GET-only resource is answered like GET without the body, as HTTP servers do.
    let wanted = if *method == Method::HEAD && !options.iter().any(|(m, _)| m == Method::HEAD) {
        Method::GET
    } else {
        method.clone()
    };
    options
        .into_iter()
        .find(|(m, _)| *m == wanted)
        .map(|(_, r)| r)
        .ok_or_else(|| ApiError::method_not_allowed(allow))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such API route")
}

pub(crate) fn resolve(method: &Method, raw_path: &str) -> Result<Route, ApiError> {
    use Route::*;
    let segments = decode_segments(raw_path)?.ok_or_else(not_found)?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let s = |x: &str| x.to_string();
    let (get, post, put, patch, delete, head) = (
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
    );
    match segs.as_slice() {
        ["v2", "users", "login"] => pick(method, "POST", vec![(post, Login)]),
        ["v2", "users", "2fa-login"] => pick(method, "POST", vec![(post, SecondFactorLogin)]),
        ["v2", "auth", "token"] => pick(method, "POST", vec![(post, CreateAuthToken)]),

        ["v2", "access-tokens"] => pick(
            method,
            "GET, POST",
            vec![(get, ListPats), (post, CreatePat)],
        ),
        ["v2", "access-tokens", uuid] => pick(
            method,
            "GET, PATCH, DELETE",
            vec![
                (get, GetPat { uuid: s(uuid) }),
                (patch, PatchPat { uuid: s(uuid) }),
                (delete, DeletePat { uuid: s(uuid) }),
            ],
        ),

        ["v2", "auditlogs", account, "actions"] => pick(
            method,
            "GET",
            vec![(
                get,
                AuditActions {
                    account: s(account),
                },
            )],
        ),
        ["v2", "auditlogs", account] => pick(
            method,
            "GET",
            vec![(
                get,
                AuditLogs {
                    account: s(account),
                },
            )],
        ),

        ["v2", "orgs", org, "settings"] => pick(
            method,
            "GET, PUT",
            vec![
                (get, GetOrgSettings { org: s(org) }),
                (put, PutOrgSettings { org: s(org) }),
            ],
        ),
        ["v2", "orgs", org, "access-tokens"] => pick(
            method,
            "GET, POST",
            vec![
                (get, ListOats { org: s(org) }),
                (post, CreateOat { org: s(org) }),
            ],
        ),
        ["v2", "orgs", org, "access-tokens", id] => pick(
            method,
            "GET, PATCH, DELETE",
            vec![
                (
                    get,
                    GetOat {
                        org: s(org),
                        id: s(id),
                    },
                ),
                (
                    patch,
                    PatchOat {
                        org: s(org),
                        id: s(id),
                    },
                ),
                (
                    delete,
                    DeleteOat {
                        org: s(org),
                        id: s(id),
                    },
                ),
            ],
        ),

        ["v2", "namespaces", ns, "repositories"] => pick(
            method,
            "GET, POST",
            vec![
                (get, ListRepos { ns: s(ns) }),
                (post, CreateRepo { ns: s(ns) }),
            ],
        ),
        ["v2", "namespaces", ns, "repositories", repo] => pick(
            method,
            "GET, HEAD",
            vec![
                (
                    get,
                    GetRepo {
                        ns: s(ns),
                        repo: s(repo),
                    },
                ),
                (
                    head,
                    HeadRepo {
                        ns: s(ns),
                        repo: s(repo),
                    },
                ),
            ],
        ),
        ["v2", "namespaces", ns, "repositories", repo, "tags"] => pick(
            method,
            "GET, HEAD",
            vec![
                (
                    get,
                    ListTags {
                        ns: s(ns),
                        repo: s(repo),
                    },
                ),
                (
                    head,
                    HeadTags {
                        ns: s(ns),
                        repo: s(repo),
                    },
                ),
            ],
        ),
        ["v2", "namespaces", ns, "repositories", repo, "tags", tag] => pick(
            method,
            "GET, HEAD",
            vec![
                (
                    get,
                    GetTag {
                        ns: s(ns),
                        repo: s(repo),
                        tag: s(tag),
                    },
                ),
                (
                    head,
                    HeadTag {
                        ns: s(ns),
                        repo: s(repo),
                        tag: s(tag),
                    },
                ),
            ],
        ),
        [
            "v2",
            "namespaces",
            ns,
            "repositories",
            repo,
            "immutabletags",
        ] => pick(
            method,
            "PATCH",
            vec![(
                patch,
                PatchImmutableTags {
                    ns: s(ns),
                    repo: s(repo),
                },
            )],
        ),
        [
            "v2",
            "namespaces",
            ns,
            "repositories",
            repo,
            "immutabletags",
            "verify",
        ] => pick(
            method,
            "POST",
            vec![(
                post,
                VerifyImmutableTags {
                    ns: s(ns),
                    repo: s(repo),
                },
            )],
        ),
        ["v2", "repositories", ns, repo, "groups"] => pick(
            method,
            "POST",
            vec![(
                post,
                AssignRepoGroup {
                    ns: s(ns),
                    repo: s(repo),
                },
            )],
        ),

        ["v2", "orgs", org, "members"] => {
            pick(method, "GET", vec![(get, ListMembers { org: s(org) })])
        }
        ["v2", "orgs", org, "members", "export"]
            if *method == Method::GET || *method == Method::HEAD =>
        {
            pick(method, "GET", vec![(get, ExportMembers { org: s(org) })])
        }
        ["v2", "orgs", org, "members", user] => pick(
            method,
            "PUT, DELETE",
            vec![
                (
                    put,
                    PutMember {
                        org: s(org),
                        user: s(user),
                    },
                ),
                (
                    delete,
                    DeleteMember {
                        org: s(org),
                        user: s(user),
                    },
                ),
            ],
        ),
        ["v2", "orgs", org, "invites"] => {
            pick(method, "GET", vec![(get, ListInvites { org: s(org) })])
        }
        ["v2", "invites", "bulk"] if *method == Method::POST => Ok(BulkInvite),
        ["v2", "invites", id] => pick(method, "DELETE", vec![(delete, CancelInvite { id: s(id) })]),
        ["v2", "invites", id, "resend"] => {
            pick(method, "PATCH", vec![(patch, ResendInvite { id: s(id) })])
        }

        ["v2", "orgs", org, "groups"] => pick(
            method,
            "GET, POST",
            vec![
                (get, ListGroups { org: s(org) }),
                (post, CreateGroup { org: s(org) }),
            ],
        ),
        ["v2", "orgs", org, "groups", group] => {
            let (o, g) = (s(org), s(group));
            pick(
                method,
                "GET, PUT, PATCH, DELETE",
                vec![
                    (
                        get,
                        GetGroup {
                            org: o.clone(),
                            group: g.clone(),
                        },
                    ),
                    (
                        put,
                        PutGroup {
                            org: o.clone(),
                            group: g.clone(),
                        },
                    ),
                    (
                        patch,
                        PatchGroup {
                            org: o.clone(),
                            group: g.clone(),
                        },
                    ),
                    (delete, DeleteGroup { org: o, group: g }),
                ],
            )
        }
        ["v2", "orgs", org, "groups", group, "members"] => pick(
            method,
            "GET, POST",
            vec![
                (
                    get,
                    ListGroupMembers {
                        org: s(org),
                        group: s(group),
                    },
                ),
                (
                    post,
                    AddGroupMember {
                        org: s(org),
                        group: s(group),
                    },
                ),
            ],
        ),
        ["v2", "orgs", org, "groups", group, "members", user] => pick(
            method,
            "DELETE",
            vec![(
                delete,
                RemoveGroupMember {
                    org: s(org),
                    group: s(group),
                    user: s(user),
                },
            )],
        ),

        ["v2", "scim", "2.0", "ServiceProviderConfig"] => {
            pick(method, "GET", vec![(get, ScimServiceProviderConfig)])
        }
        ["v2", "scim", "2.0", "ResourceTypes"] => {
            pick(method, "GET", vec![(get, ScimResourceTypes)])
        }
        ["v2", "scim", "2.0", "ResourceTypes", name] => pick(
            method,
            "GET",
            vec![(get, ScimResourceType { name: s(name) })],
        ),
        ["v2", "scim", "2.0", "Schemas"] => pick(method, "GET", vec![(get, ScimSchemas)]),
        ["v2", "scim", "2.0", "Schemas", id] => {
            pick(method, "GET", vec![(get, ScimSchema { id: s(id) })])
        }
        ["v2", "scim", "2.0", "Users"] => pick(
            method,
            "GET, POST",
            vec![(get, ScimListUsers), (post, ScimCreateUser)],
        ),
        ["v2", "scim", "2.0", "Users", id] => pick(
            method,
            "GET, PUT",
            vec![
                (get, ScimGetUser { id: s(id) }),
                (put, ScimPutUser { id: s(id) }),
            ],
        ),
        _ => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Route, ApiError> {
        resolve(&Method::GET, path)
    }

    #[test]
    fn encoded_slashes_stay_in_their_segment() {
        assert_eq!(
            get("/v2/namespaces/library/repositories/a%2Fb").unwrap(),
            Route::GetRepo {
                ns: "library".into(),
                repo: "a/b".into()
            }
        );
        assert_eq!(
            get("/v2/namespaces/x/repositories/..%2F..%2F..%2Fv2%2Faccess-tokens").unwrap(),
            Route::GetRepo {
                ns: "x".into(),
                repo: "../../../v2/access-tokens".into()
            }
        );
        assert!(get("/v2/namespaces/x/../../access-tokens").is_err());
        assert!(get("/v2//access-tokens").is_err());
    }

    #[test]
    fn methods_are_checked() {
        let e = resolve(&Method::DELETE, "/v2/access-tokens").unwrap_err();
        assert_eq!(e.status, hyper::StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            resolve(&Method::GET, "/v2/orgs/acme/members/export").unwrap(),
            Route::ExportMembers { org: "acme".into() }
        );
        assert_eq!(
            resolve(&Method::PUT, "/v2/orgs/acme/members/export").unwrap(),
            Route::PutMember {
                org: "acme".into(),
                user: "export".into()
            }
        );
        assert_eq!(
            resolve(&Method::HEAD, "/v2/access-tokens").unwrap(),
            Route::ListPats
        );
    }
}
