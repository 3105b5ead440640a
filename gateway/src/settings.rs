//! What the engine configures, through environment variables (the one mechanism every engine
//! offers: `wasmtime serve --env`, `spin up --env`, wasmCloud's config):
//!
//! - `DOCKHAND_BASE_URL`: the Hub (default `https://hub.docker.com`); requests go to its origin
//!   only;
//! - `DOCKHAND_CLIENTS`: the clients' names, comma-separated; for each client `NAME`,
//!   `DOCKHAND_CLIENT_<NAME>_TOKEN_SHA256` (the hex SHA-256 of its bearer, so the engine's
//!   configuration need not hold the token) or `DOCKHAND_CLIENT_<NAME>_TOKEN`, and optionally
//!   `DOCKHAND_CLIENT_<NAME>_ALLOW_WRITE=true` and `DOCKHAND_CLIENT_<NAME>_ACCOUNT`;
//! - the Hub credentials of each account (see [`crate::credentials`]).
//!
//! Read afresh for every request, as each request is a fresh instance.

use dockhand_plugin_core::request::{Origin, base_origin};
use dockhand_vocab::env::client_variable;

/// The Hub used when `DOCKHAND_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "https://hub.docker.com";

/// Request bodies past this are refused (413), as `dockhand serve` refuses them.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A client the gateway answers, as `dockhand serve` treats one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub name: String,
    /// The Hub account its calls use (`default` when `None`).
    pub account: Option<String>,
    pub allow_write: bool,
}

/// The gateway's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    /// The base URL's origin: the only one requests may go to.
    pub origin: Origin,
    /// The clients, each known by its token's SHA-256 digest.
    pub clients: Vec<([u8; 32], Client)>,
    /// Why no credential may go to this Hub (plain http to another machine), if that is so.
    pub withhold_secrets: Option<String>,
}

impl Settings {
    /// The settings `var` gives (an environment lookup), or what is wrong with them, naming the
    /// variable.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let base_url = var("DOCKHAND_BASE_URL")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let origin = base_origin(Some(&base_url)).map_err(|e| format!("DOCKHAND_BASE_URL: {e}"))?;
        let mut clients: Vec<([u8; 32], Client)> = Vec::new();
        for name in var("DOCKHAND_CLIENTS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let (digest, client) = client(name, var)?;
            // Two clients with one token would be one client with the rights of either.
            let same_variables =
                |other: &str| client_variable(other, "").ok() == client_variable(name, "").ok();
            if let Some((_, other)) = clients
                .iter()
                .find(|(d, c)| *d == digest || same_variables(&c.name))
            {
                return Err(format!(
                    "DOCKHAND_CLIENTS: clients `{}` and `{name}` have the same token or the same \
                     variables; each client needs its own",
                    other.name
                ));
            }
            clients.push((digest, client));
        }
        let host = origin
            .authority
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(origin.authority.as_str(), |(host, _)| host);
        let withhold_secrets = (!dockhand_api::carries_secrets(&origin.scheme, host)).then(|| {
            format!(
                "credentials are not sent over plain http to {} (only https, or this machine)",
                origin.as_url()
            )
        });
        Ok(Settings {
            base_url,
            origin,
            clients,
            withhold_secrets,
        })
    }
}

