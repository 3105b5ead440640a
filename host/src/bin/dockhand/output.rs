//! Printing results and errors, and the exit code of each error kind.

use dockhand_host::{CallError, HubError, describe_hub_error};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Stable exit codes, documented in `--help` and the README.
pub mod exit {
    pub const HOST: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const RATE_LIMITED: u8 = 5;
    pub const DENIED: u8 = 6;
    pub const UPSTREAM: u8 = 7;
    pub const TRANSPORT: u8 = 8;
}

/// Prints one line on stdout. A closed pipe (`dockhand ops | head`) is not an error worth a
/// panic: the reader has what it wanted.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use say;

/// Pretty JSON on a terminal, compact when piped or with `--json`.
pub fn print_json(value: &Value, compact: bool) {
    let text = if compact || !std::io::stdout().is_terminal() {
        value.to_string()
    } else {
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    };
    say!("{text}");
}

pub fn exit_code(e: &CallError) -> u8 {
    match e {
        CallError::Hub(h) => match h {
            HubError::InvalidArgument(_) | HubError::UnknownOperation(_) => exit::USAGE,
            HubError::Unauthorized(_) | HubError::Forbidden(_) => exit::AUTH,
            HubError::NotFound(_) => exit::NOT_FOUND,
            HubError::RateLimited(_) => exit::RATE_LIMITED,
            HubError::Denied(_) => exit::DENIED,
            HubError::Conflict(_) | HubError::Upstream(_) | HubError::Decode(_) => exit::UPSTREAM,
            HubError::Transport(_) => exit::TRANSPORT,
        },
        CallError::Deadline(_) => exit::TRANSPORT,
        CallError::Host(_) => exit::HOST,
    }
}

/// The error as JSON: `{"error": {"kind": ..., "message": ..., ...details}}`.
pub fn error_json(e: &CallError) -> Value {
    let message = e.to_string();
    let detail = match e {
        CallError::Hub(h) => match h {
            HubError::InvalidArgument(a) => {
                json!({"kind": "invalid-argument", "argument": a.name, "reason": a.reason})
            }
            HubError::UnknownOperation(_) => json!({"kind": "unknown-operation"}),
            HubError::Unauthorized(_) => json!({"kind": "unauthorized", "status": 401}),
            HubError::Forbidden(reason) => {
                json!({"kind": "forbidden", "status": 403, "reason": reason})
            }
            HubError::NotFound(_) => json!({"kind": "not-found", "status": 404}),
            HubError::Conflict(_) => json!({"kind": "conflict", "status": 409}),
            HubError::RateLimited(r) => json!({
                "kind": "rate-limited",
                "status": 429,
                "retry_after": r.retry_after,
                "limit": r.rate_limit.as_ref().and_then(|l| l.limit),
                "remaining": r.rate_limit.as_ref().and_then(|l| l.remaining),
                "reset": r.rate_limit.as_ref().and_then(|l| l.reset),
            }),
            HubError::Upstream(u) => json!({"kind": "upstream", "status": u.status}),
            HubError::Transport(t) => json!({"kind": "transport", "transport_kind": t.kind.as_str()}),
            HubError::Denied(_) => json!({"kind": "denied"}),
            HubError::Decode(_) => json!({"kind": "decode"}),
        },
        CallError::Deadline(d) => json!({"kind": "deadline", "seconds": d.as_secs()}),
        CallError::Host(_) => json!({"kind": "host"}),
    };
    let mut detail = detail;
    detail["message"] = Value::String(message);
    json!({ "error": detail })
}

/// Reports `e` on stderr and returns the exit code for it.
pub fn report(e: &CallError, as_json: bool) -> ExitCode {
    if as_json {
        eprintln!("{}", error_json(e));
    } else {
        let text = match e {
            CallError::Hub(h) => describe_hub_error(h),
            other => other.to_string(),
        };
        eprintln!("error: {text}");
    }
    ExitCode::from(exit_code(e))
}

/// A usage problem found by the CLI itself (before any call).
pub fn usage(message: impl Into<String>, as_json: bool) -> ExitCode {
    let message = message.into();
    if as_json {
        eprintln!(
            "{}",
            json!({"error": {"kind": "usage", "message": message}})
        );
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(exit::USAGE)
}
