//! The `/v1` JSON API that `dockhand serve` and the gateway component (`gateway/`) both answer,
//! in one place so that a client cannot tell the two apart: the typed error's JSON and the
//! status it maps to, the catalog's listing, a call's options and arguments, and the refusals.
//!
//! No I/O and no HTTP types: each server brings its own, and asks this crate what to answer.
//! `no_std` with `alloc`, so that the gateway component links it without more of serde_json than
//! the plugin's core already has.
//!
//! - `GET /v1/operations`: [`operation_json`] of each operation, as an array;
//! - `GET /v1/docs[/{topic}]`: the plugin's markdown, as [`MARKDOWN`];
//! - `POST /v1/call/{operation}`: options from the query ([`call_options`]), arguments from a
//!   JSON object body ([`call_arguments`]); the result as the body with [`PAGES_HEADER`], or
//!   [`error_body`] with [`http_status`] of its kind and `Retry-After` on a 429.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value, json};

/// The content type of `GET /v1/docs` answers.
pub const MARKDOWN: &str = "text/markdown; charset=utf-8";

/// The header that says how many pages a `/v1/call` answer merged.
pub const PAGES_HEADER: &str = "x-dockhand-pages";

/// The refusal of a request without a known client's bearer (with `WWW-Authenticate: Bearer`).
pub const NEEDS_CLIENT_TOKEN: &str = "a client token is required: Authorization: Bearer <token>";

