//! The send path: what happens to every request the component makes, whichever way it reaches
//! the host ([`crate::hooks`] for requests with a body, [`crate::outgoing`] for those without).
//!
//! In order: the destination must be on the allow-list, and in read-only mode the request must
//! be a catalog read by its method and path (else `HttpRequestDenied`, before any connection:
//! this holds for every entry point, typed exports included); the request waits for its turn
//! under the Hub's rate limit ([`pacing`]), or is answered 429 here if its turn would come
//! after the call's deadline; a sealed placeholder in `Authorization` is swapped for the real
//! bearer (only here, and only on requests to the base URL's origin, where it was minted); the
//! request goes out on the shared keep-alive pool; the response body is streamed back under
//! the size cap and the between-bytes timeout ([`body`]). If a bearer was swapped in, the
//! answer comes back with every echo of it turned into the placeholder again ([`scrub`]),
//! still under the size cap.
//!
//! Redirects are never followed here: a 3xx goes back to the guest as it is, so nothing (least
//! of all a credential) is sent to wherever it points.
//!
//! [`Egress`] holds what every call of a host shares; a call adds only its deadline.

mod body;
pub(crate) mod pacing;
mod scrub;

use crate::credentials::Broker;
use crate::http_client::{Failure, HttpClient, HttpError};
use crate::policy::{Origin, Policy};
use body::GuardedBody;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use pacing::{BudgetKey, Permit, RateBudget, Refusal};
use scrub::{ScrubbedBody, Swap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::Instant;
use wasmtime_wasi::runtime::AbortOnDropJoinHandle;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// What the send path of one host shares across its calls: the policy, the connection pool,
/// the broker, the rate-limit budget.
pub(crate) struct Egress {
    pub(crate) policy: Policy,
    pub(crate) client: HttpClient,
    pub(crate) broker: Arc<Broker>,
    /// The base URL's origin, where credentials are minted and the only place a bearer is
    /// attached; `None` when the policy does not allow it (calls then run anonymously).
    pub(crate) secret_origin: Option<Origin>,
    /// Send with wasmtime's own sender (a new connection per request) instead of the pool;
    /// only for measuring what the pool saves.
    pub(crate) wasmtime_sender: bool,
    /// Rate-limit pacing, shared by every call of the host.
    pub(crate) budget: Arc<RateBudget>,
    /// Task handles for responses sent inside the host call ([`crate::outgoing`]).
    pub(crate) idle_tasks: IdleTasks,
}

/// What the wasi-http machinery wants beside a response: the I/O still to be driven.
pub(crate) type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl Egress {
    /// The same policy, but wasmtime's default sender: the baseline the benchmark compares with.
    pub(crate) async fn send_with_wasmtime(
        &self,
        request: Request<WasiBody>,
        deadline: Option<Instant>,
    ) -> Result<(Response<WasiBody>, IoFuture), Error> {
        let permit = match self
            .admit(request.method(), request.uri(), request.headers(), deadline)
            .await?
        {
            Ok(permit) => permit,
            Err(refusal) => return Ok((refusal.response(), Box::new(async { Ok(()) }))),
        };
        let timeouts = self.policy.timeouts;
        let options = RequestOptions {
            connect_timeout: Some(timeouts.connect),
            first_byte_timeout: Some(timeouts.first_byte),
            between_bytes_timeout: Some(timeouts.between_bytes),
        };
        let (response, io) =
            wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
        permit.record(response.headers());
        Ok((response.map(BodyExt::boxed_unsync), Box::new(io)))
    }

    /// The allow-list (an error, before any connection), then the request's turn under the
    /// rate limit: `Ok(Err(refusal))` when that turn would come after the call's deadline.
    async fn admit(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        deadline: Option<Instant>,
    ) -> Result<Result<Permit, Refusal>, Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(Error::HttpRequestUriInvalid);
        };
        if !self.policy.allows(scheme, authority.as_str()) {
            return Err(Error::HttpRequestDenied);
        }
        if self.policy.read_only
            && crate::routes::allowed_read_only(method.as_str(), uri.path()).is_err()
        {
            return Err(Error::HttpRequestDenied);
        }
        Ok(self.pace(authority.as_str(), headers, deadline).await)
    }

    /// Waits for the request's turn under the rate limit of its authority and credential, no
    /// later than `deadline` (a call's end; `None`, an instance made for typed calls, allows
    /// the policy's call timeout from now).
    async fn pace(
        &self,
        authority: &str,
        headers: &HeaderMap,
        deadline: Option<Instant>,
    ) -> Result<Permit, Refusal> {
        // Keyed on the header as the guest sent it: in sealed mode the account's placeholder,
        // which stays the same when the bearer behind it is re-minted.
        let key = BudgetKey::new(
            authority,
            headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
        );
        let give_up_at = deadline.unwrap_or_else(|| Instant::now() + self.policy.timeouts.call);
        self.budget.acquire(key, give_up_at).await
    }

    /// Sends `request` on the pool under the policy, for a call that must end by `deadline`.
    pub(crate) async fn send(
        &self,
        request: Request<WasiBody>,
        deadline: Option<Instant>,
    ) -> Result<Response<WasiBody>, Error> {
        let permit = match self
            .admit(request.method(), request.uri(), request.headers(), deadline)
            .await?
        {
            Ok(permit) => permit,
            Err(refusal) => return Ok(refusal.response()),
        };

        let (mut parts, body) = request.into_parts();
        let mut swap = None;
        let mut sent = None;
        // Only at the base URL's origin: an embedder's policy may allow other origins, and a
        // guest may name any of them in its call options.
        let to_secret_origin = self.secret_origin.as_ref().is_some_and(|origin| {
            let uri = &parts.uri;
            let authority = uri.authority().map_or("", |a| a.as_str());
            origin.matches(uri.scheme_str().unwrap_or(""), authority)
        });
        if to_secret_origin
            && let Some(value) = parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
            && let Some((real, bearer)) = self.broker.unseal_sent(value)
        {
            sent = Some(bearer);
            let mut header = HeaderValue::from_str(real.expose())
                .map_err(|_| Error::InternalError(Some("unusable bearer".into())))?;
            header.set_sensitive(true);
            swap = Swap::new(bearer_token(real.expose()), bearer_token(value));
            parts.headers.insert(AUTHORIZATION, header);
        }
        // Hub request bodies are small JSON documents; buffering them lets the pool reuse
        // one body type for every request.
        let body = body.collect().await?.to_bytes();
        let request = Request::from_parts(parts, Full::new(body));

        let timeouts = self.policy.timeouts;
        // The client enforces the first-byte timeout itself (the host builds it with
        // `response_timeout` = `first_byte`, which token exchanges need as well): a second timer
        // here would cost a timer registration per request, and each one that lands before the
        // runtime's next wake-up makes tokio wake the worker parked on the driver (BENCHMARKS.md,
        // round 5).
        let response = self.client.send(request).await.map_err(error_code)?;
        let (mut parts, incoming) = response.into_parts();
        if parts.status == http::StatusCode::UNAUTHORIZED
            && let Some(sent) = &sent
        {
            // Which bearer was refused, so that the guest's `invalidate` (one per refused
            // request) drops it once, not each replacement after it.
            self.broker.refused(sent);
        }
        // The Hub has counted the request by the time it answers: its place is free again.
        permit.record(&parts.headers);
        drop(permit);
        if let Some(len) = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > self.policy.max_response_bytes
        {
            return Err(Error::HttpResponseBodySize(Some(len)));
        }
        let body = GuardedBody::new(
            incoming,
            self.policy.max_response_bytes,
            timeouts.between_bytes,
        );
        Ok(match swap {
            Some(swap) => {
                swap.headers(&mut parts.headers);
                let limit = self.policy.max_response_bytes;
                let body = ScrubbedBody::new(body, swap, limit, |limit| {
                    Error::HttpResponseBodySize(Some(limit))
                });
                Response::from_parts(parts, body.boxed_unsync())
            }
            None => Response::from_parts(parts, body.boxed_unsync()),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` value.
fn bearer_token(value: &str) -> &str {
    let value = value.trim();
    value
        .split_once(' ')
        .map_or(value, |(_, token)| token.trim())
}

/// The wasi-http error the guest should see for a failed exchange, by the failure's kind as the
/// HTTP client classified it.
fn error_code(e: HttpError) -> Error {
    match e {
        HttpError::Timeout(_) => Error::HttpResponseTimeout,
        HttpError::Connect { failure, .. } => match failure {
            Failure::Dns => Error::DnsError {
                rcode: Some("lookup failed".into()),
                info_code: None,
            },
            Failure::Timeout => Error::ConnectionTimeout,
            Failure::Tls => Error::TlsProtocolError,
            Failure::Closed => Error::ConnectionTerminated,
            // Whatever kept the connection from being made: the destination is unreachable.
            _ => Error::ConnectionRefused,
        },
        HttpError::Request { failure, .. } => match failure {
            Failure::Closed => Error::ConnectionTerminated,
            Failure::Timeout => Error::HttpResponseTimeout,
            Failure::Tls => Error::TlsProtocolError,
            _ => Error::HttpProtocolError,
        },
        HttpError::BodyTooLarge { limit } => Error::HttpResponseBodySize(Some(limit as u64)),
        HttpError::InvalidRequest(_) => Error::HttpRequestUriInvalid,
        HttpError::Tls(_) => Error::TlsProtocolError,
        HttpError::Body(_) => Error::HttpResponseIncomplete,
    }
}

/// Finished tasks for wasi-http to keep beside response bodies sent from here.
///
/// wasi-http wants a task handle with every response, for the task that would be feeding its
/// body; here the body needs none, but a handle exists only for a spawned task. A spawn per
/// call wakes the runtime's other worker, and the two workers then trade the call's I/O
/// between them; spawns made a batch at a time all but end those context switches (figures:
/// BENCHMARKS.md, "Thread hand-offs in wasi-http's `handle`").
#[derive(Default)]
pub(crate) struct IdleTasks {
    spare: Mutex<Vec<AbortOnDropJoinHandle<()>>>,
}

const IDLE_TASK_BATCH: usize = 64;

impl IdleTasks {
    pub(crate) fn take(&self) -> AbortOnDropJoinHandle<()> {
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = spare.pop() {
            return handle;
        }
        spare.extend((1..IDLE_TASK_BATCH).map(|_| wasmtime_wasi::runtime::spawn(async {})));
        wasmtime_wasi::runtime::spawn(async {})
    }
}
