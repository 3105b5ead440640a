//! The `wasi:http` hook wasmtime calls for a request the guest sends with a body (those
//! without one take [`crate::outgoing`]'s shorter way): a thin adapter onto [`Egress`], which
//! decides everything, plus the one thing that is per call, its deadline.

use crate::egress::{Egress, IoFuture};
use http::{Request, Response};
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

/// Called once for each request a call sends, from the send path.
pub type RequestObserver = Arc<dyn Fn() + Send + Sync>;

impl CallHooks {
    /// A request is about to go out.
    pub(crate) fn sending(&self) {
        if let Some(observer) = &self.on_request {
            observer();
        }
    }
}

impl WasiHttpHooks for CallHooks {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> Box<dyn Future<Output = Result<(Response<WasiBody>, IoFuture), Error>> + Send> {
        self.sending();
        let egress = self.egress.clone();
        let deadline = self.deadline;
        Box::new(async move {
            if egress.wasmtime_sender {
                return egress.send_with_wasmtime(request, deadline).await;
            }
            let response = egress.send(request, deadline).await?;
            let done: IoFuture = Box::new(async { Ok(()) });
            Ok((response, done))
        })
    }
}
