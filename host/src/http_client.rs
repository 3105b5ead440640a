//! The host's one outgoing HTTP client: HTTP/1.1 over plain TCP or rustls, and HTTP/2 where the
//! server offers it in the TLS handshake (ALPN), with a pool of keep-alive connections (`pool`).
//!
//! A real Hub call is dominated by the TCP and TLS handshakes, so every component of the host
//! (the credential broker's token exchange now, the wasi-http `send_request` hook later) shares one
//! [`HttpClient`] and so one pool. Cloning an [`HttpClient`] is cheap and shares that pool.
//!
//! Certificates are checked against the Mozilla roots compiled in by `webpki-roots`, so behaviour
//! does not depend on the machine's certificate store. rustls runs on `ring`, the provider
//! `wasmtime-wasi-http` already builds, and the provider is passed explicitly so that another crate
//! enabling `aws-lc-rs` in the same binary cannot make rustls' process default ambiguous.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;

mod failure;
mod pool;

pub use failure::{DnsFailure, Failure};
pub use pool::ResponseBody;

/// The `User-Agent` the host sends when the caller has not set one.
pub const DEFAULT_USER_AGENT: &str = concat!("dockhand/", env!("CARGO_PKG_VERSION"));

/// How an [`HttpClient`] connects and pools.
#[derive(Debug, Clone)]
pub struct HttpClientConfig {
    /// Upper bound on DNS resolution plus the TCP connect (the TLS handshake is not included).
    pub connect_timeout: Duration,
    /// Upper bound from sending a request to receiving the response head; `None` waits forever.
    pub response_timeout: Option<Duration>,
    /// How long an idle keep-alive connection stays in the pool.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per host; Hub traffic goes to one or two hosts.
    pub max_idle_per_host: usize,
    /// Offer HTTP/2 in the TLS handshake; a server that takes it gets every request to its
    /// origin on one connection.
    pub http2: bool,
    /// Certificates (DER) trusted as roots besides the compiled-in Mozilla ones: a test Hub's,
    /// or a company's TLS-inspecting proxy's.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Some(Duration::from_secs(60)),
            pool_idle_timeout: Duration::from_secs(90),
            max_idle_per_host: 8,
            http2: true,
            extra_roots: Vec::new(),
        }
    }
}

/// Why a request got no response. Messages never include request headers or bodies, so an
/// `Authorization` value cannot end up in one. The cause is kept as the error's source, and
/// classified ([`Failure`]) where it happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpError {
    /// The TLS configuration could not be built.
    Tls(String),
    /// The request itself is unusable (for example, a relative or non-HTTP URL).
    InvalidRequest(String),
    /// DNS, TCP connect or TLS handshake failed.
    Connect {
        /// What kind of failure it was.
        failure: Failure,
        /// The connector's error.
        source: BoxError,
    },
    /// A deadline passed; the string names which one.
    Timeout(&'static str),
    /// The connection failed after it was established.
    Request {
        /// What kind of failure it was.
        failure: Failure,
        /// hyper's error.
        source: BoxError,
    },
    /// Reading the response body failed.
    Body(BoxError),
    /// The response body was larger than the caller allowed.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// An error from below, kept whole.
pub type BoxError = Box<dyn StdError + Send + Sync>;

impl HttpError {
    pub(crate) fn connect(source: impl Into<BoxError>) -> HttpError {
        let source = source.into();
        HttpError::Connect {
            failure: Failure::of(&*source),
            source,
        }
    }

    pub(crate) fn request(source: impl Into<BoxError>) -> HttpError {
        let source = source.into();
        HttpError::Request {
            failure: Failure::of(&*source),
            source,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Tls(m) => write!(f, "TLS setup failed: {m}"),
            HttpError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            HttpError::Connect { source, .. } => {
                write!(f, "connection failed: {}", error_chain(&**source))
            }
            HttpError::Timeout(what) => write!(f, "timed out waiting for {what}"),
            HttpError::Request { source, .. } => {
                write!(f, "request failed: {}", error_chain(&**source))
            }
            HttpError::Body(source) => write!(
                f,
                "reading the response body failed: {}",
                error_chain(&**source)
            ),
            HttpError::BodyTooLarge { limit } => {
                write!(f, "response body is larger than {limit} bytes")
            }
        }
    }
}

impl StdError for HttpError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            HttpError::Connect { source, .. }
            | HttpError::Request { source, .. }
            | HttpError::Body(source) => Some(&**source),
            _ => None,
        }
    }
}

