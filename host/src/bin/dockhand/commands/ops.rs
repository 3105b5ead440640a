//! `dockhand ops`: every operation with its access, method and path (a JSON array with `--json`).

use super::Outcome;
use super::host::open_without_credentials;
use crate::cli::Global;
use crate::output::{print_json, say};
use dockhand_host::bindings::exports::dockhand::hub::catalog::Access;
use dockhand_host::report;
use serde_json::Value;
use std::process::ExitCode;

pub async fn run(g: &Global) -> Outcome {
    let hub = open_without_credentials(g)?;
    let ops = hub.operations().await?;
    if g.json {
        let list: Vec<Value> = ops.iter().map(report::operation_json).collect();
        print_json(&Value::Array(list), true);
    } else {
        let width = ops.iter().map(|op| op.name.len()).max().unwrap_or(0);
        for op in ops {
            // Padded so that the method column lines up for both kinds.
            let access = match op.access {
                Access::Read => "read ",
                Access::Write => "write",
            };
            say!("{:width$}  {access}  {:6} {}", op.name, op.method, op.path);
        }
    }
    Ok(ExitCode::SUCCESS)
}
