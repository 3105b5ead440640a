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

/// The environment variable that holds `account`'s credential of `kind`, or why there is none:
/// an account name that is empty, or has characters other than ASCII letters, digits, `-` and
/// `_`, cannot name a variable.
pub fn variable(account: &str, kind: Kind) -> Result<String, String> {
    // Built by hand rather than with `format!`: core's formatting machinery would be most of
    // this component's size.
    let suffix = match kind {
        Kind::Hub => "BEARER",
        Kind::Scim => "SCIM_TOKEN",
    };
    let mut name = String::from("DOCKHAND_");
    if account != "default" {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if account.is_empty() || !account.chars().all(valid) {
            let mut why = String::from("account `");
            why.push_str(account);
            why.push_str("`: only ASCII letters, digits, - and _ can name an environment variable");
            return Err(why);
        }
        name.extend(account.chars().map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        }));
        name.push('_');
    }
    name.push_str(suffix);
    Ok(name)
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_account_reads_the_plain_names() {
        assert_eq!(variable("default", Kind::Hub).unwrap(), "DOCKHAND_BEARER");
        assert_eq!(
            variable("default", Kind::Scim).unwrap(),
            "DOCKHAND_SCIM_TOKEN"
        );
    }

    #[test]
    fn other_accounts_are_upper_cased_with_dashes_as_underscores() {
        assert_eq!(variable("work", Kind::Hub).unwrap(), "DOCKHAND_WORK_BEARER");
        assert_eq!(
            variable("acme-ci", Kind::Scim).unwrap(),
            "DOCKHAND_ACME_CI_SCIM_TOKEN"
        );
    }

    #[test]
    fn names_that_cannot_be_variables_are_refused() {
        for bad in ["", "a b", "x=y", "é", "a.b"] {
            let why = variable(bad, Kind::Hub).unwrap_err();
            assert!(why.contains("environment variable"), "{bad:?}: {why}");
        }
    }
}
