//! The running mock: its shared state, and the `MockHub` handle tests hold.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth;
use crate::clock;
use crate::config::{MockConfig, NOMINAL_RATE_LIMIT, RateLimit, check_listen_addr};
use crate::faults::{Fault, FaultKind, FaultQueue};
use crate::handlers;
use crate::http::{Reply, Request};
use crate::ratelimit::{RateStatus, RateWindow};
use crate::record::{RecordedAnswer, RecordedRequest, RequestLog};
use crate::server;
use crate::state::HubState;
use crate::tls::{self, Tls};

/// A handler that panicked must not take the whole mock down with a poisoned lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct Shared {
    state: Mutex<HubState>,
    requests: Mutex<RequestLog>,
    faults: Mutex<FaultQueue>,
    rate: Mutex<(Option<RateLimit>, RateWindow)>,
    connections: AtomicU64,
    /// Requests being answered now, and the most there have been at once.
    pub(crate) in_flight: AtomicU64,
    pub(crate) most_in_flight: AtomicU64,
    pub(crate) addr: SocketAddr,
    pub(crate) max_request_body: usize,
    pub(crate) latency: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) connection_latency: Duration,
    pub(crate) tls: Option<Tls>,
}

impl Shared {
    /// Logs a request as it arrives; the number is for [`Self::record_answer`].
    pub(crate) fn record(&self, request: RecordedRequest) -> u64 {
        lock(&self.requests).push(request)
    }

    /// Adds the route's answer to a logged request.
    pub(crate) fn record_answer(&self, id: u64, answer: RecordedAnswer) {
        lock(&self.requests).answer(id, answer);
    }

    pub(crate) fn count_request(&self) -> RateStatus {
        let mut rate = lock(&self.rate);
        let (limit, window) = &mut *rate;
        match limit {
            Some(limit) => window.hit(*limit, true),
            None => window.hit(NOMINAL_RATE_LIMIT, false),
        }
    }

    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<FaultKind> {
        lock(&self.faults).take(method, path)
    }

    pub(crate) fn answer(&self, request: &Request) -> Reply {
        handlers::handle(&mut lock(&self.state), request)
    }

    pub(crate) fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }
}

/// A mock Docker Hub serving on loopback until it is shut down or dropped.
pub struct MockHub {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl MockHub {
    /// Binds `config.addr` and starts serving. Fails on a bind error, an inconsistent seed, or a
    /// non-loopback address without [`MockConfig::public`] (see [`check_listen_addr`]).
    pub async fn start(config: MockConfig) -> io::Result<MockHub> {
        check_listen_addr(config.addr, config.public)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let state = HubState::from_config(&config)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = if config.tls {
            Some(tls::self_signed()?)
        } else {
            None
        };
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            requests: Mutex::new(RequestLog::new(
                config.request_log_limit,
                config.request_log_bytes,
            )),
            faults: Mutex::new(FaultQueue::default()),
            rate: Mutex::new((config.rate_limit, RateWindow::new())),
            connections: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            most_in_flight: AtomicU64::new(0),
            addr,
            max_request_body: config.max_request_body,
            latency: config.latency,
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            connection_latency: config.connection_latency,
            tls,
        });
        let (shutdown, watcher) = watch::channel(false);
        let task = tokio::spawn(server::accept_loop(listener, shared.clone(), watcher));
        Ok(MockHub {
            shared,
            shutdown,
            task: Some(task),
        })
    }

    /// The address it listens on, with the port it was given if `addr` asked for port 0.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`MockConfig::tls`]), without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.shared.addr)
    }

    /// With [`MockConfig::tls`], the mock's certificate (DER), which a client must add to its
    /// trusted roots; `None` without TLS.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.shared
            .tls
            .as_ref()
            .map(|tls| tls.certificate.as_slice())
    }

    /// The requests received so far, oldest first, faulted ones included; only the newest
    /// [`MockConfig::request_log_limit`] (and [`MockConfig::request_log_bytes`]) are kept.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).snapshot()
    }

    /// How many requests the log has let go of to stay within its limits, since start, so a test
    /// can tell a short log from a truncated one.
    pub fn requests_dropped(&self) -> u64 {
        lock(&self.shared.requests).dropped()
    }

    /// Empties the request log, so that a test sees only the requests that follow;
    /// [`requests_dropped`](Self::requests_dropped) keeps counting.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Queues a fault for the next matching request(s).
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Enforces `limit` from now on (a fresh window), or stops enforcing with `None`.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut rate = lock(&self.shared.rate);
        rate.0 = limit;
        rate.1.reset();
    }

    /// The most requests the mock was answering at one time since start (a request counts
    /// from its arrival, latency included, until its answer is ready), so that a test can check
    /// a client's concurrency limit.
    pub fn most_in_flight(&self) -> u64 {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }

    /// TCP connections accepted since start.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Simulates `docker push` of `namespace/repository:tag` now: the tag (created if new) gets
    /// a new digest and last-pushed time. False when the repository does not exist.
    pub fn push_tag(&self, namespace: &str, repository: &str, tag: &str) -> bool {
        lock(&self.shared.state).push_tag(namespace, repository, tag, clock::now())
    }

    /// Every JWT issued so far is expired from now on (401 on use); new ones are fine.
    pub fn expire_tokens(&self) {
        auth::expire_all(&mut lock(&self.shared.state), clock::now());
    }

    /// Stops accepting, drops open connections, and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockHub {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `config` until the process ends; `dockhand mock` runs this. It prints nothing.
pub async fn serve_forever(config: MockConfig) -> io::Result<()> {
    let _hub = MockHub::start(config).await?;
    std::future::pending::<()>().await;
    Ok(())
}
