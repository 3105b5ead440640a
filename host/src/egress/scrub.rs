//! Keeps a bearer the host attached from coming back in the answer to the request it was
//! attached to.
//!
//! In sealed mode the guest holds a placeholder and the send hook swaps in the real bearer. A
//! server that echoes request headers (a debugging endpoint, a misconfigured proxy, a hostile
//! Hub) would hand the bearer straight back to the guest, and through it to the caller; so in
//! such an answer every occurrence of the bearer, in a header value or anywhere in the body,
//! becomes the placeholder again. The body is rewritten as it streams: only the last
//! `bearer.len() - 1` bytes of a piece are held back, in case an occurrence spans two pieces.
//! The body's length then changes, so the answer loses its `Content-Length`.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use memchr::memmem;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// What to replace with what.
#[derive(Clone)]
pub(crate) struct Swap {
    bearer: Bytes,
    placeholder: Bytes,
}

impl Swap {
    /// `None` when there is nothing to look for.
    pub(crate) fn new(bearer: &str, placeholder: &str) -> Option<Swap> {
        (!bearer.is_empty()).then(|| Swap {
            bearer: Bytes::copy_from_slice(bearer.as_bytes()),
            placeholder: Bytes::copy_from_slice(placeholder.as_bytes()),
        })
    }

    /// Rewrites every header value that contains the bearer, and drops `Content-Length`
    /// (the body is rewritten too).
    pub(crate) fn headers(&self, headers: &mut HeaderMap) {
        headers.remove(http::header::CONTENT_LENGTH);
        let finder = memmem::Finder::new(&self.bearer);
        for value in headers.values_mut() {
            if finder.find(value.as_bytes()).is_some() {
                let replaced = self.replace_all(value.as_bytes(), &finder);
                // The placeholder is plain ASCII, so the value stays a valid header value; were
                // it not, the value is emptied rather than kept with the bearer in it.
                let mut new = HeaderValue::from_bytes(&replaced)
                    .unwrap_or_else(|_| HeaderValue::from_static(""));
                new.set_sensitive(value.is_sensitive());
                *value = new;
            }
        }
    }

    fn replace_all(&self, haystack: &[u8], finder: &memmem::Finder<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(haystack.len());
        let mut at = 0;
        while let Some(found) = finder.find(&haystack[at..]) {
            out.extend_from_slice(&haystack[at..at + found]);
            out.extend_from_slice(&self.placeholder);
            at += found + self.bearer.len();
        }
        out.extend_from_slice(&haystack[at..]);
        out
    }
}

/// A body with every occurrence of the bearer replaced by the placeholder.
pub(crate) struct ScrubbedBody<B: Body> {
    inner: B,
    swap: Swap,
    /// The tail of what has been read that could still begin an occurrence.
    held: BytesMut,
    ended: bool,
    /// The size cap holds for what comes out too: a placeholder longer than a short bearer
    /// grows the body.
    limit: u64,
    sent: u64,
    too_large: fn(u64) -> B::Error,
}

impl<B: Body> ScrubbedBody<B> {
    /// `too_large(limit)` is the error once more than `limit` bytes would come out.
    pub(crate) fn new(
        inner: B,
        swap: Swap,
        limit: u64,
        too_large: fn(u64) -> B::Error,
    ) -> ScrubbedBody<B> {
        ScrubbedBody {
            inner,
            swap,
            held: BytesMut::new(),
            ended: false,
            limit,
            sent: 0,
            too_large,
        }
    }

    /// `out` as the next frame, unless it takes the body past the cap.
    fn emit(&mut self, out: Bytes) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        self.sent += out.len() as u64;
        if self.sent > self.limit {
            self.ended = true;
            return Poll::Ready(Some(Err((self.too_large)(self.limit))));
        }
        Poll::Ready(Some(Ok(Frame::data(out))))
    }

    /// Everything of `held` + `data` that can no longer be part of an occurrence, rewritten.
    fn feed(&mut self, data: &[u8]) -> Bytes {
        self.held.extend_from_slice(data);
        let buf = std::mem::take(&mut self.held);
        let needle = &self.swap.bearer;
        let finder = memmem::Finder::new(needle);
        let mut out = BytesMut::with_capacity(buf.len());
        let mut at = 0;
        while let Some(found) = finder.find(&buf[at..]) {
            out.extend_from_slice(&buf[at..at + found]);
            out.extend_from_slice(&self.swap.placeholder);
            at += found + needle.len();
        }
        // An occurrence that starts in the last `len - 1` bytes cannot be whole yet.
        let keep = (needle.len() - 1).min(buf.len() - at);
        out.extend_from_slice(&buf[at..buf.len() - keep]);
        self.held.extend_from_slice(&buf[buf.len() - keep..]);
        out.freeze()
    }
}

