//! `dockhand completions SHELL` and `dockhand man DIR`: both generated from the command line's
//! own clap definition, so they cannot drift from it. Operation names and aliases come from the
//! catalog's route table (`dockhand_host::operation_names`) and complete after `call`.

use super::Outcome;
use crate::cli::Cli;
use crate::output::Failure;
use clap::CommandFactory;
use std::path::Path;
use std::process::ExitCode;

pub fn completions(shell: clap_complete::Shell) -> Outcome {
    use std::io::Write as _;
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "dockhand", &mut out);
    // clap's fish script offers no values for a positional argument: add the operation names
    // after `call` (bash and zsh have them from the clap definition; PowerShell has commands
    // and flags only).
    if shell == clap_complete::Shell::Fish {
        let names = dockhand_host::operation_names().join(" ");
        let _ = writeln!(
            out,
            "complete -c dockhand -n \"__fish_dockhand_using_subcommand call\" -f -a \"{names}\""
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `dockhand.1` and a page per command (`dockhand-call.1`, ...) into `dir`.
pub fn man(dir: &Path) -> Outcome {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Host(format!("creating {}: {e}", dir.display())))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| Failure::Host(format!("writing man pages into {}: {e}", dir.display())))?;
    Ok(ExitCode::SUCCESS)
}
