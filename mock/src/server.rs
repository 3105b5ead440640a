//! Sockets: the accept loop, one hyper connection task per TCP stream, and abrupt resets.
//!
//! Each accepted stream is counted and served by its own `serve_connection` task, so tests can
//! see keep-alive reuse. A connection-reset fault makes the task drop the socket with
//! `SO_LINGER = 0`, which sends a TCP RST instead of an orderly close.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::hub::Shared;
use crate::pipeline;

/// Lets a request ask for its connection to be reset.
#[derive(Debug, Default)]
pub(crate) struct ConnControl {
    reset: AtomicBool,
    notify: Notify,
}

impl ConnControl {
    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
        // notify_one keeps a permit, so the wake-up is not lost if nobody waits yet.
        self.notify.notify_one();
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
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
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

async fn serve(stream: TcpStream, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let control = Arc::new(ConnControl::default());
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        control: control.clone(),
    });
    let service_control = control.clone();
    let service =
        service_fn(move |req| pipeline::respond(shared.clone(), service_control.clone(), req));
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        // Idle keep-alive connections stay open until the client closes them, so a pooled
        // client never races a server-side idle close.
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = control.notify.notified() => {}
        _ = shutdown.changed() => {}
    }
}
