//! Accounts: what each named account authenticates with, and where that came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::{CredentialError, Secret};
use crate::policy::BaseUrl;

/// The name of the account used when a call names none.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Which credential of an account a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CredentialKind {
    /// A Hub bearer (JWT) for the Hub API.
    Hub,
    /// The account's SCIM bearer token, for the SCIM operations.
    Scim,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialKind::Hub => "hub",
            CredentialKind::Scim => "scim",
        })
    }
}

/// How an account authenticates to the Hub API.
#[derive(Debug, Clone)]
pub enum AccountAuth {
    /// No credentials: public reads only.
    Anonymous,
    /// A ready bearer, sent as is and never re-minted.
    Bearer(Secret),
    /// A username and a personal access token (`dckr_pat_…`), exchanged for a bearer.
    PersonalToken {
        /// The Docker ID.
        username: String,
        /// The personal access token.
        token: Secret,
    },
    /// An organization name and an organization access token (`dckr_oat_…`), exchanged for a
    /// bearer.
    OrgToken {
        /// The organization name.
        org: String,
        /// The organization access token.
        token: Secret,
    },
    /// A username and password, exchanged for a bearer (fails for accounts with 2FA).
    Password {
        /// The Docker ID.
        username: String,
        /// The password.
        password: Secret,
    },
}

impl AccountAuth {
    /// Builds the auth for an identity plus a secret whose kind the user did not state:
    /// `dckr_pat_…` is a personal access token, `dckr_oat_…` an organization access token (the
    /// identity then being the organization), anything else a password. All three exchange the
    /// same way; the distinction is for the listing and for error hints.
    pub fn from_user_secret(identity: String, secret: Secret) -> AccountAuth {
        if secret.expose().starts_with("dckr_pat_") {
            AccountAuth::PersonalToken {
                username: identity,
                token: secret,
            }
        } else if secret.expose().starts_with("dckr_oat_") {
            AccountAuth::OrgToken {
                org: identity,
                token: secret,
            }
        } else {
            AccountAuth::Password {
                username: identity,
                password: secret,
            }
        }
    }

    /// A short description of the kind of credential, for listings and errors.
    pub fn describe(&self) -> &'static str {
        match self {
            AccountAuth::Anonymous => "anonymous",
            AccountAuth::Bearer(_) => "bearer token",
            AccountAuth::PersonalToken { .. } => "personal access token",
            AccountAuth::OrgToken { .. } => "organization access token",
            AccountAuth::Password { .. } => "password",
        }
    }

    /// The username or organization, where there is one (never a secret).
    pub fn identity(&self) -> Option<&str> {
        match self {
            AccountAuth::PersonalToken { username, .. }
            | AccountAuth::Password { username, .. } => Some(username),
            AccountAuth::OrgToken { org, .. } => Some(org),
            AccountAuth::Anonymous | AccountAuth::Bearer(_) => None,
        }
    }

    /// The `(identifier, secret)` pair for `POST /v2/auth/token`, for the kinds that exchange.
    pub(crate) fn exchange_pair(&self) -> Option<(&str, &Secret)> {
        match self {
            AccountAuth::PersonalToken { username, token } => Some((username, token)),
            AccountAuth::OrgToken { org, token } => Some((org, token)),
            AccountAuth::Password { username, password } => Some((username, password)),
            AccountAuth::Anonymous | AccountAuth::Bearer(_) => None,
        }
    }
}

