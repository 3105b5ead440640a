//! Maps a method and a raw, percent-encoded path to one of the Hub operations of the catalog:
//! Docker's 54 published ones and the extended ones its own tools use.
//!
//! The path is split on `/` *before* each segment is decoded, so an encoded slash (`a%2Fb`) or
//! dot-segment (`..%2F..`) stays inside one parameter and can only ever fail a lookup; it cannot
//! climb to another route.
//!
//! Every operation is one row of [`ROUTES`]: its method and path template, written as the Hub
//! publishes them, and how to build its [`Route`] from the path's parameters. What a route asks
//! of the caller's credentials is the kind of [`Route`] it is, so the handlers cannot serve it
//! under another. The table is the mock's own statement of the Hub's routes; a test holds it to
//! the catalog both ways (every catalog operation has a row with the same method, path and
//! auth, and every row is a catalog operation), and the handlers match every route by name, so a
//! route added here without a handler does not compile.

use std::collections::HashMap;
use std::sync::LazyLock;

use dockhand_vocab::Method;
use percent_encoding::percent_decode_str;

use crate::http::ApiError;

// The route table names methods and variants bare, one route a line.
use HubRoute::*;
use Method::{Delete, Get, Head, Patch, Post, Put};
use OpenRoute::*;
use PublicRoute::*;
use Route::{Hub, Open, Public, Scim};
use ScimRoute::*;

