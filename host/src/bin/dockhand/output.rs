//! Printing results, and [`Failure`]: the one place a command's failure becomes stderr text and an
//! exit code (the JSON shape and the codes themselves come from `dockhand_host::report`).

use dockhand_host::{CallError, report};
use serde_json::Value;
use std::io::IsTerminal;
use std::process::ExitCode;

pub use dockhand_host::report::exit;

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

/// A warning on stderr that does not stop the command: a `warning:` line, or with `--json` one
/// JSON object (`{"warning": {"kind", "message"}}`), so that stdout stays the result alone.
pub fn warn(as_json: bool, kind: &str, message: &str) {
    if as_json {
        eprintln!(
            "{}",
            serde_json::json!({"warning": {"kind": kind, "message": message}})
        );
    } else {
        eprintln!("warning: {message}");
    }
}

/// Why a command stopped early: the one thing the caller still has to report. Commands return
/// it through `?`; [`Failure::report`] is the only place that turns it into stderr and an exit code.
#[derive(Debug)]
pub enum Failure {
    /// A usage problem found by the CLI itself (before any call): exit 2, JSON under `--json`.
    Usage(String),
    /// What a call (or opening the host) reported, in the library's shared shape and exit codes.
    Call(CallError),
    /// The CLI's own machinery failed (runtime, mock Hub, stdio): always plain text, exit 1.
    Host(String),
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        Failure::Call(e)
    }
}

/// A usage failure, for `map_err` and `Err(...)?`.
pub fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

impl Failure {
    /// Reports the failure on stderr and returns its exit code.
    pub fn report(self, as_json: bool) -> ExitCode {
        match self {
            Failure::Call(e) => {
                if as_json {
                    eprintln!("{}", report::error_json(&e));
                } else {
                    eprintln!("error: {}", report::message(&e));
                }
                ExitCode::from(report::exit_code(report::kind(&e)))
            }
            Failure::Usage(message) => {
                if as_json {
                    eprintln!("{}", report::usage_json(&message));
                } else {
                    eprintln!("error: {message}");
                }
                ExitCode::from(exit::USAGE)
            }
            Failure::Host(message) => {
                eprintln!("error: {message}");
                ExitCode::from(exit::HOST)
            }
        }
    }
}
