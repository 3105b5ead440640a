//! `dockhand call OPERATION name=value...`: one Hub operation; the body is printed as JSON.

use super::Outcome;
use super::host::open;
use crate::cli::{CallArgs, Global};
use crate::output::{Failure, print_json};
use dockhand_host::CallOptions;
use serde_json::{Map, Value};
use std::process::ExitCode;

pub async fn run(g: &Global, args: &CallArgs) -> Outcome {
    let hub = open(g, g.base_url.clone())?;
    let arguments = call_arguments(args).map_err(Failure::Usage)?;
    let options = CallOptions {
        account: g.account.clone(),
        all_pages: args.all_pages,
        max_pages: args.max_pages,
        max_retries: args.retries,
        max_retry_wait: args.retry_wait.map(std::time::Duration::from_secs),
    };
    let result = hub.call(&args.operation, &arguments, &options).await?;
    print_json(&result.body, g.json);
    Ok(ExitCode::SUCCESS)
}

/// `name=value` pairs merged over `--args-json`.
fn call_arguments(args: &CallArgs) -> Result<Value, String> {
    let mut map = match args.args_json.as_deref() {
        None => Map::new(),
        Some(text) => {
            let text = if text == "-" {
                std::io::read_to_string(std::io::stdin().lock())
                    .map_err(|e| format!("reading --args-json from standard input: {e}"))?
            } else {
                text.to_string()
            };
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err("--args-json must be a JSON object".into()),
                Err(e) => return Err(format!("--args-json is not valid JSON: {e}")),
            }
        }
    };
    for pair in &args.args {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}`: arguments are written name=value"))?;
        if name.is_empty() {
            return Err(format!("`{pair}`: the argument name is missing"));
        }
        let value = if value.starts_with(['[', '{']) {
            serde_json::from_str(value).map_err(|e| {
                format!("`{name}`: the value looks like JSON but does not parse: {e}")
            })?
        } else {
            Value::String(value.to_string())
        };
        map.insert(name.to_string(), value);
    }
    Ok(Value::Object(map))
}
