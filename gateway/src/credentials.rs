//! The Hub credentials, from the engine's environment (the variable names are the CLI's,
//! `dockhand_vocab::env`): for the account `default`,
//!
//! - `DOCKHAND_BEARER`: a ready bearer (a JWT minted elsewhere), used as it is;
//! - else `DOCKHAND_USERNAME` (or `DOCKHAND_ORG`) with `DOCKHAND_TOKEN`: a personal (or
//!   organization) access token, which the gateway exchanges for a JWT at the Hub's
//!   `/v2/auth/token` itself, once per request. The token then lives in the instance's memory
//!   for that request: give the gateway a narrowly scoped one;
//! - `DOCKHAND_SCIM_TOKEN`: the organization's SCIM token;
//!
//! and `DOCKHAND_<ACCOUNT>_...` for any other account. Nothing set means anonymous. Every
//! secret handed out is added to the request's [`Secrets`], so that no answer carries it back.

use crate::egress::Secrets;
use dockhand_plugin_core::client::{CredentialKind, Credentials};
use dockhand_vocab::env::account_variable;
use std::collections::BTreeMap;

/// Trades an identifier (a Docker ID or an organization) and its access token for a JWT.
pub type Exchange<'a> = dyn FnMut(&str, &str) -> Result<String, String> + 'a;

/// Credentials read from the environment, exchanged at most once per account.
pub struct EnvCredentials<'a> {
    var: &'a dyn Fn(&str) -> Option<String>,
    exchange: &'a mut Exchange<'a>,
    exchanged: BTreeMap<String, String>,
    secrets: Secrets,
    /// Why no credential may be handed out at all (see `Settings::withhold_secrets`).
    withhold: Option<String>,
}

/// The fields an account's credentials may be given in.
const FIELDS: [&str; 5] = ["BEARER", "USERNAME", "ORG", "TOKEN", "SCIM_TOKEN"];

impl<'a> EnvCredentials<'a> {
    pub fn new(
        var: &'a dyn Fn(&str) -> Option<String>,
        exchange: &'a mut Exchange<'a>,
        secrets: Secrets,
        withhold: Option<String>,
    ) -> EnvCredentials<'a> {
        EnvCredentials {
            var,
            exchange,
            exchanged: BTreeMap::new(),
            secrets,
            withhold,
        }
    }

    /// The account's `field`, when set and not empty, without surrounding whitespace (a
    /// secret read from a file keeps its newline): the same string is sent and redacted.
    fn field(&self, account: &str, field: &str) -> Result<Option<String>, String> {
        let name = account_variable(account, field)?;
        Ok((self.var)(&name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()))
    }

    /// A secret handed to the core: answers are scrubbed of it from now on.
    fn hand_out(&self, secret: String) -> Option<String> {
        self.secrets.borrow_mut().push(secret.clone());
        Some(secret)
    }
}

