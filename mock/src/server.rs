//! Sockets: the accept loop, one hyper connection task per TCP stream (TLS and HTTP/2 when
//! configured), stalled-connection deadlines, and abrupt resets.
//!
//! Each accepted stream is counted and served by its own `serve_connection` task, so tests can
//! see keep-alive reuse. A connection-reset fault makes the task drop the socket with
//! `SO_LINGER = 0`, which sends a TCP RST instead of an orderly close.
//!
//! A connection is closed when it takes longer than
//! [`MockConfig::header_read_timeout`](crate::MockConfig::header_read_timeout) to send a
//! request's head (counted from when it opens, or from the first byte after an idle spell), or
//! waits longer than [`MockConfig::idle_timeout`](crate::MockConfig::idle_timeout) for its next
//! request. While a request is being answered no deadline runs: answers slowed by faults take as
//! long as the fault says.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::body::MockBody;
use crate::hub::Shared;
use crate::pipeline;

/// Where a connection is in its request cycle, which decides the deadline it is held to.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request's head since the instant given.
    Head(Instant),
    /// A request is being read or answered.
    Busy,
    /// The last answer went out at the instant given; nothing has arrived since.
    Idle(Instant),
}

/// Lets a request ask for its connection to be reset, and tracks the connection's [`Phase`].
#[derive(Debug)]
pub(crate) struct ConnControl {
    reset: AtomicBool,
    notify: Notify,
    phase: Mutex<Phase>,
    /// Wakes [`stalled`] when the phase, and so the deadline, changes.
    phase_changed: Notify,
}

impl ConnControl {
    fn new() -> ConnControl {
        ConnControl {
            reset: AtomicBool::new(false),
            notify: Notify::new(),
            phase: Mutex::new(Phase::Head(Instant::now())),
            phase_changed: Notify::new(),
        }
    }

    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
        // notify_one keeps a permit, so the wake-up is not lost if nobody waits yet.
        self.notify.notify_one();
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set_phase(&self, phase: Phase) {
        *self.phase() = phase;
        // A permit, as for `reset`: a change while `stalled` is not waiting is still seen.
        self.phase_changed.notify_one();
    }

    /// Bytes arrived: after an idle spell they start the next head, and its clock.
    fn bytes_arrived(&self) {
        let mut phase = self.phase();
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
            drop(phase);
            self.phase_changed.notify_one();
        }
    }

    fn request_started(&self) {
        self.set_phase(Phase::Busy);
    }

    fn answer_sent(&self) {
        self.set_phase(Phase::Idle(Instant::now()));
    }

    /// When the connection is to be closed if nothing changes; `None` while it is busy, or when
    /// a timeout is too long to be an instant (`Duration::MAX`, meaning never).
    fn deadline(&self, head: Duration, idle: Duration) -> Option<Instant> {
        match *self.phase() {
            Phase::Head(since) => since.checked_add(head),
            Phase::Busy => None,
            Phase::Idle(since) => since.checked_add(idle),
        }
    }
}

/// Ends when the connection has missed its deadline. It waits on the phase as well as the
/// clock, since a change can bring the deadline nearer (an idle timeout shorter than the head's).
async fn stalled(control: &ConnControl, head: Duration, idle: Duration) {
    loop {
        match control.deadline(head, idle) {
            Some(deadline) if deadline <= Instant::now() => return,
            Some(deadline) => tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = control.phase_changed.notified() => {}
            },
            None => control.phase_changed.notified().await,
        }
    }
}

/// An answer's body that marks the connection idle once hyper is done with it (sent in full, or
/// abandoned), which is when the wait for the next request begins.
struct Answer {
    body: MockBody,
    control: Arc<ConnControl>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.control.answer_sent();
    }
}

impl Body for Answer {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The TCP stream, which on drop turns into an RST if its connection was to be reset.
struct ResettableStream {
    inner: TcpStream,
    control: Arc<ConnControl>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.control.reset.load(Ordering::SeqCst) {
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.control.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connection_accepted();
                    // Small JSON answers must not wait on Nagle + delayed ACK.
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream, shared.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    if !shared.connection_latency.is_zero() {
        tokio::time::sleep(shared.connection_latency).await;
    }
    let control = Arc::new(ConnControl::new());
    let stream = ResettableStream {
        inner: stream,
        control: control.clone(),
    };
    let Some(tls) = &shared.tls else {
        return serve_http1(TokioIo::new(stream), shared, control, shutdown).await;
    };
    // A handshake is a request head as far as stalling goes.
    let accepted = tokio::time::timeout(shared.header_read_timeout, tls.acceptor.accept(stream));
    let Ok(Ok(stream)) = accepted.await else {
        return;
    };
    let io = TokioIo::new(stream);
    if io.inner().get_ref().1.alpn_protocol() == Some(b"h2") {
        serve_http2(io, shared, control, shutdown).await
    } else {
        serve_http1(io, shared, control, shutdown).await
    }
}

/// The service every connection runs: the pipeline, with the answer marking the connection idle
/// when it has gone out.
fn service(
    shared: Arc<Shared>,
    control: Arc<ConnControl>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<Answer>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<hyper::Response<Answer>, std::convert::Infallible>>
             + Send
             + 'static,
> + Clone {
    service_fn(move |req| {
        let control = control.clone();
        control.request_started();
        let respond = pipeline::respond(shared.clone(), control.clone(), req);
        async move {
            let response = respond.await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| Answer { body, control }))
        }
    })
}

async fn serve_http1<I>(
    io: I,
    shared: Arc<Shared>,
    control: Arc<ConnControl>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (head_timeout, idle_timeout) = (shared.header_read_timeout, shared.idle_timeout);
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        // hyper's own header timer also runs while a kept-alive connection waits for its next
        // request, so it cannot give a short deadline for a head and a long one for an idle
        // connection; `stalled` does both.
        .header_read_timeout(None)
        .serve_connection(io, service(shared, control.clone()));
    tokio::select! {
        _ = connection => {}
        _ = control.notify.notified() => {}
        _ = stalled(&control, head_timeout, idle_timeout) => {}
        _ = shutdown.changed() => {}
    }
}

/// HTTP/2 runs many requests at once on one connection, so the head and idle deadlines, which
/// follow one request at a time, do not apply; hyper's keep-alive pings stand in for them.
async fn serve_http2<I>(
    io: I,
    shared: Arc<Shared>,
    control: Arc<ConnControl>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let connection = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(shared.idle_timeout)
        .serve_connection(io, service(shared, control.clone()));
    tokio::select! {
        _ = connection => {}
        _ = control.notify.notified() => {}
        _ = shutdown.changed() => {}
    }
}
