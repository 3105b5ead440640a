//! The response body type: either all at once, or in timed parts for slow and cut-off bodies.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// A piece of body sent after waiting `delay`. An empty piece only waits, which is how a body
/// ends early: hyper then sees fewer bytes than the declared Content-Length and drops the
/// connection, after the wait has let the bytes before it reach the client.
#[derive(Debug)]
pub(crate) struct Part {
    pub delay: Duration,
    pub data: Bytes,
}

#[derive(Debug)]
pub(crate) struct MockBody {
    parts: VecDeque<Part>,
    waiting: Option<Pin<Box<Sleep>>>,
    exact: Option<u64>,
}

impl MockBody {
    pub(crate) fn full(data: Bytes) -> MockBody {
        let exact = Some(data.len() as u64);
        let parts = if data.is_empty() {
            VecDeque::new()
        } else {
            VecDeque::from([Part {
                delay: Duration::ZERO,
                data,
            }])
        };
        MockBody {
            parts,
            waiting: None,
            exact,
        }
    }

    /// Parts sent in order; the length is left to the Content-Length header the caller sets.
    pub(crate) fn paced(parts: Vec<Part>) -> MockBody {
        MockBody {
            parts: parts.into(),
            waiting: None,
            exact: None,
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        loop {
            if let Some(sleep) = this.waiting.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.waiting = None;
            }
            let Some(front) = this.parts.front_mut() else {
                return Poll::Ready(None);
            };
            if !front.delay.is_zero() {
                let delay = std::mem::take(&mut front.delay);
                this.waiting = Some(Box::pin(tokio::time::sleep(delay)));
                continue;
            }
            let part = this.parts.pop_front().expect("front exists");
            if !part.data.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(part.data))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty() && self.waiting.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
