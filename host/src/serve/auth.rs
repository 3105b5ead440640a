//! Which client a request comes from, by the bearer it presents. Tokens are compared by their
//! SHA-256 digests, in time that does not depend on where they differ (`dockhand_api::authenticate`,
//! which the gateway component uses too).

use crate::credentials::ServeClient;
use http::HeaderMap;

/// A client as the server treats it.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) name: String,
    pub(crate) account: Option<String>,
    pub(crate) allow_write: bool,
}

/// The configured clients, or the one implicit local client of a loopback-only server.
pub(crate) struct Clients {
    tokens: Vec<([u8; 32], Client)>,
    local: Option<Client>,
}

/// The name of the implicit client of a server without configured clients.
const LOCAL: &str = "local";

impl Clients {
    pub(crate) fn new(configured: &[ServeClient], local_allow_write: bool) -> Clients {
        let tokens: Vec<([u8; 32], Client)> = configured
            .iter()
            .map(|c| {
                (
                    dockhand_api::token_digest(c.token.expose()),
                    Client {
                        name: c.name.clone(),
                        account: c.account.clone(),
                        allow_write: c.allow_write,
                    },
                )
            })
            .collect();
        let local = tokens.is_empty().then(|| Client {
            name: LOCAL.to_string(),
            account: None,
            allow_write: local_allow_write,
        });
        Clients { tokens, local }
    }

    /// Whether this is a loopback-only server's single implicit client.
    pub(crate) fn is_local(&self) -> bool {
        self.local.is_some()
    }

    /// Every client, for building per-client services.
    pub(crate) fn all(&self) -> Vec<&Client> {
        self.local
            .iter()
            .chain(self.tokens.iter().map(|(_, c)| c))
            .collect()
    }

    /// The client whose token `headers` carry; the local client needs none.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Option<&Client> {
        if let Some(local) = &self.local {
            return Some(local);
        }
        let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        dockhand_api::authenticate(Some(value), &self.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;

    fn client(name: &str, token: &str) -> ServeClient {
        ServeClient {
            name: name.into(),
            token: Secret::new(token),
            account: None,
            allow_write: name == "writer",
        }
    }

    fn bearer(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn a_client_is_found_by_its_token_only() {
        let clients = Clients::new(
            &[client("reader", "tok-r"), client("writer", "tok-w")],
            true,
        );
        assert!(!clients.is_local());
        assert_eq!(
            clients.authenticate(&bearer("Bearer tok-w")).unwrap().name,
            "writer"
        );
        assert_eq!(
            clients.authenticate(&bearer("bearer tok-r")).unwrap().name,
            "reader"
        );
        for wrong in [
            "Bearer tok-",
            "Bearer tok-rr",
            "Basic tok-r",
            "tok-r",
            "Bearer ",
        ] {
            assert!(clients.authenticate(&bearer(wrong)).is_none(), "{wrong}");
        }
        assert!(clients.authenticate(&HeaderMap::new()).is_none());
    }

    #[test]
    fn without_configured_clients_every_caller_is_the_local_client() {
        let clients = Clients::new(&[], false);
        assert!(clients.is_local());
        let local = clients.authenticate(&HeaderMap::new()).unwrap();
        assert_eq!((local.name.as_str(), local.allow_write), ("local", false));
    }
}
