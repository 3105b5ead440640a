//! `dockhand precompile`: opening the host compiles the component into the cache; this says where
//! it came from and whether instances use the pooling allocator.

use super::Outcome;
use super::host::{cache_dir, open_without_credentials};
use crate::cli::Global;
use crate::output::say;
use dockhand_host::engine::LoadedFrom;
use std::process::ExitCode;

pub fn run(g: &Global) -> Outcome {
    let hub = open_without_credentials(g)?;
    match hub.loaded_from() {
        LoadedFrom::Cache(path) => say!("already precompiled: {}", path.display()),
        LoadedFrom::Compiled => match cache_dir(g) {
            Some(dir) => say!("precompiled into {}", dir.display()),
            None => say!("compiled in memory (no cache directory)"),
        },
    }
    if hub.runtime().pooling {
        say!("instances: pooling allocator");
    } else {
        say!(
            "instances: on demand (the pooling allocator could not be set up here, \
             usually for want of address space; calls work, instantiation is slower)"
        );
    }
    Ok(ExitCode::SUCCESS)
}
