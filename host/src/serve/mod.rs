//! `dockhand serve`: one long-running endpoint for a team's agents and scripts, holding the
//! credentials, one connection pool and one rate-limit budget per Hub account.
//!
//! Routes:
//! - `POST /mcp`: MCP over Streamable HTTP, the same tools as `dockhand mcp` ([`mcp`]);
//! - `GET /v1/operations`, `GET /v1/docs[/{topic}]`, `POST /v1/call/{operation}`: the JSON API
//!   ([`api`]);
//! - `GET /healthz`, and `GET /metrics` in Prometheus' text format ([`metrics`]).
//!
//! Who may call: every route but `/healthz` wants `Authorization: Bearer <client token>`, a
//! token of the client's own from config.yaml's `serve.clients` (never a Hub credential); each
//! client is bound to one Hub account and is read-only unless `allow_write`. No configured
//! client: the server must listen on loopback, and every local caller is one implicit client.
//! A request without a valid token is answered 401 before anything reaches the Hub.
//!
//! Behaving like a server: at most `max_in_flight` calls run at once and `max_queued` wait; past
//! that a call is answered 503 with `Retry-After`. Request bodies over `max_body_bytes` are 413;
//! headers are bounded by hyper's limits. Every call keeps the host's deadline, egress and pacing.
//! Shutdown stops accepting, lets in-flight calls finish for up to `grace`, then ends.

mod api;
mod auth;
mod mcp;
mod metrics;
mod tls;

pub use tls::server_config as tls_config;

use crate::credentials::ServeClient;
use crate::mcp::{McpOptions, McpServer, ToolObserver};
use crate::{CallError, Dockhand};
use auth::Clients;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use metrics::Metrics;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// The body every route answers with.
type Body = UnsyncBoxBody<Bytes, Infallible>;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The clients allowed to call; none means loopback only, with one implicit local client.
    pub clients: Vec<ServeClient>,
    /// For the implicit local client (no clients configured): may it write?
    pub local_allow_write: bool,
    /// Calls running at once.
    pub max_in_flight: usize,
    /// Calls waiting for a slot; one more is answered 503.
    pub max_queued: usize,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// Client connections open at once; past it the server accepts no more until one closes
    /// (they wait in the kernel's backlog), so idle connections cannot exhaust its memory or
    /// file descriptors.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight calls.
    pub grace: Duration,
    /// Log one line per call on stderr.
    pub log: bool,
    /// Serve HTTPS with this configuration ([`tls_config`]); plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            clients: Vec::new(),
            local_allow_write: false,
            max_in_flight: 64,
            max_queued: 256,
            max_body_bytes: 1024 * 1024,
            max_connections: 1024,
            grace: Duration::from_secs(10),
            log: true,
            tls: None,
        }
    }
}

