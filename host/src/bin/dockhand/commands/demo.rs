//! `dockhand demo`: lists a few tags of library/alpine anonymously, from Docker Hub when it
//! answers, else from the built-in mock Hub, saying which.

use super::Outcome;
use super::host::open_with;
use crate::cli::Global;
use crate::output::{Failure, print_json, say};
use dockhand_host::credentials::Accounts;
use dockhand_host::policy::Timeouts;
use dockhand_host::{CallError, CallOptions, HubError};
use dockhand_mock::{MockConfig, MockHub};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(g: &Global, offline: bool) -> Outcome {
    let args = json!({"namespace": "library", "repository": "alpine", "page_size": 5});
    // Short connect and first-byte limits, so that an unreachable Hub falls back quickly.
    let quick = Timeouts {
        connect: Duration::from_secs(5),
        first_byte: Duration::from_secs(10),
        ..Timeouts::default()
    };
    if !offline {
        let hub = open_with(
            g,
            g.base_url.clone(),
            Accounts::anonymous(),
            quick,
            g.read_only,
        )?;
        match hub
            .call("list_repository_tags", &args, &CallOptions::default())
            .await
        {
            Ok(result) => return Ok(show_tags(hub.base_url(), &result.body, g.json)),
            // Only an unreachable or silent Hub falls back; any answer from it is reported.
            Err(CallError::Hub(HubError::Transport(t))) => {
                eprintln!(
                    "{} is not reachable ({}); using the built-in mock Hub",
                    g.base_url, t.kind
                );
            }
            Err(CallError::Deadline(_)) => {
                eprintln!(
                    "{} did not answer in time; using the built-in mock Hub",
                    g.base_url
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mock = MockHub::start(MockConfig::default())
        .await
        .map_err(|e| Failure::Host(format!("starting the mock Hub: {e}")))?;
    let hub = open_with(
        g,
        mock.base_url(),
        Accounts::anonymous(),
        quick,
        g.read_only,
    )?;
    let outcome = hub
        .call("list_repository_tags", &args, &CallOptions::default())
        .await
        .map(|result| {
            show_tags(
                &format!("{} (mock Hub)", hub.base_url()),
                &result.body,
                g.json,
            )
        })
        .map_err(Failure::from);
    mock.shutdown().await;
    outcome
}

fn show_tags(source: &str, body: &Value, as_json: bool) -> ExitCode {
    if as_json {
        print_json(body, true);
        return ExitCode::SUCCESS;
    }
    say!("library/alpine tags from {source}, through the dockhand component:");
    for tag in body["results"].as_array().into_iter().flatten() {
        say!(
            "  {:12} {}",
            tag["name"].as_str().unwrap_or("?"),
            tag["last_updated"].as_str().unwrap_or("")
        );
    }
    ExitCode::SUCCESS
}
