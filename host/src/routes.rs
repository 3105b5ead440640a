//! Which catalog operation a request is, by its method and path alone: what lets the send hook
//! hold read-only mode for every entry point (the dynamic `catalog.call`, the typed exports, a
//! host that drives the component by hand), not just for callers that ask the catalog first.
//!
//! The table is generated from the catalog (`cargo xtask gen`). A template segment `{name}`
//! matches one non-empty path segment (the component percent-encodes every path value, so a
//! value never spans segments); where several templates match, the one with the most literal
//! segments wins, as in any router.

#[path = "generated/routes.rs"]
mod table;

/// One catalog operation as the send hook sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub name: &'static str,
    /// The other names it answers to (operationId, earlier integrations' names).
    pub aliases: &'static [&'static str],
    pub method: &'static str,
    pub path: &'static str,
    pub writes: bool,
    /// Whether the operation sends the account's credential (its catalog `auth` is not
    /// `none`).
    pub credential: bool,
    /// For an operation Docker's published description does not list: the Docker tool that
    /// uses it (the catalog's `source`).
    pub source: Option<&'static str>,
}

/// Every name an operation answers to: canonical names, then aliases, in catalog order.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    let names = table::ROUTES.iter().map(|r| r.name);
    names.chain(table::ROUTES.iter().flat_map(|r| r.aliases.iter().copied()))
}

/// The catalog operation called `name` (its canonical name).
pub(crate) fn by_name(name: &str) -> Option<&'static Route> {
    table::ROUTES.iter().find(|r| r.name == name)
}

/// The catalog operation `method` and `path` (query and fragment ignored) address, if any.
pub(crate) fn route(method: &str, path: &str) -> Option<&'static Route> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    table::ROUTES
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case(method))
        .filter_map(|r| literal_segments(r.path, path).map(|n| (n, r)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, r)| r)
}

/// Whether read-only mode lets `method` and `path` go: a catalog read does; so does a GET or
/// HEAD the catalog does not name (a pagination link on the same route); nothing else does.
pub(crate) fn allowed_read_only(method: &str, path: &str) -> Result<(), String> {
    match route(method, path) {
        Some(r) if r.writes => Err(format!("read-only mode: `{}` is a write operation", r.name)),
        Some(_) => Ok(()),
        None if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") => Ok(()),
        None => Err(format!(
            "read-only mode: {method} {path} is not a read operation of the catalog"
        )),
    }
}

/// How many literal segments of `template` match `path`, or `None` if it does not match.
fn literal_segments(template: &str, path: &str) -> Option<usize> {
    let mut literal = 0;
    let mut want = template.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(literal),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') => {
                if h.is_empty() {
                    return None;
                }
            }
            (Some(w), Some(h)) if w == h => literal += 1,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart_by_method_and_path() {
        let name = |m, p| route(m, p).map(|r| r.name);
        assert_eq!(
            name("GET", "/v2/namespaces/library/repositories/alpine"),
            Some("get_repository")
        );
        assert_eq!(
            name("POST", "/v2/namespaces/alice/repositories"),
            Some("create_repository")
        );
        assert_eq!(
            name(
                "GET",
                "/v2/namespaces/library/repositories/alpine/tags?page=2"
            ),
            Some("list_repository_tags")
        );
        assert_eq!(name("POST", "/v2/auth/token"), Some("create_auth_token"));
        assert!(!by_name("create_auth_token").unwrap().credential);
        assert!(by_name("get_repository").unwrap().credential);
        assert_eq!(name("GET", "/v2/namespaces//repositories/alpine"), None);
        assert_eq!(name("GET", "/v2/nowhere"), None);
    }

    #[test]
    fn extended_operations_are_known_by_their_exact_paths() {
        let name = |m, p| route(m, p).map(|r| r.name);
        // Search sits beside the API, under /api rather than /v2, and is a read.
        assert_eq!(
            name(
                "GET",
                "/api/search/v4?query=alpine&badges=official%2Copen_source"
            ),
            Some("search_repositories")
        );
        assert!(allowed_read_only("GET", "/api/search/v4?query=a").is_ok());
        // Only that path: nothing else under /api is a catalog operation.
        assert_eq!(name("GET", "/api/search/v3"), None);
        assert_eq!(name("GET", "/v2/user/"), Some("get_current_user"));
        assert_eq!(
            name("GET", "/v2/user/orgs/?page=2"),
            Some("list_current_user_orgs")
        );
        // The deletes keep their trailing slash, and read-only mode refuses them with or
        // without it.
        assert_eq!(
            name("DELETE", "/v2/repositories/alice/demo/tags/latest/"),
            Some("delete_repository_tag")
        );
        assert_eq!(
            name("DELETE", "/v2/repositories/alice/demo/"),
            Some("delete_repository")
        );
        for path in [
            "/v2/repositories/alice/demo/tags/latest/",
            "/v2/repositories/alice/demo/tags/latest",
            "/v2/repositories/alice/demo/",
            "/v2/repositories/alice/demo",
        ] {
            assert!(allowed_read_only("DELETE", path).is_err(), "{path}");
        }
        let refused =
            allowed_read_only("PATCH", "/v2/namespaces/alice/repositories/demo").unwrap_err();
        assert!(refused.contains("update_repository"), "{refused}");
    }

    #[test]
    fn read_only_lets_reads_through_and_stops_every_write() {
        assert!(allowed_read_only("GET", "/v2/namespaces/library/repositories/alpine").is_ok());
        assert!(allowed_read_only("HEAD", "/v2/namespaces/a/repositories/b/tags").is_ok());
        assert!(allowed_read_only("GET", "/v2/not-in-the-catalog").is_ok());
        let refused = allowed_read_only("POST", "/v2/namespaces/alice/repositories").unwrap_err();
        assert!(refused.contains("create_repository"), "{refused}");
        assert!(allowed_read_only("DELETE", "/v2/not-in-the-catalog").is_err());
        assert!(allowed_read_only("PATCH", "/v2/namespaces/a/repositories/b").is_err());
        // Every write of the catalog, by its own template, is refused.
        for r in table::ROUTES.iter().filter(|r| r.writes) {
            let path = r.path.replace(['{', '}'], "x");
            assert!(allowed_read_only(r.method, &path).is_err(), "{}", r.name);
        }
        for r in table::ROUTES.iter().filter(|r| !r.writes) {
            let path = r.path.replace(['{', '}'], "x");
            assert!(allowed_read_only(r.method, &path).is_ok(), "{}", r.name);
        }
    }
}
