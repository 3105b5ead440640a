//! dockhand's host library: loads the dockhand component into wasmtime, brokers credentials,
//! enforces the egress and write policy, and runs calls.

pub mod bindings;
pub mod credentials;
pub mod engine;
mod hooks;
pub mod http_client;
mod hub;
pub mod lua;
pub mod mcp;
mod outgoing;
mod ownership;
mod pacing;
pub mod policy;
mod routes;
mod scrub;
mod state;

pub use hub::{
    CallError, CallOptions, CallResult, CatalogSession, DEFAULT_MAX_RETRY_WAIT, Dockhand,
    HostConfig, HubError, RateLimit, Session, describe_hub_error,
};
