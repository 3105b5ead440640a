//! `wasi:http/outgoing-handler.handle`, linked by the host in place of wasi-http's own.
//!
//! wasi-http's `handle` spawns the send as a task of its own (and another for the connection's
//! I/O), so every call's work hops between tokio workers: a futex wake per hop, tens of
//! microseconds each on a VM, more than the rest of the call on a multi-threaded runtime. A
//! request without a body (the component opens no body resource for GET, HEAD and DELETE) is
//! sent here instead, awaited inside the host call through the same [`HubHooks::send`], and
//! handed to the guest as a response future that is already complete. A request with a body is
//! written by the guest after `handle` returns, so it must go wasi-http's way (and through
//! [`crate::hooks`]), as must everything when the benchmark asks for wasmtime's own sender.
//! So does a request that carries `request-options`: the component sends the pages of a
//! listing side by side that way (it hands every page to `handle` before it reads any answer),
//! and wasi-http's send runs as a task of its own, so they are all in flight at once.

use crate::hooks::CallHooks;
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderMap, HeaderValue, Method as HttpMethod, Request, Uri};
use http_body_util::{BodyExt, Empty};
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::LinkOptions;
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host as _;
use wasmtime_wasi_http::p2::bindings::http::types::{self, ErrorCode, Method, Scheme};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{WasiBody, WasiHttp, WasiHttpView};

/// The interface as wasmtime-wasi-http 48 defines it; the linker matches the guest's
/// semver-compatible 0.2.x import to it.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

type HandleResult = Result<Resource<HostFutureIncomingResponse>, ErrorCode>;

/// What a store's data gives this module: wasi-http's view, and the call's hooks.
pub(crate) trait OutgoingView: WasiHttpView + Send + 'static {
    fn call_hooks(&self) -> &CallHooks;
}

/// Links `wasi:http/types` from wasi-http and `outgoing-handler.handle` from here.
pub(crate) fn add_to_linker<T: OutgoingView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let options = LinkOptions::default();
    types::add_to_linker::<T, WasiHttp>(linker, &options.into(), <T as WasiHttpView>::http)?;
    linker.instance(OUTGOING_HANDLER)?.func_wrap_async(
        "handle",
        |mut store,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<types::RequestOptions>>,
        )| {
            Box::new(async move {
                handle(store.data_mut(), request, options)
                    .await
                    .map(|r| (r,))
            })
        },
    )
}

async fn handle<T: OutgoingView>(
    state: &mut T,
    request: Resource<HostOutgoingRequest>,
    options: Option<Resource<types::RequestOptions>>,
) -> wasmtime::Result<HandleResult> {
    let has_body = state.http().table.get(&request)?.body.is_some();
    if has_body || options.is_some() || state.call_hooks().egress.wasmtime_sender {
        return match state.http().handle(request, options) {
            Ok(future) => Ok(Ok(future)),
            Err(e) => e.downcast().map(Err),
        };
    }

    let outgoing = state.http().table.delete(request)?;
    let request = match to_http(outgoing) {
        Ok(request) => request,
        Err(code) => return Ok(Err(code)),
    };
    let hooks = state.call_hooks();
    hooks.sending(request.uri());
    let (egress, deadline) = (hooks.egress.clone(), hooks.deadline);
    let result = egress
        .send(request, deadline)
        .await
        .map(|response| hooks.receiving(response));
    let idle = egress.idle_tasks.take();
    let ready = HostFutureIncomingResponse::Ready(result.map(|response| (response, idle)));
    Ok(Ok(state.http().table.push(ready)?))
}

