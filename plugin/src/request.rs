//! Turns bound arguments into an HTTP request: URL from the base URL and the percent-encoded
//! path template, query string, headers and JSON body.

use crate::prelude::*;

use crate::args::Bound;
use crate::catalog::{Method, Operation};
use crate::error::HubError;

pub const DEFAULT_BASE_URL: &str = "https://hub.docker.com";
pub const USER_AGENT: &str = concat!("dockhand/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// Header names as sent; lowercase is not required by HTTP but keeps lookups simple.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value));
    }
}

/// A parsed `scheme://authority` with no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub authority: String,
}

impl Origin {
    pub fn as_url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// Normalises the configured base URL to its origin. Paths in the catalog start with `/v2`, so a
/// base that already ends in `/v2` (as older configurations have it) is accepted.
pub fn base_origin(base: Option<&str>) -> Result<Origin, HubError> {
    let base = base
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .unwrap_or(DEFAULT_BASE_URL);
    // The value is quoted only when nothing in it can be a secret typed in the wrong place
    // (user information, a query, or no URL at all).
    let quotable = base.contains("://") && !base.contains(['@', '?', '#']);
    let bad = |why: &str| match quotable {
        true => HubError::invalid("base-url", format!("{why} (got {base:?})")),
        false => HubError::invalid("base-url", why.to_string()),
    };
    let (scheme, rest) = base
        .split_once("://")
        .ok_or_else(|| bad("expected an http:// or https:// URL"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad("expected an http:// or https:// URL"));
    }
    let rest = rest.trim_end_matches('/');
    let rest = rest
        .strip_suffix("/v2")
        .unwrap_or(rest)
        .trim_end_matches('/');
    if rest.contains(['/', '?', '#', '@']) || rest.is_empty() {
        return Err(bad(
            "expected only a scheme and host (optionally a port and /v2)",
        ));
    }
    Ok(Origin {
        authority: normalize_authority(&scheme, rest),
        scheme,
    })
}

/// Lowercases the authority and drops the scheme's default port, so that
/// `https://hub.docker.com:443` and `https://hub.docker.com` compare equal.
fn normalize_authority(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    match (scheme, authority.rsplit_once(':')) {
        ("https", Some((host, "443"))) | ("http", Some((host, "80"))) => host.to_string(),
        _ => authority,
    }
}

/// Parses the origin of an absolute URL (for checking `next` links).
pub fn url_origin(url: &str) -> Option<Origin> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    Some(Origin {
        authority: normalize_authority(&scheme, authority),
        scheme,
    })
}

