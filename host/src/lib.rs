//! dockhand's host library: loads the dockhand component into wasmtime, brokers credentials,
//! enforces the egress and write policy, and runs calls.
//!
//! Without the default `runtime` feature only the parts that do not run the component are
//! built: `policy`, `credentials` and `http_client` (what the fuzz targets exercise).

#[cfg(feature = "runtime")]
pub mod bindings;
pub mod credentials;
#[cfg(feature = "runtime")]
pub mod engine;
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
mod ownership;
#[cfg(feature = "runtime")]
mod pacing;
pub mod policy;
// Only the send hook reads these two; without it they are kept compiling, not used.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
mod routes;
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
mod scrub;
#[cfg(feature = "runtime")]
mod state;

#[cfg(feature = "runtime")]
pub use hub::{
    CallError, CallOptions, CallResult, CatalogSession, DEFAULT_MAX_RETRY_WAIT, Dockhand,
    HostConfig, HubError, RateLimit, Session, describe_hub_error,
};