/// Where a credential came from, for `dockhand accounts` and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nothing configured it; the account is anonymous.
    Implicit,
    /// The command line.
    Flags,
    /// Environment variables, by name.
    Env {
        /// The variables that were read.
        vars: Vec<String>,
    },
    /// dockhand's config file.
    ConfigFile {
        /// Its path.
        path: PathBuf,
    },
    /// An inline `auths` entry in Docker's `config.json`.
    DockerAuths {
        /// The `config.json` path.
        path: PathBuf,
        /// The `auths` key the entry was under.
        key: String,
    },
    /// A Docker credential helper named in Docker's `config.json`.
    DockerHelper {
        /// The `config.json` path.
        path: PathBuf,
        /// The helper's program name (`docker-credential-…`).
        helper: String,
    },
    /// Set by an embedding program; the text says how.
    Other(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Implicit => f.write_str("not configured"),
            Origin::Flags => f.write_str("command-line flags"),
            Origin::Env { vars } => write!(f, "environment ({})", vars.join(", ")),
            Origin::ConfigFile { path } => write!(f, "config file {}", path.display()),
            Origin::DockerAuths { path, key } => {
                write!(f, "Docker config {} (auths \"{key}\")", path.display())
            }
            Origin::DockerHelper { path, helper } => {
                write!(
                    f,
                    "Docker credential helper {helper} (set in {})",
                    path.display()
                )
            }
            Origin::Other(text) => f.write_str(text),
        }
    }
}

/// A SCIM bearer token and where it came from.
#[derive(Debug, Clone)]
pub struct ScimToken {
    /// The token, sent as is.
    pub token: Secret,
    /// Where it came from.
    pub origin: Origin,
}

/// One named account.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    /// The canonical name (see [`canonical_name`]).
    pub name: String,
    /// How it authenticates to the Hub API.
    pub auth: AccountAuth,
    /// Where `auth` came from.
    pub origin: Origin,
    /// The SCIM token, if any; it may come from a different source than `auth`.
    pub scim: Option<ScimToken>,
    /// The only base URL this account's secrets may go to; `None`: whichever the host uses.
    /// Docker's login belongs to Docker Hub; a config-file account may name its own.
    pub base_url: Option<BaseUrl>,
    /// Set by [`Accounts::for_base_url`] when the account's secrets are kept from the host's
    /// base URL.
    pub withheld: Option<Withheld>,
}

/// Why an account's secrets are not used with the host's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withheld {
    /// They belong to another base URL; the account is anonymous here.
    OtherBase {
        /// Where they belong.
        home: BaseUrl,
        /// The host's base URL.
        base: BaseUrl,
    },
    /// The base URL is plain http to another machine, where anyone on the path could read
    /// them; calls with the account are refused.
    PlainHttp {
        /// The host's base URL.
        base: BaseUrl,
    },
}

impl fmt::Display for Withheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Withheld::OtherBase { home, base } => write!(
                f,
                "its credentials belong to {home} and are never sent to {base}, so it is \
                 anonymous there"
            ),
            Withheld::PlainHttp { base } => write!(
                f,
                "{base} is plain http to another machine and dockhand sends no password, token \
                 or bearer over plain http (except to this machine); use an https:// base URL, \
                 or --anonymous for public reads"
            ),
        }
    }
}

impl AccountSpec {
    /// An anonymous account with nothing configured.
    pub fn anonymous(name: &str) -> AccountSpec {
        AccountSpec {
            name: name.to_owned(),
            auth: AccountAuth::Anonymous,
            origin: Origin::Implicit,
            scim: None,
            base_url: None,
            withheld: None,
        }
    }

    /// Whether any secret (a Hub credential or a SCIM token) is configured.
    pub fn has_secret(&self) -> bool {
        !matches!(self.auth, AccountAuth::Anonymous) || self.scim.is_some()
    }

    /// This account as used against `base`: anonymous where its secrets belong elsewhere,
    /// marked withheld where `base` cannot carry secrets.
    fn for_base_url(mut self, base: &BaseUrl) -> AccountSpec {
        self.withheld = match &self.base_url {
            Some(home) if home != base && self.has_secret() => Some(Withheld::OtherBase {
                home: home.clone(),
                base: base.clone(),
            }),
            _ if !base.carries_secrets() && self.has_secret() => {
                Some(Withheld::PlainHttp { base: base.clone() })
            }
            _ => None,
        };
        if matches!(self.withheld, Some(Withheld::OtherBase { .. })) {
            self.auth = AccountAuth::Anonymous;
            self.scim = None;
        }
        self
    }