/// One Hub operation with its decoded path parameters, by what it asks of the caller.
///
/// Variants are named after the catalog's operations (`list_repository_tags` ->
/// `ListRepositoryTags`); the catalog test relies on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// No credentials: logging in and exchanging a token.
    Open(OpenRoute),
    /// Public repository reads: anonymous works, a bearer (if sent) must be valid.
    Public(PublicRoute),
    /// A valid Hub bearer is required.
    Hub(HubRoute),
    /// The organization's SCIM token is required.
    Scim(ScimRoute),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenRoute {
    Login,
    LoginSecondFactor,
    CreateAuthToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicRoute {
    ListRepositories {
        ns: String,
    },
    GetRepository {
        ns: String,
        repo: String,
    },
    CheckRepository {
        ns: String,
        repo: String,
    },
    ListRepositoryTags {
        ns: String,
        repo: String,
    },
    CheckRepositoryTags {
        ns: String,
        repo: String,
    },
    GetRepositoryTag {
        ns: String,
        repo: String,
        tag: String,
    },
    CheckRepositoryTag {
        ns: String,
        repo: String,
        tag: String,
    },
    SearchRepositories,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HubRoute {
    ListPersonalAccessTokens,
    CreatePersonalAccessToken,
    GetPersonalAccessToken {
        uuid: String,
    },
    UpdatePersonalAccessToken {
        uuid: String,
    },
    DeletePersonalAccessToken {
        uuid: String,
    },

    ListAuditLogActions {
        account: String,
    },
    ListAuditLogEvents {
        account: String,
    },

    GetOrgSettings {
        org: String,
    },
    UpdateOrgSettings {
        org: String,
    },

    ListOrgAccessTokens {
        org: String,
    },
    CreateOrgAccessToken {
        org: String,
    },
    GetOrgAccessToken {
        org: String,
        id: String,
    },
    UpdateOrgAccessToken {
        org: String,
        id: String,
    },
    DeleteOrgAccessToken {
        org: String,
        id: String,
    },

    CreateRepository {
        ns: String,
    },
    UpdateRepositoryImmutableTags {
        ns: String,
        repo: String,
    },
    VerifyRepositoryImmutableTags {
        ns: String,
        repo: String,
    },
    AssignRepositoryGroup {
        ns: String,
        repo: String,
    },
    UpdateRepository {
        ns: String,
        repo: String,
    },
    DeleteRepository {
        ns: String,
        repo: String,
    },
    DeleteRepositoryTag {
        ns: String,
        repo: String,
        tag: String,
    },

    GetCurrentUser,
    ListCurrentUserOrgs,

    ListOrgMembers {
        org: String,
    },
    ExportOrgMembers {
        org: String,
    },
    UpdateOrgMemberRole {
        org: String,
        user: String,
    },
    RemoveOrgMember {
        org: String,
        user: String,
    },

    ListOrgInvites {
        org: String,
    },
    CancelInvite {
        id: String,
    },
    ResendInvite {
        id: String,
    },
    BulkCreateInvites,

    ListOrgGroups {
        org: String,
    },
    CreateOrgGroup {
        org: String,
    },
    GetOrgGroup {
        org: String,
        group: String,
    },
    UpdateOrgGroup {
        org: String,
        group: String,
    },
    PatchOrgGroup {
        org: String,
        group: String,
    },
    DeleteOrgGroup {
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::enum_variant_names,
    reason = "named after the catalog's operations, which are all `scim_...`"
)]
pub(crate) enum ScimRoute {
    ScimGetServiceProviderConfig,
    ScimListResourceTypes,
    ScimGetResourceType { name: String },
    ScimListSchemas,
    ScimGetSchema { id: String },
    ScimListUsers,
    ScimCreateUser,
    ScimGetUser { id: String },
    ScimUpdateUser { id: String },
}

/// One row of the route table.
pub(crate) struct RouteSpec {
    pub(crate) method: Method,
    /// The path template; a `{name}` segment matches any one segment.
    pub(crate) path: &'static str,
    /// Builds the route from the path's parameters, in template order.
    build: fn(&mut Params) -> Route,
}

/// The decoded values of a path's `{name}` segments, taken in template order.
pub(crate) struct Params(std::vec::IntoIter<String>);

impl Params {
    fn take(&mut self) -> String {
        // Each row's builder takes one value per placeholder of its own template; the catalog
        // test resolves every row with distinct values and finds each in the route.
        self.0
            .next()
            .expect("a route takes exactly its template's parameters")
    }
}

const fn row(method: Method, path: &'static str, build: fn(&mut Params) -> Route) -> RouteSpec {
    RouteSpec {
        method,
        path,
        build,
    }
}

/// Every route the mock serves, grouped as the catalog's areas are.
#[rustfmt::skip]
pub(crate) static ROUTES: &[RouteSpec] = &[
    // authentication
    row(Post, "/v2/users/login", |_| Open(Login)),
    row(Post, "/v2/users/2fa-login", |_| Open(LoginSecondFactor)),
    row(Post, "/v2/auth/token", |_| Open(CreateAuthToken)),
    // access-tokens
    row(Get, "/v2/access-tokens", |_| Hub(ListPersonalAccessTokens)),
    row(Post, "/v2/access-tokens", |_| Hub(CreatePersonalAccessToken)),
    row(Get, "/v2/access-tokens/{uuid}", |p| Hub(GetPersonalAccessToken { uuid: p.take() })),
    row(Patch, "/v2/access-tokens/{uuid}", |p| Hub(UpdatePersonalAccessToken { uuid: p.take() })),
    row(Delete, "/v2/access-tokens/{uuid}", |p| Hub(DeletePersonalAccessToken { uuid: p.take() })),
    // audit-logs
    row(Get, "/v2/auditlogs/{account}/actions", |p| Hub(ListAuditLogActions { account: p.take() })),
    row(Get, "/v2/auditlogs/{account}", |p| Hub(ListAuditLogEvents { account: p.take() })),
    // org-settings
    row(Get, "/v2/orgs/{name}/settings", |p| Hub(GetOrgSettings { org: p.take() })),
    row(Put, "/v2/orgs/{name}/settings", |p| Hub(UpdateOrgSettings { org: p.take() })),
    // org-access-tokens
    row(Get, "/v2/orgs/{name}/access-tokens", |p| Hub(ListOrgAccessTokens { org: p.take() })),
    row(Post, "/v2/orgs/{name}/access-tokens", |p| Hub(CreateOrgAccessToken { org: p.take() })),
    row(Get, "/v2/orgs/{org_name}/access-tokens/{access_token_id}",
        |p| Hub(GetOrgAccessToken { org: p.take(), id: p.take() })),
    row(Patch, "/v2/orgs/{org_name}/access-tokens/{access_token_id}",
        |p| Hub(UpdateOrgAccessToken { org: p.take(), id: p.take() })),
    row(Delete, "/v2/orgs/{org_name}/access-tokens/{access_token_id}",
        |p| Hub(DeleteOrgAccessToken { org: p.take(), id: p.take() })),
    // repositories
    row(Get, "/v2/namespaces/{namespace}/repositories",
        |p| Public(ListRepositories { ns: p.take() })),
    row(Post, "/v2/namespaces/{namespace}/repositories",
        |p| Hub(CreateRepository { ns: p.take() })),
    row(Get, "/v2/namespaces/{namespace}/repositories/{repository}",
        |p| Public(GetRepository { ns: p.take(), repo: p.take() })),
    row(Head, "/v2/namespaces/{namespace}/repositories/{repository}",
        |p| Public(CheckRepository { ns: p.take(), repo: p.take() })),
    row(Get, "/v2/namespaces/{namespace}/repositories/{repository}/tags",
        |p| Public(ListRepositoryTags { ns: p.take(), repo: p.take() })),
    row(Head, "/v2/namespaces/{namespace}/repositories/{repository}/tags",
        |p| Public(CheckRepositoryTags { ns: p.take(), repo: p.take() })),
    row(Get, "/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}",
        |p| Public(GetRepositoryTag { ns: p.take(), repo: p.take(), tag: p.take() })),
    row(Head, "/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}",
        |p| Public(CheckRepositoryTag { ns: p.take(), repo: p.take(), tag: p.take() })),
    row(Patch, "/v2/namespaces/{namespace}/repositories/{repository}/immutabletags",
        |p| Hub(UpdateRepositoryImmutableTags { ns: p.take(), repo: p.take() })),
    row(Post, "/v2/namespaces/{namespace}/repositories/{repository}/immutabletags/verify",
        |p| Hub(VerifyRepositoryImmutableTags { ns: p.take(), repo: p.take() })),
    row(Post, "/v2/repositories/{namespace}/{repository}/groups",
        |p| Hub(AssignRepositoryGroup { ns: p.take(), repo: p.take() })),
    row(Patch, "/v2/namespaces/{namespace}/repositories/{repository}",
        |p| Hub(UpdateRepository { ns: p.take(), repo: p.take() })),
    row(Delete, "/v2/repositories/{namespace}/{repository}/",
        |p| Hub(DeleteRepository { ns: p.take(), repo: p.take() })),
    row(Delete, "/v2/repositories/{namespace}/{repository}/tags/{tag}/",
        |p| Hub(DeleteRepositoryTag { ns: p.take(), repo: p.take(), tag: p.take() })),
    // orgs
    row(Get, "/v2/orgs/{org_name}/members", |p| Hub(ListOrgMembers { org: p.take() })),
    row(Get, "/v2/orgs/{org_name}/members/export", |p| Hub(ExportOrgMembers { org: p.take() })),
    row(Put, "/v2/orgs/{org_name}/members/{username}",
        |p| Hub(UpdateOrgMemberRole { org: p.take(), user: p.take() })),
    row(Delete, "/v2/orgs/{org_name}/members/{username}",
        |p| Hub(RemoveOrgMember { org: p.take(), user: p.take() })),
    // invites
    row(Get, "/v2/orgs/{org_name}/invites", |p| Hub(ListOrgInvites { org: p.take() })),
    row(Delete, "/v2/invites/{id}", |p| Hub(CancelInvite { id: p.take() })),
    row(Patch, "/v2/invites/{id}/resend", |p| Hub(ResendInvite { id: p.take() })),
    row(Post, "/v2/invites/bulk", |_| Hub(BulkCreateInvites)),
    // groups
    row(Get, "/v2/orgs/{org_name}/groups", |p| Hub(ListOrgGroups { org: p.take() })),
    row(Post, "/v2/orgs/{org_name}/groups", |p| Hub(CreateOrgGroup { org: p.take() })),
    row(Get, "/v2/orgs/{org_name}/groups/{group_name}",
        |p| Hub(GetOrgGroup { org: p.take(), group: p.take() })),
    row(Put, "/v2/orgs/{org_name}/groups/{group_name}",
        |p| Hub(UpdateOrgGroup { org: p.take(), group: p.take() })),
    row(Patch, "/v2/orgs/{org_name}/groups/{group_name}",
        |p| Hub(PatchOrgGroup { org: p.take(), group: p.take() })),
    row(Delete, "/v2/orgs/{org_name}/groups/{group_name}",
        |p| Hub(DeleteOrgGroup { org: p.take(), group: p.take() })),
    row(Get, "/v2/orgs/{org_name}/groups/{group_name}/members",
        |p| Hub(ListGroupMembers { org: p.take(), group: p.take() })),
    row(Post, "/v2/orgs/{org_name}/groups/{group_name}/members",
        |p| Hub(AddGroupMember { org: p.take(), group: p.take() })),
    row(Delete, "/v2/orgs/{org_name}/groups/{group_name}/members/{username}",
        |p| Hub(RemoveGroupMember { org: p.take(), group: p.take(), user: p.take() })),
    // scim
    row(Get, "/v2/scim/2.0/ServiceProviderConfig", |_| Scim(ScimGetServiceProviderConfig)),
    row(Get, "/v2/scim/2.0/ResourceTypes", |_| Scim(ScimListResourceTypes)),
    row(Get, "/v2/scim/2.0/ResourceTypes/{name}", |p| Scim(ScimGetResourceType { name: p.take() })),
    row(Get, "/v2/scim/2.0/Schemas", |_| Scim(ScimListSchemas)),
    row(Get, "/v2/scim/2.0/Schemas/{id}", |p| Scim(ScimGetSchema { id: p.take() })),
    row(Get, "/v2/scim/2.0/Users", |_| Scim(ScimListUsers)),
    row(Post, "/v2/scim/2.0/Users", |_| Scim(ScimCreateUser)),
    row(Get, "/v2/scim/2.0/Users/{id}", |p| Scim(ScimGetUser { id: p.take() })),
    row(Put, "/v2/scim/2.0/Users/{id}", |p| Scim(ScimUpdateUser { id: p.take() })),
    // search
    row(Get, "/api/search/v4", |_| Public(SearchRepositories)),
    // users
    row(Get, "/v2/user/", |_| Hub(GetCurrentUser)),
    row(Get, "/v2/user/orgs/", |_| Hub(ListCurrentUserOrgs)),
];

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

/// A template's segments; a trailing `/` (which the Hub's unpublished routes have) is not one,
/// as it is not one of a request's path either.
fn template_segments(template: &str) -> Vec<&str> {
    let template = template.trim_start_matches('/');
    template
        .strip_suffix('/')
        .unwrap_or(template)
        .split('/')
        .collect()
}

fn is_placeholder(segment: &str) -> bool {
    segment.starts_with('{')
}

/// Whether a path of `segments` fits a template split into `parts`.
fn fits(parts: &[&str], segments: &[String]) -> bool {
    parts.len() == segments.len()
        && parts
            .iter()
            .zip(segments)
            .all(|(part, segment)| is_placeholder(part) || part == segment)
}

/// The values of the placeholders of `parts` in a path that fits it.
fn values(parts: &[&str], segments: &[String]) -> Vec<String> {
    parts
        .iter()
        .zip(segments)
        .filter(|(part, _)| is_placeholder(part))
        .map(|(_, segment)| segment.clone())
        .collect()
}

/// Each path template once, split into segments once (the mock answers every request from
/// this list), literal segments before placeholders: `/members/export` is tried before
/// `/members/{username}`, which still serves `PUT .../members/export`.
static TEMPLATES: LazyLock<Vec<(&'static str, Vec<&'static str>)>> = LazyLock::new(|| {
    let mut templates: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for route in ROUTES {
        if !templates.iter().any(|(t, _)| *t == route.path) {
            templates.push((route.path, template_segments(route.path)));
        }
    }
    templates.sort_by_key(|(t, parts)| {
        let key: Vec<bool> = parts.iter().map(|s| is_placeholder(s)).collect();
        (key, *t)
    });
    templates
});

/// The `Allow` header of each path template: its methods, in the order servers list them.
static ALLOW: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    let mut methods: HashMap<&'static str, Vec<Method>> = HashMap::new();
    for route in ROUTES {
        methods.entry(route.path).or_default().push(route.method);
    }
    methods
        .into_iter()
        .map(|(path, mut list)| {
            list.sort();
            let names: Vec<&str> = list.iter().map(|m| m.as_str()).collect();
            (path, names.join(", "))
        })
        .collect()
});

