//! The tests that run the real `dockhand` executable, as one test binary: each module is one of
//! its surfaces, and `support` starts the binary the way a user would.

#![deny(unsafe_code)]

mod cli;
mod cli_input;
mod cli_output;
mod cli_security;
mod cli_tables;
mod completions;
mod gateway;
mod lua;
mod mcp;
mod prune;
mod serve;
mod serve_mcp;
mod support;