    /// What `dockhand accounts` shows for this account.
    pub fn summary(&self) -> AccountSummary {
        AccountSummary {
            name: self.name.clone(),
            auth: self.auth.describe(),
            identity: self.auth.identity().map(str::to_owned),
            origin: self.origin.to_string(),
            scim_origin: self.scim.as_ref().map(|s| s.origin.to_string()),
            base_url: self.base_url.as_ref().map(BaseUrl::to_string),
            withheld: self.withheld.as_ref().map(Withheld::to_string),
        }
    }
}

/// One line of `dockhand accounts`: everything about an account except its secrets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountSummary {
    /// The account name.
    pub name: String,
    /// The kind of credential (`anonymous`, `personal access token`, …).
    pub auth: &'static str,
    /// The username or organization, where there is one.
    pub identity: Option<String>,
    /// Where the credential came from.
    pub origin: String,
    /// Where the SCIM token came from, if the account has one.
    pub scim_origin: Option<String>,
    /// The only base URL the account's secrets go to, if it is bound to one.
    pub base_url: Option<String>,
    /// Why the account's secrets are not used with the host's base URL, if they are not.
    pub withheld: Option<String>,
}

impl fmt::Display for AccountSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.auth)?;
        if let Some(identity) = &self.identity {
            write!(f, " for {identity}")?;
        }
        write!(f, ", from {}", self.origin)?;
        if let Some(scim) = &self.scim_origin {
            write!(f, "; SCIM token from {scim}")?;
        }
        if let Some(base) = &self.base_url {
            write!(f, "; used only with {base}")?;
        }
        if let Some(why) = &self.withheld {
            write!(f, "; not used here: {why}")?;
        }
        Ok(())
    }
}

/// Account names are matched case-insensitively with `_` and `-` equal, because the environment
/// variable form (`DOCKHAND_MY_TEAM_TOKEN`) cannot tell them apart. The canonical form is
/// lower case with `-`; only ASCII letters, digits, `-` and `_` are allowed.
pub fn canonical_name(name: &str) -> Result<String, CredentialError> {
    let canonical: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let valid = !canonical.is_empty()
        && canonical.len() <= 64
        && canonical
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(canonical)
    } else {
        Err(CredentialError::InvalidAccountName {
            name: name.to_owned(),
        })
    }
}

