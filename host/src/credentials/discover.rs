//! [`Accounts::discover`]: flags, then environment, then dockhand's config file, then Docker's
//! login (see the module docs of `credentials` for the rules).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::account::{
    AccountAuth, AccountSpec, Accounts, DEFAULT_ACCOUNT, Origin, ScimToken, canonical_name,
};
use super::env::{Env, Paths};
use super::{CredentialError, Secret, docker};
use crate::ownership::{Exposure, exposure};
use crate::policy::BaseUrl;

/// What the command line said about credentials. The CLI fills it from its flags (`--account`,
/// `--username`, `--org`, `--token` or `--token-stdin` through [`super::read_secret`],
/// `--bearer`, `--scim-token`, `--anonymous`); all apply to one account.
#[derive(Debug, Clone, Default)]
pub struct FlagCredentials {
    /// The account the flags configure; `default` when `None`.
    pub account: Option<String>,
    /// The Docker ID the token belongs to.
    pub username: Option<String>,
    /// The organization the token belongs to (the token is then an OAT).
    pub org: Option<String>,
    /// A PAT, OAT or password (see [`AccountAuth::from_user_secret`]).
    pub token: Option<Secret>,
    /// A ready bearer.
    pub bearer: Option<Secret>,
    /// A SCIM token.
    pub scim_token: Option<Secret>,
    /// Use no credentials, whatever other sources say.
    pub anonymous: bool,
}

/// What one source says about one account.
#[derive(Default)]
struct Layer {
    auth: Option<(AccountAuth, Origin)>,
    scim: Option<ScimToken>,
    /// Where this source's secrets for the account may go, if it says.
    base_url: Option<BaseUrl>,
}

type Source = BTreeMap<String, Layer>;

impl Accounts {
    /// Collects the accounts from all sources. `env` also supplies the `PATH` on which Docker
    /// credential helpers are looked up; `paths` says which files to read (normally
    /// [`Paths::from_env`]).
    pub fn discover(
        flags: &FlagCredentials,
        env: &dyn Env,
        paths: &Paths,
    ) -> Result<Accounts, CredentialError> {
        let mut sources = vec![from_flags(flags)?, from_env(env)?];
        let mut token_cache = None;
        let mut broken = BTreeMap::new();
        if let Some(path) = &paths.config_file {
            let from_config = from_config_file(path, paths.home.as_deref())?;
            sources.push(from_config.accounts);
            token_cache = from_config.token_cache;
            broken = from_config.broken;
        }
        // A broken config entry matters only where no earlier source (flags, environment) gives
        // the account's credential.
        broken.retain(|name, _| {
            !sources[..2].iter().any(|s| {
                s.get(name)
                    .is_some_and(|l| l.auth.is_some() || l.scim.is_some())
            })
        });

        let mut names: BTreeSet<String> = sources.iter().flat_map(|s| s.keys().cloned()).collect();
        names.insert(DEFAULT_ACCOUNT.to_owned());

        let mut warnings = Vec::new();
        let mut specs = Vec::with_capacity(names.len());
        for name in names {
            let mut auth = None;
            let mut scim = None;
            let mut base_url = None;
            for source in &mut sources {
                if let Some(layer) = source.get_mut(&name) {
                    let mut used = false;
                    if auth.is_none() {
                        auth = layer.auth.take();
                        used |= auth.is_some();
                    }
                    if scim.is_none() {
                        scim = layer.scim.take();
                        used |= scim.is_some();
                    }
                    if used && base_url.is_none() {
                        base_url = layer.base_url.take();
                    }
                }
            }
            // Docker's login is one identity on Docker Hub, so it can only be the default
            // account; consulting it last means its credential helper runs only when needed. A
            // broken `default` entry is reported, not replaced by Docker's login.
            if auth.is_none()
                && name == DEFAULT_ACCOUNT
                && !broken.contains_key(DEFAULT_ACCOUNT)
                && let Some(path) = &paths.docker_config
            {
                let hub = BaseUrl::docker_hub();
                match &base_url {
                    // Docker's login belongs to Docker Hub; an account already bound elsewhere
                    // (a SCIM token with its own base_url) must not be rebound to the Hub.
                    Some(bound) if *bound != hub => warnings.push(format!(
                        "Docker's login is not used for account '{name}': the config file binds \
                         it to {bound}, and Docker's login belongs to {hub}"
                    )),
                    _ => {
                        auth = docker::discover(path, env, &mut warnings);
                        if auth.is_some() {
                            base_url = Some(hub);
                        }
                    }
                }
            }
            let (auth, origin) = auth.unwrap_or((AccountAuth::Anonymous, Origin::Implicit));
            specs.push(AccountSpec {
                name,
                auth,
                origin,
                scim,
                base_url,
                withheld: None,
            });
        }
        Ok(Accounts::from_specs(specs)?
            .with_warnings(warnings)
            .with_token_cache_setting(token_cache)
            .with_broken(broken))
    }
}

