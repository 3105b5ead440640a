//! `dockhand`: the command-line face of the dockhand host. This file parses the command line,
//! starts the runtime, hands the command to its module in `commands/` and reports any failure.

#![deny(unsafe_code)]

mod arguments;
mod cli;
mod commands;
mod output;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command};
use commands::Outcome;
use output::Failure;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: under `dockhand serve`'s load glibc's allocator took
/// 15% of the samples and woke threads on its arena locks (BENCHMARKS.md, `dockhand serve`).
/// Built without transparent huge pages, which made an idle server 6 MiB larger.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(refusal) => return refuse_command_line(refusal),
    };
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(refusal) => return refuse_command_line(refusal),
    };
    // config.yaml's `base_url:` applies when neither the flag nor the variable gave one.
    if matches.value_source("base_url") == Some(clap::parser::ValueSource::DefaultValue)
        && !matches!(
            cli.command,
            Command::Mock { .. } | Command::Completions { .. } | Command::Man { .. }
        )
    {
        let paths = commands::host::paths(&cli.global);
        if let Some(path) = &paths.config_file {
            match dockhand_host::credentials::config_base_url(path) {
                Ok(Some(url)) => cli.global.base_url = url,
                Ok(None) => {}
                Err(e) => return Failure::Usage(e.to_string()).report(cli.global.json),
            }
        }
    }
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

/// clap's refusal of the command line, reported as every usage error is: exit 2, as JSON under
/// `--json`, and, for an operation name written where a command goes, the command that runs it.
/// Help and `--version` print and exit 0, as clap does.
fn refuse_command_line(refusal: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        refusal.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        refusal.exit();
    }
    let operation = match refusal.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(word)) if dockhand_host::is_operation(word) => Some(word.clone()),
        _ => None,
    };
    let hint = operation.map(|op| {
        format!("`{op}` is an operation: run it with `dockhand call {op} NAME=VALUE...`")
    });
    let as_json = std::env::args()
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if as_json {
        // clap's first line, without its `error: ` label; the usage lines are for a terminal.
        let rendered = refusal.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
        if let Some(hint) = &hint {
            message = format!("{message}; {hint}");
        }
        return Failure::Usage(message).report(true);
    }
    let _ = refusal.print();
    if let Some(hint) = hint {
        eprintln!("\nhint: {hint}");
    }
    ExitCode::from(output::exit::USAGE)
}

async fn run(cli: &Cli) -> Outcome {
    let g = &cli.global;
    match &cli.command {
        Command::Call(args) => commands::call::run(g, args).await,
        Command::Ops { filter } => commands::ops::run(g, filter.as_deref()).await,
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
        Command::Completions { shell } => commands::completions::completions(*shell),
        Command::Man { dir } => commands::completions::man(dir),
        Command::ArgumentNames { words } => commands::completions::argument_names(g, words).await,
    }
}