/// Why the server would not start.
#[derive(Debug)]
pub enum ServeError {
    /// The address is not allowed with this configuration.
    Refused(String),
    /// Binding or accepting failed.
    Io(std::io::Error),
    /// The catalog could not be read (the component would not load).
    Host(CallError),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Refused(why) => f.write_str(why),
            ServeError::Io(e) => write!(f, "serving: {e}"),
            ServeError::Host(e) => write!(f, "loading the component: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Refuses an address the configuration does not allow: a non-loopback one needs configured
/// clients (the alternative is an open Hub proxy with the server's credentials) and TLS, or an
/// explicit `insecure_http` (a client token would cross the network in the clear).
pub fn check_addr(
    addr: SocketAddr,
    clients: usize,
    tls: bool,
    insecure_http: bool,
) -> Result<(), ServeError> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if clients == 0 {
        return Err(ServeError::Refused(format!(
            "{addr} is not a loopback address: listening beyond this machine needs clients with \
             their own tokens (serve.clients in config.yaml)"
        )));
    }
    if !tls && !insecure_http {
        return Err(ServeError::Refused(format!(
            "{addr} is not a loopback address and clients' tokens would cross the network in \
             plain HTTP: give --tls-cert and --tls-key, or --insecure-http behind a \
             TLS-terminating proxy"
        )));
    }
    Ok(())
}

/// What every connection shares.
struct State {
    hub: Arc<Dockhand>,
    clients: Clients,
    options: ServeOptions,
    metrics: Arc<Metrics>,
    slots: Semaphore,
    queued: AtomicUsize,
    /// One MCP endpoint per client, so that each serves with its client's account and rights.
    mcp: HashMap<String, mcp::Endpoint>,
}

/// Reports MCP tool calls to the metrics and the log.
struct McpObserver {
    client: String,
    metrics: Arc<Metrics>,
    log: bool,
}

impl ToolObserver for McpObserver {
    fn observed(&self, tool: &str, outcome: &str, took: Duration) {
        self.metrics.call("mcp", tool, outcome, took);
        if self.log {
            log_call(&self.client, "mcp", tool, outcome, None, took);
        }
    }
}

/// One line per call, on stderr: who, what, how it ended, how long. Never a token: the client
/// is named by its name in config.yaml.
fn log_call(
    client: &str,
    surface: &str,
    operation: &str,
    outcome: &str,
    status: Option<u16>,
    took: Duration,
) {
    use std::io::Write as _;
    let status = status.map_or(String::new(), |s| format!(" status={s}"));
    // Not `eprintln!`, which panics when stderr is gone (a closed pipe): losing a log line
    // must not lose the answer.
    let _ = writeln!(
        std::io::stderr().lock(),
        "dockhand serve: client={client} surface={surface} operation={operation} \
         outcome={outcome}{status} ms={:.1}",
        took.as_secs_f64() * 1000.0
    );
}

/// A running server: its address, and how to stop it.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts serving on `listener` (already bound: the caller chose the address and checked
    /// it with [`check_addr`]).
    pub async fn start(
        hub: Arc<Dockhand>,
        options: ServeOptions,
        listener: TcpListener,
    ) -> Result<Server, ServeError> {
        let addr = listener.local_addr().map_err(ServeError::Io)?;
        let clients = Clients::new(&options.clients, options.local_allow_write);
        let metrics = Arc::new(Metrics::default());
        let mut mcp = HashMap::new();
        for client in clients.all() {
            let server = McpServer::new(
                hub.clone(),
                McpOptions {
                    allow_write: client.allow_write,
                    account: client.account.clone(),
                },
            )
            .await
            .map_err(ServeError::Host)?
            .with_observer(Arc::new(McpObserver {
                client: client.name.clone(),
                metrics: metrics.clone(),
                log: options.log,
            }));
            let service = mcp::Endpoint::new(server, clients.is_local(), options.max_body_bytes);
            mcp.insert(client.name.clone(), service);
        }
        let state = Arc::new(State {
            hub,
            slots: Semaphore::new(options.max_in_flight.max(1)),
            queued: AtomicUsize::new(0),
            clients,
            options,
            metrics,
            mcp,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, state, stopped));
        Ok(Server { addr, stop, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight calls finish (up to the grace period), and returns when
    /// every connection is closed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    let cap = state.options.max_connections.max(1);
    loop {
        let room = connections.len() < cap;
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept(), if room => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, say: waiting beats spinning on the error.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                state.metrics.connections.fetch_add(1, Ordering::Relaxed);
                let state = state.clone();
                let mut stopped = stopped.clone();
                let tls = state.options.tls.clone();
                connections.spawn(async move {
                    match tls {
                        Some(config) => {
                            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
                            // A client that never finishes its handshake does not hold a task.
                            if let Ok(Ok(stream)) =
                                tokio::time::timeout(Duration::from_secs(10), handshake).await
                            {
                                serve_connection(state, stream, &mut stopped).await;
                            }
                        }
                        None => serve_connection(state, stream, &mut stopped).await,
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let grace = state.options.grace;
    let finished = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, finished).await.is_err() {
        connections.abort_all();
    }
}

/// Serves one connection's requests until it closes, or, once `stopped` changes, until the
/// exchange in progress is done.
async fn serve_connection<S>(state: Arc<State>, stream: S, stopped: &mut watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(route(&state, request).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .max_headers(64)
        .header_read_timeout(Duration::from_secs(10))
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = &mut connection => {}
        _ = stopped.changed() => {
            // Finish the exchange in progress, then close.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed_unsync());
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    respond(status, "application/json", value.to_string())
}

/// A refusal in the error shape every surface uses.
fn refusal(status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    json_response(status, &dockhand_api::refusal(kind, message))
}

async fn route(state: &Arc<State>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    if path == "/healthz" && request.method() == Method::GET {
        return json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}));
    }
    if state.clients.is_local()
        && let Some(why) = browser_request(request.headers())
    {
        return refusal(StatusCode::FORBIDDEN, "denied", why);
    }
    let Some(client) = state.clients.authenticate(request.headers()) else {
        state
            .metrics
            .rejected_unauthenticated
            .fetch_add(1, Ordering::Relaxed);
        let mut response = refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            dockhand_api::NEEDS_CLIENT_TOKEN,
        );
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
        return response;
    };
    match (request.method(), path.as_str()) {
        (&Method::GET, "/metrics") => respond(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            state.metrics.render(),
        ),
        (_, "/mcp") => {
            let Some(_slot) = admit(state).await else {
                return busy(state);
            };
            match state.mcp.get(&client.name) {
                Some(endpoint) => endpoint.handle(request).await,
                None => refusal(StatusCode::INTERNAL_SERVER_ERROR, "host", "no MCP service"),
            }
        }
        (&Method::GET, "/v1/operations") => api::operations(state).await,
        (&Method::GET, p) if p == "/v1/docs" || p.starts_with("/v1/docs/") => {
            // Each answer is made by a component instance: it takes a slot like a call.
            let Some(_slot) = admit(state).await else {
                return busy(state);
            };
            api::docs(state, p.strip_prefix("/v1/docs/")).await
        }
        (&Method::POST, p) if p.starts_with("/v1/call/") => {
            let Some(_slot) = admit(state).await else {
                return busy(state);
            };
            api::call(state, client, request).await
        }
        _ => refusal(
            StatusCode::NOT_FOUND,
            "not-found",
            &dockhand_api::no_such_route(true),
        ),
    }
}

/// Why a request to a server without clients looks like a web page's, which must not reach a
/// server that trusts every local caller: a page can make a browser send a request to
/// `127.0.0.1` (with an `Origin`), or to a name it rebinds to it (with its own `Host`).
fn browser_request(headers: &http::HeaderMap) -> Option<&'static str> {
    if headers.contains_key(http::header::ORIGIN) {
        return Some(
            "requests from web pages (with an Origin header) are refused by a server without clients",
        );
    }
    let host = headers.get(http::header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let loopback = matches!(name, "localhost" | "[::1]")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then_some(
        "a server without clients answers only requests addressed to a loopback host \
         (127.0.0.1, localhost, [::1])",
    )
}

/// A slot to run a call in, waiting in the queue if every slot is taken; `None` when the queue
/// is full too.
async fn admit(state: &State) -> Option<InFlight<'_>> {
    let permit = match state.slots.try_acquire() {
        Ok(permit) => permit,
        Err(_) => {
            // Counted out when this future ends, however it ends: a client that gives up while
            // queued (its request future dropped) must not keep a queue place forever.
            let place = Queued::enter(&state.queued);
            if place.ahead >= state.options.max_queued {
                return None;
            }
            let permit = state.slots.acquire().await;
            drop(place);
            permit.ok()?
        }
    };
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    Some(InFlight {
        _permit: permit,
        metrics: &state.metrics,
    })
}

/// A place in the queue, given back when dropped.
struct Queued<'a> {
    count: &'a AtomicUsize,
    /// How many were queued before this one.
    ahead: usize,
}

impl<'a> Queued<'a> {
    fn enter(count: &'a AtomicUsize) -> Queued<'a> {
        let ahead = count.fetch_add(1, Ordering::SeqCst);
        Queued { count, ahead }
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A call's slot, given back (and the in-flight gauge lowered) when dropped.
struct InFlight<'a> {
    _permit: tokio::sync::SemaphorePermit<'a>,
    metrics: &'a Metrics,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn busy(state: &State) -> Response<Body> {
    state.metrics.rejected_busy.fetch_add(1, Ordering::Relaxed);
    let mut response = refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "every call slot is taken and the queue is full; try again shortly",
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    response
}
