//! Who an account is on the Hub (`dockhand whoami`): its user name or organization, read from the
//! claims of the bearer the exchange minted (or of a ready bearer), and where the account came
//! from. Nothing here holds or prints a secret; the bearer is read and dropped.

use serde::Serialize;
use serde_json::Value;
use std::fmt;

use super::account::{AccountAuth, AccountSpec, CredentialKind, Origin};
use super::broker::Broker;
use super::{CredentialError, jwt};

/// Where Docker Hub puts its own claims in the JWTs it mints (`{"username": ..., "uuid": ...}`);
/// Docker's Hub MCP server reads the personal namespace from here too.
const HUB_CLAIMS: &str = "https://hub.docker.com";

/// An account as the Hub knows it, and where dockhand found it. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The account name (`default`, `work`, ...).
    pub account: String,
    /// No credential is used with this base URL: public reads only.
    pub anonymous: bool,
    /// The Docker Hub user the credential signs in as.
    pub username: Option<String>,
    /// The organization, for an organization access token.
    pub organization: Option<String>,
    /// The namespace the account owns: the user name, or the organization.
    pub namespace: Option<String>,
    /// The kind of credential (`personal access token`, `anonymous`, ...).
    pub auth: &'static str,
    /// Where the credential came from, as a word: `flags`, `env`, `config-file`, `docker-login`,
    /// `none` (nothing configured it) or `other` (an embedding program).
    pub source: &'static str,
    /// Where the credential came from, in words (variables, file paths; never the secret).
    pub origin: String,
    /// Where the name comes from: `token` (the bearer's claims) or `account` (the name the account
    /// was configured with, which the Hub accepted in the exchange).
    pub name_from: Option<&'static str>,
    /// Why the account is anonymous here, or why its name is unknown.
    pub note: Option<String>,
}

impl Identity {
    /// Whether it names someone: a user or an organization.
    pub fn is_known(&self) -> bool {
        self.namespace.is_some()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.username, &self.organization) {
            (Some(user), _) => writeln!(f, "user {user}")?,
            (None, Some(org)) => writeln!(f, "organization {org}")?,
            (None, None) if self.anonymous => writeln!(f, "anonymous")?,
            (None, None) => writeln!(f, "unknown user")?,
        }
        write!(f, "account {}: {}", self.account, self.auth)?;
        if self.source != "none" {
            write!(f, ", from {}", self.origin)?;
        } else {
            write!(f, " ({})", self.origin)?;
        }
        if let Some(note) = &self.note {
            write!(f, "\n{note}")?;
        }
        Ok(())
    }
}

/// The short word for an origin, for scripts (`source` in [`Identity`]).
pub fn source_kind(origin: &Origin) -> &'static str {
    match origin {
        Origin::Implicit => "none",
        Origin::Flags => "flags",
        Origin::Env { .. } => "env",
        Origin::ConfigFile { .. } => "config-file",
        Origin::DockerAuths { .. } | Origin::DockerHelper { .. } => "docker-login",
        Origin::Other(_) => "other",
    }
}

/// A name a bearer's claims give, and whether it is a user's or an organization's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    User(String),
    Org(String),
}

/// Who a JWT's claims say it speaks for: Docker Hub's own `username` claim, else a `sub` shaped
/// like a Docker ID (the Hub's own `sub` is an opaque id, never one), an organization's when
/// `token_type` says it is an organization access token.
fn named_in(claims: &Value) -> Option<Named> {
    if let Some(name) = claims
        .get(HUB_CLAIMS)
        .and_then(|hub| hub.get("username"))
        .and_then(Value::as_str)
        .filter(|name| looks_like_docker_id(name))
    {
        return Some(Named::User(name.to_owned()));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|sub| looks_like_docker_id(sub))?
        .to_owned();
    Some(
        if claims.get("token_type").and_then(Value::as_str) == Some("oat") {
            Named::Org(sub)
        } else {
            Named::User(sub)
        },
    )
}

