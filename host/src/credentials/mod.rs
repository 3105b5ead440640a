//! The credential broker: named accounts, where their credentials come from, and the short-lived
//! Hub bearers (or sealed placeholders for them) handed to the plugin.
//!
//! The plugin never sees a password, personal access token (PAT) or organization access token
//! (OAT). [`Accounts::discover`] collects what the user configured; a [`Broker`] exchanges it for
//! a bearer with `POST {base}/v2/auth/token`, caches the bearer until shortly before it expires,
//! and answers the plugin's `credentials.get`.
//!
//! # Sources and precedence
//!
//! For each account, the Hub credential comes whole from the first source that defines one, in
//! this order, and the SCIM token likewise (so `DOCKHAND_SCIM_TOKEN` can sit beside a
//! `docker login`):
//!
//! 1. **Command-line flags**, passed in as [`FlagCredentials`] (one account per invocation).
//! 2. **Environment.** The default account reads `DOCKHAND_<FIELD>`, an account `my-team` reads
//!    `DOCKHAND_MY_TEAM_<FIELD>` (name upper-cased, `-` written `_`; `DOCKHAND_DEFAULT_<FIELD>`
//!    also works for the default account, the unprefixed form winning). Fields:
//!
//!    | field        | meaning                                                               |
//!    |--------------|-----------------------------------------------------------------------|
//!    | `USERNAME`   | Docker ID the `TOKEN` belongs to                                      |
//!    | `ORG`        | organization the `TOKEN` belongs to: the token is an OAT              |
//!    | `TOKEN`      | PAT, OAT or password (needs `USERNAME` or `ORG`)                      |
//!    | `BEARER`     | a ready bearer, used as is (alone)                                    |
//!    | `SCIM_TOKEN` | the SCIM bearer token                                                 |
//!
//!    With `USERNAME`, a token starting `dckr_pat_` is a PAT, one starting `dckr_oat_` an OAT (the
//!    username then being the organization), anything else a password; all exchange the same
//!    way. Because `DOCKHAND_X_SCIM_TOKEN` is read as account `x`'s SCIM token, an account whose
//!    name ends in `-scim` cannot take its `TOKEN` from the environment, and the name `scim` is
//!    unusable there altogether.
//! 3. **dockhand's config file**, `$XDG_CONFIG_HOME/dockhand/config.yaml` (else
//!    `~/.config/dockhand/config.yaml`; see [`Paths`]). It must not be readable or writable by
//!    group or others (`chmod 600`) and must belong to the user, or discovery fails; so must every
//!    secret file it names. `base_url:` binds an account's secrets to one base URL (see
//!    [`Accounts::for_base_url`]). Each secret may be inline or in a file
//!    (`token_file:`, `password_file:`, `bearer_file:`, `scim_token_file:`; `~/` is the home
//!    directory, a relative path is relative to the config file; the content is trimmed):
//!
//!    A top-level `token_cache: false` asks that no minted token be kept across processes
//!    ([`Accounts::token_cache_setting`]; the `dockhand` executable honours it).
//!
//!    ```yaml
//!    token_cache: true
//!    accounts:
//!      default:
//!        username: alice
//!        token_file: ~/.secrets/hub-pat
//!      work:
//!        org: acme
//!        token: dckr_oat_...
//!        scim_token_file: /run/secrets/acme-scim
//!      legacy: { username: bob, password_file: bob.pw }
//!      ci: { bearer_file: /run/secrets/hub-jwt }
//!      public: { anonymous: true }
//!    ```
//! 4. **Docker's own login**, for the default account only and only when nothing above gave it
//!    a Hub credential: `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`). A Docker Hub
//!    `credHelpers` entry wins, then `credsStore`, then an inline `auths` entry (`auth` being
//!    base64 `user:secret`). Helpers run as `docker-credential-<name> get`, found on the `PATH`
//!    of the given [`Env`]. Problems there are not fatal (Docker's config is not ours); they are
//!    collected in [`Accounts::warnings`]. Docker's login belongs to Docker Hub: the account is
//!    bound to `https://hub.docker.com` and is anonymous with any other base URL.
//!
//! # Where secrets may go
//!
//! [`Accounts::for_base_url`] (which the host applies) keeps a bound account's secrets from
//! any other base URL, and marks every account with a secret as withheld when the base URL is
//! plain http to another machine; the broker then refuses to hand out its credentials.
//!
//! The default account always exists (anonymous when nothing configures it); other accounts
//! exist when a source names them. Account names are case-insensitive, with `_` and `-` equal.
//!
//! # Secrets
//!
//! Every secret is a [`Secret`], whose `Debug` and `Display` print `***`. Errors name the
//! account, the source and the HTTP status, never a secret; text from the Hub's error body is
//! dropped if it contains the secret.

