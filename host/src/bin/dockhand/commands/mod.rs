//! One module per `dockhand` command. Each takes the global flags and its own arguments and
//! returns an [`Outcome`]; none prints an error itself, `main` reports every [`Failure`].

pub mod accounts;
pub mod call;
pub mod completions;
pub mod demo;
pub mod docs;
pub mod host;
pub mod lua;
pub mod mcp;
pub mod mock;
pub mod ops;
pub mod precompile;
pub mod prune;
pub mod serve;
pub mod whoami;

use crate::output::Failure;
use std::process::ExitCode;

/// A command's exit code when it ran to the end (not always success: `lua` maps the workflow's
/// error kind), or the failure that stopped it.
pub type Outcome = Result<ExitCode, Failure>;