/// A response read to the end.
#[derive(Debug, Clone)]
pub struct BufferedResponse {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// A pooled keep-alive HTTP/1.1 and HTTP/2 client for `http://` and `https://` URLs.
#[derive(Clone)]
pub struct HttpClient {
    pool: Arc<pool::Pool>,
    response_timeout: Option<Duration>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client. No connection is made until the first request, and no tokio runtime is
    /// needed until then either.
    pub fn new(config: &HttpClientConfig) -> Result<HttpClient, HttpError> {
        // getaddrinfo, with its errors marked as DNS failures for [`Failure::of`].
        let mut http = HttpConnector::new_with_resolver(failure::Resolver::default());
        // The https wrapper hands `https://` URIs to this connector, which by default refuses them.
        http.enforce_http(false);
        // Requests are small writes followed by a read; Nagle plus delayed ACK would add ~40 ms.
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));

        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in &config.extra_roots {
            roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| HttpError::Tls(format!("an extra root certificate: {e}")))?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();

        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        let https = if config.http2 {
            https.enable_http2().wrap_connector(http)
        } else {
            https.wrap_connector(http)
        };

        Ok(HttpClient {
            pool: Arc::new(pool::Pool::new(
                https,
                config.pool_idle_timeout,
                config.max_idle_per_host,
            )),
            response_timeout: config.response_timeout,
        })
    }

    /// Sends one request (its URI must be absolute) and returns the response once its head has
    /// arrived; the body streams from the connection, which goes back to the pool when the body
    /// has been read to the end or dropped.
    pub async fn send(
        &self,
        mut req: Request<Full<Bytes>>,
    ) -> Result<Response<ResponseBody>, HttpError> {
        match req.uri().scheme_str() {
            Some("http" | "https") if req.uri().authority().is_some() => {}
            _ => {
                return Err(HttpError::InvalidRequest(format!(
                    "URL must be absolute http:// or https://, got {}",
                    req.uri()
                )));
            }
        }
        req.headers_mut()
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(DEFAULT_USER_AGENT));
        let pending = self.pool.send(req);
        match self.response_timeout {
            Some(limit) => tokio::time::timeout(limit, pending)
                .await
                .map_err(|_| HttpError::Timeout("the response headers"))?,
            None => pending.await,
        }
    }

    /// Sends a request and reads the whole body, refusing bodies over `limit` bytes.
    pub async fn send_buffered(
        &self,
        req: Request<Full<Bytes>>,
        limit: usize,
    ) -> Result<BufferedResponse, HttpError> {
        let response = self.send(req).await?;
        read_body(response, limit).await
    }

    /// POSTs `body` as JSON to `url` and reads the whole answer (up to `limit` bytes), whatever
    /// its status: the caller decides what a non-2xx status means.
    pub async fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
        limit: usize,
    ) -> Result<BufferedResponse, HttpError> {
        let json = serde_json::to_vec(body)
            .map_err(|e| HttpError::InvalidRequest(format!("body is not JSON: {e}")))?;
        let req = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(Full::new(Bytes::from(json)))
            .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
        self.send_buffered(req, limit).await
    }
}

/// Reads a response body to the end, refusing more than `limit` bytes.
pub async fn read_body(
    response: Response<ResponseBody>,
    limit: usize,
) -> Result<BufferedResponse, HttpError> {
    let (parts, body) = response.into_parts();
    let collected = Limited::new(body, limit).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            HttpError::BodyTooLarge { limit }
        } else {
            HttpError::Body(e)
        }
    })?;
    Ok(BufferedResponse {
        status: parts.status,
        headers: parts.headers,
        body: collected.to_bytes(),
    })
}

