//! `dockhand`: the command-line face of the dockhand host. This file parses the command line,
//! starts the runtime, hands the command to its module in `commands/` and reports any failure.

#![deny(unsafe_code)]

mod cli;
mod commands;
mod output;

use clap::Parser;
use cli::{Cli, Command};
use commands::Outcome;
use output::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The mock Hub is a server, not a call: its errors have always been plain text, `--json` or
    // not, so only the other commands report in JSON.
    let as_json = cli.global.json && !matches!(cli.command, Command::Mock { .. });
    let outcome = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(&cli)),
        Err(e) => Err(Failure::Host(format!(
            "cannot start the async runtime: {e}"
        ))),
    };
    // The one place where a failure reaches stderr and becomes the exit code.
    outcome.unwrap_or_else(|failure| failure.report(as_json))
}

async fn run(cli: &Cli) -> Outcome {
    let g = &cli.global;
    match &cli.command {
        Command::Call(args) => commands::call::run(g, args).await,
        Command::Ops => commands::ops::run(g).await,
        Command::Docs { topic } => commands::docs::run(g, topic.as_deref()).await,
        Command::Accounts => commands::accounts::run(g),
        Command::Whoami => commands::whoami::run(g).await,
        Command::Precompile => commands::precompile::run(g),
        Command::Mock {
            addr,
            data,
            public,
            latency,
        } => commands::mock::run(addr, data.as_deref(), *public, *latency).await,
        Command::Demo { offline } => commands::demo::run(g, *offline).await,
        Command::Mcp(args) => commands::mcp::run(g, args).await,
        Command::Serve(args) => commands::serve::run(g, args).await,
        Command::Lua(args) => commands::lua::run(g, args).await,
        Command::Tags(cli::TagsCommand::Prune(args)) => commands::prune::run(g, args).await,
    }
}