pub fn build(op: &Operation, bound: &Bound, origin: &Origin) -> HttpRequest {
    let mut url = origin.as_url();
    let mut template = op.path;
    while let Some(start) = template.find('{') {
        let end = start
            + template[start..]
                .find('}')
                .unwrap_or(template.len() - start);
        url.push_str(&template[..start]);
        let name = &template[start + 1..end];
        let value = bound
            .path
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        encode_into(&mut url, value);
        template = &template[(end + 1).min(template.len())..];
    }
    url.push_str(template);
    if !bound.query.is_empty() {
        url.push('?');
        for (i, (name, value)) in bound.query.iter().enumerate() {
            if i > 0 {
                url.push('&');
            }
            encode_into(&mut url, name);
            url.push('=');
            encode_into(&mut url, value);
        }
    }

    let mut headers = vec![
        ("user-agent".to_string(), USER_AGENT.to_string()),
        (
            "accept".to_string(),
            op.response_content_type()
                .unwrap_or("application/json")
                .to_string(),
        ),
    ];
    for (name, value) in &bound.headers {
        headers.push((name.to_string(), value.clone()));
    }
    let body = match (&op.body, &bound.body) {
        (Some(spec), Some(body)) => {
            headers.push(("content-type".to_string(), spec.content_type.to_string()));
            Some(serde_json::to_vec(body).unwrap_or_default())
        }
        _ => None,
    };
    HttpRequest {
        method: op.method,
        url,
        headers,
        body,
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a value can never add a
/// path segment, a query or a fragment: `a/b` becomes `a%2Fb`, `%2e` becomes `%252e`.
pub fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Replaces (or adds) one query parameter of a URL; used to step SCIM pages.
pub fn with_query_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
        .map(str::to_string)
        .collect();
    let mut pair = String::new();
    encode_into(&mut pair, name);
    pair.push('=');
    encode_into(&mut pair, value);
    pairs.push(pair);
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::bind;
    use crate::catalog::find;
    use serde_json::json;

    fn url_for(op: &str, args: serde_json::Value) -> String {
        let op = find(op).unwrap();
        let bound = bind(op, &args).unwrap();
        build(op, &bound, &base_origin(None).unwrap()).url
    }

    #[test]
    fn default_base_and_plain_values() {
        assert_eq!(
            url_for(
                "list_repository_tags",
                json!({"namespace": "library", "repository": "alpine", "page_size": 100})
            ),
            "https://hub.docker.com/v2/namespaces/library/repositories/alpine/tags?page_size=100"
        );
    }

    #[test]
    fn traversal_attempts_stay_inside_their_segment() {
        let url = url_for(
            "get_repository",
            json!({"namespace": "../../v2/access-tokens", "repository": "a/b"}),
        );
        assert_eq!(
            url,
            "https://hub.docker.com/v2/namespaces/..%2F..%2Fv2%2Faccess-tokens/repositories/a%2Fb"
        );
        let url = url_for(
            "get_repository",
            json!({"namespace": "%2e%2e", "repository": "x?y#z"}),
        );
        assert_eq!(
            url,
            "https://hub.docker.com/v2/namespaces/%252e%252e/repositories/x%3Fy%23z"
        );
    }

    #[test]
    fn query_values_are_encoded() {
        let url = url_for(
            "scim_list_users",
            json!({"filter": "userName eq \"a b&c\""}),
        );
        assert_eq!(
            url,
            "https://hub.docker.com/v2/scim/2.0/Users?filter=userName%20eq%20%22a%20b%26c%22"
        );
    }

    #[test]
    fn base_url_forms() {
        let o = base_origin(Some("https://hub.docker.com/v2/")).unwrap();
        assert_eq!(o.as_url(), "https://hub.docker.com");
        let o = base_origin(Some("http://127.0.0.1:8080")).unwrap();
        assert_eq!(o.as_url(), "http://127.0.0.1:8080");
        for bad in [
            "ftp://x",
            "hub.docker.com",
            "https://x/other/path",
            "https://user@x",
        ] {
            match base_origin(Some(bad)) {
                Err(HubError::InvalidArgument { name, .. }) => assert_eq!(name, "base-url"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // A secret typed into the base URL is not repeated in the error.
        for leaky in [
            "https://alice:dckr_pat_x@hub.docker.com",
            "https://hub.docker.com/x?dckr_pat_x",
            "dckr_pat_x",
        ] {
            match base_origin(Some(leaky)) {
                Err(HubError::InvalidArgument { reason, .. }) => {
                    assert!(!reason.contains("dckr_pat_x"), "{reason}")
                }
                other => panic!("{leaky}: {other:?}"),
            }
        }
    }

    #[test]
    fn body_and_content_types() {
        let op = find("scim_create_user").unwrap();
        let bound = bind(op, &json!({"schemas": ["s"], "userName": "u"})).unwrap();
        let req = build(op, &bound, &base_origin(None).unwrap());
        assert_eq!(req.header("content-type"), Some("application/scim+json"));
        assert_eq!(req.header("accept"), Some("application/scim+json"));
        let body: serde_json::Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
        assert_eq!(body, json!({"schemas": ["s"], "userName": "u"}));

        let op = find("get_repository").unwrap();
        let bound = bind(op, &json!({"namespace": "a", "repository": "b"})).unwrap();
        let req = build(op, &bound, &base_origin(None).unwrap());
        assert_eq!(req.header("content-type"), None);
        assert!(req.body.is_none());
    }

    #[test]
    fn origins_of_links() {
        assert_eq!(
            url_origin("https://hub.docker.com:443/v2/x?page=2"),
            Some(Origin {
                scheme: "https".into(),
                authority: "hub.docker.com".into()
            })
        );
        assert_eq!(
            url_origin("http://127.0.0.1:9/x").unwrap().authority,
            "127.0.0.1:9"
        );
        assert_eq!(url_origin("https://user@evil/x"), None);
        assert_eq!(url_origin("/relative"), None);
    }

    #[test]
    fn query_param_replacement() {
        assert_eq!(
            with_query_param("http://h/Users?count=5&startIndex=1", "startIndex", "6"),
            "http://h/Users?count=5&startIndex=6"
        );
        assert_eq!(
            with_query_param("http://h/Users", "startIndex", "6"),
            "http://h/Users?startIndex=6"
        );
    }
}
