//! Keep-alive connections: HTTP/1.1 ones handed back by the response body the moment it ends,
//! and one shared HTTP/2 connection per origin where TLS negotiated it.
//!
//! hyper-util's legacy pool takes a connection back from a task it spawns per response, and a
//! request that starts before that task has run dials a second connection: on a multi-threaded
//! runtime, sequential calls through the component opened two connections where one would do
//! (seen in CI). Here the body returns its connection when it reads its last frame, and a checkout
//! waits for a returned connection to finish the exchange it was in instead of dialling, so
//! requests made one after another share one connection every time.
//!
//! An HTTP/2 connection carries any number of requests at once, so it is not checked out: every
//! request to its origin clones its sender while it is open. Parallel pages then share one TLS
//! handshake instead of paying one per connection (BENCHMARKS.md, 2026-12-06). Two requests that
//! both find no connection both dial; the pool keeps the newer, and the other finishes its
//! request and closes. A caller avoids that by sending one request before a burst, as
//! pagination does with its first page.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::failure::Resolver;
use tower_service::Service;

use super::HttpError;

type Sender = http1::SendRequest<Full<Bytes>>;
type SharedSender = http2::SendRequest<Full<Bytes>>;

/// A connection ready for one request.
enum Checkout {
    /// An HTTP/1.1 connection, this request's alone until its answer has been read.
    Http1(Sender),
    /// A handle on the origin's HTTP/2 connection.
    Http2(SharedSender),
}

/// Connections are shared only between requests to the same scheme and authority.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    scheme: Scheme,
    authority: Authority,
}

struct IdleConnection {
    sender: Sender,
    since: Instant,
}

/// A connection handed back by a finished exchange has normally settled within microseconds;
/// one that has not by then is stuck, and a fresh connection is the better bet.
const SETTLE_LIMIT: Duration = Duration::from_secs(1);

pub(super) struct Pool {
    connector: HttpsConnector<HttpConnector<Resolver>>,
    idle: Mutex<HashMap<PoolKey, Vec<IdleConnection>>>,
    shared: Mutex<HashMap<PoolKey, SharedSender>>,
    idle_timeout: Duration,
    max_idle_per_host: usize,
}

impl Pool {
    pub(super) fn new(
        connector: HttpsConnector<HttpConnector<Resolver>>,
        idle_timeout: Duration,
        max_idle_per_host: usize,
    ) -> Pool {
        Pool {
            connector,
            idle: Mutex::new(HashMap::new()),
            shared: Mutex::new(HashMap::new()),
            idle_timeout,
            max_idle_per_host,
        }
    }

    /// Sends `req` (absolute URI, checked by the caller) on a pooled connection or a new one.
    pub(super) async fn send(
        self: &Arc<Self>,
        req: Request<Full<Bytes>>,
    ) -> Result<Response<ResponseBody>, HttpError> {
        let key = PoolKey {
            scheme: req.uri().scheme().cloned().unwrap_or(Scheme::HTTPS),
            authority: req
                .uri()
                .authority()
                .cloned()
                .ok_or_else(|| HttpError::InvalidRequest("URL has no host".into()))?,
        };
        let mut req = req;
        let mut http2_attempts = 0;
        loop {
            let (checkout, reused) = self.checkout(&key).await?;
            let mut sender = match checkout {
                Checkout::Http2(sender) => {
                    http2_attempts += 1;
                    match self.send_http2(sender, &key, req).await? {
                        Ok(response) => return Ok(response),
                        Err(unsent) if http2_attempts < 2 => {
                            req = unsent;
                            continue;
                        }
                        Err(_) => {
                            return Err(HttpError::request(
                                "the HTTP/2 connection closed before the request was sent",
                            ));
                        }
                    }
                }
                Checkout::Http1(sender) => sender,
            };
            let origin_form = into_origin_form(req, &key);
            // A server may close an idle connection just as it is picked. Unwritten, the request
            // comes back and goes again; written into a socket already closing, it can go again
            // only if sending it twice is harmless.
            let again = (reused && is_idempotent(origin_form.method())).then(|| copy(&origin_form));
            match sender.try_send_request(origin_form).await {
                Ok(response) => {
                    let lease = Lease {
                        pool: Arc::clone(self),
                        key,
                        sender,
                    };
                    return Ok(response.map(|body| ResponseBody::new(body, Some(lease))));
                }
                Err(mut failed) => match (failed.take_message(), again) {
                    (Some(unsent), _) if reused => req = absolute_form(unsent, &key),
                    (None, Some(copy)) if closed_before_answering(failed.error()) => {
                        req = absolute_form(copy, &key)
                    }
                    _ => return Err(HttpError::request(failed.into_error())),
                },
            }
        }
    }

