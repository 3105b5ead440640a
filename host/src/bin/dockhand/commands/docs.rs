//! `dockhand docs [TOPIC]`: the component's markdown reference, whole or for one area or
//! operation; for an operation, followed by the command line that calls it.

use super::Outcome;
use super::host::open_without_credentials;
use crate::cli::Global;
use crate::output::say;
use dockhand_host::bindings::exports::dockhand::hub::catalog::OperationInfo;
use serde_json::Value;
use std::process::ExitCode;

pub async fn run(g: &Global, topic: Option<&str>) -> Outcome {
    let hub = open_without_credentials(g)?;
    let md = hub.docs(topic).await?;
    say!("{md}");
    if let Some(topic) = topic
        && let Some(op) = hub.resolve(topic).await?
    {
        say!("\n## From the command line\n\n```sh\n{}\n```", example(op));
    }
    Ok(ExitCode::SUCCESS)
}

/// `dockhand call NAME` with the operation's required arguments as placeholders:
/// `NAMESPACE/REPOSITORY` where it takes both, `name=VALUE` for the rest.
fn example(op: &OperationInfo) -> String {
    let schema: Value = serde_json::from_str(&op.args_schema).unwrap_or(Value::Null);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut line = format!("dockhand call {}", op.name);
    let both = required.contains(&"namespace") && required.contains(&"repository");
    if both {
        line.push_str(" NAMESPACE/REPOSITORY");
    }
    for name in required {
        if both && (name == "namespace" || name == "repository") {
            continue;
        }
        line.push_str(&format!(" {name}={}", name.to_ascii_uppercase()));
    }
    line
}