/// The guest's request as an `http::Request` with an empty body, as wasi-http would build it.
fn to_http(request: HostOutgoingRequest) -> Result<Request<WasiBody>, ErrorCode> {
    let declared_length = request
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().parse::<u64>());
    if !matches!(declared_length, None | Some(Ok(0))) {
        return Err(ErrorCode::HttpRequestBodySize(Some(0)));
    }
    let method = match &request.method {
        Method::Get => HttpMethod::GET,
        Method::Head => HttpMethod::HEAD,
        Method::Post => HttpMethod::POST,
        Method::Put => HttpMethod::PUT,
        Method::Delete => HttpMethod::DELETE,
        Method::Connect => HttpMethod::CONNECT,
        Method::Options => HttpMethod::OPTIONS,
        Method::Trace => HttpMethod::TRACE,
        Method::Patch => HttpMethod::PATCH,
        Method::Other(m) => {
            HttpMethod::from_bytes(m.as_bytes()).map_err(|_| ErrorCode::HttpRequestMethodInvalid)?
        }
    };
    let scheme = match &request.scheme {
        None | Some(Scheme::Https) => "https",
        Some(Scheme::Http) => "http",
        // Only the two schemes the allow-list can name.
        Some(Scheme::Other(_)) => return Err(ErrorCode::HttpProtocolError),
    };
    let authority = request.authority.unwrap_or_default();
    let uri = Uri::builder()
        .scheme(scheme)
        .authority(authority.as_str())
        .path_and_query(request.path_with_query.as_deref().unwrap_or("/"))
        .build()
        .map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
    // Host first, as RFC 9112 asks of a client; the guest's headers (which cannot include
    // Host: wasi-http forbids it) are moved over from the map the request owns, not cloned.
    let host = HeaderValue::from_str(&authority).map_err(|_| ErrorCode::HttpRequestUriInvalid)?;
    let guest_headers = HeaderMap::from(request.headers);
    let mut headers = HeaderMap::with_capacity(guest_headers.len() + 1);
    headers.insert(HOST, host);
    headers.extend(guest_headers);
    let body = Empty::new().map_err(|never| match never {}).boxed_unsync();
    let mut built = Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .map_err(|e| ErrorCode::InternalError(Some(e.to_string())))?;
    *built.headers_mut() = headers;
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime_wasi_http::FieldMap;

    fn request(method: Method, headers: &[(&str, &str)]) -> HostOutgoingRequest {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        HostOutgoingRequest {
            method,
            scheme: Some(Scheme::Http),
            authority: Some("127.0.0.1:8080".into()),
            path_with_query: Some("/v2/repositories/library/alpine/tags?page=2".into()),
            headers: FieldMap::new_immutable(wasmtime_wasi_http::default_hooks(), map),
            body: None,
        }
    }

    #[test]
    fn a_bodyless_request_keeps_method_target_and_headers_and_gains_host() {
        let built = to_http(request(
            Method::Delete,
            &[
                ("authorization", "Bearer placeholder"),
                ("accept", "application/json"),
            ],
        ))
        .unwrap();
        assert_eq!(built.method(), HttpMethod::DELETE);
        assert_eq!(
            built.uri().to_string(),
            "http://127.0.0.1:8080/v2/repositories/library/alpine/tags?page=2"
        );
        assert_eq!(built.headers()[HOST], "127.0.0.1:8080");
        assert_eq!(
            built.headers().keys().next(),
            Some(&HOST),
            "Host goes first"
        );
        assert_eq!(built.headers()["authorization"], "Bearer placeholder");
        assert_eq!(built.headers()["accept"], "application/json");
    }

    #[test]
    fn a_declared_length_without_a_body_is_refused_before_sending() {
        let refused = to_http(request(Method::Get, &[("content-length", "12")])).unwrap_err();
        assert!(
            matches!(refused, ErrorCode::HttpRequestBodySize(Some(0))),
            "{refused:?}"
        );
        assert!(to_http(request(Method::Get, &[("content-length", "0")])).is_ok());
    }

    #[test]
    fn a_scheme_other_than_http_or_https_is_a_protocol_error() {
        let mut odd = request(Method::Get, &[]);
        odd.scheme = Some(Scheme::Other("ftp".into()));
        assert!(matches!(to_http(odd), Err(ErrorCode::HttpProtocolError)));
    }
}
