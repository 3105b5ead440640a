//! The `wasi:http` hook wasmtime calls for a request the guest sends with a body (those
//! without one take [`crate::outgoing`]'s shorter way): a thin adapter onto [`Egress`], which
//! decides everything, plus the one thing that is per call, its deadline.

use crate::egress::{Egress, IoFuture};
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use std::sync::Arc;
use tokio::time::Instant;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// One store's hooks: the host's send path and the call's deadline.
pub(crate) struct CallHooks {
    pub(crate) egress: Arc<Egress>,
    /// When the call must be over; pacing does not wait past it. `None` (an instance made for
    /// typed calls) allows the policy's call timeout from each request.
    pub(crate) deadline: Option<Instant>,
    /// Told of each request as it goes out (a progress display's tick).
    pub(crate) on_request: Option<RequestObserver>,
}

/// What a progress display learns of a call while it runs, from the send path. Nothing here
/// can change a request or an answer.
pub trait CallObserver: Send + Sync {
    /// A request is about to go out (with `all_pages`, one per page).
    fn request(&self, uri: &Uri);
    /// An answer began by saying how many items the whole listing holds (the Hub's `count`,
    /// SCIM's `totalResults`): how many pages to expect. Told for each page that says it.
    fn listing_size(&self, _items: u64) {}
}

/// A call's observer, as [`crate::Dockhand::call_observed`] takes it.
pub type RequestObserver = Arc<dyn CallObserver>;

impl CallHooks {
    /// A request is about to go out.
    pub(crate) fn sending(&self, uri: &Uri) {
        if let Some(observer) = &self.on_request {
            observer.request(uri);
        }
    }

    /// The answer on its way to the guest, read by the call's observer (see [`observed`]).
    pub(crate) fn receiving(&self, response: Response<WasiBody>) -> Response<WasiBody> {
        observed(self.on_request.clone(), response)
    }
}

/// `response`, its first bytes read for a listing's size as they pass when there is an
/// observer; the bytes themselves are not touched.
fn observed(observer: Option<RequestObserver>, response: Response<WasiBody>) -> Response<WasiBody> {
    let Some(observer) = observer else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let mut first = true;
    let body = body.map_frame(move |frame| {
        if first && let Some(data) = frame.data_ref() {
            first = false;
            if let Some(items) = listing_size(data) {
                observer.listing_size(items);
            }
        }
        frame
    });
    Response::from_parts(parts, body.boxed_unsync())
}

/// The item count near the start of a listing's JSON (`{"count": 120, ...`, or SCIM's
/// `"totalResults"`), if its first bytes state one. A field that merely ends in `count`
/// (`"member_count"`) does not match: the quote must open the name.
fn listing_size(head: &[u8]) -> Option<u64> {
    let head = &head[..head.len().min(512)];
    [&b"\"count\""[..], &b"\"totalResults\""[..]]
        .iter()
        .find_map(|name| {
            let at = head.windows(name.len()).position(|w| w == *name)? + name.len();
            let rest = head[at..]
                .trim_ascii_start()
                .strip_prefix(b":")?
                .trim_ascii_start();
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
        })
}

impl WasiHttpHooks for CallHooks {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> Box<dyn Future<Output = Result<(Response<WasiBody>, IoFuture), Error>> + Send> {
        self.sending(request.uri());
        let egress = self.egress.clone();
        let deadline = self.deadline;
        let observer = self.on_request.clone();
        Box::new(async move {
            if egress.wasmtime_sender {
                let (response, done) = egress.send_with_wasmtime(request, deadline).await?;
                return Ok((observed(observer, response), done));
            }
            let response = egress.send(request, deadline).await?;
            let done: IoFuture = Box::new(async { Ok(()) });
            Ok((observed(observer, response), done))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::listing_size;

    #[test]
    fn a_listing_size_is_read_from_count_or_total_results_only() {
        assert_eq!(listing_size(br#"{"count": 120, "next": null}"#), Some(120));
        assert_eq!(listing_size(br#"{"schemas":[],"totalResults":7,"#), Some(7));
        assert_eq!(listing_size(br#"{"member_count": 5}"#), None);
        assert_eq!(listing_size(br#"{"count": "many"}"#), None);
        assert_eq!(listing_size(b"not json"), None);
    }
}
