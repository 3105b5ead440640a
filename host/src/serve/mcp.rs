//! `/mcp`: MCP over Streamable HTTP, one endpoint per client (its account and its rights).
//!
//! rmcp's `StreamableHttpService` serves the protocol: initialize, tools/list, notifications,
//! every header rule and every refusal. One request is answered here instead: a stateless
//! `tools/call` of the plain kind, the request an agent sends over and over. rmcp's stateless
//! path builds a service, a transport and two tasks for each request and hands the answer back
//! over channels, which cost more than the rest of the exchange (BENCHMARKS.md, `dockhand
//! serve`). Here the same tool handler ([`McpServer::answer`]) runs in the connection's task and
//! the answer is rmcp's own message type, serialized as rmcp would.
//!
//! "Plain" is decided so that this file never answers what rmcp would have refused or answered
//! differently: anything else (another method, a session id, request `_meta` beyond a progress
//! token, a protocol version whose rules differ, an Accept with parameters, a Host outside the
//! allowed list, a body without a length or over the limit) goes to rmcp as it came. The
//! surfaces tests hold the two paths' answers equal.

use super::Body;
use crate::mcp::McpServer;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientJsonRpcMessage, ClientRequest, GetMeta,
    ProtocolVersion, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::fmt::Display;
use std::sync::Arc;

/// One client's `/mcp`.
pub(super) struct Endpoint {
    server: McpServer,
    service: StreamableHttpService<McpServer, LocalSessionManager>,
    /// The Host names rmcp accepts (empty: any), so that the direct path accepts no other.
    allowed_hosts: Vec<String>,
    max_body_bytes: usize,
}

impl Endpoint {
    /// `check_host`: refuse Host names other than loopback's (a server without clients, which
    /// a page could reach through DNS rebinding).
    pub(super) fn new(server: McpServer, check_host: bool, max_body_bytes: usize) -> Endpoint {
        let mut config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_max_request_body_bytes(max_body_bytes);
        if !check_host {
            // Every request carries a client's bearer, which a page a browser was lured to
            // cannot add: the Host check against DNS rebinding is not needed, and the server's
            // public name is not known here.
            config = config.disable_allowed_hosts();
        }
        let allowed_hosts = config.allowed_hosts.clone();
        let factory = server.clone();
        Endpoint {
            server,
            service: StreamableHttpService::new(
                move || Ok(factory.clone()),
                Arc::new(LocalSessionManager::default()),
                config,
            ),
            allowed_hosts,
            max_body_bytes,
        }
    }

    pub(super) async fn handle<B>(&self, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Display + Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !self.plain_headers(&request) {
            return self.by_rmcp(request).await;
        }
        let (parts, body) = request.into_parts();
        let bytes = match http_body_util::Limited::new(body, self.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            // The length was within the limit, so this is a connection that broke: rmcp's
            // answer to that, which nobody is likely to read.
            Err(e) => {
                let mut response = Response::new(
                    Full::new(Bytes::from(format!("Failed to read request body: {e}")))
                        .boxed_unsync(),
                );
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return response;
            }
        };
        match plain_tools_call(&bytes) {
            Some((id, call)) => self.answer(id, call).await,
            None => {
                self.by_rmcp(Request::from_parts(parts, Full::new(bytes)))
                    .await
            }
        }
    }

