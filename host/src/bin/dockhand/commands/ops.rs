//! `dockhand ops [FILTER]`: the operations (all, an area's, or those matching a word) as a table
//! of name, access, method, path and summary (cut to the terminal's width); a JSON array with
//! `--json`.

use super::Outcome;
use super::host::open_without_credentials;
use crate::cli::Global;
use crate::output::{print_json, print_table, usage};
use dockhand_host::bindings::exports::dockhand::hub::catalog::{OperationInfo, TableView};
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
    let list: Vec<Value> = ops.iter().map(|op| report::operation_json(op)).collect();
    if g.json {
        print_json(&Value::Array(list), true);
    } else {
        let view = TableView {
            rows: String::new(),
            columns: ["name", "access", "method", "path", "summary"]
                .map(String::from)
                .to_vec(),
        };
        print_table(g, &Value::Array(list), &view);
    }
    Ok(ExitCode::SUCCESS)
}
