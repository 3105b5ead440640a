//! A stateful mock of the Docker Hub API, served over HTTP/1.1 on loopback (or HTTPS with HTTP/2,
//! [`MockConfig::tls`]).
//!
//! It implements all 54 operations of the Hub's OpenAPI description and the 6 extended ones
//! Docker's own tools use, against an in-memory world
//! (users, organizations, repositories, tokens, groups, invites, audit log, SCIM users), checks
//! what the Hub checks (bearer tokens, permissions, required fields, content types), records
//! the requests it receives, and can be told to misbehave ([`Fault`], [`RateLimit`], expired
//! tokens).
//!
//! It is safe to leave running: it listens only on loopback unless told otherwise
//! ([`MockConfig::public`]), since its credentials are public fixtures; it answers 413 past a
//! body limit, closes connections that stall on a request head or idle too long, and keeps a
//! bounded log of recent requests. Each limit is a field of [`MockConfig`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let hub = dockhand_mock::MockHub::start(dockhand_mock::MockConfig::default()).await?;
//! println!("mock Hub at {}", hub.base_url());
//! hub.inject(dockhand_mock::Fault::retry_after(2));
//! # Ok(()) }
//! ```

#![deny(unsafe_code)]
// Every public item says what it is for: the end-to-end tests, the host's tests and `dockhand
// mock` drive the mock through them. (Not in the workspace's `[lints]`: see host/src/lib.rs.)
#![warn(missing_docs)]

mod audit;
mod auth;
mod body;
mod clock;
mod config;
mod faults;
pub mod fixtures;
mod handlers;
mod http;
mod hub;
mod ids;
mod pagination;
mod pipeline;
mod ratelimit;
mod record;
mod routing;
mod scim;
pub mod seed;
mod server;
mod state;
mod tls;

pub use config::{MockConfig, NOMINAL_RATE_LIMIT, RateLimit, check_listen_addr, parse_listen_addr};
pub use faults::{Fault, FaultKind};
pub use hub::{MockHub, serve_forever};
pub use record::{RecordedAnswer, RecordedRequest};
pub use seed::Seed;
