//! Printing results and errors, and the exit code of each error kind.

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

/// Reports `e` on stderr and returns the exit code for it.
pub fn report(e: &CallError, as_json: bool) -> ExitCode {
    if as_json {
        eprintln!("{}", report::error_json(e));
    } else {
        eprintln!("error: {}", report::message(e));
    }
    ExitCode::from(report::exit_code(report::kind(e)))
}

/// A usage problem found by the CLI itself (before any call).
pub fn usage(message: impl Into<String>, as_json: bool) -> ExitCode {
    let message = message.into();
    if as_json {
        eprintln!("{}", report::usage_json(&message));
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(exit::USAGE)
}