/// The row of `template` for `method`.
fn pick(method: &hyper::Method, template: &str) -> Option<&'static RouteSpec> {
    let rows = || ROUTES.iter().filter(move |r| r.path == template);
    // HEAD of a GET-only resource is answered like GET without the body, as HTTP servers do.
    let wanted = if *method == hyper::Method::HEAD && !rows().any(|r| r.method == Head) {
        Get.as_str()
    } else {
        method.as_str()
    };
    rows().find(|r| r.method.as_str() == wanted)
}

fn not_found() -> ApiError {
    ApiError::not_found("no such API route")
}

pub(crate) fn resolve(method: &hyper::Method, raw_path: &str) -> Result<Route, ApiError> {
    let segments = decode_segments(raw_path)?.ok_or_else(not_found)?;
    let mut general = None;
    for (template, parts) in TEMPLATES.iter().filter(|(_, p)| fits(p, &segments)) {
        if let Some(row) = pick(method, template) {
            let values = values(parts, &segments);
            return Ok((row.build)(&mut Params(values.into_iter())));
        }
        general = Some(template);
    }
    // No template has the method: the most general one's methods are the ones to offer.
    let Some(general) = general else {
        return Err(not_found());
    };
    Err(ApiError::method_not_allowed(&ALLOW[general]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockhand_spec::{Auth, Catalog, names};

    /// What a route asks of the caller's credentials, in the catalog's terms.
    fn auth(route: &Route) -> Auth {
        match route {
            Route::Open(_) => Auth::None,
            Route::Public(_) => Auth::Optional,
            Route::Hub(_) => Auth::Bearer,
            Route::Scim(_) => Auth::Scim,
        }
    }

    fn get(path: &str) -> Result<Route, ApiError> {
        resolve(&hyper::Method::GET, path)
    }

    #[test]
    fn encoded_slashes_stay_in_their_segment() {
        assert_eq!(
            get("/v2/namespaces/library/repositories/a%2Fb").unwrap(),
            Public(GetRepository {
                ns: "library".into(),
                repo: "a/b".into()
            })
        );
        assert_eq!(
            get("/v2/namespaces/x/repositories/..%2F..%2F..%2Fv2%2Faccess-tokens").unwrap(),
            Public(GetRepository {
                ns: "x".into(),
                repo: "../../../v2/access-tokens".into()
            })
        );
        assert!(get("/v2/namespaces/x/../../access-tokens").is_err());
        assert!(get("/v2//access-tokens").is_err());
    }

    fn allow(method: hyper::Method, path: &str) -> Option<&'static str> {
        let e = resolve(&method, path).unwrap_err();
        assert_eq!(e.status, hyper::StatusCode::METHOD_NOT_ALLOWED, "{path}");
        e.allow
    }

    #[test]
    fn methods_are_checked() {
        assert_eq!(
            allow(hyper::Method::DELETE, "/v2/access-tokens"),
            Some("GET, POST")
        );
        assert_eq!(
            allow(hyper::Method::POST, "/v2/orgs/acme/groups/g"),
            Some("GET, PUT, PATCH, DELETE")
        );
        assert_eq!(
            resolve(&hyper::Method::GET, "/v2/orgs/acme/members/export").unwrap(),
            Hub(ExportOrgMembers { org: "acme".into() })
        );
        assert_eq!(
            resolve(&hyper::Method::PUT, "/v2/orgs/acme/members/export").unwrap(),
            Hub(UpdateOrgMemberRole {
                org: "acme".into(),
                user: "export".into()
            })
        );
        assert_eq!(
            resolve(&hyper::Method::HEAD, "/v2/access-tokens").unwrap(),
            Hub(ListPersonalAccessTokens)
        );
        // A lowercase method is another method, not GET.
        let lowercase = hyper::Method::from_bytes(b"get").unwrap();
        assert!(resolve(&lowercase, "/v2/access-tokens").is_err());
    }

    #[test]
    fn a_literal_segment_wins_only_for_its_own_methods() {
        assert_eq!(
            resolve(&hyper::Method::HEAD, "/v2/orgs/acme/members/export").unwrap(),
            Hub(ExportOrgMembers { org: "acme".into() })
        );
        assert_eq!(
            resolve(&hyper::Method::POST, "/v2/invites/bulk").unwrap(),
            Hub(BulkCreateInvites)
        );
        assert_eq!(
            resolve(&hyper::Method::DELETE, "/v2/invites/bulk").unwrap(),
            Hub(CancelInvite { id: "bulk".into() })
        );
        // Neither template has the method: the general one's methods are offered.
        assert_eq!(
            allow(hyper::Method::POST, "/v2/orgs/acme/members/export"),
            Some("PUT, DELETE")
        );
        assert_eq!(
            allow(hyper::Method::GET, "/v2/invites/bulk"),
            Some("DELETE")
        );
        assert_eq!(
            allow(hyper::Method::HEAD, "/v2/invites/bulk"),
            Some("DELETE")
        );
    }

    /// The catalog's operations whose auth the mock serves differently, and why: Docker's
    /// description declares a bearer for tag reads (the catalog keeps its word), but the Hub
    /// answers them anonymously for public repositories, as it does repository reads, and so
    /// does the mock.
    const SERVED_ANONYMOUSLY: &[&str] = &[
        "list_repository_tags",
        "check_repository_tags",
        "get_repository_tag",
        "check_repository_tag",
    ];

    /// The variant a route is, from its `Debug` form (`Hub(GetOrgGroup { .. })` ->
    /// `GetOrgGroup`): variants are named after catalog operations, and this is the one place
    /// that needs to read the name.
    fn variant(route: &Route) -> String {
        let debug = format!("{route:?}");
        let inner = debug.split_once('(').map_or("", |(_, rest)| rest);
        inner
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn every_catalog_operation_has_a_route_and_every_route_is_in_the_catalog() {
        let catalog = Catalog::load_default().expect("the catalog loads");
        let mut served_otherwise = Vec::new();
        for (_, op) in catalog.operations() {
            let rows: Vec<&RouteSpec> = ROUTES
                .iter()
                .filter(|r| r.method == op.method && r.path == op.path)
                .collect();
            assert_eq!(rows.len(), 1, "{}: {} {}", op.name, op.method, op.path);

            // Distinct values, none a literal segment of any route, so each must land in the
            // route's fields in template order.
            let placeholders = names::placeholders(&op.path);
            let mut path = op.path.clone();
            let mut values = Vec::new();
            for (i, name) in placeholders.iter().enumerate() {
                let value = format!("value-{i}");
                path = path.replace(&format!("{{{name}}}"), &value);
                values.push(value);
            }
            let method = hyper::Method::from_bytes(op.method.as_str().as_bytes()).unwrap();
            let route = resolve(&method, &path)
                .unwrap_or_else(|e| panic!("{}: {path} does not resolve: {e:?}", op.name));
            assert_eq!(
                variant(&route),
                names::rust_type(&names::wit_ident(&op.name)),
                "{} {path}",
                op.method
            );
            let debug = format!("{route:?}");
            let at: Vec<usize> = values
                .iter()
                .map(|v| debug.find(&format!("{v:?}")).expect(&debug))
                .collect();
            assert!(at.is_sorted(), "{}: {debug}", op.name);
            assert_eq!(debug.matches("\"").count(), 2 * values.len(), "{debug}");

            if auth(&route) != op.auth {
                served_otherwise.push(op.name.as_str());
                assert_eq!((op.auth, auth(&route)), (Auth::Bearer, Auth::Optional));
            }
        }
        assert_eq!(served_otherwise, SERVED_ANONYMOUSLY);
        // And the other way: no row serves anything the catalog does not have.
        assert_eq!(ROUTES.len(), catalog.operations().count());
    }
}
