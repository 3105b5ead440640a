//! The dockhand component: every Docker Hub operation behind a typed WIT interface.
//!
//! The data path, top to bottom: arguments ([`args`]) -> validated request ([`request`]) ->
//! wasi-http ([`wasip2`], on wasm32 only) -> response ([`response`]) -> typed result
//! or typed error ([`error`]), sent again when [`retry`] says so. [`client`] strings these
//! together; it is plain Rust and runs natively in tests with a scripted transport and a fake clock.

// The component links no standard library: std on wasm32-wasip2 brings wasi-libc, and with it
// a third of the component's core imports (wasi:cli stdio, environment, terminals and exit, and
// wasi-libc's own copies of wasi:io), there for a panic message nobody reads, which every
// instantiation would resolve (BENCHMARKS.md, round 7). Natively, for tests, std is there as
// usual.
//
// Without the `component` feature (as the `dockhand-plugin-core` package, plugin/core/, builds
// this source) the crate is the core alone, a library for the gateway component, which links std
// itself: `no_std` is then left to the crate that links it.
#![cfg_attr(all(target_arch = "wasm32", feature = "component"), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

// An allocator: `GlobalAlloc` is an unsafe trait, and the arena hands out raw memory.
#[allow(unsafe_code)]
pub mod arena;
pub mod args;
pub mod catalog;
pub mod client;
pub mod docs;
pub mod error;
pub mod paginate;
pub mod prune;
pub mod regex;
pub mod request;
pub mod response;
pub mod retry;
pub mod schema;

/// What std's prelude brings and `no_std` does not.
mod prelude {
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

mod generated {
    pub mod operations;
}

// The core's transport and clock over WASI imports, for the component and the gateway.
#[cfg(target_arch = "wasm32")]
pub mod wasip2;

// The canonical ABI's side: raw export entry points and their lowering, the component's global
// allocator, and the `cabi_realloc` and `memcmp` symbols the component must define itself.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
#[allow(unsafe_code)]
mod component;

#[cfg(test)]
mod proptests;
