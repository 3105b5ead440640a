//! How an error is shown, for every surface alike: the CLI's `--json` and its exit code, the
//! MCP tools' structured error, Lua's error table and `dockhand serve`'s error bodies all come
//! from here, so they cannot drift apart. One JSON shape (`kind`, `message`, and the details
//! that apply), one exit code per kind. The catalog's JSON listing (`ops --json`,
//! `GET /v1/operations`) lives here too, for the same reason.

use crate::credentials::CredentialError;
use crate::{CallError, HubError};
use dockhand_api::Problem;
use serde_json::{Map, Value, json};

/// Stable exit codes, documented in `--help` and the README.
pub mod exit {
    /// The host itself failed: the component would not load or trapped, a script failed.
    pub const HOST: u8 = 1;
    /// The command line, a script's syntax or an operation's arguments were wrong, or the
    /// operation does not exist.
    pub const USAGE: u8 = 2;
    /// The Hub refused the credentials (401) or the action (403).
    pub const AUTH: u8 = 3;
    /// The Hub answered 404.
    pub const NOT_FOUND: u8 = 4;
    /// The Hub answered 429 and the retries (or the wait allowed) ran out.
    pub const RATE_LIMITED: u8 = 5;
    /// The host's policy refused the request: an origin off the allow-list, or a write in
    /// read-only mode.
    pub const DENIED: u8 = 6;
    /// Any other answer the Hub gave: 409, another 4xx or 5xx, or one that could not be decoded.
    pub const UPSTREAM: u8 = 7;
    /// No answer in time: a network failure, a timeout, or the call's deadline.
    pub const TRANSPORT: u8 = 8;
}

/// The exit code of an error `kind` (as [`error_fields`] names it, or Lua's own `syntax`,
/// `lua` and `limit`): a script that failed on its own is a host error (1) unless it did not
/// even parse (2).
pub fn exit_code(kind: &str) -> u8 {
    match kind {
        "usage" | "syntax" | "invalid-argument" | "unknown-operation" => exit::USAGE,
        "unauthorized" | "forbidden" => exit::AUTH,
        "not-found" => exit::NOT_FOUND,
        "rate-limited" => exit::RATE_LIMITED,
        "denied" => exit::DENIED,
        "conflict" | "upstream" | "decode" => exit::UPSTREAM,
        "transport" | "deadline" => exit::TRANSPORT,
        _ => exit::HOST,
    }
}

/// The HTTP status `dockhand serve` answers an error `kind` with (`dockhand-api`'s, which the
/// gateway component answers with too).
pub fn http_status(kind: &str) -> u16 {
    dockhand_api::http_status(kind)
}

/// A hub error in the vocabulary every surface renders: its kind, message and JSON fields are
/// `dockhand-api`'s, shared with the component's core and the gateway.
pub fn problem(h: &HubError) -> Problem<'_> {
    match h {
        HubError::InvalidArgument(a) => Problem::InvalidArgument {
            name: &a.name,
            reason: &a.reason,
        },
        HubError::UnknownOperation(m) => Problem::UnknownOperation(m),
        HubError::Unauthorized(m) => Problem::Unauthorized(m),
        HubError::Forbidden(m) => Problem::Forbidden(m),
        HubError::NotFound(m) => Problem::NotFound(m),
        HubError::Conflict(m) => Problem::Conflict(m),
        HubError::RateLimited(r) => Problem::RateLimited {
            retry_after: r.retry_after,
            limit: r.rate_limit.as_ref().and_then(|l| l.limit),
            remaining: r.rate_limit.as_ref().and_then(|l| l.remaining),
            reset: r.rate_limit.as_ref().and_then(|l| l.reset),
            rate_limit: r.rate_limit.is_some(),
        },
        HubError::Upstream(u) => Problem::Upstream {
            status: u.status,
            message: &u.message,
        },
        HubError::Transport(t) => Problem::Transport {
            kind: t.kind.as_str(),
            message: &t.message,
        },
        HubError::Denied(m) => Problem::Denied(m),
        HubError::Decode(m) => Problem::Decode(m),
    }
}

