//! The [`Broker`]: turns accounts into short-lived Hub bearers (or sealed placeholders for them)
//! and the [`TokenExchange`] it mints them with.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::account::{AccountAuth, AccountSpec, Accounts, CredentialKind};
use super::token_cache::{self, TokenCache};
use super::{CredentialError, Secret, jwt};
use crate::http_client::HttpClient;
use crate::policy::BaseUrl;

/// What every sealed placeholder starts with, followed by 32 random hex digits.
pub const PLACEHOLDER_PREFIX: &str = "dockhand-sealed-";

/// A bearer is dropped from the cache this long before its `exp`, so a request never leaves
/// with a token that expires on the way.
const REFRESH_MARGIN_SECS: i64 = token_cache::REFRESH_MARGIN_SECS;

/// How long to cache a bearer whose expiry cannot be read (not a JWT, or no `exp`).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// An upper bound on any cache lifetime, whatever a token claims.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The future [`TokenExchange::exchange`] returns.
pub type ExchangeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Secret, ExchangeError>> + Send + 'a>>;

/// Exchanges an identifier and secret for a bearer. [`HttpTokenExchange`] is the real one; tests
/// and embedders may supply their own.
pub trait TokenExchange: Send + Sync {
    /// Mints a bearer for `identifier` (a username or organization) and `secret`.
    fn exchange<'a>(&'a self, identifier: &'a str, secret: &'a Secret) -> ExchangeFuture<'a>;

    /// The URL this exchanger mints at, which a [`TokenCache`] keys the bearers it keeps by;
    /// `None` (the default) keeps what it mints out of any token cache.
    fn cache_scope(&self) -> Option<&str> {
        None
    }
}

/// Why an exchange failed. The broker adds the account and source to make a
/// [`CredentialError::Exchange`]; the message must never contain the secret.
#[derive(Debug, Clone)]
pub struct ExchangeError {
    /// The HTTP status, if the server answered.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
}

/// `POST {base_url}/v2/auth/token` with `{"identifier", "secret"}`, reading `access_token` (or
/// `token`) from the answer.
#[derive(Debug, Clone)]
pub struct HttpTokenExchange {
    client: HttpClient,
    url: String,
    timeout: Duration,
}

/// Token answers are a few kilobytes; anything much larger is not one.
const EXCHANGE_BODY_LIMIT: usize = 256 * 1024;

impl HttpTokenExchange {
    /// Exchanges against `base_url` (such as `https://hub.docker.com`), with a 30 s deadline.
    pub fn new(client: HttpClient, base_url: &BaseUrl) -> HttpTokenExchange {
        HttpTokenExchange {
            client,
            url: token_cache::exchange_url(base_url),
            timeout: Duration::from_secs(30),
        }
    }

    /// Replaces the deadline for one whole exchange (connect, send, read the answer).
    pub fn with_timeout(mut self, timeout: Duration) -> HttpTokenExchange {
        self.timeout = timeout;
        self
    }
}

impl TokenExchange for HttpTokenExchange {
    fn exchange<'a>(&'a self, identifier: &'a str, secret: &'a Secret) -> ExchangeFuture<'a> {
        Box::pin(async move {
            let fail = |status: Option<u16>, message: String| ExchangeError { status, message };
            let body = serde_json::json!({ "identifier": identifier, "secret": secret.expose() });
            let response = tokio::time::timeout(
                self.timeout,
                self.client.post_json(&self.url, &body, EXCHANGE_BODY_LIMIT),
            )
            .await
            .map_err(|_| {
                fail(
                    None,
                    format!("no answer within {} s", self.timeout.as_secs_f32()),
                )
            })?
            .map_err(|e| fail(None, e.to_string()))?;
            let status = response.status.as_u16();
            let json: Option<Value> = serde_json::from_slice(&response.body).ok();
            if !response.status.is_success() {
                return Err(fail(Some(status), hub_message(json.as_ref(), secret)));
            }
            let token = json
                .as_ref()
                .and_then(|v| v.get("access_token").or_else(|| v.get("token")))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| fail(Some(status), "the answer has no access_token".to_owned()))?;
            Ok(Secret::new(token))
        })
    }

    fn cache_scope(&self) -> Option<&str> {
        Some(&self.url)
    }
}

