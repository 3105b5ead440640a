//! `dockhand docs [TOPIC]`: the component's markdown reference, whole or for one area or operation.

use super::Outcome;
use super::host::open;
use crate::cli::Global;
use crate::output::say;
use std::process::ExitCode;

pub async fn run(g: &Global, topic: Option<&str>) -> Outcome {
    let hub = open(g, g.base_url.clone())?;
    let md = hub.docs(topic).await?;
    say!("{md}");
    Ok(ExitCode::SUCCESS)
}