    /// Sends on the origin's HTTP/2 connection; a request the connection gave back unsent (it
    /// was going away) comes back as `Err`, to go again on another connection. HTTP/2 tells
    /// which requests were never processed, so nothing is sent twice.
    async fn send_http2(
        self: &Arc<Self>,
        mut sender: SharedSender,
        key: &PoolKey,
        req: Request<Full<Bytes>>,
    ) -> Result<Result<Response<ResponseBody>, Request<Full<Bytes>>>, HttpError> {
        match sender.try_send_request(req).await {
            Ok(response) => Ok(Ok(response.map(|body| ResponseBody::new(body, None)))),
            Err(mut failed) => {
                self.forget_shared(key, &sender);
                match failed.take_message() {
                    Some(unsent) => Ok(Err(unsent)),
                    None => Err(HttpError::request(failed.into_error())),
                }
            }
        }
    }

    /// The origin's HTTP/2 connection, an idle HTTP/1.1 connection for `key` that is ready for a
    /// request, or a new connection; `true` when it was reused.
    async fn checkout(&self, key: &PoolKey) -> Result<(Checkout, bool), HttpError> {
        if let Some(sender) = self.shared_sender(key) {
            return Ok((Checkout::Http2(sender), true));
        }
        while let Some(mut sender) = self.take_idle(key) {
            if sender.is_ready() {
                return Ok((Checkout::Http1(sender), true));
            }
            if let Ok(Ok(())) = tokio::time::timeout(SETTLE_LIMIT, sender.ready()).await {
                return Ok((Checkout::Http1(sender), true));
            }
        }
        Ok((self.connect(key).await?, false))
    }

    fn shared_sender(&self, key: &PoolKey) -> Option<SharedSender> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        match shared.get(key) {
            Some(sender) if !sender.is_closed() => Some(sender.clone()),
            Some(_) => {
                shared.remove(key);
                None
            }
            None => None,
        }
    }

    /// Drops `sender`'s connection from the pool unless another has replaced it already.
    fn forget_shared(&self, key: &PoolKey, sender: &SharedSender) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if shared
            .get(key)
            .is_some_and(|kept| kept.is_closed() || sender.is_closed())
        {
            shared.remove(key);
        }
    }

    /// The most recently returned live connection for `key`: the one most likely to still be
    /// open at the server.
    fn take_idle(&self, key: &PoolKey) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop() {
            if entry.since.elapsed() < self.idle_timeout && !entry.sender.is_closed() {
                return Some(entry.sender);
            }
        }
        None
    }

    fn give_back(&self, key: PoolKey, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.entry(key).or_default();
        list.retain(|entry| entry.since.elapsed() < self.idle_timeout && !entry.sender.is_closed());
        if list.len() < self.max_idle_per_host {
            list.push(IdleConnection {
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self, key: &PoolKey) -> Result<Checkout, HttpError> {
        let target = Uri::builder()
            .scheme(key.scheme.clone())
            .authority(key.authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
        // The connector is always ready: it holds no per-connection state.
        let io = self
            .connector
            .clone()
            .call(target)
            .await
            .map_err(HttpError::connect)?;
        if io.connected().is_negotiated_h2() {
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(io)
                .await
                .map_err(HttpError::connect)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key.clone(), sender.clone());
            return Ok(Checkout::Http2(sender));
        }
        let (sender, connection) = http1::handshake(io).await.map_err(HttpError::connect)?;
        // The connection's errors reach the caller through the sender and the body.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Checkout::Http1(sender))
    }
}

/// Methods whose repetition the server must treat as one request (RFC 9110, 9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

fn copy(req: &Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let mut copy = Request::new(req.body().clone());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    copy
}

/// The connection ended before any of the answer arrived: what a keep-alive connection the
/// server has just closed looks like.
fn closed_before_answering(error: &hyper::Error) -> bool {
    if error.is_incomplete_message() || error.is_closed() || error.is_canceled() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            );
        }
        source = cause.source();
    }
    false
}

