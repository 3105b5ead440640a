//! `dockhand whoami`: the Docker Hub user (or organization) an account signs in as, and where the
//! account came from, never the secret. The secret is exchanged for a Hub token as a call would
//! exchange it (so a bad one fails here, with a call's error and exit code); the name comes from
//! the token's claims. No component is loaded: the exchange is the host's own.
//!
//! The answer is printed on stdout whoever it names; the exit code says whether it named someone:
//! 0 a user or an organization, 3 (the auth code) no one: an anonymous account, or a ready bearer
//! whose claims name no user. So `dockhand whoami >/dev/null` tells whether calls are signed in.

use super::Outcome;
use super::host::accounts;
use crate::cli::Global;
use crate::output::{Failure, exit, print_json, say, usage};
use dockhand_host::bindings::exports::dockhand::hub::types::{
    InvalidArgument, RateLimited, TransportError, TransportKind, UpstreamError,
};
use dockhand_host::credentials::{Broker, CredentialError, DEFAULT_ACCOUNT, HttpTokenExchange};
use dockhand_host::http_client::{HttpClient, HttpClientConfig};
use dockhand_host::policy::{BaseUrl, Timeouts};
use dockhand_host::{CallError, HubError};
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(g: &Global) -> Outcome {
    let base = BaseUrl::parse(&g.base_url).map_err(|e| usage(format!("--base-url: {e}")))?;
    // As `Dockhand::new` does: secrets bound elsewhere, or plain http off this machine, are
    // kept from this base URL.
    let accounts = accounts(g)?.for_base_url(&base);
    let account = g
        .account
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or(DEFAULT_ACCOUNT);
    let timeouts = Timeouts::default();
    let deadline = Duration::from_secs(g.timeout.max(1));
    let client = HttpClient::new(&HttpClientConfig {
        connect_timeout: timeouts.connect,
        response_timeout: Some(timeouts.first_byte),
        ..HttpClientConfig::default()
    })
    .map_err(|e| Failure::Host(format!("building the HTTP client: {e}")))?;
    let exchange = HttpTokenExchange::new(client, &base).with_timeout(deadline);
    // Unsealed: no component is involved, and the bearer never leaves `identity`.
    let broker = Broker::new(accounts, Arc::new(exchange), false);
    let identity = tokio::time::timeout(deadline, broker.identity(account))
        .await
        .map_err(|_| CallError::Deadline(deadline))?
        .map_err(credential_failure)?;
    if g.json {
        let mut value = serde_json::to_value(&identity).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("base_url".into(), base.as_str().into());
        }
        print_json(&value, true);
    } else {
        say!("{identity}");
    }
    Ok(if identity.is_known() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::AUTH)
    })
}

/// A credential failure as the error a call with the account would have reported, so that it
/// has the same kind and exit code: a refused secret is `unauthorized` (3), secrets kept from
/// this base URL `denied` (6), no answer `transport` (8).
fn credential_failure(e: CredentialError) -> Failure {
    let message = e.to_string();
    let hub = match &e {
        CredentialError::UnknownAccount { .. } | CredentialError::InvalidAccountName { .. } => {
            HubError::InvalidArgument(InvalidArgument {
                name: "account".into(),
                reason: message,
            })
        }
        CredentialError::Withheld { .. } => HubError::Denied(message),
        CredentialError::Exchange { status, .. } => match status {
            Some(401) => HubError::Unauthorized(message),
            Some(403) => HubError::Forbidden(message),
            Some(429) => HubError::RateLimited(RateLimited {
                retry_after: None,
                rate_limit: None,
            }),
            Some(status) => HubError::Upstream(UpstreamError {
                status: *status,
                message,
            }),
            None => HubError::Transport(TransportError {
                kind: TransportKind::Other,
                message,
            }),
        },
        _ => return Failure::Host(message),
    };
    Failure::Call(CallError::Hub(hub))
}