/// One client's variables.
fn client(name: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<([u8; 32], Client), String> {
    let field = |f: &str| -> Result<(String, Option<String>), String> {
        let variable =
            client_variable(name, f).map_err(|why| format!("DOCKHAND_CLIENTS: client {why}"))?;
        let value = var(&variable).filter(|v| !v.trim().is_empty());
        Ok((variable, value))
    };
    let (hashed, digest) = field("TOKEN_SHA256")?;
    let (plain, token) = field("TOKEN")?;
    let digest = match (digest, token) {
        (Some(hex), _) => parse_digest(hex.trim())
            .ok_or_else(|| format!("{hashed}: expected the 64 hex digits of a SHA-256 digest"))?,
        (None, Some(token)) => dockhand_api::token_digest(&token),
        (None, None) => {
            return Err(format!(
                "client `{name}` has no token: set {hashed} (or {plain})"
            ));
        }
    };
    let (write_var, allow_write) = field("ALLOW_WRITE")?;
    let allow_write = match allow_write.as_deref().map(str::trim) {
        None | Some("false" | "0" | "no") => false,
        Some("true" | "1" | "yes") => true,
        Some(_) => return Err(format!("{write_var}: expected true or false")),
    };
    let (_, account) = field("ACCOUNT")?;
    Ok((
        digest,
        Client {
            name: name.to_string(),
            account: account.map(|a| a.trim().to_string()),
            allow_write,
        },
    ))
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_env(&move |name| vars.get(name).cloned())
    }

    #[test]
    fn clients_come_with_a_token_or_its_digest_and_their_rights() {
        let digest: String = dockhand_api::token_digest("deploy-token")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let s = settings(&[
            ("DOCKHAND_BASE_URL", "http://127.0.0.1:9/v2"),
            ("DOCKHAND_CLIENTS", "ci, deploy"),
            ("DOCKHAND_CLIENT_CI_TOKEN", "ci-token"),
            ("DOCKHAND_CLIENT_DEPLOY_TOKEN_SHA256", &digest),
            ("DOCKHAND_CLIENT_DEPLOY_ALLOW_WRITE", "true"),
            ("DOCKHAND_CLIENT_DEPLOY_ACCOUNT", "work"),
        ])
        .unwrap();
        assert_eq!(s.origin.as_url(), "http://127.0.0.1:9");
        let ci = dockhand_api::authenticate(Some("Bearer ci-token"), &s.clients).unwrap();
        assert_eq!(
            (ci.name.as_str(), ci.allow_write, ci.account.as_deref()),
            ("ci", false, None)
        );
        let deploy = dockhand_api::authenticate(Some("Bearer deploy-token"), &s.clients).unwrap();
        assert_eq!(
            (
                deploy.name.as_str(),
                deploy.allow_write,
                deploy.account.as_deref()
            ),
            ("deploy", true, Some("work"))
        );
        assert!(dockhand_api::authenticate(Some("Bearer nope"), &s.clients).is_none());
    }

    #[test]
    fn a_broken_setting_names_its_variable() {
        let why = settings(&[("DOCKHAND_CLIENTS", "ci")]).unwrap_err();
        assert!(why.contains("DOCKHAND_CLIENT_CI_TOKEN_SHA256"), "{why}");
        let why = settings(&[
            ("DOCKHAND_CLIENTS", "ci"),
            ("DOCKHAND_CLIENT_CI_TOKEN_SHA256", "abc"),
        ])
        .unwrap_err();
        assert!(why.contains("64 hex digits"), "{why}");
        let why = settings(&[
            ("DOCKHAND_CLIENTS", "ci"),
            ("DOCKHAND_CLIENT_CI_TOKEN", "t"),
            ("DOCKHAND_CLIENT_CI_ALLOW_WRITE", "sure"),
        ])
        .unwrap_err();
        assert!(why.contains("DOCKHAND_CLIENT_CI_ALLOW_WRITE"), "{why}");
        let why = settings(&[("DOCKHAND_BASE_URL", "ftp://x")]).unwrap_err();
        assert!(why.starts_with("DOCKHAND_BASE_URL"), "{why}");
        let why = settings(&[("DOCKHAND_CLIENTS", "a b")]).unwrap_err();
        assert!(why.contains("environment variable"), "{why}");
        // No clients is a valid setting: every request is then refused.
        assert!(settings(&[]).unwrap().clients.is_empty());
    }

    #[test]
    fn clients_sharing_a_token_or_a_name_are_refused() {
        let why = settings(&[
            ("DOCKHAND_CLIENTS", "reader,writer"),
            ("DOCKHAND_CLIENT_READER_TOKEN", "same"),
            ("DOCKHAND_CLIENT_WRITER_TOKEN", "same"),
            ("DOCKHAND_CLIENT_WRITER_ALLOW_WRITE", "true"),
        ])
        .unwrap_err();
        assert!(why.contains("`reader` and `writer`"), "{why}");
        let why = settings(&[
            ("DOCKHAND_CLIENTS", "deploy-bot,DEPLOY_BOT"),
            ("DOCKHAND_CLIENT_DEPLOY_BOT_TOKEN", "t"),
        ])
        .unwrap_err();
        assert!(why.contains("same"), "{why}");
    }

    #[test]
    fn secrets_are_withheld_from_plain_http_to_another_machine() {
        for (url, withheld) in [
            ("https://hub.docker.com", false),
            ("http://127.0.0.1:8080", false),
            ("http://localhost:8080", false),
            ("http://[::1]:8080", false),
            ("http://hub.example:80", true),
            ("http://10.1.2.3:8080", true),
        ] {
            let s = settings(&[("DOCKHAND_BASE_URL", url)]).unwrap();
            assert_eq!(s.withhold_secrets.is_some(), withheld, "{url}");
        }
    }
}