/// The pieces a source can give for one account, and what each piece is called there (a flag,
/// a variable, a YAML key), so errors point at what the user typed.
#[derive(Default)]
struct Parts {
    username: Option<(String, String)>,
    org: Option<(String, String)>,
    token: Option<(String, Secret)>,
    password: Option<(String, Secret)>,
    bearer: Option<(String, Secret)>,
    anonymous: Option<String>,
}

impl Parts {
    /// Turns the pieces into an auth, or says in words what is missing or contradictory.
    fn assemble(self) -> Result<Option<AccountAuth>, String> {
        let modes: Vec<&str> = [
            self.anonymous.as_deref(),
            self.bearer.as_ref().map(|(n, _)| n.as_str()),
            self.token.as_ref().map(|(n, _)| n.as_str()),
            self.password.as_ref().map(|(n, _)| n.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if modes.len() > 1 {
            return Err(format!("{} cannot be combined", modes.join(" and ")));
        }
        if let (Some((u, _)), Some((o, _))) = (&self.username, &self.org) {
            return Err(format!(
                "{u} and {o} cannot both be set (a token belongs to a user or an organization)"
            ));
        }
        let identity_name = self
            .username
            .as_ref()
            .or(self.org.as_ref())
            .map(|(n, _)| n.clone());
        if let Some(anonymous) = &self.anonymous {
            if let Some(identity) = identity_name {
                return Err(format!("{identity} has no use with {anonymous}"));
            }
            return Ok(Some(AccountAuth::Anonymous));
        }
        if let Some((bearer_name, bearer)) = self.bearer {
            if let Some(identity) = identity_name {
                return Err(format!("{identity} has no use with {bearer_name}"));
            }
            return Ok(Some(AccountAuth::Bearer(bearer)));
        }
        if let Some((token_name, token)) = self.token {
            return match (self.username, self.org) {
                (_, Some((_, org))) => Ok(Some(AccountAuth::OrgToken { org, token })),
                (Some((_, username)), None) => {
                    Ok(Some(AccountAuth::from_user_secret(username, token)))
                }
                (None, None) => Err(format!(
                    "{token_name} needs a username (or an organization, for an organization \
                     access token)"
                )),
            };
        }
        if let Some((password_name, password)) = self.password {
            return match (self.username, self.org) {
                (Some((_, username)), None) => {
                    Ok(Some(AccountAuth::Password { username, password }))
                }
                (_, Some((org_name, _))) => Err(format!(
                    "{password_name} needs a username; organizations sign in with a token, not \
                     {org_name}"
                )),
                (None, None) => Err(format!("{password_name} needs a username")),
            };
        }
        if let Some(identity) = identity_name {
            return Err(format!(
                "{identity} is set without a token or password to go with it"
            ));
        }
        Ok(None)
    }
}

fn from_flags(flags: &FlagCredentials) -> Result<Source, CredentialError> {
    let name = canonical_name(flags.account.as_deref().unwrap_or(DEFAULT_ACCOUNT))?;
    let flag = |name: &str| name.to_owned();
    let parts = Parts {
        username: flags.username.clone().map(|v| (flag("--username"), v)),
        org: flags.org.clone().map(|v| (flag("--org"), v)),
        // Secrets come only from standard input, so the flags are named as typed.
        token: flags.token.clone().map(|v| (flag("--token-stdin"), v)),
        password: None,
        bearer: flags.bearer.clone().map(|v| (flag("--bearer-stdin"), v)),
        anonymous: flags.anonymous.then(|| flag("--anonymous")),
    };
    let auth = parts.assemble().map_err(CredentialError::Flags)?;
    let scim = flags.scim_token.clone().map(|token| ScimToken {
        token,
        origin: Origin::Flags,
    });
    let mut source = Source::new();
    if auth.is_some() || scim.is_some() {
        source.insert(
            name,
            Layer {
                auth: auth.map(|a| (a, Origin::Flags)),
                scim,
                base_url: None,
            },
        );
    }
    Ok(source)
}

/// The per-account variable suffixes; `SCIM_TOKEN` must be tried before `TOKEN`.
const ENV_FIELDS: [&str; 5] = ["SCIM_TOKEN", "USERNAME", "TOKEN", "ORG", "BEARER"];

/// One account's variables: field → (variable name, value, came from the unprefixed form).
type EnvFields = BTreeMap<&'static str, (String, String, bool)>;

fn from_env(env: &dyn Env) -> Result<Source, CredentialError> {
    let mut accounts: BTreeMap<String, EnvFields> = BTreeMap::new();
    for (var, value) in env.vars() {
        if value.is_empty() {
            continue;
        }
        let Some(rest) = var.strip_prefix("DOCKHAND_") else {
            continue;
        };
        let Some((account, field, unprefixed)) = split_env_var(rest) else {
            continue;
        };
        let fields = accounts.entry(account).or_default();
        // The default account can be spelt DOCKHAND_TOKEN or DOCKHAND_DEFAULT_TOKEN; the
        // shorter, documented form wins whatever order the variables come in.
        let keep_existing = fields.get(field).is_some_and(|(_, _, u)| *u && !unprefixed);
        if !keep_existing {
            fields.insert(field, (var, value, unprefixed));
        }
    }

    let mut source = Source::new();
    for (name, mut fields) in accounts {
        let vars: Vec<String> = fields.values().map(|(var, _, _)| var.clone()).collect();
        let scim = fields
            .remove("SCIM_TOKEN")
            .map(|(var, value, _)| ScimToken {
                token: Secret::new(value),
                origin: Origin::Env { vars: vec![var] },
            });
        let mut take = |field: &str| fields.remove(field).map(|(var, value, _)| (var, value));
        let parts = Parts {
            username: take("USERNAME"),
            org: take("ORG"),
            token: take("TOKEN").map(|(n, v)| (n, Secret::new(v))),
            password: None,
            bearer: take("BEARER").map(|(n, v)| (n, Secret::new(v))),
            anonymous: None,
        };
        let auth = parts.assemble().map_err(CredentialError::Env)?;
        let auth_vars: Vec<String> = vars
            .into_iter()
            .filter(|v| !v.ends_with("SCIM_TOKEN"))
            .collect();
        source.insert(
            name,
            Layer {
                auth: auth.map(|a| (a, Origin::Env { vars: auth_vars })),
                scim,
                base_url: None,
            },
        );
    }
    Ok(source)
}

/// Splits the part after `DOCKHAND_` into (canonical account, field, is the unprefixed form).
fn split_env_var(rest: &str) -> Option<(String, &'static str, bool)> {
    for field in ENV_FIELDS {
        if rest == field {
            return Some((DEFAULT_ACCOUNT.to_owned(), field, true));
        }
        if let Some(account) = rest
            .strip_suffix(field)
            .and_then(|r| r.strip_suffix('_'))
            .filter(|a| !a.is_empty())
        {
            // Variables outside our naming (lower case, odd characters) are someone else's.
            if !account
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return None;
            }
            return canonical_name(account).ok().map(|a| (a, field, false));
        }
    }
    None
}

/// config.yaml. A key it does not know is an error: a misspelled `accounts:` must not quietly
/// mean "no accounts".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    accounts: BTreeMap<String, ConfigAccount>,
    /// The Hub's base URL when neither `--base-url` nor `DOCKHAND_BASE_URL` gives one; read by
    /// [`config_base_url`].
    base_url: Option<String>,
    /// `token_cache: false` keeps no minted Hub token across runs.
    token_cache: Option<bool>,
    /// `dockhand serve`'s clients; read by [`serve_clients`], not by account discovery.
    #[serde(default)]
    serve: Option<ServeSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeSection {
    #[serde(default)]
    clients: BTreeMap<String, ServeClientEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeClientEntry {
    token_file: PathBuf,
    account: Option<String>,
    #[serde(default)]
    allow_write: bool,
}

/// One client of `dockhand serve`, from config.yaml's `serve.clients`: the bearer it presents
/// (its own, not a Hub credential), the one Hub account its calls use, and whether it may write.
#[derive(Debug, Clone)]
pub struct ServeClient {
    /// Its name in config.yaml, as logs and metrics name it.
    pub name: String,
    /// The bearer the client presents, read from its `token_file` (same checks as every secret
    /// file: owned by the user, not readable by others).
    pub token: Secret,
    /// The account its calls use (`default` when absent).
    pub account: Option<String>,
    /// Whether it may run write operations.
    pub allow_write: bool,
}

/// The config file's top-level `base_url:` (none when the file or the key is absent), checked
/// to be a base URL the host can use.
pub fn config_base_url(path: &Path) -> Result<Option<String>, CredentialError> {
    let Some(parsed) = read_config(path)? else {
        return Ok(None);
    };
    let Some(url) = parsed.base_url else {
        return Ok(None);
    };
    BaseUrl::parse(&url).map_err(|m| CredentialError::Config {
        path: path.to_owned(),
        message: format!("base_url: {m}"),
    })?;
    Ok(Some(url))
}

/// The `serve.clients` of the config file at `path` (none when the file or the section is
/// absent), each token read from its `token_file`. A client without a usable token file, or
/// two clients with the same token, is an error: a server must not start half-configured.
pub fn serve_clients(
    path: &Path,
    home: Option<&Path>,
) -> Result<Vec<ServeClient>, CredentialError> {
    let config_error = |message: String| CredentialError::Config {
        path: path.to_owned(),
        message,
    };
    let Some(parsed) = read_config(path)? else {
        return Ok(Vec::new());
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let mut clients: Vec<ServeClient> = Vec::new();
    for (name, entry) in parsed.serve.map(|s| s.clients).unwrap_or_default() {
        let resolved = resolve_path(&entry.token_file, base_dir, home);
        let token = read_secret_file(&format!("serve client {name}"), &resolved)?;
        if let Some(other) = clients.iter().find(|c| c.token.expose() == token.expose()) {
            return Err(config_error(format!(
                "serve clients '{}' and '{name}' have the same token: give each its own",
                other.name
            )));
        }
        let account = entry.account.map(|a| canonical_name(&a)).transpose()?;
        clients.push(ServeClient {
            name,
            token,
            account,
            allow_write: entry.allow_write,
        });
    }
    Ok(clients)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigAccount {
    username: Option<String>,
    org: Option<String>,
    token: Option<ConfigSecret>,
    token_file: Option<PathBuf>,
    password: Option<ConfigSecret>,
    password_file: Option<PathBuf>,
    bearer: Option<ConfigSecret>,
    bearer_file: Option<PathBuf>,
    scim_token: Option<ConfigSecret>,
    scim_token_file: Option<PathBuf>,
    #[serde(default)]
    anonymous: bool,
    /// The only base URL this account's secrets go to.
    base_url: Option<String>,
}

/// A secret in the YAML. serde's usual type errors quote the offending value, so an unquoted
/// all-digit password would end up in the error message; this type refuses non-strings without
/// echoing them (and without silently turning `0123` into `123`).
struct ConfigSecret(Secret);

impl<'de> Deserialize<'de> for ConfigSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ConfigSecret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quoted string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(Secret::new(v)))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ConfigSecret, E> {
                Ok(ConfigSecret(Secret::new(v)))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<ConfigSecret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<ConfigSecret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<ConfigSecret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<ConfigSecret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Bigger than any config or token file a person writes; guards against pointing at a device.
const MAX_FILE_LEN: u64 = 1024 * 1024;

/// The config file at `path`, checked to be private and parsed; `None` when it is absent or
/// empty.
fn read_config(path: &Path) -> Result<Option<ConfigFile>, CredentialError> {
    let config_error = |message: String| CredentialError::Config {
        path: path.to_owned(),
        message,
    };
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(config_error(format!("cannot be read: {e}"))),
    };
    check_private(path, &file)?;
    let mut text = String::new();
    (&mut file)
        .take(MAX_FILE_LEN)
        .read_to_string(&mut text)
        .map_err(|e| config_error(format!("cannot be read: {e}")))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_yaml::from_str(&text)
        .map(Some)
        .map_err(|e| config_error(format!("invalid YAML: {e}")))
}

/// What the config file gives: its usable accounts, its broken ones (each with why), and its
/// `token_cache:` setting if it has one.
struct FromConfig {
    accounts: Source,
    broken: BTreeMap<String, CredentialError>,
    token_cache: Option<bool>,
}

/// The config file's accounts. A problem with the file as a whole (unreadable, not private,
/// invalid YAML, an unknown key, a name given twice) is an error; a problem with one account's
/// entry (a secret file that cannot be read, keys that contradict each other) makes only that
/// account broken.
fn from_config_file(path: &Path, home: Option<&Path>) -> Result<FromConfig, CredentialError> {
    let config_error = |message: String| CredentialError::Config {
        path: path.to_owned(),
        message,
    };
    let Some(parsed) = read_config(path)? else {
        return Ok(FromConfig {
            accounts: Source::new(),
            broken: BTreeMap::new(),
            token_cache: None,
        });
    };

    let base_dir = path.parent().unwrap_or(Path::new("."));
    let mut source = Source::new();
    let mut broken = BTreeMap::new();
    for (raw_name, entry) in parsed.accounts {
        let name = canonical_name(&raw_name)?;
        if source.contains_key(&name) || broken.contains_key(&name) {
            return Err(config_error(format!(
                "account '{name}' is defined twice (names ignore case and treat '-' and '_' alike)"
            )));
        }
        match config_account(path, base_dir, home, &name, entry) {
            Ok(layer) => {
                source.insert(name, layer);
            }
            Err(why) => {
                broken.insert(name, why);
            }
        }
    }
    Ok(FromConfig {
        accounts: source,
        broken,
        token_cache: parsed.token_cache,
    })
}

/// One config-file account's entry, its secret files read.
fn config_account(
    path: &Path,
    base_dir: &Path,
    home: Option<&Path>,
    name: &str,
    entry: ConfigAccount,
) -> Result<Layer, CredentialError> {
    let config_error = |message: String| CredentialError::Config {
        path: path.to_owned(),
        message,
    };
    let secret = |inline: Option<ConfigSecret>,
                  file: Option<PathBuf>,
                  key: &str|
     -> Result<Option<(String, Secret)>, CredentialError> {
        match (inline, file) {
            (Some(_), Some(_)) => Err(config_error(format!(
                "account '{name}': {key} and {key}_file cannot both be set"
            ))),
            (Some(ConfigSecret(s)), None) => Ok(Some((key.to_owned(), s))),
            (None, Some(file)) => {
                let resolved = resolve_path(&file, base_dir, home);
                let s = read_secret_file(name, &resolved)?;
                Ok(Some((format!("{key}_file"), s)))
            }
            (None, None) => Ok(None),
        }
    };
    let scim = secret(entry.scim_token, entry.scim_token_file, "scim_token")?.map(|(_, token)| {
        ScimToken {
            token,
            origin: Origin::ConfigFile {
                path: path.to_owned(),
            },
        }
    });
    let parts = Parts {
        username: entry.username.map(|u| ("username".to_owned(), u)),
        org: entry.org.map(|o| ("org".to_owned(), o)),
        token: secret(entry.token, entry.token_file, "token")?,
        password: secret(entry.password, entry.password_file, "password")?,
        bearer: secret(entry.bearer, entry.bearer_file, "bearer")?,
        anonymous: entry.anonymous.then(|| "anonymous".to_owned()),
    };
    let auth = parts
        .assemble()
        .map_err(|m| config_error(format!("account '{name}': {m}")))?;
    if auth.is_none() && scim.is_none() {
        return Err(config_error(format!(
            "account '{name}' has no credentials: give username or org with token \
             (or token_file), username with password, bearer, scim_token, or anonymous: true"
        )));
    }
    let base_url = entry
        .base_url
        .as_deref()
        .map(BaseUrl::parse)
        .transpose()
        .map_err(|m| config_error(format!("account '{name}': base_url: {m}")))?;
    let origin = Origin::ConfigFile {
        path: path.to_owned(),
    };
    Ok(Layer {
        auth: auth.map(|a| (a, origin)),
        scim,
        base_url,
    })
}

/// Secrets in a file others can read are already leaked, and one others can write (or own)
/// can be pointed at their own token files; refuse both, the way ssh refuses a shared private
/// key. The check is made on the file that was opened, not on whatever the path names later.
fn check_private(path: &Path, file: &fs::File) -> Result<(), CredentialError> {
    let meta = file.metadata().map_err(|e| CredentialError::Config {
        path: path.to_owned(),
        message: format!("cannot be read: {e}"),
    })?;
    match exposure(&meta, SECRET_FORBIDDEN) {
        None => Ok(()),
        Some(Exposure::OpenMode { mode }) => Err(CredentialError::InsecureConfig {
            path: path.to_owned(),
            mode,
        }),
        Some(Exposure::OtherOwner { uid }) => Err(CredentialError::Config {
            path: path.to_owned(),
            message: foreign_owner(uid),
        }),
    }
}

/// What no one but the owner may do to a file that holds secrets: read or write it.
const SECRET_FORBIDDEN: u32 = 0o066;

fn foreign_owner(uid: u32) -> String {
    format!("belongs to another user (uid {uid}); a file that holds credentials must be your own")
}

fn resolve_path(file: &Path, base_dir: &Path, home: Option<&Path>) -> PathBuf {
    if let (Ok(rest), Some(home)) = (file.strip_prefix("~"), home) {
        return home.join(rest);
    }
    if file.is_absolute() {
        file.to_owned()
    } else {
        base_dir.join(file)
    }
}

fn read_secret_file(account: &str, path: &Path) -> Result<Secret, CredentialError> {
    let fail = |message: String| CredentialError::SecretFile {
        account: account.to_owned(),
        path: path.to_owned(),
        message,
    };
    let file = fs::File::open(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot be read: {e}")))?;
    match exposure(&meta, SECRET_FORBIDDEN) {
        None => {}
        Some(Exposure::OtherOwner { uid }) => return Err(fail(foreign_owner(uid))),
        Some(Exposure::OpenMode { mode }) => {
            return Err(fail(format!(
                "is readable or writable by other users (mode {mode:04o}); run `chmod 600 {}`",
                path.display()
            )));
        }
    }
    let mut text = String::new();
    file.take(MAX_FILE_LEN)
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("cannot be read: {e}")))?;
    let secret = Secret::new(text.trim());
    if secret.is_empty() {
        return Err(fail("is empty".to_owned()));
    }
    if secret.expose().contains(['\n', '\r']) {
        return Err(fail(
            "holds more than one line; expected one secret".to_owned(),
        ));
    }
    Ok(secret)
}