/// An error a call ended with, as the component's `hub-error` has it: the one vocabulary of the
/// Hub's refusals that every surface renders. The host converts the WIT type, the gateway the
/// plugin core's; both then answer with what this gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem<'a> {
    InvalidArgument {
        name: &'a str,
        reason: &'a str,
    },
    UnknownOperation(&'a str),
    Unauthorized(&'a str),
    Forbidden(&'a str),
    NotFound(&'a str),
    Conflict(&'a str),
    RateLimited {
        retry_after: Option<u64>,
        limit: Option<u64>,
        remaining: Option<u64>,
        reset: Option<u64>,
        /// Whether the Hub sent the `X-RateLimit-*` headers at all.
        rate_limit: bool,
    },
    Upstream {
        status: u16,
        message: &'a str,
    },
    /// `kind` is the WIT spelling (`connection-refused`).
    Transport {
        kind: &'a str,
        message: &'a str,
    },
    Denied(&'a str),
    Decode(&'a str),
}

impl Problem<'_> {
    /// The error's kind, as JSON names it (`not-found`) and [`http_status`] maps it.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::InvalidArgument { .. } => "invalid-argument",
            Problem::UnknownOperation(_) => "unknown-operation",
            Problem::Unauthorized(_) => "unauthorized",
            Problem::Forbidden(_) => "forbidden",
            Problem::NotFound(_) => "not-found",
            Problem::Conflict(_) => "conflict",
            Problem::RateLimited { .. } => "rate-limited",
            Problem::Upstream { .. } => "upstream",
            Problem::Transport { .. } => "transport",
            Problem::Denied(_) => "denied",
            Problem::Decode(_) => "decode",
        }
    }

    /// The one-line text every surface shows.
    pub fn describe(&self) -> String {
        match self {
            Problem::InvalidArgument { name, reason } => {
                format!("invalid argument `{name}`: {reason}")
            }
            Problem::UnknownOperation(m) => format!("unknown operation: {m}"),
            Problem::Unauthorized(m) => format!("unauthorized (401): {m}"),
            Problem::Forbidden(m) => format!("forbidden (403): {m}"),
            Problem::NotFound(m) => format!("not found (404): {m}"),
            Problem::Conflict(m) => format!("conflict (409): {m}"),
            Problem::RateLimited { retry_after, .. } => match retry_after {
                Some(s) => format!("rate limited (429): retry after {s} s"),
                None => "rate limited (429)".to_string(),
            },
            Problem::Upstream { status, message } => {
                format!("the Hub answered {status}: {message}")
            }
            Problem::Transport { kind, message } => {
                format!("transport error ({kind}): {message}")
            }
            Problem::Denied(m) => format!("denied: {m}"),
            Problem::Decode(m) => format!("could not decode the response: {m}"),
        }
    }

    /// The error's JSON fields (the inside of `{"error": ...}`): `kind`, `message`, and where
    /// they apply `status`, `argument`, `reason`, `retry_after`, `limit`, `remaining`, `reset`
    /// and `transport_kind`. A detail that is not known is left out, not written as null.
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                m.insert(k.to_string(), v);
            }
        };
        put("kind", self.kind().into());
        match self {
            Problem::InvalidArgument { name, reason } => {
                put("argument", (*name).into());
                put("reason", (*reason).into());
            }
            Problem::Unauthorized(_) => put("status", 401.into()),
            Problem::Forbidden(reason) => {
                put("status", 403.into());
                put("reason", (*reason).into());
            }
            Problem::NotFound(_) => put("status", 404.into()),
            Problem::Conflict(_) => put("status", 409.into()),
            Problem::RateLimited {
                retry_after,
                limit,
                remaining,
                reset,
                rate_limit,
            } => {
                put("status", 429.into());
                put("retry_after", json!(retry_after));
                if *rate_limit {
                    put("limit", json!(limit));
                    put("remaining", json!(remaining));
                    put("reset", json!(reset));
                }
            }
            Problem::Upstream { status, .. } => put("status", (*status).into()),
            Problem::Transport { kind, .. } => put("transport_kind", (*kind).into()),
            Problem::UnknownOperation(_) | Problem::Denied(_) | Problem::Decode(_) => {}
        }
        put("message", self.describe().into());
        m
    }

    /// How long a rate-limited client should wait (`Retry-After`), when the Hub said.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Problem::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The HTTP status an error `kind` is answered with: the Hub's own meaning where it has one
/// (400, 401, 403, 404, 409, 429), 403 for a denial, 502 for an answer from the Hub that is none
/// of those or none at all, 504 for the deadline, 500 for the server itself.
pub fn http_status(kind: &str) -> u16 {
    match kind {
        "usage" | "invalid-argument" => 400,
        "unauthorized" => 401,
        "forbidden" | "denied" => 403,
        "not-found" | "unknown-operation" => 404,
        "conflict" => 409,
        "rate-limited" => 429,
        "upstream" | "decode" | "transport" => 502,
        "deadline" => 504,
        _ => 500,
    }
}

/// `{"error": fields}`, the body of every error answer.
pub fn error_body(fields: Map<String, Value>) -> Value {
    json!({ "error": fields })
}

/// A refusal made before any call (a bad request, a missing client token), in the same shape.
pub fn refusal(kind: &str, message: &str) -> Value {
    json!({"error": {"kind": kind, "message": message}})
}

/// The refusal of a route that does not exist.
pub fn no_such_route(with_mcp: bool) -> String {
    let mcp = if with_mcp { "/mcp, " } else { "" };
    let metrics = if with_mcp { ", /metrics" } else { "" };
    format!(
        "no such route: {mcp}/v1/operations, /v1/docs[/{{topic}}], /v1/call/{{operation}}, \
         /healthz{metrics}"
    )
}

/// One operation as `GET /v1/operations` (and `dockhand ops --json`) lists it.
pub struct OperationEntry<'a> {
    pub name: &'a str,
    pub aliases: Vec<&'a str>,
    pub area: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    /// `write` when the operation may change something, else `read`.
    pub write: bool,
    pub destructive: bool,
    pub deprecated: bool,
    pub summary: &'a str,
}

/// The JSON of one operation in the catalog's listing.
pub fn operation_json(op: &OperationEntry<'_>) -> Value {
    json!({
        "name": op.name,
        "aliases": op.aliases,
        "area": op.area,
        "method": op.method,
        "path": op.path,
        "access": if op.write { "write" } else { "read" },
        "destructive": op.destructive,
        "deprecated": op.deprecated,
        "summary": op.summary,
    })
}

