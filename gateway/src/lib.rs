//! The Docker Hub API as a `wasi:http/proxy` component: `dockhand serve`'s `/v1` JSON API
//! (`GET /v1/operations`, `GET /v1/docs[/{topic}]`, `POST /v1/call/{operation}`, `GET /healthz`),
//! answered by any engine that serves such components (`wasmtime serve`, Spin, wasmCloud), one
//! fresh instance per request.
//!
//! Nothing here is Hub logic: argument binding, URL building, decoding, retries and pagination
//! are the plugin's core, linked as a library, and what an answer looks like is `dockhand-api`,
//! shared with `dockhand serve`. This crate only says who may call ([`settings`]), where
//! requests may go and what must not come back ([`egress`]), where credentials come from
//! ([`credentials`]), and which answer a request gets ([`answer`]); the `wasi:http` glue is
//! `handler.rs`, on wasm32 only. Everything but that glue runs natively in tests.

#![deny(unsafe_code)]

pub mod answer;
pub mod credentials;
pub mod egress;
pub mod settings;

// The incoming handler's export (wit-bindgen's `export!` defines the raw entry points).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod handler;
