//! A small HTTP client for the mock's tests: hyper-util's pooled client for ordinary calls, raw
//! TCP for the faults that break HTTP itself.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use dockhand_mock::{MockConfig, MockHub};
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: base.to_string(),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let mut builder = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let payload = match body {
            Some((content_type, bytes)) => {
                builder = builder.header("content-type", content_type);
                Bytes::from(bytes)
            }
            None => Bytes::new(),
        };
        let response = tokio::time::timeout(
            Duration::from_secs(10),
            self.client
                .request(builder.body(Full::new(payload)).unwrap()),
        )
        .await
        .expect("request timed out")
        .expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send("GET", path, token, None).await
    }

    pub async fn head(&self, path: &str, token: Option<&str>) -> Resp {
        self.send("HEAD", path, token, None).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send("DELETE", path, token, None).await
    }

    pub async fn json(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Resp {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.send(method, path, token, Some(("application/json", bytes)))
            .await
    }

    pub async fn scim(&self, method: &str, path: &str, token: &str, body: Value) -> Resp {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.send(
            method,
            path,
            Some(token),
            Some(("application/scim+json", bytes)),
        )
        .await
    }

    /// Exchanges `identifier`/`secret` for a bearer, asserting it works.
    pub async fn token(&self, identifier: &str, secret: &str) -> String {
        let r = self
            .json(
                "POST",
                "/v2/auth/token",
                None,
                serde_json::json!({"identifier": identifier, "secret": secret}),
            )
            .await;
        assert_eq!(
            r.status,
            200,
            "token exchange for {identifier}: {}",
            r.text()
        );
        r.json()["access_token"].as_str().unwrap().to_string()
    }
}

pub async fn start() -> (MockHub, Api) {
    start_with(MockConfig::default()).await
}

pub async fn start_with(config: MockConfig) -> (MockHub, Api) {
    let hub = MockHub::start(config).await.expect("mock starts");
    let api = Api::new(&hub.base_url());
    (hub, api)
}

/// Writes `request` on a fresh connection and reads until the peer closes (or `limit`).
/// Returns what arrived and the error that ended the read, if any.
pub async fn raw(
    addr: SocketAddr,
    request: &str,
    limit: Duration,
) -> (Vec<u8>, Option<std::io::Error>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (out, None),
            Ok(Ok(0)) => return (out, None),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return (out, Some(e)),
        }
    }
}

/// A GET that asks the server to close the connection after answering.
pub fn raw_get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
}

/// Splits a raw HTTP/1.1 response into its head and body.
pub fn split_response(bytes: &[u8]) -> (String, Vec<u8>) {
    let at = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&bytes[..at]).into_owned(),
        bytes[at + 4..].to_vec(),
    )
}

pub fn head_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}
