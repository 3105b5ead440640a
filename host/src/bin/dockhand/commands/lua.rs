//! `dockhand lua`: runs a workflow file and/or `--eval` code. The workflow's own error is printed
//! here and decides the exit code (an `Ok`); only failures before it runs are [`Failure`](crate::output::Failure)s.

use super::Outcome;
use super::host::{accounts, open_with};
use crate::cli::{Global, LuaArgs};
use crate::output::{for_stderr, print_json, print_result, print_text, usage};
use dockhand_host::lua::{Chunk, LuaOptions};
use dockhand_host::policy::Timeouts;
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(g: &Global, args: &LuaArgs) -> Outcome {
    let mut chunks = Vec::new();
    if let Some(path) = &args.file {
        let (name, code) = if path.as_os_str() == "-" {
            (
                "stdin".to_string(),
                std::io::read_to_string(std::io::stdin().lock()),
            )
        } else {
            (path.display().to_string(), std::fs::read_to_string(path))
        };
        let code = code.map_err(|e| usage(format!("reading {name}: {e}")))?;
        chunks.push(Chunk { name, code });
    }
    if let Some(code) = &args.eval {
        chunks.push(Chunk {
            name: "--eval".into(),
            code: code.clone(),
        });
    }
    if chunks.is_empty() {
        return Err(usage("give a workflow file or --eval CODE"));
    }
    // Without --force the host policy refuses writes too, not only the workflow's own check.
    let read_only = g.read_only || !args.force;
    let accounts = accounts(g)?;
    let hub = Arc::new(open_with(
        g,
        g.base_url.clone(),
        accounts,
        Timeouts::default(),
        read_only,
    )?);
    let options = LuaOptions {
        force: args.force && !g.read_only,
        account: g.account.clone(),
        time_limit: Duration::from_secs(args.time_limit.max(1)),
        capture_output: g.json,
        ..LuaOptions::default()
    };
    let outcome = dockhand_host::lua::run(hub, &chunks, &options).await;
    if g.json {
        print_json(&outcome.to_json(), true);
    } else {
        match &outcome.result {
            Value::Null => {}
            Value::String(s) => print_text(s),
            other => print_result(g, other, None),
        }
        if let Some(error) = &outcome.error {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error");
            eprintln!("error: {}", for_stderr(message));
        }
    }
    Ok(match outcome.error_kind() {
        None => ExitCode::SUCCESS,
        Some(kind) => ExitCode::from(dockhand_host::report::exit_code(kind)),
    })
}
