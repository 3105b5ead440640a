//! A `dockhand:hub/credentials` provider that reads ready bearers from the environment, so that
//! the dockhand component, composed with it (`dockhand-standalone.wasm`, see `cargo xtask
//! standalone`), needs nothing but WASI from its host.
//!
//! - account `default`: `DOCKHAND_BEARER` (Hub) and `DOCKHAND_SCIM_TOKEN` (SCIM);
//! - any other account `name`: `DOCKHAND_<NAME>_BEARER` and `DOCKHAND_<NAME>_SCIM_TOKEN`, the
//!   name upper-cased with `-` as `_` (see [`variable`]).
//!
//! A variable that is unset or empty means the account is anonymous. Nothing is exchanged here:
//! a PAT or password would then live in guest memory for as long as the instance does, so the
//! provider takes only bearers the host minted (short-lived JWTs or SCIM tokens). Nothing is
//! cached either: every `get` reads the environment again, so `invalidate` has nothing to forget.

#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::string::String;

/// Which credential an operation needs (the WIT `credential-kind`, kept apart from the bindings
/// so that the naming rule is plain Rust, tested natively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Docker Hub bearer.
    Hub,
    /// An organization's SCIM token.
    Scim,
}

/// The environment variable that holds `account`'s credential of `kind` (the naming rule is
/// `dockhand_vocab::env`, shared with the CLI and the gateway), or why there is none.
pub fn variable(account: &str, kind: Kind) -> Result<String, String> {
    let field = match kind {
        Kind::Hub => "BEARER",
        Kind::Scim => "SCIM_TOKEN",
    };
    dockhand_vocab::env::account_variable(account, field)
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_variable() {
        assert_eq!(variable("default", Kind::Hub).unwrap(), "DOCKHAND_BEARER");
        assert_eq!(
            variable("acme-ci", Kind::Scim).unwrap(),
            "DOCKHAND_ACME_CI_SCIM_TOKEN"
        );
        assert!(
            variable("a b", Kind::Hub)
                .unwrap_err()
                .contains("environment variable")
        );
    }
}
