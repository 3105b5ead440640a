//! dockhand's host library: loads the dockhand component into wasmtime, brokers credentials,
//! enforces the egress and write policy, and runs calls.
//!
//! Without the default `runtime` feature only the parts that do not run the component are
//! built: `policy`, `credentials` and `http_client` (what the fuzz targets exercise).

#![deny(unsafe_code)]
// Every public item says what it is for: this is the API the `dockhand` CLI, the end-to-end
// tests, the fuzz targets and other embedders build on. Set here, not in the workspace's
// `[lints]`: the internal crates (the component, the generator, the catalog) have `pub` items
// that are only ever read beside their code.
#![warn(missing_docs)]

#[cfg(feature = "runtime")]
pub mod bindings;
pub mod credentials;
#[cfg(feature = "runtime")]
mod egress;
// Maps the compiled-component cache as native code (`Component::deserialize_file`).
#[cfg(feature = "runtime")]
#[allow(unsafe_code)]
pub mod engine;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "runtime")]
mod hooks;
pub mod http_client;
#[cfg(feature = "runtime")]
mod hub;
#[cfg(feature = "runtime")]
pub mod lua;
#[cfg(feature = "runtime")]
pub mod mcp;
#[cfg(feature = "runtime")]
mod outgoing;
// Asks libc for the effective user id (`geteuid`).
#[allow(unsafe_code)]
mod ownership;
pub mod policy;
#[cfg(feature = "runtime")]
pub mod prune;
#[cfg(feature = "runtime")]
pub mod report;
#[cfg(feature = "runtime")]
pub mod serve;
// Only the send path reads it; without the runtime it is kept compiling, not used.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
mod routes;
#[cfg(feature = "runtime")]
mod store;

#[cfg(feature = "runtime")]
pub use hooks::{CallObserver, RequestObserver};
#[cfg(feature = "runtime")]
pub use hub::{
    CallError, CallOptions, CallResult, CatalogSession, DEFAULT_MAX_RETRY_WAIT, Dockhand,
    HostConfig, HostError, HubError, RateLimit, Session, TagCleanupPolicy, describe_hub_error,
};
#[cfg(feature = "runtime")]
pub use store::CallState;

/// Whether `word` names a catalog operation (its canonical name, or in kebab-case), known
/// without loading the component: for the CLI's hint when an operation is written where a
/// command goes.
pub fn is_operation(word: &str) -> bool {
    let snake = word.replace('-', "_");
    routes::names().any(|name| name == word || name == snake)
}

/// Every name a catalog operation answers to (canonical names, then aliases), known without
/// loading the component: for the CLI's shell completions.
pub fn operation_names() -> Vec<&'static str> {
    routes::names().collect()
}
