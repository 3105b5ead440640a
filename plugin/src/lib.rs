//! The dockhand component: every Docker Hub operation behind a typed WIT interface.
//!
//! The data path, top to bottom: arguments ([`args`]) -> validated request ([`request`]) ->
//! wasi-http (the `component` module, on wasm32 only) -> response ([`response`]) -> typed result
//! or typed error ([`error`]), sent again when [`retry`] says so. [`client`] strings these
//! together; it is plain Rust and runs natively in tests with a scripted transport and a fake clock.

pub mod arena;
pub mod args;
pub mod catalog;
pub mod client;
pub mod docs;
pub mod error;
pub mod paginate;
pub mod request;
pub mod response;
pub mod retry;
pub mod schema;

mod generated {
    pub mod operations;
}

#[cfg(target_arch = "wasm32")]
mod component;

#[cfg(test)]
mod proptests;