/// Back from origin form, for a request that goes again, perhaps over HTTP/2, which carries the
/// scheme and authority in the request itself.
fn absolute_form(req: Request<Full<Bytes>>, key: &PoolKey) -> Request<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    if let Ok(uri) = Uri::builder()
        .scheme(key.scheme.clone())
        .authority(key.authority.clone())
        .path_and_query(path)
        .build()
    {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}

/// The request line of a direct (not proxied) HTTP/1.1 request carries only the path and query;
/// the authority moves to `Host` unless the caller set one.
fn into_origin_form(req: Request<Full<Bytes>>, key: &PoolKey) -> Request<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    if !parts.headers.contains_key(HOST) {
        let default_port = if key.scheme == Scheme::HTTPS { 443 } else { 80 };
        let host = match key.authority.port_u16() {
            Some(port) if port != default_port => key.authority.as_str(),
            _ => key.authority.host(),
        };
        if let Ok(value) = HeaderValue::from_str(host) {
            parts.headers.insert(HOST, value);
        }
    }
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    parts.uri = Uri::from(path);
    Request::from_parts(parts, body)
}

/// Holds a connection while its response body is being read.
struct Lease {
    pool: Arc<Pool>,
    key: PoolKey,
    sender: Sender,
}

/// A response body that returns its connection to the pool when it has been read to the end.
/// Dropped before the end, it takes the connection with it: HTTP/1.1 cannot skip the rest.
pub struct ResponseBody {
    inner: Incoming,
    lease: Option<Lease>,
}

impl ResponseBody {
    /// `lease` is the HTTP/1.1 connection to hand back; HTTP/2 answers hold none.
    fn new(inner: Incoming, lease: Option<Lease>) -> ResponseBody {
        let mut body = ResponseBody { inner, lease };
        // A HEAD answer or an empty body may never be polled.
        if body.inner.is_end_stream() {
            body.release();
        }
        body
    }

    fn release(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.pool.give_back(lease.key, lease.sender);
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            Some(Err(_)) => self.lease = None,
            None => self.release(),
            Some(Ok(_)) if self.inner.is_end_stream() => self.release(),
            Some(Ok(_)) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // A reader may stop after the last data frame without asking for the end.
        if self.inner.is_end_stream() {
            self.release();
        }
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("end_stream", &self.inner.is_end_stream())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scheme: Scheme, authority: &str) -> PoolKey {
        PoolKey {
            scheme,
            authority: authority.parse().unwrap(),
        }
    }

    fn request(uri: &str) -> Request<Full<Bytes>> {
        Request::get(uri).body(Full::new(Bytes::new())).unwrap()
    }

    #[test]
    fn origin_form_keeps_path_and_query_and_moves_the_authority_to_host() {
        let req = into_origin_form(
            request("http://127.0.0.1:8080/v2/x?page=2"),
            &key(Scheme::HTTP, "127.0.0.1:8080"),
        );
        assert_eq!(req.uri().to_string(), "/v2/x?page=2");
        assert_eq!(req.headers()[HOST], "127.0.0.1:8080");
    }

    #[test]
    fn host_leaves_out_the_default_port_and_keeps_a_callers_host() {
        let req = into_origin_form(
            request("https://hub.docker.com:443/v2/"),
            &key(Scheme::HTTPS, "hub.docker.com:443"),
        );
        assert_eq!(req.headers()[HOST], "hub.docker.com");

        let mut with_host = request("http://127.0.0.1:9/");
        with_host
            .headers_mut()
            .insert(HOST, HeaderValue::from_static("example.test"));
        let req = into_origin_form(with_host, &key(Scheme::HTTP, "127.0.0.1:9"));
        assert_eq!(req.headers()[HOST], "example.test");
        assert_eq!(req.uri().to_string(), "/");
    }
}
