//! `dockhand ops [FILTER]`: the operations (all, an area's, or those matching a word) with their
//! access, method, path and summary; a JSON array with `--json`.

use super::Outcome;
use super::host::open_without_credentials;
use crate::cli::Global;
use crate::output::{print_json, say, usage};
use dockhand_host::bindings::exports::dockhand::hub::catalog::Access;
use dockhand_host::bindings::exports::dockhand::hub::catalog::OperationInfo;
use dockhand_host::report;
use serde_json::Value;
use std::process::ExitCode;

pub async fn run(g: &Global, filter: Option<&str>) -> Outcome {
    let hub = open_without_credentials(g)?;
    let all = hub.operations().await?;
    let ops: Vec<&OperationInfo> = match filter.map(str::to_ascii_lowercase) {
        None => all.iter().collect(),
        // An area's name selects the area; any other word, what mentions it.
        Some(word) if all.iter().any(|op| op.area == word) => {
            all.iter().filter(|op| op.area == word).collect()
        }
        Some(word) => all
            .iter()
            .filter(|op| {
                op.name.contains(&word)
                    || op
                        .aliases
                        .iter()
                        .any(|a| a.to_ascii_lowercase().contains(&word))
                    || op.summary.to_ascii_lowercase().contains(&word)
            })
            .collect(),
    };
    if ops.is_empty()
        && let Some(filter) = filter
    {
        let mut areas: Vec<&str> = all.iter().map(|op| op.area.as_str()).collect();
        areas.dedup();
        return Err(usage(format!(
            "no operation matches `{filter}`; the areas are {}",
            areas.join(", ")
        )));
    }
    if g.json {
        let list: Vec<Value> = ops.iter().map(|op| report::operation_json(op)).collect();
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
            if filter.is_some() {
                // A short list has room for what each one does.
                say!("{:width$}  {}", "", op.summary);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
