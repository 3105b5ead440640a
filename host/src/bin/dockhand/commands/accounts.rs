//! `dockhand accounts`: lists the accounts usable against `--base-url` and where each came from,
//! never a secret.

use super::Outcome;
use super::host::accounts;
use crate::cli::Global;
use crate::output::{print_json, say, usage};
use dockhand_host::policy::BaseUrl;
use serde_json::Value;
use std::process::ExitCode;

pub fn run(g: &Global) -> Outcome {
    let accounts = accounts(g)?;
    let base = BaseUrl::parse(&g.base_url).map_err(|e| usage(format!("--base-url: {e}")))?;
    let accounts = accounts.for_base_url(&base);
    let listing = accounts.listing();
    if g.json {
        print_json(&serde_json::to_value(&listing).unwrap_or(Value::Null), true);
    } else {
        for a in &listing {
            say!("{a}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
