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
}

impl WasiHttpHooks for CallHooks {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> Box<dyn Future<Output = Result<(Response<WasiBody>, IoFuture), Error>> + Send> {
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