mod account;
mod broker;
mod discover;
mod docker;
mod env;
mod identity;
mod jwt;
mod secret;
mod token_cache;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use account::{
    AccountAuth, AccountSpec, AccountSummary, Accounts, CredentialKind, DEFAULT_ACCOUNT, Origin,
    ScimToken, Withheld, canonical_name, env_prefix,
};
pub use broker::{
    Broker, ExchangeError, ExchangeFuture, HttpTokenExchange, PLACEHOLDER_PREFIX, TokenExchange,
};
pub use discover::{FlagCredentials, ServeClient, config_base_url, serve_clients};
pub use env::{Env, MapEnv, Paths, ProcessEnv};
pub use identity::{Identity, source_kind};
pub use secret::{Secret, read_secret};
pub use token_cache::{TokenCache, exchange_url};

/// Why discovery or a credential request failed. No variant holds a secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CredentialError {
    /// An account name with characters other than letters, digits, `-` and `_`.
    InvalidAccountName {
        /// The name as given.
        name: String,
    },
    /// The same account named twice by one source.
    DuplicateAccount {
        /// The canonical name.
        account: String,
    },
    /// A call named an account nothing configured.
    UnknownAccount {
        /// The name as given.
        account: String,
    },
    /// A SCIM call for an account without a SCIM token.
    NoScimToken {
        /// The account.
        account: String,
    },
    /// The command-line flags contradict each other or are incomplete.
    Flags(String),
    /// The `DOCKHAND_*` variables contradict each other or are incomplete.
    Env(String),
    /// The config file cannot be read or is invalid.
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The config file is readable or writable by group or others.
    InsecureConfig {
        /// The config file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A `*_file:` secret could not be read or is empty.
    SecretFile {
        /// The account it belongs to.
        account: String,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// `--token-stdin` input was unusable.
    Stdin(String),
    /// Exchanging the account's secret for a bearer failed.
    Exchange {
        /// The account.
        account: String,
        /// The kind of secret (`personal access token`, …).
        auth: &'static str,
        /// Where the secret came from.
        origin: String,
        /// The HTTP status, if the Hub answered.
        status: Option<u16>,
        /// What went wrong (the Hub's message, or the transport error).
        message: String,
    },
    /// The operating system's random number generator failed.
    Random(String),
    /// The account's secrets are kept from the host's base URL.
    Withheld {
        /// The account.
        account: String,
        /// Why (boxed: it holds two base URLs, and every credential result carries this type).
        why: Box<Withheld>,
    },
}

impl CredentialError {
    /// The HTTP status of a failed exchange, if the Hub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            CredentialError::Exchange { status, .. } => *status,
            _ => None,
        }
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::InvalidAccountName { name } => write!(
                f,
                "invalid account name {name:?}: use letters, digits, '-' and '_' (at most 64)"
            ),
            CredentialError::DuplicateAccount { account } => {
                write!(f, "account '{account}' is defined twice")
            }
            CredentialError::UnknownAccount { account } => write!(
                f,
                "no account named '{account}' is configured (see `dockhand accounts`)"
            ),
            CredentialError::NoScimToken { account } => write!(
                f,
                "account '{account}' has no SCIM token (set {}SCIM_TOKEN or scim_token in the \
                 config file)",
                env_prefix(account)
            ),
            CredentialError::Flags(message) => write!(f, "command-line credentials: {message}"),
            CredentialError::Env(message) => write!(f, "environment credentials: {message}"),
            CredentialError::Config { path, message } => {
                write!(f, "config file {}: {message}", path.display())
            }
            CredentialError::InsecureConfig { path, mode } => write!(
                f,
                "config file {} holds credentials but is readable or writable by other users \
                 (mode {:04o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o7777,
                path.display()
            ),
            CredentialError::SecretFile {
                account,
                path,
                message,
            } => write!(
                f,
                "account '{account}': secret file {}: {message}",
                path.display()
            ),
            CredentialError::Stdin(message) => write!(f, "standard input: {message}"),
            CredentialError::Exchange {
                account,
                auth,
                origin,
                status,
                message,
            } => {
                write!(
                    f,
                    "account '{account}': exchanging the {auth} from {origin} for a Hub token failed"
                )?;
                if let Some(status) = status {
                    write!(f, " with HTTP {status}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            CredentialError::Random(message) => {
                write!(f, "the system random number generator failed: {message}")
            }
            CredentialError::Withheld { account, why } => {
                write!(f, "account '{account}' is not used: {why}")
            }
        }
    }
}

impl std::error::Error for CredentialError {}
