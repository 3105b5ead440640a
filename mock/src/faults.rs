//! Injected failures: what can go wrong, which requests it hits, and what the client then gets.
//!
//! Faults wait in a queue in the order injected. Each request takes the first fault whose
//! method and path prefix match it, and a fault is used up after `times` requests.

use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::json;

use crate::body::Part;
use crate::http::Reply;

/// What an injected fault does to the request it hits.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// 429 with `Retry-After: <seconds>` (the Hub's header since mid-2025).
    RetryAfter {
        /// The header's value: how long the client is asked to wait.
        seconds: u64,
    },
    /// 429 with the older `X-Retry-After: <unix time>`, `seconds` from now.
    XRetryAfter {
        /// How far from now the header's time lies.
        seconds: u64,
    },
    /// This status with a JSON body (`body`, or a generic `{"detail", "message"}`).
    Status {
        /// The HTTP status code (one outside 100-999 is sent as 500).
        status: u16,
        /// The body; `None` for the generic one.
        body: Option<serde_json::Value>,
    },
    /// 200, `Content-Type: application/json`, and text that is not JSON.
    MalformedJson,
    /// 200, `Content-Type: application/json`, and exactly this text (JSON a client may still
    /// find hard to read: huge numbers, deep nesting).
    JsonText {
        /// The body, sent as is.
        text: String,
    },
    /// The real answer's headers and first half of its body, a Content-Length promising the
    /// whole, then the connection closes.
    TruncatedBody,
    /// The real answer, after waiting `delay` before the status line.
    SlowHeaders {
        /// How long the client waits for the status line.
        delay: Duration,
    },
    /// The real answer's headers and first half of its body, then `delay`, then the rest.
    SlowBody {
        /// How long the body stalls halfway.
        delay: Duration,
    },
    /// 200 with a valid JSON body of exactly `bytes` bytes (or the smallest possible if less).
    OversizedBody {
        /// The body's length.
        bytes: usize,
    },
    /// 302 to the same path and query on `target` (`scheme://host:port`); `None` means
    /// `http://127.0.0.2:<the mock's port>`, another host as far as an allow-list knows.
    Redirect {
        /// Where to: `scheme://host:port`, no trailing slash.
        target: Option<String>,
    },
    /// The TCP connection is reset without any response.
    ConnectionReset,
}

/// A fault with the requests it applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What the requests it hits get.
    pub kind: FaultKind,
    /// Only requests with this method (any case); `None` for all.
    pub method: Option<String>,
    /// Only requests whose raw path starts with this; `None` for all.
    pub path_prefix: Option<String>,
    /// How many matching requests it hits before it is used up (0 hits none).
    pub times: u32,
}

impl Fault {
    /// Hits the next request, whatever it is.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            method: None,
            path_prefix: None,
            times: 1,
        }
    }

    /// Hits this many matching requests instead of one.
    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }

    /// Hits only requests with this method (compared ignoring case); others pass it by.
    pub fn method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_string());
        self
    }

    /// Hits only requests whose raw path (before any query) starts with `prefix`.
    pub fn path_prefix(mut self, prefix: &str) -> Fault {
        self.path_prefix = Some(prefix.to_string());
        self
    }

    /// The next request is rate limited, told to come back in `seconds` the current way.
    pub fn retry_after(seconds: u64) -> Fault {
        Fault::new(FaultKind::RetryAfter { seconds })
    }

    /// The next request is rate limited, told when to come back the older way.
    pub fn x_retry_after(seconds: u64) -> Fault {
        Fault::new(FaultKind::XRetryAfter { seconds })
    }

    /// The next request fails with `status` and a generic error body.
    pub fn status(status: u16) -> Fault {
        Fault::new(FaultKind::Status { status, body: None })
    }

    /// The next request gets a success whose body claims to be JSON and is not.
    pub fn malformed_json() -> Fault {
        Fault::new(FaultKind::MalformedJson)
    }

    /// The next request gets a success with `text` as its JSON body.
    pub fn json_text(text: &str) -> Fault {
        Fault::new(FaultKind::JsonText {
            text: text.to_string(),
        })
    }

    /// The next request's answer stops halfway, short of its Content-Length.
    pub fn truncated_body() -> Fault {
        Fault::new(FaultKind::TruncatedBody)
    }

    /// The next request's answer starts only after `delay`.
    pub fn slow_headers(delay: Duration) -> Fault {
        Fault::new(FaultKind::SlowHeaders { delay })
    }

    /// The next request's answer pauses for `delay` halfway through its body.
    pub fn slow_body(delay: Duration) -> Fault {
        Fault::new(FaultKind::SlowBody { delay })
    }

    /// The next request gets a success whose valid JSON body is `bytes` long, for size caps.
    pub fn oversized_body(bytes: usize) -> Fault {
        Fault::new(FaultKind::OversizedBody { bytes })
    }

    /// The next request is redirected to the mock itself under another loopback address, which
    /// a client's allow-list must treat as a foreign host.
    pub fn redirect() -> Fault {
        Fault::new(FaultKind::Redirect { target: None })
    }

    /// The next request is redirected to the same path and query on `target`
    /// (`scheme://host:port`).
    pub fn redirect_to(target: &str) -> Fault {
        Fault::new(FaultKind::Redirect {
            target: Some(target.trim_end_matches('/').to_string()),
        })
    }

    /// The next request's connection is reset before any answer.
    pub fn connection_reset() -> Fault {
        Fault::new(FaultKind::ConnectionReset)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: Vec<Fault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let index = self.faults.iter().position(|f| f.matches(method, path))?;
        let fault = &mut self.faults[index];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }
}

