//! Printing results, and [`Failure`]: the one place a command's failure becomes stderr text and an
//! exit code (the JSON shape and the codes themselves come from `dockhand_host::report`).
//!
//! A result is printed in the format `--output` names; by default as a table on a terminal when
//! it is a listing, and as JSON otherwise (piped, always the JSON scripts have always read).
//! Tables are `table.rs`, their cells `human.rs`; progress on stderr is `progress.rs`.

mod human;
pub mod progress;
mod table;

pub use human::printable;

use crate::cli::{Format, Global};
use dockhand_host::bindings::exports::dockhand::hub::catalog::TableView;
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

/// Pretty JSON on a terminal, compact when piped or with `--json`. JSON escapes the C0 controls
/// itself; on a terminal DEL and the C1 controls (U+009B starts a terminal sequence too) are
/// escaped as well, which is still the same JSON.
pub fn print_json(value: &Value, compact: bool) {
    let terminal = std::io::stdout().is_terminal();
    let text = if compact || !terminal {
        value.to_string()
    } else {
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    };
    if terminal && text.chars().any(char::is_control) {
        let escaped: String = text
            .chars()
            .map(|c| match c {
                '\n' => "\n".to_string(),
                c if c.is_control() => format!("\\u{:04x}", u32::from(c)),
                c => c.to_string(),
            })
            .collect();
        say!("{escaped}");
    } else {
        say!("{text}");
    }
}

/// Prints a result as `--output` (or the default) says. `view` is the catalog's table for the
/// operation, when it is a listing.
pub fn print_result(g: &Global, body: &Value, view: Option<&TableView>) {
    print_as(g, body, view, None);
}

/// Prints a list the CLI made itself (`ops`): a table, piped or not, unless `--output` or
/// `--json` asks for another format.
pub fn print_table(g: &Global, body: &Value, view: &TableView) {
    print_as(g, body, Some(view), (!g.json).then_some(Format::Table));
}

fn print_as(g: &Global, body: &Value, view: Option<&TableView>, default: Option<Format>) {
    let terminal = std::io::stdout().is_terminal();
    let format = g.output.or(default).unwrap_or(if g.json {
        Format::Json
    } else if terminal && (g.columns.is_some() || table::rows(body, view).is_some()) {
        Format::Table
    } else {
        Format::Json
    });
    match format {
        Format::Json => print_json(body, g.json),
        Format::Yaml => match serde_yaml::to_string(body) {
            // YAML leaves some controls (NEL, U+0085) in plain text: on a terminal, shown inert.
            Ok(text) => print_text(&text),
            Err(_) => print_json(body, g.json),
        },
        Format::Raw => print_text(&raw(body)),
        Format::Table => {
            use std::io::Write as _;
            let style = table::Style {
                color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
                width: terminal
                    .then(|| console::Term::stdout().size_checked())
                    .flatten()
                    .map(|(_, cols)| usize::from(cols))
                    .filter(|&cols| cols > 0),
                now: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            };
            let text = table::render(body, view, g.columns.as_deref(), &style);
            let _ = write!(std::io::stdout().lock(), "{text}");
        }
    }
}

/// Text on stdout as it is when piped (byte for byte), and on a terminal without anything that
/// could steer it: control characters in a Hub's answer are shown, not obeyed.
pub fn print_text(text: &str) {
    let text = text.trim_end_matches('\n');
    if std::io::stdout().is_terminal() {
        let shown: Vec<String> = text.lines().map(human::printable).collect();
        say!("{}", shown.join("\n"));
    } else {
        say!("{text}");
    }
}

/// `-o raw`: text as the Hub sent it. A string, or a document carried as
/// `{body, content_type}` (the CSV export), without JSON's quotes; a list of plain values one
/// per line; anything else compact JSON.
fn raw(body: &Value) -> String {
    match body {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.contains_key("content_type") => match map.get("body") {
            Some(Value::String(s)) => s.clone(),
            _ => body.to_string(),
        },
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
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
        eprintln!("warning: {}", for_stderr(message));
    }
}

/// A message for stderr that may quote a Hub's text (an error's detail, a `next` link): on a
/// terminal, with its control characters shown inert.
pub fn for_stderr(message: &str) -> String {
    if std::io::stderr().is_terminal() {
        human::printable(message)
    } else {
        message.to_string()
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
                    eprintln!("error: {}", for_stderr(&report::message(&e)));
                }
                ExitCode::from(report::exit_code(report::kind(&e)))
            }
            Failure::Usage(message) => {
                if as_json {
                    eprintln!("{}", report::usage_json(&message));
                } else {
                    eprintln!("error: {}", for_stderr(&message));
                }
                ExitCode::from(exit::USAGE)
            }
            Failure::Host(message) => {
                eprintln!("error: {}", for_stderr(&message));
                ExitCode::from(exit::HOST)
            }
        }
    }
}