/// The call options a `/v1/call` query string sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    pub all_pages: bool,
    pub max_pages: Option<u32>,
    pub page_concurrency: Option<u32>,
}

/// The options of a `/v1/call` query string (`all_pages`, `max_pages`, `page_concurrency`);
/// `Err` names the parameter that is wrong (a `usage` refusal, 400).
pub fn call_options(query: Option<&str>) -> Result<CallOptions, String> {
    let mut options = CallOptions::default();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, "true"));
        let count = |most: u32| {
            value
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=most).contains(n))
                .ok_or_else(|| {
                    format!("query parameter `{key}`: expected a whole number from 1 to {most}")
                })
        };
        match key {
            "all_pages" => {
                options.all_pages = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err("query parameter `all_pages`: expected true or false".into()),
                }
            }
            "max_pages" => options.max_pages = Some(count(10_000)?),
            "page_concurrency" => options.page_concurrency = Some(count(32)?),
            _ => {
                return Err(format!(
                    "unknown query parameter `{key}`: the call options are all_pages, \
                     max_pages and page_concurrency; arguments go in the JSON body"
                ));
            }
        }
    }
    Ok(options)
}

/// A `/v1/call` request that cannot be run, with the status and text of its refusal (kind
/// `usage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    pub status: u16,
    pub message: String,
}

/// Whether a request's `Content-Type` declares JSON, which is what a call's arguments must be:
/// a web page cannot send it to another origin without the browser asking first.
pub fn declares_json(content_type: Option<&str>) -> Result<(), BadRequest> {
    let json = content_type.is_some_and(|v| {
        v.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if json {
        Ok(())
    } else {
        Err(BadRequest {
            status: 415,
            message: "the arguments are a JSON object: send Content-Type: application/json".into(),
        })
    }
}

/// The refusal of a body over `limit` bytes.
pub fn body_too_large(limit: usize) -> BadRequest {
    BadRequest {
        status: 413,
        message: format!("the request body is over {limit} bytes"),
    }
}

/// A call's arguments from its body: a JSON object of named arguments (an empty body is `{}`).
pub fn call_arguments(body: &[u8]) -> Result<Value, BadRequest> {
    let bad = |message: String| BadRequest {
        status: 400,
        message,
    };
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?
    };
    if !args.is_object() {
        return Err(bad(
            "the body must be a JSON object of named arguments".into()
        ));
    }
    Ok(args)
}

/// The SHA-256 digest a client's token is known by: servers keep digests, never tokens.
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.trim().as_bytes()).into()
}

/// The client whose token an `Authorization: Bearer <token>` value carries, among clients
/// known by [`token_digest`]. Every client is compared, whichever matches, each in time that
/// does not depend on where the digests differ: neither a token's length nor its first wrong
/// byte can be learnt from how fast a refusal comes.
pub fn authenticate<'c, C>(
    authorization: Option<&str>,
    clients: &'c [([u8; 32], C)],
) -> Option<&'c C> {
    let (scheme, token) = authorization?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let presented = token_digest(token);
    let mut found = None;
    for (digest, client) in clients {
        let difference = digest
            .iter()
            .zip(presented.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if difference == 0 {
            found = Some(client);
        }
    }
    found
}

