//! dockhand's host library: the credential broker and the pooled HTTP client that the wasmtime
//! embedding of the dockhand component is built on.

pub mod credentials;
pub mod http_client;