/// The environment variable prefix of an account: `DOCKHAND_` for `default`, else
/// `DOCKHAND_<NAME>_` with the name upper-cased and `-` turned into `_`.
pub fn env_prefix(canonical: &str) -> String {
    if canonical == DEFAULT_ACCOUNT {
        "DOCKHAND_".to_owned()
    } else {
        format!(
            "DOCKHAND_{}_",
            canonical.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// The configured accounts: `default` first (always present, anonymous unless configured), then
/// the others by name.
#[derive(Debug, Clone)]
pub struct Accounts {
    list: Vec<AccountSpec>,
    warnings: Vec<String>,
    /// Where minted bearers are kept across processes; `None` (the default): nowhere.
    token_cache: Option<super::TokenCache>,
    /// The config file's `token_cache:` setting, if it has one.
    token_cache_setting: Option<bool>,
    /// Config-file accounts whose entry is unusable, and why: a call with one of them fails
    /// with that reason; the other accounts are unaffected.
    broken: BTreeMap<String, CredentialError>,
}

impl Accounts {
    /// Builds the set from explicit specs (names are canonicalised; a duplicate is an error).
    pub fn from_specs(specs: Vec<AccountSpec>) -> Result<Accounts, CredentialError> {
        let mut list: Vec<AccountSpec> = Vec::with_capacity(specs.len() + 1);
        for mut spec in specs {
            spec.name = canonical_name(&spec.name)?;
            if list.iter().any(|s| s.name == spec.name) {
                return Err(CredentialError::DuplicateAccount { account: spec.name });
            }
            list.push(spec);
        }
        if !list.iter().any(|s| s.name == DEFAULT_ACCOUNT) {
            list.push(AccountSpec::anonymous(DEFAULT_ACCOUNT));
        }
        list.sort_by(|a, b| {
            (a.name != DEFAULT_ACCOUNT, &a.name).cmp(&(b.name != DEFAULT_ACCOUNT, &b.name))
        });
        Ok(Accounts {
            list,
            warnings: Vec::new(),
            token_cache: None,
            token_cache_setting: None,
            broken: BTreeMap::new(),
        })
    }

    /// Only the anonymous default account.
    pub fn anonymous() -> Accounts {
        Accounts::from_specs(Vec::new()).expect("no accounts cannot conflict")
    }

    /// The accounts as a host whose base URL is `base` may use them (see [`Withheld`]).
    pub fn for_base_url(self, base: &BaseUrl) -> Accounts {
        Accounts {
            list: self
                .list
                .into_iter()
                .map(|spec| spec.for_base_url(base))
                .collect(),
            warnings: self.warnings,
            token_cache: self.token_cache,
            token_cache_setting: self.token_cache_setting,
            broken: self.broken,
        }
    }

    /// Keeps the bearers minted for these accounts in `cache` (or, with `None`, nowhere but in
    /// memory), so that the next process reuses them until shortly before they expire instead
    /// of exchanging the secret again. Off unless set: an embedder decides whether its
    /// process may write bearers to the user's cache directory. Only bearers that an
    /// [`HttpTokenExchange`](super::HttpTokenExchange) mints are kept, keyed by the exchange
    /// URL, the account and the secret (see [`TokenCache`](super::TokenCache)).
    pub fn with_token_cache(mut self, cache: Option<super::TokenCache>) -> Accounts {
        self.token_cache = cache;
        self
    }

    /// The token cache set by [`Accounts::with_token_cache`].
    pub fn token_cache(&self) -> Option<&super::TokenCache> {
        self.token_cache.as_ref()
    }

    /// What the config file says about the token cache (`token_cache: true` or `false`), if
    /// it says anything. Discovery only reports it: whether to keep tokens is the caller's
    /// choice, made with [`Accounts::with_token_cache`] (the `dockhand` executable keeps them
    /// unless this is `Some(false)` or `--no-token-cache` is given).
    pub fn token_cache_setting(&self) -> Option<bool> {
        self.token_cache_setting
    }

    pub(crate) fn with_token_cache_setting(mut self, setting: Option<bool>) -> Accounts {
        self.token_cache_setting = setting;
        self
    }

    pub(crate) fn with_broken(mut self, broken: BTreeMap<String, CredentialError>) -> Accounts {
        self.broken = broken;
        self
    }

    /// Why the account called `name` cannot be used, if its config-file entry is broken (a
    /// missing secret file, contradictory keys, ...). It comes before [`Accounts::get`]: a
    /// broken `default` is not quietly anonymous.
    pub fn broken(&self, name: &str) -> Option<&CredentialError> {
        // Asked before every call: nothing to canonicalise when no entry is broken.
        if self.broken.is_empty() {
            return None;
        }
        let name = canonical_name(name).ok().unwrap_or_else(|| name.to_owned());
        self.broken.get(&name)
    }

    /// Every broken account and why, by name.
    pub fn broken_entries(&self) -> impl Iterator<Item = (&str, &CredentialError)> {
        self.broken.iter().map(|(name, e)| (name.as_str(), e))
    }

    pub(crate) fn with_warnings(mut self, warnings: Vec<String>) -> Accounts {
        self.warnings = warnings;
        self
    }

    /// The account called `name` (in any spelling [`canonical_name`] accepts).
    pub fn get(&self, name: &str) -> Option<&AccountSpec> {
        let name = canonical_name(name).ok()?;
        self.list.iter().find(|s| s.name == name)
    }

    /// The position of the account called `name`.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        let name = canonical_name(name).ok()?;
        self.list.iter().position(|s| s.name == name)
    }

    /// All accounts, `default` first.
    pub fn iter(&self) -> impl Iterator<Item = &AccountSpec> {
        self.list.iter()
    }

    /// The number of accounts (at least one: `default`).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Always false (`default` is always there); present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// What `dockhand accounts` shows: names, kinds and origins, no secrets.
    pub fn listing(&self) -> Vec<AccountSummary> {
        self.list.iter().map(AccountSpec::summary).collect()
    }

    /// Problems met while reading Docker's config that did not stop discovery (a missing or
    /// failing credential helper, an unreadable `config.json`). The CLI may print them.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
