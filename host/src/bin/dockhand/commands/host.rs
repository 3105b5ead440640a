//! Opening the host for a command: accounts from flags, environment, config file and Docker's
//! login, then a sealed [`Dockhand`] for one base URL. Failures come back as [`Failure`]s.

use crate::cli::Global;
use crate::output::{Failure, usage};
use dockhand_host::credentials::{
    Accounts, FlagCredentials, Paths, ProcessEnv, TokenCache, read_secret,
};
use dockhand_host::policy::{Policy, Timeouts};
use dockhand_host::{Dockhand, HostConfig};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Where precompiled components are kept, or `None` with `--no-cache`.
pub fn cache_dir(g: &Global) -> Option<PathBuf> {
    if g.no_cache {
        None
    } else {
        g.cache_dir
            .clone()
            .or_else(dockhand_host::engine::default_cache_dir)
    }
}

/// Where minted Hub tokens are kept across runs: the `tokens` directory of the cache
/// directory (`--cache-dir`, else the default; `--no-cache` is about the component only), or
/// nowhere with `--no-token-cache` or the config file's `token_cache: false`.
pub fn token_cache(g: &Global, accounts: &Accounts) -> Option<TokenCache> {
    if g.no_token_cache || accounts.token_cache_setting() == Some(false) {
        return None;
    }
    g.cache_dir
        .clone()
        .or_else(dockhand_host::engine::default_cache_dir)
        .map(TokenCache::new)
}

/// Where the config file and Docker's login are: the standard places, or `--config`.
pub fn paths(g: &Global) -> Paths {
    let mut paths = Paths::from_env(&ProcessEnv);
    if let Some(config) = &g.credentials.config {
        paths.config_file = Some(config.clone());
    }
    paths
}

/// Accounts from flags (secrets only from stdin), environment, config file and Docker's login.
/// `--anonymous` alone (no account named, no other credential flag) reads none of them, so a
/// broken entry elsewhere cannot stop an anonymous call.
pub fn accounts(g: &Global) -> Result<Accounts, Failure> {
    let c = &g.credentials;
    let other_flags = c.token_stdin
        || c.bearer_stdin
        || c.scim_token_stdin
        || c.username.is_some()
        || c.org.is_some();
    if c.anonymous && g.account.is_none() && !other_flags {
        return Ok(Accounts::anonymous());
    }
    let mut flags = FlagCredentials {
        account: g.account.clone(),
        username: c.username.clone(),
        org: c.org.clone(),
        anonymous: c.anonymous,
        ..FlagCredentials::default()
    };
    if c.token_stdin || c.bearer_stdin || c.scim_token_stdin {
        let secret = if std::io::stdin().is_terminal() {
            // A person at a terminal types it once, unseen, rather than ending input with ^D.
            let what = if c.token_stdin {
                "Access token or password"
            } else if c.bearer_stdin {
                "Bearer token"
            } else {
                "SCIM token"
            };
            let typed = rpassword::prompt_password(format!("{what} (not shown): "))
                .map_err(|e| usage(format!("reading the secret from the terminal: {e}")))?;
            read_secret(typed.as_bytes())
        } else {
            read_secret(std::io::stdin().lock())
        }
        .map_err(|e| usage(format!("reading the secret from standard input: {e}")))?;
        if c.token_stdin {
            flags.token = Some(secret);
        } else if c.bearer_stdin {
            flags.bearer = Some(secret);
        } else {
            flags.scim_token = Some(secret);
        }
    }
    let accounts = Accounts::discover(&flags, &ProcessEnv, &paths(g))
        .map_err(|e| usage(format!("credentials: {e}")))?;
    let cache = token_cache(g, &accounts);
    let accounts = accounts.with_token_cache(cache);
    for w in accounts.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(accounts)
}

/// The host for `base_url` with the discovered accounts and the default policy.
pub fn open(g: &Global, base_url: String) -> Result<Dockhand, Failure> {
    let accounts = accounts(g)?;
    open_with(g, base_url, accounts, Timeouts::default(), g.read_only)
}

/// The host for a command that sends no credential (`ops`, `docs`, `precompile`): no account
/// is read, so a broken config entry cannot stop it.
pub fn open_without_credentials(g: &Global) -> Result<Dockhand, Failure> {
    open_with(
        g,
        g.base_url.clone(),
        Accounts::anonymous(),
        Timeouts::default(),
        g.read_only,
    )
}

/// The host for `base_url` with these accounts, timeouts (the call deadline always comes from
/// `--timeout`) and read-only setting.
pub fn open_with(
    g: &Global,
    base_url: String,
    accounts: Accounts,
    timeouts: Timeouts,
    read_only: bool,
) -> Result<Dockhand, Failure> {
    let component = match &g.component {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| usage(format!("reading the component {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let config = HostConfig {
        base_url,
        policy: Policy {
            allowed: Vec::new(),
            read_only,
            timeouts: Timeouts {
                call: Duration::from_secs(g.timeout.max(1)),
                ..timeouts
            },
            ..Policy::default()
        },
        sealed: true,
        cache_dir: cache_dir(g),
        component,
        ..HostConfig::default()
    };
    Ok(Dockhand::new(config, accounts)?)
}