/// Docker IDs and organization names: at most 30 lowercase letters, digits, `-`, `_` or `.`.
/// A UUID (36 characters) or `provider|id` is not one.
fn looks_like_docker_id(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 30
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

/// The identity of `spec`, given the claims of its bearer (`None`: anonymous, or a bearer that is
/// not a JWT).
fn identity_of(spec: &AccountSpec, claims: Option<&Value>) -> Identity {
    let named = claims.and_then(named_in);
    let mut identity = Identity {
        account: spec.name.clone(),
        anonymous: false,
        username: None,
        organization: None,
        namespace: None,
        auth: spec.auth.describe(),
        source: source_kind(&spec.origin),
        origin: spec.origin.to_string(),
        name_from: None,
        note: None,
    };
    match &spec.auth {
        AccountAuth::Anonymous => {
            identity.anonymous = true;
            identity.note = Some(match &spec.withheld {
                Some(why) => why.to_string(),
                None if spec.origin == Origin::Implicit => {
                    "no credential is configured for this account; see `dockhand accounts`"
                        .to_owned()
                }
                None => "the account is configured to call anonymously".to_owned(),
            });
        }
        AccountAuth::PersonalToken { username, .. } | AccountAuth::Password { username, .. } => {
            match named {
                Some(Named::User(name)) => {
                    identity.username = Some(name);
                    identity.name_from = Some("token");
                }
                _ => {
                    identity.username = Some(username.clone());
                    identity.name_from = Some("account");
                }
            }
        }
        AccountAuth::OrgToken { org, .. } => match named {
            Some(Named::Org(name)) => {
                identity.organization = Some(name);
                identity.name_from = Some("token");
            }
            _ => {
                identity.organization = Some(org.clone());
                identity.name_from = Some("account");
            }
        },
        AccountAuth::Bearer(_) => match named {
            Some(Named::User(name)) => {
                identity.username = Some(name);
                identity.name_from = Some("token");
            }
            Some(Named::Org(name)) => {
                identity.organization = Some(name);
                identity.name_from = Some("token");
            }
            None => {
                identity.note = Some(
                    "the bearer token names no user that dockhand can read (it is not a JWT \
                     with a user name)"
                        .to_owned(),
                );
            }
        },
    }
    identity.namespace = identity
        .username
        .clone()
        .or_else(|| identity.organization.clone());
    identity
}

impl Broker {
    /// Who `account` is on the Hub: exchanges its secret for a bearer as a call would (so a
    /// rejected secret fails here, with the same error), reads the bearer's claims and drops it.
    /// An anonymous account sends nothing.
    pub async fn identity(&self, account: &str) -> Result<Identity, CredentialError> {
        let spec = self
            .accounts()
            .get(account)
            .ok_or_else(|| CredentialError::UnknownAccount {
                account: account.to_owned(),
            })?
            .clone();
        let claims = match self.get(account, CredentialKind::Hub).await? {
            None => None,
            Some(token) if self.is_sealed() => {
                self.unseal(&format!("Bearer {token}")).and_then(|header| {
                    header
                        .expose()
                        .strip_prefix("Bearer ")
                        .and_then(jwt::claims)
                })
            }
            Some(bearer) => jwt::claims(&bearer),
        };
        Ok(identity_of(&spec, claims.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;
    use serde_json::json;

    fn spec(auth: AccountAuth) -> AccountSpec {
        AccountSpec {
            auth,
            origin: Origin::Env {
                vars: vec!["DOCKHAND_USERNAME".into(), "DOCKHAND_TOKEN".into()],
            },
            ..AccountSpec::anonymous("default")
        }
    }

    fn pat(username: &str) -> AccountAuth {
        AccountAuth::PersonalToken {
            username: username.into(),
            token: Secret::new("dckr_pat_x"),
        }
    }

    #[test]
    fn docker_hubs_own_claim_names_the_user() {
        // As the Hub mints them: `sub` is an opaque id, the name is under its namespace.
        let claims = json!({
            "sub": "6a0b3c1e-0000-4000-8000-000000000001",
            (HUB_CLAIMS): {"username": "alice", "uuid": "6a0b3c1e-0000-4000-8000-000000000001"},
        });
        let id = identity_of(&spec(pat("alice@example.com")), Some(&claims));
        assert_eq!(id.username.as_deref(), Some("alice"));
        assert_eq!(id.namespace.as_deref(), Some("alice"));
        assert_eq!(id.name_from, Some("token"));
        assert_eq!(id.source, "env");
        assert!(!id.anonymous && id.is_known());
    }

    #[test]
    fn a_docker_id_shaped_sub_names_the_user_or_the_organization() {
        let user = json!({"sub": "bob", "token_type": "pat"});
        let id = identity_of(&spec(pat("bob")), Some(&user));
        assert_eq!(
            (id.username.as_deref(), id.name_from),
            (Some("bob"), Some("token"))
        );

        let org = json!({"sub": "acme", "token_type": "oat"});
        let oat = AccountAuth::OrgToken {
            org: "acme".into(),
            token: Secret::new("dckr_oat_x"),
        };
        let id = identity_of(&spec(oat), Some(&org));
        assert_eq!(id.username, None);
        assert_eq!(id.organization.as_deref(), Some("acme"));
        assert_eq!(id.namespace.as_deref(), Some("acme"));
    }

    #[test]
    fn an_opaque_sub_is_not_a_name_and_the_configured_one_stands() {
        for sub in ["6a0b3c1e-0000-4000-8000-000000000001", "auth0|123", "Alice"] {
            let id = identity_of(&spec(pat("alice")), Some(&json!({"sub": sub})));
            assert_eq!(id.username.as_deref(), Some("alice"), "{sub}");
            assert_eq!(id.name_from, Some("account"), "{sub}");
        }
        let id = identity_of(&spec(pat("alice")), None);
        assert_eq!(id.username.as_deref(), Some("alice"));
    }

    #[test]
    fn a_bearer_without_readable_claims_names_no_one() {
        let id = identity_of(&spec(AccountAuth::Bearer(Secret::new("opaque"))), None);
        assert!(!id.is_known() && !id.anonymous);
        assert!(id.note.is_some());
        assert!(id.to_string().starts_with("unknown user"), "{id}");

        let claims = json!({(HUB_CLAIMS): {"username": "carol"}});
        let id = identity_of(
            &spec(AccountAuth::Bearer(Secret::new("x.y.z"))),
            Some(&claims),
        );
        assert_eq!(id.username.as_deref(), Some("carol"));
    }

    /// Mints one JWT with Docker Hub's claims for whoever asks.
    struct HubLikeExchange;

    impl crate::credentials::TokenExchange for HubLikeExchange {
        fn exchange<'a>(
            &'a self,
            _identifier: &'a str,
            _secret: &'a Secret,
        ) -> crate::credentials::ExchangeFuture<'a> {
            use base64::Engine;
            let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let claims =
                json!({"sub": "0b2e", (HUB_CLAIMS): {"username": "alice"}, "exp": 4102444800_i64});
            let token = format!(
                "{}.{}.c2ln",
                enc.encode("{}"),
                enc.encode(claims.to_string())
            );
            Box::pin(async move { Ok(Secret::new(token)) })
        }
    }

    #[tokio::test]
    async fn a_sealed_broker_reads_the_name_from_the_bearer_it_minted() {
        let accounts =
            crate::credentials::Accounts::from_specs(vec![spec(pat("alice@example.com"))]).unwrap();
        let broker = Broker::new(accounts, std::sync::Arc::new(HubLikeExchange), true);
        let id = broker.identity("default").await.unwrap();
        assert_eq!(id.username.as_deref(), Some("alice"));
        assert_eq!(id.name_from, Some("token"));
        let text = serde_json::to_string(&id).unwrap();
        assert!(
            !text.contains("dckr_pat_x") && !text.contains("eyJ"),
            "{text}"
        );

        let unknown = broker.identity("nobody").await.unwrap_err();
        assert!(
            matches!(unknown, CredentialError::UnknownAccount { .. }),
            "{unknown}"
        );
    }

    #[test]
    fn anonymous_says_why() {
        let id = identity_of(&AccountSpec::anonymous("default"), None);
        assert!(id.anonymous && !id.is_known());
        assert_eq!(id.source, "none");
        assert!(
            id.to_string()
                .starts_with("anonymous\naccount default: anonymous (not configured)"),
            "{id}"
        );
    }
}