/// The useful part of the Hub's error answer, or nothing if it would reveal the secret.
fn hub_message(json: Option<&Value>, secret: &Secret) -> String {
    let Some(json) = json else {
        return String::new();
    };
    if json.get("login_2fa_token").is_some() {
        return "the account uses two-factor authentication; use a personal access token \
                instead of the password"
            .to_owned();
    }
    let text = ["detail", "message", "error"]
        .iter()
        .find_map(|k| json.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    if !secret.is_empty() && text.contains(secret.expose()) {
        return "(the server's message is withheld because it quotes the secret)".to_owned();
    }
    text.chars().take(200).collect()
}

/// Hands out bearers (or sealed placeholders) per account and kind. Share it in an `Arc`: the
/// plugin's `credentials` import calls [`Broker::get`] and [`Broker::invalidate`], the HTTP hook
/// calls [`Broker::unseal`].
pub struct Broker {
    accounts: Accounts,
    exchanger: Arc<dyn TokenExchange>,
    sealed: bool,
    /// One slot per account and kind, indexed like `accounts`.
    slots: Vec<[Slot; 2]>,
    /// Placeholder → current bearer. Kept apart from the slots so `unseal` never waits on an
    /// exchange in progress.
    placeholders: RwLock<HashMap<String, Published>>,
    /// Where minted bearers outlive the process (from [`Accounts::token_cache`]), with the
    /// exchange URL they are keyed by; `None` when there is no cache or the exchanger names no
    /// URL.
    disk: Option<(TokenCache, String)>,
}

#[derive(Default)]
struct Slot {
    /// Held across an exchange, so concurrent `get`s wait for one exchange instead of each
    /// starting their own.
    state: tokio::sync::Mutex<SlotState>,
    /// Bumped by `invalidate`; a cached bearer minted under an older generation is stale.
    generation: AtomicU64,
    /// Exchanges finished so far, so a waiter can tell whether a failure happened while it
    /// waited (and report it instead of hammering the Hub with the same bad secret).
    attempts: AtomicU64,
    placeholder: OnceLock<String>,
    /// One more than the newest generation the Hub answered 401 to (0: none heard of), from the
    /// send hook through [`Broker::refused`]. Shared with the placeholder's entry, so that the
    /// hook reaches it without a lookup.
    refused: Arc<AtomicU64>,
}

/// The bearer a placeholder stands for, and what a request sent with it reports back.
struct Published {
    bearer: Secret,
    sent: Sent,
}

/// Which bearer a request was sent with, for [`Broker::refused`] when the Hub answers 401.
#[derive(Clone)]
pub struct Sent {
    generation: u64,
    refused: Arc<AtomicU64>,
}

#[derive(Default)]
struct SlotState {
    current: Option<Cached>,
    failure: Option<(u64, CredentialError)>,
}

struct Cached {
    bearer: Secret,
    until: Instant,
    generation: u64,
}

enum Source<'a> {
    Static(&'a Secret),
    Exchange(&'a AccountAuth),
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("accounts", &self.accounts)
            .field("sealed", &self.sealed)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A broker over `accounts`. `sealed` makes [`Broker::get`] return placeholders that only
    /// [`Broker::unseal`] turns back into bearers; without it `get` returns the bearer itself.
    pub fn new(accounts: Accounts, exchanger: Arc<dyn TokenExchange>, sealed: bool) -> Broker {
        let slots = accounts.iter().map(|_| Default::default()).collect();
        let disk = accounts
            .token_cache()
            .cloned()
            .zip(exchanger.cache_scope().map(str::to_owned));
        Broker {
            disk,
            accounts,
            exchanger,
            sealed,
            slots,
            placeholders: RwLock::new(HashMap::new()),
        }
    }

    /// The accounts this broker serves.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Whether `get` hands out placeholders.
    pub fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// The credential for `account` and `kind`: `None` for an anonymous account's Hub access;
    /// otherwise the bearer (unsealed) or its placeholder (sealed). Mints a bearer when none is
    /// cached or the cached one is near its expiry or was invalidated.
    pub async fn get(
        &self,
        account: &str,
        kind: CredentialKind,
    ) -> Result<Option<String>, CredentialError> {
        let (spec, slot) = self.lookup(account)?;
        let anonymous_read =
            kind == CredentialKind::Hub && matches!(spec.auth, AccountAuth::Anonymous);
        if let Some(why) = &spec.withheld
            && !anonymous_read
        {
            return Err(CredentialError::Withheld {
                account: spec.name.clone(),
                why: Box::new(why.clone()),
            });
        }
        let source = match kind {
            CredentialKind::Hub => match &spec.auth {
                AccountAuth::Anonymous => return Ok(None),
                AccountAuth::Bearer(bearer) => Source::Static(bearer),
                auth => Source::Exchange(auth),
            },
            CredentialKind::Scim => match &spec.scim {
                Some(scim) => Source::Static(&scim.token),
                None => {
                    return Err(CredentialError::NoScimToken {
                        account: spec.name.clone(),
                    });
                }
            },
        };
        let slot = &slot[kind_index(kind)];
        let bearer = match source {
            Source::Static(bearer) => {
                self.publish(slot, bearer, slot.generation.load(Ordering::Acquire))?;
                bearer.clone()
            }
            Source::Exchange(auth) => self.minted(spec, auth, slot).await?,
        };
        if self.sealed {
            let placeholder = slot.placeholder.get().expect("published above");
            Ok(Some(placeholder.clone()))
        } else {
            Ok(Some(bearer.expose().to_owned()))
        }
    }

    /// Drops the cached bearer of `account` and `kind`, so the next `get` mints a new one (after
    /// the Hub answered 401). Ready bearers and SCIM tokens cannot be re-minted and stay.
    /// Unknown accounts are ignored. When the send hook reported which bearer the Hub refused
    /// ([`Broker::refused`]) and that bearer was replaced since, nothing is dropped: several
    /// requests refused together (parallel pages, concurrent calls) make one exchange, not one
    /// each. The bearer kept in the token cache goes too (the next process would only be
    /// refused with it as well).
    pub fn invalidate(&self, account: &str, kind: CredentialKind) {
        if let Ok((spec, slots)) = self.lookup(account) {
            let slot = &slots[kind_index(kind)];
            let current = slot.generation.load(Ordering::Acquire);
            let refused = slot.refused.load(Ordering::Acquire);
            // `refused` is one past the refused generation: at most `current` means the bearer
            // refused is older than the one held now.
            if refused != 0 && refused <= current {
                return;
            }
            // Lost to a concurrent `invalidate`, which dropped the same bearer.
            if slot
                .generation
                .compare_exchange(current, current + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                return;
            }
            if kind == CredentialKind::Hub
                && let Some((cache, _, key)) = self.disk_key(spec)
            {
                cache.remove(&key);
            }
        }
    }

    /// The token cache, the exchange URL and the key of `spec`'s bearer in the cache, if
    /// bearers are kept on disk and the account's are minted.
    fn disk_key(&self, spec: &AccountSpec) -> Option<(&TokenCache, &str, String)> {
        let (cache, url) = self.disk.as_ref()?;
        Some((cache, url, token_cache::key_for(spec, url)?))
    }

    /// Given an `Authorization` header value carrying a placeholder (`Bearer dockhand-sealed-…`),
    /// the header value with the current bearer instead; `None` if the value is not one of this
    /// broker's placeholders. Cheap and non-blocking, for the HTTP hook; the hook must call it
    /// only for the origin the bearers were minted at.
    pub fn unseal(&self, header_value: &str) -> Option<Secret> {
        self.unseal_sent(header_value).map(|(header, _)| header)
    }

    /// [`Broker::unseal`], and which bearer it was, for [`Broker::refused`].
    pub fn unseal_sent(&self, header_value: &str) -> Option<(Secret, Sent)> {
        let (scheme, token) = header_value.trim().split_once(' ')?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || !token.starts_with(PLACEHOLDER_PREFIX) {
            return None;
        }
        let map = self
            .placeholders
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(token).map(|published| {
            (
                Secret::new(format!("Bearer {}", published.bearer.expose())),
                published.sent.clone(),
            )
        })
    }

    /// The Hub answered 401 to a request sent with `sent`'s bearer: the next `invalidate` of
    /// its account drops that bearer if it is still current, and nothing if it was replaced.
    pub fn refused(&self, sent: &Sent) {
        sent.refused
            .fetch_max(sent.generation + 1, Ordering::AcqRel);
    }

    /// Replaces every bearer this broker has handed out (sealed) with its placeholder in
    /// `text`. The send hook rewrites the raw answer already; this is for what the host has
    /// decoded from it, where a JSON escape (`\u0065`, `\/`) could have hidden a bearer from
    /// the byte-level rewrite. `None` when nothing needed replacing.
    pub fn reseal(&self, text: &str) -> Option<String> {
        if !self.sealed {
            return None;
        }
        let map = self
            .placeholders
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out: Option<String> = None;
        for (placeholder, Published { bearer, .. }) in map.iter() {
            let current = out.as_deref().unwrap_or(text);
            if !bearer.is_empty() && current.contains(bearer.expose()) {
                out = Some(current.replace(bearer.expose(), placeholder));
            }
        }
        out
    }

    /// Whether any bearer has been handed out sealed, so that [`Broker::reseal`] could find
    /// something: a caller with a large answer checks this once instead of per string.
    pub fn has_sealed_bearers(&self) -> bool {
        self.sealed
            && !self
                .placeholders
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
    }

    fn lookup(&self, account: &str) -> Result<(&AccountSpec, &[Slot; 2]), CredentialError> {
        if let Some(why) = self.accounts.broken(account) {
            return Err(why.clone());
        }
        let index =
            self.accounts
                .index_of(account)
                .ok_or_else(|| CredentialError::UnknownAccount {
                    account: account.to_owned(),
                })?;
        let spec = self
            .accounts
            .iter()
            .nth(index)
            .expect("index_of is in range");
        Ok((spec, &self.slots[index]))
    }

    /// The cached bearer if still good, else a freshly minted one.
    async fn minted(
        &self,
        spec: &AccountSpec,
        auth: &AccountAuth,
        slot: &Slot,
    ) -> Result<Secret, CredentialError> {
        let attempts_seen = slot.attempts.load(Ordering::Acquire);
        let mut state = slot.state.lock().await;
        if let Some(cached) = &state.current
            && cached.generation == slot.generation.load(Ordering::Acquire)
            && Instant::now() < cached.until
        {
            let bearer = cached.bearer.clone();
            self.publish(slot, &bearer, cached.generation)?;
            return Ok(bearer);
        }
        if let Some((attempt, error)) = &state.failure
            && *attempt > attempts_seen
        {
            return Err(error.clone());
        }
        let disk = self.disk_key(spec);
        if let Some((cache, url, key)) = &disk
            && let Some((bearer, exp)) = cache.load(key, url)
            // Not the bearer just found stale here (a 401 whose file could not be removed).
            && state
                .current
                .as_ref()
                .is_none_or(|stale| stale.bearer.expose() != bearer.expose())
        {
            let generation = slot.generation.load(Ordering::Acquire);
            state.current = Some(Cached {
                until: deadline_at(exp),
                bearer: bearer.clone(),
                generation,
            });
            state.failure = None;
            self.publish(slot, &bearer, generation)?;
            return Ok(bearer);
        }

        let (identifier, secret) = auth
            .exchange_pair()
            .expect("only exchangeable auths reach minted");
        let result = self.exchanger.exchange(identifier, secret).await;
        let attempt = slot.attempts.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(bearer) => {
                // The generation is read after the exchange: an invalidate that arrived while
                // minting was about the old bearer, not this one.
                let generation = slot.generation.load(Ordering::Acquire);
                state.current = Some(Cached {
                    until: cache_deadline(&bearer),
                    bearer: bearer.clone(),
                    generation,
                });
                state.failure = None;
                self.publish(slot, &bearer, generation)?;
                if let (Some((cache, url, key)), Some(exp)) = (&disk, jwt::expiry(bearer.expose()))
                {
                    cache.store(key, url, &spec.name, &bearer, exp);
                }
                Ok(bearer)
            }
            Err(e) => {
                let error = CredentialError::Exchange {
                    account: spec.name.clone(),
                    auth: auth.describe(),
                    origin: spec.origin.to_string(),
                    status: e.status,
                    message: e.message,
                };
                state.failure = Some((attempt, error.clone()));
                Err(error)
            }
        }
    }

    /// In sealed mode, makes sure the slot has a placeholder and that it maps to `bearer`.
    /// Callers that mint hold the slot's lock, so an older bearer never overwrites a newer one.
    /// Makes `bearer` (of `generation`) what the slot's placeholder stands for.
    fn publish(
        &self,
        slot: &Slot,
        bearer: &Secret,
        generation: u64,
    ) -> Result<(), CredentialError> {
        if !self.sealed {
            return Ok(());
        }
        let placeholder = match slot.placeholder.get() {
            Some(placeholder) => placeholder,
            None => {
                let fresh = new_placeholder()?;
                slot.placeholder.get_or_init(|| fresh)
            }
        };
        let mut map = self
            .placeholders
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let known = map.get(placeholder).is_some_and(|published| {
            published.bearer.expose() == bearer.expose() && published.sent.generation == generation
        });
        if !known {
            let sent = Sent {
                generation,
                refused: slot.refused.clone(),
            };
            map.insert(
                placeholder.clone(),
                Published {
                    bearer: bearer.clone(),
                    sent,
                },
            );
        }
        Ok(())
    }
}

fn kind_index(kind: CredentialKind) -> usize {
    match kind {
        CredentialKind::Hub => 0,
        CredentialKind::Scim => 1,
    }
}

/// 128 bits from the OS CSPRNG: a placeholder cannot be guessed, and one seen elsewhere (a log,
/// another host) is worth nothing.
fn new_placeholder() -> Result<String, CredentialError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| CredentialError::Random(e.to_string()))?;
    let mut text = String::with_capacity(PLACEHOLDER_PREFIX.len() + 32);
    text.push_str(PLACEHOLDER_PREFIX);
    for byte in bytes {
        text.push_str(&format!("{byte:02x}"));
    }
    Ok(text)
}

/// When to stop using a freshly minted bearer: `REFRESH_MARGIN_SECS` before its `exp`, or after
/// `DEFAULT_LIFETIME` when it has none. A bearer already inside the margin is used once and not
/// cached.
fn cache_deadline(bearer: &Secret) -> Instant {
    match jwt::expiry(bearer.expose()) {
        Some(exp) => deadline_at(exp),
        None => Instant::now() + DEFAULT_LIFETIME,
    }
}

/// When to stop using a bearer whose `exp` is `exp`: `REFRESH_MARGIN_SECS` before it, and at
/// most `MAX_LIFETIME` from now.
fn deadline_at(exp: i64) -> Instant {
    let left = exp
        .saturating_sub(token_cache::now_unix())
        .saturating_sub(REFRESH_MARGIN_SECS);
    Instant::now() + Duration::from_secs(left.max(0) as u64).min(MAX_LIFETIME)
}
