//! The `wasi:http` send hook: every request the component makes passes through here.
//!
//! In order: the destination must be on the allow-list, and in read-only mode the request must
//! be a catalog read by its method and path (else `HttpRequestDenied`, before any connection:
//! this holds for every entry point, typed exports included); the request waits for its turn
//! under the Hub's rate limit ([`crate::pacing`]), or is answered 429 here if its turn would
//! come after the call's deadline; a sealed placeholder in `Authorization` is swapped for the
//! real bearer (only here, and only on requests to the base URL's origin, where it was
//! minted); the request goes out on the shared keep-alive pool; the response body is streamed
//! back under the size cap and the between-bytes timeout. If a bearer was swapped in, the
//! answer comes back with every echo of it turned into the placeholder again
//! ([`crate::scrub`]), and still under the size cap.
//!
//! Redirects are never followed here: a 3xx goes back to the guest as it is, so nothing (least
//! of all a credential) is sent to wherever it points.

use crate::credentials::Broker;
use crate::http_client::{HttpClient, HttpError};
use crate::pacing::{BudgetKey, Permit, RateBudget, Refusal};
use crate::policy::{Origin, Policy};
use crate::scrub::{ScrubbedBody, Swap};
use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Shared by every call of one host: the policy, the connection pool and the broker.
#[derive(Clone)]
pub struct HubHooks {
    pub(crate) policy: Arc<Policy>,
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
    /// When the current call must be over; pacing does not wait past it. `None` (an instance
    /// made for typed calls) allows the policy's call timeout from each request.
    pub(crate) deadline: Option<Instant>,
    /// Task handles for responses sent inside the host call ([`crate::outgoing`]).
    pub(crate) idle_tasks: Arc<crate::outgoing::IdleTasks>,
}

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for HubHooks {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> Box<dyn Future<Output = Result<(Response<WasiBody>, IoFuture), Error>> + Send> {
        let hooks = self.clone();
        Box::new(async move {
            if hooks.wasmtime_sender {
                return hooks.send_with_wasmtime(request).await;
            }
            let response = hooks.send(request).await?;
            let done: IoFuture = Box::new(async { Ok(()) });
            Ok((response, done))
        })
    }
}

impl HubHooks {
    /// The same policy, but wasmtime's default sender: the baseline the benchmark compares with.
    async fn send_with_wasmtime(
        &self,
        request: Request<WasiBody>,
    ) -> Result<(Response<WasiBody>, IoFuture), Error> {
        let permit = match self
            .admit(request.method(), request.uri(), request.headers())
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
        Ok(self.pace(authority.as_str(), headers).await)
    }

    /// Waits for the request's turn under the rate limit of its authority and credential.
    async fn pace(&self, authority: &str, headers: &HeaderMap) -> Result<Permit, Refusal> {
        // Keyed on the header as the guest sent it: in sealed mode the account's placeholder,
        // which stays the same when the bearer behind it is re-minted.
        let key = BudgetKey::new(
            authority,
            headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
        );
        let give_up_at = self
            .deadline
            .unwrap_or_else(|| Instant::now() + self.policy.timeouts.call);
        self.budget.acquire(key, give_up_at).await
    }

    pub(crate) async fn send(
        &self,
        request: Request<WasiBody>,
    ) -> Result<Response<WasiBody>, Error> {
        let permit = match self
            .admit(request.method(), request.uri(), request.headers())
            .await?
        {
            Ok(permit) => permit,
            Err(refusal) => return Ok(refusal.response()),
        };

        let (mut parts, body) = request.into_parts();
        let mut swap = None;
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
            && let Some(real) = self.broker.unseal(value)
        {
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
        // here cost a timer registration per request, and each one that lands before the
        // runtime's next wake-up makes tokio wake the worker parked on the driver.
        let response = self.client.send(request).await.map_err(error_code)?;
        let (mut parts, incoming) = response.into_parts();
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

/// The wasi-http error the guest should see for a failed exchange. The pool reports connect
/// failures as text, so the common causes are recognised by their wording.
fn error_code(e: HttpError) -> Error {
    match e {
        HttpError::Timeout(_) => Error::HttpResponseTimeout,
        HttpError::Connect(message) => {
            let m = message.to_ascii_lowercase();
            if m.contains("timed out") || m.contains("timeout") {
                Error::ConnectionTimeout
            } else if m.contains("dns") || m.contains("resolve") || m.contains("lookup") {
                Error::DnsError {
                    rcode: Some("lookup failed".into()),
                    info_code: None,
                }
            } else if m.contains("certificate") || m.contains("tls") || m.contains("handshake") {
                Error::TlsProtocolError
            } else {
                Error::ConnectionRefused
            }
        }
        HttpError::Request(message) => {
            let m = message.to_ascii_lowercase();
            if m.contains("closed")
                || m.contains("reset")
                || m.contains("incomplete")
                || m.contains("eof")
            {
                Error::ConnectionTerminated
            } else {
                Error::HttpProtocolError
            }
        }
        HttpError::BodyTooLarge { limit } => Error::HttpResponseBodySize(Some(limit as u64)),
        HttpError::InvalidRequest(_) => Error::HttpRequestUriInvalid,
        HttpError::Tls(_) => Error::TlsProtocolError,
        HttpError::Body(_) => Error::HttpResponseIncomplete,
    }
}

/// A response body that stops at `limit` bytes and when the server pauses longer than
/// `between_bytes`, with errors the guest maps to `body-too-large` and `timeout`.
///
/// The pause timer is set only when a read has to wait, from that moment: a body that is
/// already there (most Hub answers arrive with their head) never touches tokio's timer wheel,
/// where each registration can wake the runtime's other worker.
struct GuardedBody {
    inner: crate::http_client::ResponseBody,
    limit: u64,
    seen: u64,
    between_bytes: Duration,
    /// Made at the first wait, reset at each later one.
    stall: Option<Pin<Box<Sleep>>>,
    /// Whether `stall` is set for the current wait (no frame since it was).
    waiting: bool,
}

impl GuardedBody {
    fn new(
        inner: crate::http_client::ResponseBody,
        limit: u64,
        between_bytes: Duration,
    ) -> GuardedBody {
        GuardedBody {
            inner,
            limit,
            seen: 0,
            between_bytes,
            stall: None,
            waiting: false,
        }
    }

    /// The timer of the current wait, set now if the wait starts now.
    fn stall_timer(&mut self) -> Pin<&mut Sleep> {
        let starts_now = !std::mem::replace(&mut self.waiting, true);
        let between_bytes = self.between_bytes;
        let timer = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(between_bytes)));
        if starts_now {
            timer.as_mut().reset(Instant::now() + between_bytes);
        }
        timer.as_mut()
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                ready!(this.stall_timer().poll(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(if e.is_incomplete_message() {
                Error::HttpResponseIncomplete
            } else {
                Error::ConnectionTerminated
            }))),
            Poll::Ready(Some(Ok(frame))) => {
                this.waiting = false;
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if this.seen > this.limit {
                        return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(
                            this.limit,
                        )))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
