//! `dockhand serve`'s `/mcp` driven by rmcp's client side over Streamable HTTP, with the two
//! clients of `serve.rs` (one read-only, one allowed to write), against the mock Hub; and the
//! answer to a `tools/call` the same whether serve answers it itself or leaves it to rmcp's
//! service.

use crate::mcp::{Client, call};
use crate::serve::{
    READER_TOKEN, Served, WRITER_TOKEN, assert_no_secret, assert_no_write_sent,
    metrics_counting_the_calls,
};
use bytes::Bytes;
use dockhand_host::http_client::{BufferedResponse, HttpClient, HttpClientConfig};
use dockhand_mock::{MockConfig, MockHub};
use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use rmcp::ServiceExt;
use rmcp::model::{CallToolResult, ClientJsonRpcMessage};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// rmcp's Streamable HTTP client sending through the host's own HTTP client. It reads JSON
/// answers only: `dockhand serve` answers JSON (no SSE, no sessions), and an SSE answer here
/// would be a failure worth seeing.
#[derive(Clone)]
struct Http(HttpClient);

#[derive(Debug)]
struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl StreamableHttpClient for Http {
    type Error = HttpError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<HttpError>> {
        let failed = |e: String| StreamableHttpError::Client(HttpError(e));
        let mut request = Request::post(uri.as_ref())
            .header("accept", "text/event-stream, application/json")
            .header("content-type", "application/json");
        if let Some(token) = auth_header {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(session) = session_id {
            request = request.header("mcp-session-id", session.as_ref());
        }
        for (name, value) in custom_headers {
            request = request.header(name, value);
        }
        let body = serde_json::to_vec(&message).map_err(|e| failed(e.to_string()))?;
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| failed(e.to_string()))?;
        let response = self
            .0
            .send_buffered(request, 16 << 20)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if response.status == StatusCode::ACCEPTED {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        let json = response
            .headers
            .get("content-type")
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        if !response.status.is_success() || !json {
            return Err(failed(format!(
                "{}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            )));
        }
        let session = response
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(StreamableHttpPostResponse::Json(
            serde_json::from_slice(&response.body)?,
            session,
        ))
    }

    async fn delete_session(
        &self,
        _uri: Arc<str>,
        _session_id: Arc<str>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<HttpError>> {
        Err(StreamableHttpError::ServerDoesNotSupportDeleteSession)
    }

    async fn get_stream(
        &self,
        _uri: Arc<str>,
        _session_id: Option<Arc<str>>,
        _last_event_id: Option<String>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<sse_stream::Sse, SseError>>, StreamableHttpError<HttpError>>
    {
        Err(StreamableHttpError::ServerDoesNotSupportSse)
    }
}

async fn connect(base: &str, token: Option<&str>) -> Result<Client, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"));
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let http = Http(HttpClient::new(&HttpClientConfig::default()).unwrap());
    let transport = StreamableHttpClientTransport::with_client(http, config);
    ().serve(transport).await.map_err(|e| e.to_string())
}

fn error_kind(result: &CallToolResult) -> Option<String> {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    result.structured_content.as_ref()?["error"]["kind"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcps_client_initializes_lists_and_calls_over_http() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let served = Served::with_clients(&hub, &[]);
    let base = served.base.clone();

    // No token, or a wrong one: the handshake fails, and nothing reaches the Hub.
    hub.clear_requests();
    for token in [None, Some("not-a-client-token")] {
        let refused = connect(&base, token).await;
        assert!(refused.is_err(), "{token:?} was let in");
    }
    assert!(hub.requests().is_empty(), "{:#?}", hub.requests());

    let reader = connect(&base, Some(READER_TOKEN)).await.expect("reader");
    let info = reader.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "dockhand");
    let tools = reader.list_all_tools().await.unwrap();
    let operations = crate::serve::send(
        &base,
        http::Method::GET,
        "/v1/operations",
        Some(READER_TOKEN),
        "",
    )
    .await;
    let operations: Value = serde_json::from_slice(&operations.body).unwrap();
    for op in operations.as_array().unwrap() {
        let name = op["name"].as_str().unwrap();
        let tool = tools.iter().find(|t| t.name == name);
        let tool = tool.unwrap_or_else(|| panic!("no tool for {name}"));
        assert!(tool.output_schema.is_some(), "{name}");
    }
    let delete = tools
        .iter()
        .find(|t| t.name == "delete_repository_tag")
        .unwrap();
    let annotations = delete.annotations.as_ref().unwrap();
    assert_eq!(annotations.destructive_hint, Some(true));
    assert!(
        delete
            .description
            .as_deref()
            .unwrap()
            .contains("without --allow-write")
    );

    // A read, its result as structured content.
    let result = call(
        &reader,
        "get_repository",
        json!({"namespace": "alice", "repository": "demo"}),
    )
    .await;
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert_eq!(result.structured_content.as_ref().unwrap()["name"], "demo");
    // Typed errors.
    let missing = call(
        &reader,
        "get_repository",
        json!({"namespace": "alice", "repository": "nope"}),
    )
    .await;
    assert_eq!(error_kind(&missing).as_deref(), Some("not-found"));
    let invalid = call(&reader, "get_repository", json!({"namespace": "alice"})).await;
    assert_eq!(error_kind(&invalid).as_deref(), Some("invalid-argument"));

    // A write: refused for the read-only client with nothing sent, done for the writer.
    hub.clear_requests();
    let create = json!({"namespace": "alice", "name": "from-mcp"});
    let refused = call(&reader, "create_repository", create.clone()).await;
    assert_eq!(error_kind(&refused).as_deref(), Some("denied"));
    assert_no_write_sent(&hub);
    let writer = connect(&base, Some(WRITER_TOKEN)).await.expect("writer");
    let created = call(&writer, "create_repository", create).await;
    assert_eq!(created.is_error, Some(false), "{created:?}");
    assert_eq!(
        created.structured_content.as_ref().unwrap()["name"],
        "from-mcp"
    );
    reader.cancel().await.unwrap();
    writer.cancel().await.unwrap();

    let metrics = metrics_counting_the_calls(&base, "mcp").await;
    let (code, log) = served.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("client=writer surface=mcp operation=create_repository outcome=ok"),
        "{log}"
    );
    assert_no_secret("the log", &log);
    assert_no_secret("the metrics", &metrics);
}

/// Sends one MCP message with the given Accept header.
async fn post_mcp(base: &str, token: &str, accept: &str, body: &Value) -> BufferedResponse {
    let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
    let request = Request::post(format!("{base}/mcp"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", accept)
        .header("mcp-protocol-version", "2025-06-18")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    client.send_buffered(request, 16 << 20).await.unwrap()
}

/// serve answers a plain `tools/call` itself and leaves other requests to rmcp's service, one
/// with a weighted Accept among them: the same call either way gets the same answer, byte for
/// byte, for results, typed errors, refusals and protocol errors alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tools_call_gets_the_same_answer_from_serve_as_from_rmcp() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let served = Served::with_clients(&hub, &[]);
    let base = served.base.clone();
    let cases = [
        json!({"name": "get_repository", "arguments": {"namespace": "alice", "repository": "demo"}}),
        json!({"name": "get_repository", "arguments": {"namespace": "alice", "repository": "nope"}}),
        json!({"name": "get_repository", "arguments": {"namespace": "alice"}}),
        json!({"name": "get_repository", "arguments": {"namespace": "alice", "repository": "demo"},
               "_meta": {"progressToken": 5}}),
        json!({"name": "list_repository_tags",
               "arguments": {"namespace": "library", "repository": "alpine", "page_size": 2}}),
        json!({"name": "create_repository", "arguments": {"namespace": "alice", "name": "x"}}),
        json!({"name": "no_such_tool", "arguments": {}}),
        json!({"name": "docs", "arguments": {"topic": "get_repository"}}),
    ];
    for (id, params) in cases.iter().enumerate() {
        let message = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        let direct = post_mcp(
            &base,
            READER_TOKEN,
            "application/json, text/event-stream",
            &message,
        )
        .await;
        let by_rmcp = post_mcp(
            &base,
            READER_TOKEN,
            "application/json;q=1, text/event-stream",
            &message,
        )
        .await;
        assert_eq!(direct.status, StatusCode::OK, "{params}");
        assert_eq!(direct.status, by_rmcp.status, "{params}");
        assert_eq!(
            direct.headers.get("content-type"),
            by_rmcp.headers.get("content-type"),
            "{params}"
        );
        assert_eq!(
            String::from_utf8_lossy(&direct.body),
            String::from_utf8_lossy(&by_rmcp.body),
            "{params}"
        );
    }
    // A request whose Accept lacks a type is refused, whichever way it would have gone.
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": cases[0]});
    let refused = post_mcp(&base, READER_TOKEN, "application/json", &message).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
}