/// A reply whose body may go out in timed parts under a declared length.
pub(crate) struct Shaped {
    pub reply: Reply,
    pub paced: Option<(Vec<Part>, u64)>,
}

impl Shaped {
    pub(crate) fn plain(reply: Reply) -> Shaped {
        Shaped { reply, paced: None }
    }
}

fn error_body(status: StatusCode) -> serde_json::Value {
    let text = format!(
        "mock fault: {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    json!({"detail": text.trim_end(), "message": text.trim_end()})
}

/// The answer for a fault that replaces the real one, or `None` if the fault needs the real
/// answer (slow and truncated bodies, slow headers) or no answer (connection reset).
pub(crate) fn replacement(
    kind: &FaultKind,
    raw_path_and_query: &str,
    port: u16,
    now: u64,
) -> Option<Reply> {
    let reply = match kind {
        FaultKind::RetryAfter { seconds } => {
            Reply::json(StatusCode::TOO_MANY_REQUESTS, &rate_limited_body())
                .with_header("retry-after", seconds.to_string())
        }
        FaultKind::XRetryAfter { seconds } => {
            Reply::json(StatusCode::TOO_MANY_REQUESTS, &rate_limited_body())
                .with_header("x-retry-after", (now + seconds).to_string())
        }
        FaultKind::Status { status, body } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = body.clone().unwrap_or_else(|| error_body(status));
            Reply::json(status, &body)
        }
        FaultKind::MalformedJson => ok_with_json_body(Bytes::from_static(
            b"{\"count\": 2, \"results\": [{\"name\": \"trunc",
        )),
        FaultKind::JsonText { text } => ok_with_json_body(Bytes::from(text.clone())),
        FaultKind::OversizedBody { bytes } => ok_with_json_body(Bytes::from(oversized(*bytes))),
        FaultKind::Redirect { target } => {
            let base = target
                .clone()
                .unwrap_or_else(|| format!("http://127.0.0.2:{port}"));
            let location = format!("{base}{raw_path_and_query}");
            Reply::json(
                StatusCode::FOUND,
                &json!({"detail": "moved", "location": location}),
            )
            .with_header("location", location)
        }
        FaultKind::TruncatedBody
        | FaultKind::SlowHeaders { .. }
        | FaultKind::SlowBody { .. }
        | FaultKind::ConnectionReset => return None,
    };
    Some(reply)
}

pub(crate) fn rate_limited_body() -> serde_json::Value {
    json!({"detail": "Rate limit exceeded", "message": "Rate limit exceeded", "error": false})
}

/// 200 with a JSON content type and exactly `body`, whatever it holds.
fn ok_with_json_body(body: Bytes) -> Reply {
    let mut reply = Reply::json(StatusCode::OK, &json!(null));
    reply.body = body;
    reply
}

/// A JSON document of exactly `bytes` bytes when `bytes` allows it.
fn oversized(bytes: usize) -> Vec<u8> {
    let head = br#"{"count":0,"next":null,"previous":null,"results":[],"padding":""#;
    let tail = br#""}"#;
    let fill = bytes.saturating_sub(head.len() + tail.len());
    let mut out = Vec::with_capacity(head.len() + fill + tail.len());
    out.extend_from_slice(head);
    out.resize(head.len() + fill, b'x');
    out.extend_from_slice(tail);
    out
}

/// Splits the real answer for slow or truncated bodies.
pub(crate) fn shape(kind: &FaultKind, mut reply: Reply) -> Shaped {
    let pause = match kind {
        FaultKind::SlowBody { delay } => *delay,
        // Long enough for the first half to be flushed before the connection drops.
        FaultKind::TruncatedBody => Duration::from_millis(50),
        _ => return Shaped::plain(reply),
    };
    if reply.body.is_empty() {
        // Nothing to cut in half (HEAD, 204): stand in a small JSON body so the fault shows.
        let status = if reply.status == StatusCode::NO_CONTENT {
            StatusCode::OK
        } else {
            reply.status
        };
        let headers = std::mem::take(&mut reply.headers);
        reply = Reply::json(
            status,
            &json!({"detail": "mock fault body", "padding": "xxxxxxxxxxxxxxxx"}),
        );
        reply.headers = headers;
    }
    let total = reply.body.len();
    let first = reply.body.slice(..total / 2);
    let rest = reply.body.slice(total / 2..);
    let parts = match kind {
        FaultKind::TruncatedBody => vec![
            Part {
                delay: Duration::ZERO,
                data: first,
            },
            Part {
                delay: pause,
                data: Bytes::new(),
            },
        ],
        _ => vec![
            Part {
                delay: Duration::ZERO,
                data: first,
            },
            Part {
                delay: pause,
                data: rest,
            },
        ],
    };
    Shaped {
        reply,
        paced: Some((parts, total as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_matches_in_order_and_uses_faults_up() {
        let mut q = FaultQueue::default();
        q.push(Fault::status(503).method("POST").times(2));
        q.push(Fault::status(502).path_prefix("/v2/orgs/"));
        assert_eq!(q.take("GET", "/v2/access-tokens"), None);
        assert!(matches!(
            q.take("get", "/v2/orgs/acme"),
            Some(FaultKind::Status { status: 502, .. })
        ));
        assert!(matches!(
            q.take("post", "/x"),
            Some(FaultKind::Status { status: 503, .. })
        ));
        assert!(matches!(
            q.take("POST", "/x"),
            Some(FaultKind::Status { status: 503, .. })
        ));
        assert_eq!(q.take("POST", "/x"), None);
    }

    #[test]
    fn oversized_is_exact_json() {
        let body = oversized(5000);
        assert_eq!(body.len(), 5000);
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
    }
}