/// hyper's top-level errors say only "client error (Connect)"; the cause is further down.
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Incoming;
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    /// Serves `handler` over HTTP/1.1 keep-alive on 127.0.0.1 and counts accepted connections.
    async fn serve<F>(handler: F) -> (String, Arc<AtomicUsize>)
    where
        F: Fn(Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync + Clone + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler(req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (format!("http://{addr}"), connections)
    }

    fn get(url: String) -> Request<Full<Bytes>> {
        Request::get(url).body(Full::new(Bytes::new())).unwrap()
    }

    // Multi-threaded, as the host runs: the connection's own task may run on the other worker,
    // so its return to the pool races the next request unless the pool waits for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reuses_one_connection_for_sequential_requests() {
        let (base, connections) = serve(|req| {
            let ua = req.headers()[USER_AGENT].to_str().unwrap().to_owned();
            Response::new(Full::new(Bytes::from(ua)))
        })
        .await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        for _ in 0..200 {
            let response = client
                .send_buffered(get(format!("{base}/x")), 1024)
                .await
                .unwrap();
            assert_eq!(response.status, StatusCode::OK);
            assert_eq!(response.body, DEFAULT_USER_AGENT.as_bytes());
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bodiless_answers_return_their_connection_without_being_read() {
        let (base, connections) = serve(|_| Response::new(Full::new(Bytes::new()))).await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        for _ in 0..20 {
            let head = Request::head(format!("{base}/x"))
                .body(Full::new(Bytes::new()))
                .unwrap();
            // Dropped unread, as a caller that only wants the status would.
            let response = client.send(head).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_server_sees_an_origin_form_target_and_a_host_header() {
        let (base, _) = serve(|req| {
            let seen = format!(
                "{} {}",
                req.uri(),
                req.headers()[http::header::HOST].to_str().unwrap()
            );
            Response::new(Full::new(Bytes::from(seen)))
        })
        .await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let response = client
            .send_buffered(get(format!("{base}/v2/x?page=2")), 1024)
            .await
            .unwrap();
        let authority = base.trim_start_matches("http://");
        assert_eq!(
            response.body,
            format!("/v2/x?page=2 {authority}").as_bytes()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_dropped_before_its_end_takes_its_connection_with_it() {
        let (base, connections) =
            serve(|_| Response::new(Full::new(Bytes::from(vec![b'x'; 1 << 20])))).await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let partly_read = client.send(get(format!("{base}/big"))).await.unwrap();
        drop(partly_read);
        // The unread rest of the first answer must not be taken for the second.
        let second = client
            .send_buffered(get(format!("{base}/big")), 2 << 20)
            .await
            .unwrap();
        assert_eq!(second.body.len(), 1 << 20);
        assert_eq!(connections.load(Ordering::SeqCst), 2);
    }

    /// A raw HTTP/1.1 server: on each connection it reads one request per entry of
    /// `answers`, answering `ok` where the entry is true, then closes the connection without
    /// saying so (as a server whose keep-alive timeout has passed does). Returns the base URL,
    /// the connection count, and every request line seen.
    async fn serve_then_close(
        answers: &'static [bool],
    ) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counted, log) = (connections.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let log = log.clone();
                tokio::spawn(async move {
                    for &answer in answers {
                        let mut head = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        let line = String::from_utf8_lossy(&head)
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string();
                        log.lock().unwrap().push(line);
                        if answer {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                                .await;
                        }
                    }
                });
            }
        });
        (format!("http://{addr}"), connections, seen)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_on_a_connection_closed_before_answering_goes_again_once() {
        let (base, connections, seen) = serve_then_close(&[true, false]).await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        for _ in 0..2 {
            let response = client
                .send_buffered(get(format!("{base}/x")), 1024)
                .await
                .unwrap();
            assert_eq!(response.body, "ok".as_bytes());
        }
        assert_eq!(connections.load(Ordering::SeqCst), 2);
        assert_eq!(seen.lock().unwrap().len(), 3, "{:?}", seen.lock().unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_on_a_connection_closed_before_answering_is_not_sent_twice() {
        let (base, connections, seen) = serve_then_close(&[true, false]).await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let first = client
            .send_buffered(get(format!("{base}/x")), 1024)
            .await
            .unwrap();
        assert_eq!(first.body, "ok".as_bytes());
        let post = Request::post(format!("{base}/create"))
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let err = client.send_buffered(post, 1024).await.unwrap_err();
        assert!(matches!(err, HttpError::Request { .. }), "{err:?}");
        let posts = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("POST"))
            .count();
        assert_eq!(posts, 1);
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_the_server_closed_while_idle_is_replaced_not_reported() {
        let (base, connections, _) = serve_then_close(&[true]).await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        for _ in 0..10 {
            let response = client
                .send_buffered(get(format!("{base}/x")), 1024)
                .await
                .unwrap();
            assert_eq!(response.body, "ok".as_bytes());
        }
        assert_eq!(connections.load(Ordering::SeqCst), 10);
    }

    #[tokio::test]
    async fn post_json_sends_json() {
        let (base, _) = serve(|req| {
            let ct = req.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
            Response::builder()
                .status(201)
                .body(Full::new(Bytes::from(ct)))
                .unwrap()
        })
        .await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let response = client
            .post_json(&format!("{base}/p"), &serde_json::json!({"a": 1}), 1024)
            .await
            .unwrap();
        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(response.body, "application/json".as_bytes());
    }

    #[tokio::test]
    async fn oversized_body_is_refused() {
        let (base, _) = serve(|_| Response::new(Full::new(Bytes::from(vec![b'x'; 4096])))).await;
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let req = Request::get(format!("{base}/big"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let err = client.send_buffered(req, 100).await.unwrap_err();
        assert!(
            matches!(err, HttpError::BodyTooLarge { limit: 100 }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn refused_connection_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let req = Request::get(format!("http://{addr}/"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let err = client.send(req).await.unwrap_err();
        assert!(
            matches!(
                err,
                HttpError::Connect {
                    failure: Failure::Refused,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn https_goes_through_tls() {
        // A plain-HTTP server cannot complete a TLS handshake, so an error (not a response and
        // not a hang) shows the https:// path really goes through rustls.
        let (base, _) = serve(|_| Response::new(Full::new(Bytes::new()))).await;
        let client = HttpClient::new(&HttpClientConfig {
            response_timeout: Some(Duration::from_secs(10)),
            ..HttpClientConfig::default()
        })
        .unwrap();
        let url = base.replacen("http://", "https://", 1);
        let req = Request::get(url).body(Full::new(Bytes::new())).unwrap();
        let err = client.send(req).await.unwrap_err();
        assert!(
            matches!(
                err,
                HttpError::Connect {
                    failure: Failure::Tls,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn relative_url_is_invalid() {
        let client = HttpClient::new(&HttpClientConfig::default()).unwrap();
        let req = Request::get("/v2/x").body(Full::new(Bytes::new())).unwrap();
        let err = client.send(req).await.unwrap_err();
        assert!(matches!(err, HttpError::InvalidRequest(_)), "{err:?}");
    }

    #[tokio::test]
    async fn response_timeout_applies() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and then never answers.
        let holder = tokio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let client = HttpClient::new(&HttpClientConfig {
            response_timeout: Some(Duration::from_millis(200)),
            ..HttpClientConfig::default()
        })
        .unwrap();
        let req = Request::get(format!("http://{addr}/"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let err = client.send(req).await.unwrap_err();
        assert!(matches!(err, HttpError::Timeout(_)), "{err:?}");
        holder.abort();
    }
}
