//! `dockhand mock`: serves the mock Docker Hub until Ctrl-C. Its failures are reported as plain
//! text even under `--json` (see `main`), as they always were.

use super::Outcome;
use crate::output::{Failure, say, usage};
use dockhand_mock::{MockConfig, MockHub};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(
    addr: &str,
    data: Option<&Path>,
    public: bool,
    latency: Option<Duration>,
) -> Outcome {
    let mut config = match data {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| MockConfig::from_seed_yaml(&text))
            .map_err(|e| usage(format!("--data {}: {e}", path.display())))?,
        None => MockConfig::default(),
    };
    config.addr =
        dockhand_mock::parse_listen_addr(addr).map_err(|e| usage(format!("--addr {e}")))?;
    // Checked here as well as in start, so that a refusal is a usage error (exit 2).
    dockhand_mock::check_listen_addr(config.addr, public).map_err(usage)?;
    config.public = public;
    if let Some(latency) = latency {
        config.latency = latency;
    }
    let hub = MockHub::start(config)
        .await
        .map_err(|e| Failure::Host(format!("starting the mock Hub: {e}")))?;
    say!("mock Docker Hub listening on {}", hub.base_url());
    say!(
        "try: dockhand --base-url {} call list_repository_tags namespace=library repository=alpine",
        hub.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    hub.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
