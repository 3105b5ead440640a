//! `dockhand mcp`: serves every operation as an MCP tool over stdio. The protocol owns stdin and
//! stdout, so secrets must come from the environment or files, and only errors reach stderr.

use super::Outcome;
use super::host::{accounts, open_with};
use crate::cli::{Global, McpArgs};
use crate::output::{Failure, usage};
use dockhand_host::mcp::{McpOptions, McpServer};
use dockhand_host::policy::Timeouts;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(g: &Global, args: &McpArgs) -> Outcome {
    let c = &g.credentials;
    if c.token_stdin || c.bearer_stdin || c.scim_token_stdin {
        return Err(usage(
            "`dockhand mcp` speaks MCP on standard input, so it cannot read a secret there; \
             use DOCKHAND_USERNAME/DOCKHAND_TOKEN, the config file or `docker login`",
        ));
    }
    let accounts = accounts(g)?;
    // Writes are also refused by the host policy, not only by the server's own check.
    let read_only = g.read_only || !args.allow_write;
    let hub = Arc::new(open_with(
        g,
        g.base_url.clone(),
        accounts,
        Timeouts::default(),
        read_only,
    )?);
    let options = McpOptions {
        allow_write: args.allow_write && !g.read_only,
        account: g.account.clone(),
    };
    let server = McpServer::new(hub, options).await?;
    server.serve_stdio().await.map_err(Failure::Host)?;
    Ok(ExitCode::SUCCESS)
}
