//! `dockhand docs [TOPIC]`: the component's markdown reference, whole or for one area or operation.

use super::Outcome;
use super::host::open_without_credentials;
use crate::cli::Global;
use crate::output::say;
use std::process::ExitCode;

pub async fn run(g: &Global, topic: Option<&str>) -> Outcome {
    let hub = open_without_credentials(g)?;
    let md = hub.docs(topic).await?;
    say!("{md}");
    Ok(ExitCode::SUCCESS)
}