impl Credentials for EnvCredentials<'_> {
    fn get(&mut self, account: &str, kind: CredentialKind) -> Result<Option<String>, String> {
        let mut configured = false;
        for field in FIELDS {
            configured |= self.field(account, field)?.is_some();
        }
        // An account other than `default` with nothing set is a client's misspelt account,
        // not an anonymous one, as `dockhand serve` has it.
        if !configured && account != "default" {
            return Err(format!(
                "no account `{account}` is configured: set {} (or {} with {})",
                account_variable(account, "BEARER")?,
                account_variable(account, "USERNAME")?,
                account_variable(account, "TOKEN")?
            ));
        }
        if configured && let Some(why) = &self.withhold {
            return Err(why.clone());
        }
        if kind == CredentialKind::Scim {
            return Ok(self
                .field(account, "SCIM_TOKEN")?
                .and_then(|t| self.hand_out(t)));
        }
        if let Some(bearer) = self.field(account, "BEARER")? {
            return Ok(self.hand_out(bearer));
        }
        if let Some(jwt) = self.exchanged.get(account) {
            return Ok(Some(jwt.clone()));
        }
        let identifier = match self.field(account, "USERNAME")? {
            Some(user) => Some(user),
            None => self.field(account, "ORG")?,
        };
        let Some(token) = self.field(account, "TOKEN")? else {
            return Ok(None);
        };
        let Some(identifier) = identifier else {
            return Err(format!(
                "{} is set but neither {} nor {} says whose token it is",
                account_variable(account, "TOKEN")?,
                account_variable(account, "USERNAME")?,
                account_variable(account, "ORG")?
            ));
        };
        self.secrets.borrow_mut().push(token.clone());
        let jwt = (self.exchange)(&identifier, &token)?;
        self.exchanged.insert(account.to_string(), jwt.clone());
        Ok(self.hand_out(jwt))
    }

    fn invalidate(&mut self, account: &str, _kind: CredentialKind) {
        // A ready bearer cannot be minted again; an exchanged one is, on the next `get`.
        self.exchanged.remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn a_bearer_is_used_as_it_is_and_a_token_is_exchanged_once() {
        let var = env(&[
            ("DOCKHAND_BEARER", "ready-jwt-000"),
            ("DOCKHAND_WORK_USERNAME", "alice"),
            ("DOCKHAND_WORK_TOKEN", "dckr_pat_secret"),
            ("DOCKHAND_ACME_SCIM_TOKEN", "scim-secret-1"),
        ]);
        let mut calls = Vec::new();
        let mut exchange = |who: &str, token: &str| {
            calls.push(format!("{who}:{token}"));
            Ok(format!("jwt-for-{who}"))
        };
        let secrets = Secrets::default();
        let mut creds = EnvCredentials::new(&var, &mut exchange, secrets.clone(), None);
        let hub = CredentialKind::Hub;
        assert_eq!(
            creds.get("default", hub).unwrap().as_deref(),
            Some("ready-jwt-000")
        );
        assert_eq!(
            creds.get("work", hub).unwrap().as_deref(),
            Some("jwt-for-alice")
        );
        assert_eq!(
            creds.get("work", hub).unwrap().as_deref(),
            Some("jwt-for-alice")
        );
        creds.invalidate("work", hub);
        assert_eq!(
            creds.get("work", hub).unwrap().as_deref(),
            Some("jwt-for-alice")
        );
        assert_eq!(
            creds.get("acme", CredentialKind::Scim).unwrap().as_deref(),
            Some("scim-secret-1")
        );
        let unknown = creds.get("other", hub).unwrap_err();
        assert!(unknown.contains("DOCKHAND_OTHER_BEARER"), "{unknown}");
        assert!(creds.get("bad name", hub).is_err());
        drop(creds);
        assert_eq!(calls, ["alice:dckr_pat_secret", "alice:dckr_pat_secret"]);
        let held = secrets.borrow();
        for secret in [
            "ready-jwt-000",
            "jwt-for-alice",
            "dckr_pat_secret",
            "scim-secret-1",
        ] {
            assert!(held.iter().any(|s| s == secret), "{secret} is not scrubbed");
        }
    }

    #[test]
    fn a_token_without_its_owner_is_an_error_naming_the_variables() {
        let var = env(&[("DOCKHAND_TOKEN", "dckr_pat_secret")]);
        let mut exchange = |_: &str, _: &str| -> Result<String, String> { unreachable!() };
        let mut creds = EnvCredentials::new(&var, &mut exchange, Secrets::default(), None);
        let why = creds.get("default", CredentialKind::Hub).unwrap_err();
        assert!(
            why.contains("DOCKHAND_USERNAME") && !why.contains("dckr_pat"),
            "{why}"
        );
    }

    #[test]
    fn secrets_are_trimmed_once_and_withheld_from_plain_http() {
        let var = env(&[
            ("DOCKHAND_USERNAME", " alice\n"),
            ("DOCKHAND_TOKEN", "dckr_pat_secret\n"),
        ]);
        let mut seen = Vec::new();
        let mut exchange = |who: &str, token: &str| {
            seen.push(format!("{who}:{token}"));
            Ok("jwt-0000000000".to_string())
        };
        let secrets = Secrets::default();
        let mut creds = EnvCredentials::new(&var, &mut exchange, secrets.clone(), None);
        creds.get("default", CredentialKind::Hub).unwrap();
        drop(creds);
        // What is sent is what is redacted.
        assert_eq!(seen, ["alice:dckr_pat_secret"]);
        assert!(secrets.borrow().iter().any(|s| s == "dckr_pat_secret"));

        let mut exchange = |_: &str, _: &str| -> Result<String, String> { unreachable!() };
        let withheld = Some("not over plain http".to_string());
        let mut creds = EnvCredentials::new(&var, &mut exchange, Secrets::default(), withheld);
        assert_eq!(
            creds.get("default", CredentialKind::Hub).unwrap_err(),
            "not over plain http"
        );
        // With nothing configured, a call goes anonymously.
        let nothing = env(&[]);
        let mut exchange = |_: &str, _: &str| -> Result<String, String> { unreachable!() };
        let withheld = Some("not over plain http".to_string());
        let mut creds = EnvCredentials::new(&nothing, &mut exchange, Secrets::default(), withheld);
        assert_eq!(creds.get("default", CredentialKind::Hub).unwrap(), None);
    }
}