    async fn by_rmcp<B>(&self, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body + Send + 'static,
        B::Error: Display,
    {
        self.service
            .handle(request)
            .await
            .map(BodyExt::boxed_unsync)
    }

    /// The answer rmcp's stateless JSON path gives a `tools/call`: the handler's result (or its
    /// protocol error) as a JSON-RPC message, 200, `application/json`.
    async fn answer(&self, id: RequestId, call: CallToolRequestParams) -> Response<Body> {
        let message = match self.server.answer(call).await {
            Ok(result) => {
                let mut result = ServerResult::from(CallToolResponse::from(result));
                // What rmcp's handler does for a peer on a version before 2026-07-28, the only
                // versions answered here.
                result.strip_result_type_for_legacy_peer();
                result.strip_non_object_output_for_legacy_peer();
                ServerJsonRpcMessage::response(result, id)
            }
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        match serde_json::to_vec(&message) {
            Ok(body) => {
                let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                response
            }
            Err(e) => {
                let mut response = Response::new(
                    Full::new(Bytes::from(format!(
                        "Internal Server Error: serialize json response: {e}"
                    )))
                    .boxed_unsync(),
                );
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }

    /// Whether the request's line and headers are ones rmcp's stateless path would take as
    /// they are, with no rule that depends on the body beyond what [`plain_tools_call`] checks.
    fn plain_headers<B>(&self, request: &Request<B>) -> bool {
        let headers = request.headers();
        request.method() == http::Method::POST
            && !headers.contains_key("mcp-session-id")
            && !headers.contains_key(http::header::ORIGIN)
            && host_allowed(&self.allowed_hosts, headers)
            && accepts_json_and_event_stream(headers)
            && is_json(headers)
            && plain_protocol_version(headers)
            && single(headers, http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
                .is_some_and(|length| length <= self.max_body_bytes)
    }
}

/// The Host names rmcp accepts: exactly these (empty: any), ports aside.
fn host_allowed(allowed_hosts: &[String], headers: &http::HeaderMap) -> bool {
    if allowed_hosts.is_empty() {
        return true;
    }
    let Some(authority) = single(headers, http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|host| host.parse::<http::uri::Authority>().ok())
    else {
        return false;
    };
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    allowed_hosts.iter().any(|allowed| allowed == host)
}

/// The header's value, if it is there exactly once.
fn single(headers: &http::HeaderMap, name: http::header::HeaderName) -> Option<&http::HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// `Accept` lists both media types the transport requires, with no parameters (a weight of 0
/// would refuse one: rmcp weighs them, and such a request is left to it).
fn accepts_json_and_event_stream(headers: &http::HeaderMap) -> bool {
    let Some(accept) = single(headers, http::header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut json, mut events) = (false, false);
    for entry in accept.split(',').map(str::trim) {
        if entry.contains(';') || entry.contains('"') {
            return false;
        }
        json |= entry.eq_ignore_ascii_case("application/json");
        events |= entry.eq_ignore_ascii_case("text/event-stream");
    }
    json && events
}

fn is_json(headers: &http::HeaderMap) -> bool {
    single(headers, http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|value| {
            let essence = value.split_once(';').map_or(value, |(essence, _)| essence);
            essence.trim().eq_ignore_ascii_case("application/json")
        })
}

/// A protocol version rmcp knows, from before the revision that added per-request metadata and
/// standard headers (whose checks read the body against the headers).
fn plain_protocol_version(headers: &http::HeaderMap) -> bool {
    let Some(version) = single(
        headers,
        http::HeaderName::from_static("mcp-protocol-version"),
    )
    .and_then(|v| v.to_str().ok()) else {
        return false;
    };
    version < ProtocolVersion::STANDARD_HEADERS.as_str()
        && ProtocolVersion::KNOWN_VERSIONS
            .iter()
            .any(|known| known.as_str() == version)
}

/// The request, if it is a `tools/call` whose answer depends only on its name and arguments.
fn plain_tools_call(body: &[u8]) -> Option<(RequestId, CallToolRequestParams)> {
    let ClientJsonRpcMessage::Request(request) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    // rmcp takes `_meta` out of the params into the request's own; look at both. A progress
    // token asks for notifications the handler never sends: the answer is the same.
    let progress_only = |meta: &serde_json::Map<String, serde_json::Value>| {
        meta.keys().all(|key| key == "progressToken")
    };
    if !progress_only(request.request.get_meta()) {
        return None;
    }
    let ClientRequest::CallToolRequest(call) = request.request else {
        return None;
    };
    let params = call.params;
    let plain = params
        .meta
        .as_deref()
        .is_none_or(|meta| progress_only(meta))
        && params.input_responses.is_none()
        && params.request_state.is_none();
    plain.then_some((request.id, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                name.parse::<http::header::HeaderName>().unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn accept_must_name_both_types_and_nothing_weighed() {
        let accepts = |v: &str| accepts_json_and_event_stream(&headers(&[("accept", v)]));
        assert!(accepts("application/json, text/event-stream"));
        assert!(accepts("Text/Event-Stream,APPLICATION/JSON"));
        assert!(!accepts("application/json"));
        assert!(!accepts("application/json, text/event-stream;q=0"));
        assert!(!accepts("application/json;q=1, text/event-stream"));
        assert!(!accepts_json_and_event_stream(&headers(&[
            ("accept", "application/json"),
            ("accept", "text/event-stream"),
        ])));
    }

    #[test]
    fn the_host_must_be_one_rmcp_allows() {
        let allowed = StreamableHttpServerConfig::default().allowed_hosts;
        let host = |v: &str| host_allowed(&allowed, &headers(&[("host", v)]));
        assert!(host("127.0.0.1:8080"));
        assert!(host("localhost"));
        assert!(host("[::1]:80"));
        assert!(!host("127.0.0.2:8080"));
        assert!(!host("rebound.example:8080"));
        assert!(!host_allowed(&allowed, &http::HeaderMap::new()));
        assert!(host_allowed(&[], &headers(&[("host", "anything.example")])));
    }

    #[test]
    fn only_known_versions_before_standard_headers_are_plain() {
        let plain = |v: &str| plain_protocol_version(&headers(&[("mcp-protocol-version", v)]));
        assert!(plain("2025-06-18"));
        assert!(plain("2025-03-26"));
        assert!(!plain(ProtocolVersion::STANDARD_HEADERS.as_str()));
        assert!(!plain("2025-06-19"));
        assert!(!plain("9999-01-01"));
        assert!(!plain_protocol_version(&http::HeaderMap::new()));
    }

    #[test]
    fn a_tools_call_is_plain_only_without_per_request_state() {
        let call = |params: &str| {
            format!(r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{params}}}"#)
        };
        let (id, params) =
            plain_tools_call(call(r#"{"name":"get_repository","arguments":{"a":1}}"#).as_bytes())
                .expect("plain");
        assert_eq!(id, RequestId::Number(7));
        assert_eq!(params.name, "get_repository");
        assert!(
            plain_tools_call(call(r#"{"name":"x","_meta":{"progressToken":1}}"#).as_bytes())
                .is_some()
        );
        for other in [
            call(
                r#"{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#,
            ),
            call(r#"{"name":"x","requestState":"s"}"#),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_string(),
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_string(),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#.to_string(),
            "not json".to_string(),
        ] {
            assert!(plain_tools_call(other.as_bytes()).is_none(), "{other}");
        }
    }
}