/// Whether a secret may travel to a Hub at `scheme://host`: over TLS, or over plain http to
/// this machine only (`localhost`, 127.0.0.0/8, `::1`, where a mock Hub listens). The host's
/// base URL and the gateway's settings both hold secrets to it. `host` is without its port;
/// an IPv6 address may keep its brackets.
pub fn carries_secrets(scheme: &str, host: &str) -> bool {
    if scheme.eq_ignore_ascii_case("https") {
        return true;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // Only the exact name: a resolver need not send `*.localhost` to this machine.
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<core::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a read-only client's write is refused (kind `denied`, before anything is sent).
pub fn read_only(operation: &str, client: &str) -> String {
    format!(
        "`{operation}` is a write operation and client '{client}' is read-only; nothing was sent"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_options_come_from_the_query_and_anything_else_is_named() {
        let options = call_options(Some("all_pages&max_pages=3&page_concurrency=8")).unwrap();
        assert_eq!(
            options,
            CallOptions {
                all_pages: true,
                max_pages: Some(3),
                page_concurrency: Some(8)
            }
        );
        assert_eq!(call_options(None).unwrap(), CallOptions::default());
        assert!(
            call_options(Some("page_concurrency=33"))
                .unwrap_err()
                .contains("1 to 32")
        );
        assert!(
            call_options(Some("all_pages=maybe"))
                .unwrap_err()
                .contains("true or false")
        );
        assert!(
            call_options(Some("namespace=library"))
                .unwrap_err()
                .contains("`namespace`")
        );
    }

    #[test]
    fn arguments_are_a_json_object_and_only_that() {
        assert_eq!(call_arguments(b"  ").unwrap(), json!({}));
        assert_eq!(call_arguments(br#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        assert_eq!(call_arguments(b"[1]").unwrap_err().status, 400);
        assert!(
            call_arguments(b"{")
                .unwrap_err()
                .message
                .contains("not JSON")
        );
        assert!(declares_json(Some(" Application/JSON; charset=utf-8")).is_ok());
        assert_eq!(declares_json(Some("text/plain")).unwrap_err().status, 415);
        assert_eq!(declares_json(None).unwrap_err().status, 415);
    }

    #[test]
    fn secrets_travel_over_tls_or_to_this_machine_only() {
        assert!(carries_secrets("https", "hub.docker.com"));
        assert!(carries_secrets("http", "127.0.0.1"));
        assert!(carries_secrets("http", "127.8.0.1"));
        assert!(carries_secrets("http", "[::1]"));
        assert!(carries_secrets("http", "localhost"));
        assert!(!carries_secrets("http", "hub.docker.com"));
        assert!(!carries_secrets("http", "evil.localhost"));
        assert!(!carries_secrets("http", "10.0.0.1"));
    }

    #[test]
    fn a_client_is_found_by_its_bearer_only() {
        let clients = [
            (token_digest("s3cret"), "ci"),
            (token_digest("other"), "deploy"),
        ];
        assert_eq!(authenticate(Some("Bearer s3cret"), &clients), Some(&"ci"));
        assert_eq!(
            authenticate(Some("bearer  other "), &clients),
            Some(&"deploy")
        );
        assert_eq!(authenticate(Some("Bearer s3cre"), &clients), None);
        assert_eq!(authenticate(Some("Basic s3cret"), &clients), None);
        assert_eq!(authenticate(Some("s3cret"), &clients), None);
        assert_eq!(authenticate(None, &clients), None);
    }

    #[test]
    fn errors_carry_their_details_and_statuses() {
        let limited = Problem::RateLimited {
            retry_after: Some(7),
            limit: Some(200),
            remaining: Some(0),
            reset: None,
            rate_limit: true,
        };
        let body = error_body(limited.fields());
        assert_eq!(
            body,
            json!({"error": {"kind": "rate-limited", "status": 429, "retry_after": 7,
                "limit": 200, "remaining": 0, "message": "rate limited (429): retry after 7 s"}})
        );
        assert_eq!(http_status(limited.kind()), 429);
        assert_eq!(limited.retry_after(), Some(7));
        let transport = Problem::Transport {
            kind: "connection-refused",
            message: "no one there",
        };
        assert_eq!(
            transport.fields()["message"],
            "transport error (connection-refused): no one there"
        );
        assert_eq!(http_status(transport.kind()), 502);
        assert_eq!(http_status("deadline"), 504);
        assert_eq!(http_status("host"), 500);
    }
}