/// The kind [`error_fields`] gives `e`.
pub fn kind(e: &CallError) -> &'static str {
    match e {
        CallError::Hub(h) => problem(h).kind(),
        CallError::Deadline(_) => "deadline",
        CallError::Host(_) => "host",
        CallError::Credentials(c) => credential_kind(c),
    }
}

/// The kind of a credential that could not be had: the configuration's fault is a usage error
/// (exit 2); an exchange that got no answer is a transport error (exit 8); one the Hub refused
/// is `unauthorized` (exit 3) only when it answered 401 or 403.
fn credential_kind(e: &CredentialError) -> &'static str {
    match e {
        CredentialError::Exchange { status: None, .. } => "transport",
        CredentialError::Exchange {
            status: Some(401), ..
        } => "unauthorized",
        CredentialError::Exchange {
            status: Some(403), ..
        } => "forbidden",
        CredentialError::Exchange {
            status: Some(429), ..
        } => "rate-limited",
        CredentialError::Exchange { .. } => "upstream",
        CredentialError::Withheld { .. } => "denied",
        CredentialError::Random(_) => "host",
        CredentialError::InvalidAccountName { .. }
        | CredentialError::DuplicateAccount { .. }
        | CredentialError::UnknownAccount { .. }
        | CredentialError::NoScimToken { .. }
        | CredentialError::Flags(_)
        | CredentialError::Env(_)
        | CredentialError::Config { .. }
        | CredentialError::InsecureConfig { .. }
        | CredentialError::SecretFile { .. }
        | CredentialError::Stdin(_) => "usage",
    }
}

/// One operation as `dockhand ops --json` and `GET /v1/operations` list it.
pub fn operation_json(
    op: &crate::bindings::exports::dockhand::hub::catalog::OperationInfo,
) -> Value {
    use crate::bindings::exports::dockhand::hub::catalog::Access;
    dockhand_api::operation_json(&dockhand_api::OperationEntry {
        name: &op.name,
        aliases: op.aliases.iter().map(String::as_str).collect(),
        area: &op.area,
        method: &op.method,
        path: &op.path,
        write: op.access == Access::Write,
        destructive: op.destructive,
        deprecated: op.deprecated,
        summary: &op.summary,
    })
}

/// `{"error": fields}`: what `dockhand --json` prints on stderr.
pub fn error_json(e: &CallError) -> Value {
    json!({ "error": error_fields(e) })
}

/// A usage problem found before any call, in the same shape.
pub fn usage_json(message: &str) -> Value {
    json!({"error": {"kind": "usage", "message": message}})
}

/// The typed error as JSON, without the outer `error` key: `kind`, `message`, and where they
/// apply `status`, `argument`, `reason`, `retry_after`, `limit`, `remaining`, `reset`,
/// `transport_kind`, `seconds`. A detail that is not known is left out, not written as null.
pub fn error_fields(e: &CallError) -> Map<String, Value> {
    if let CallError::Hub(h) = e {
        return problem(h).fields();
    }
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.to_string(), v);
        }
    };
    put("kind", kind(e).into());
    match e {
        CallError::Hub(_) | CallError::Host(_) => {}
        CallError::Deadline(d) => put("seconds", d.as_secs().into()),
        CallError::Credentials(c) => {
            put("status", json!(c.status()));
            put("account", json!(credential_account(c)));
        }
    }
    put("message", message(e).into());
    m
}

/// The account a credential error is about, when it names one.
fn credential_account(e: &CredentialError) -> Option<&str> {
    match e {
        CredentialError::DuplicateAccount { account }
        | CredentialError::UnknownAccount { account }
        | CredentialError::NoScimToken { account }
        | CredentialError::SecretFile { account, .. }
        | CredentialError::Exchange { account, .. }
        | CredentialError::Withheld { account, .. } => Some(account),
        CredentialError::InvalidAccountName { name } => Some(name),
        _ => None,
    }
}

/// The one-line text of an error, as every surface shows it.
pub fn message(e: &CallError) -> String {
    match e {
        CallError::Hub(h) => problem(h).describe(),
        other => other.to_string(),
    }
}
