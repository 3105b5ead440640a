//! The response body the guest reads: it stops at the size cap and when the server pauses
//! longer than the between-bytes timeout, with errors the guest maps to `body-too-large` and
//! `timeout`.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::Error;

/// A response body that stops at `limit` bytes and when the server pauses longer than
/// `between_bytes`, with errors the guest maps to `body-too-large` and `timeout`.
///
/// The pause timer is set only when a read has to wait, from that moment: a body that is
/// already there (most Hub answers arrive with their head) never touches tokio's timer wheel,
/// where each registration can wake the runtime's other worker.
pub(crate) struct GuardedBody {
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
    pub(crate) fn new(
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