impl<B> Body for ScrubbedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let out = this.feed(&data);
                        if !out.is_empty() {
                            return this.emit(out);
                        }
                    }
                    // Trailers end the data: what is held goes first, the trailers are dropped
                    // (the guest reads none, and they could carry the bearer as well).
                    Err(_) => {
                        this.ended = true;
                        let rest = this.held.split().freeze();
                        if !rest.is_empty() {
                            return this.emit(rest);
                        }
                    }
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    this.ended = true;
                    let rest = this.held.split().freeze();
                    if !rest.is_empty() {
                        return this.emit(rest);
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::collections::VecDeque;

    const BEARER: &str = "eyJhbGciOi.secret-part.sig";
    const PLACEHOLDER: &str = "dockhand-sealed-0123";

    /// A body that hands out the given pieces, one frame each.
    struct Pieces(VecDeque<Bytes>);

    impl Body for Pieces {
        type Data = Bytes;
        type Error = u64;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|piece| Ok(Frame::data(piece))))
        }
    }

    async fn scrub(pieces: &[&[u8]]) -> Vec<u8> {
        scrub_within(pieces, u64::MAX, BEARER).await.unwrap()
    }

    async fn scrub_within(pieces: &[&[u8]], limit: u64, bearer: &str) -> Result<Vec<u8>, u64> {
        let inner = Pieces(pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect());
        let swap = Swap::new(bearer, PLACEHOLDER).unwrap();
        let body = ScrubbedBody::new(inner, swap, limit, |limit| limit);
        Ok(body.collect().await?.to_bytes().to_vec())
    }

    #[tokio::test]
    async fn every_occurrence_is_replaced_wherever_the_pieces_are_cut() {
        let text = format!(r#"{{"a":"Bearer {BEARER}","b":"{BEARER}{BEARER}","c":"{BEARER}"}}"#);
        let want = text.replace(BEARER, PLACEHOLDER);
        let bytes = text.as_bytes();
        for size in 1..=bytes.len() {
            let pieces: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(
                String::from_utf8(scrub(&pieces).await).unwrap(),
                want,
                "pieces of {size}"
            );
        }
    }

    #[tokio::test]
    async fn a_body_without_the_bearer_passes_unchanged() {
        let text = br#"{"name":"alpine","almost":"eyJhbGciOi.secret-part.si"}"#;
        assert_eq!(scrub(&[&text[..10], &text[10..]]).await, text);
        assert_eq!(scrub(&[]).await, b"");
    }

    #[tokio::test]
    async fn what_comes_out_stays_under_the_size_cap() {
        // A bearer shorter than the placeholder grows the body with each echo.
        let body = "ab,".repeat(100);
        let pieces = [body.as_bytes()];
        assert_eq!(scrub_within(&pieces, 300, "zz").await.unwrap().len(), 300);
        assert_eq!(scrub_within(&pieces, 1000, "ab").await, Err(1000));
    }

    #[test]
    fn header_values_are_rewritten_and_the_length_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_static("10"));
        headers.insert(
            "x-echo",
            HeaderValue::from_str(&format!("Bearer {BEARER}")).unwrap(),
        );
        headers.insert("x-other", HeaderValue::from_static("fine"));
        Swap::new(BEARER, PLACEHOLDER)
            .unwrap()
            .headers(&mut headers);
        assert_eq!(headers["x-echo"], format!("Bearer {PLACEHOLDER}").as_str());
        assert_eq!(headers["x-other"], "fine");
        assert!(!headers.contains_key("content-length"));
    }
}
