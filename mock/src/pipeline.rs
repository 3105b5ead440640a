//! One request from arrival to response: read its body (up to the limit), wait out the
//! configured latency, record it, count it, apply any fault, answer it.
//!
//! A body over [`MockConfig::max_request_body`](crate::MockConfig::max_request_body) is answered
//! 413 as soon as the mock knows: from Content-Length before reading any of it, or while
//! counting a chunked body. The unread rest is never buffered; hyper then closes the connection,
//! since it cannot find where the next request starts.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use crate::body::MockBody;
use crate::clock;
use crate::faults::{self, FaultKind, Shaped};
use crate::http::{ApiError, Reply, Request};
use crate::hub::Shared;
use crate::ratelimit::RateStatus;
use crate::record::{RecordedAnswer, RecordedRequest};
use crate::routing;
use crate::server::ConnControl;

/// Counts a request as in flight until dropped (an answer ready, or the connection gone).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = shared.in_flight.fetch_add(1, SeqCst) + 1;
        shared.most_in_flight.fetch_max(now, SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

pub(crate) async fn respond(
    shared: Arc<Shared>,
    conn: Arc<ConnControl>,
    request: hyper::Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let _counted = InFlight::enter(&shared);
    let (parts, body) = request.into_parts();
    let limit = shared.max_request_body;
    let body = read_body(body, limit).await;
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().map(str::to_string);
    // A refused body is recorded as empty: the request arrived, its body was never kept.
    let id = shared.record(RecordedRequest::new(
        parts.method.as_str(),
        &raw_path,
        raw_query.as_deref(),
        &parts.headers,
        body.as_deref().unwrap_or_default(),
    ));

    let rate = shared.count_request();
    if let Some(seconds) = rate.retry_after {
        let reply = Reply::json(StatusCode::TOO_MANY_REQUESTS, &faults::rate_limited_body())
            .with_header("retry-after", seconds.to_string());
        return Ok(build(Shaped::plain(reply), &rate));
    }
    let Some(body) = body else {
        let reply = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the mock's limit of {limit} bytes"),
        )
        .into_reply(routing::is_scim_path(&raw_path))
        .with_header("connection", "close");
        return Ok(build(Shaped::plain(reply), &rate));
    };

    let now = clock::now();
    let fault = shared.take_fault(parts.method.as_str(), &raw_path);
    let path_and_query = match &raw_query {
        Some(q) => format!("{raw_path}?{q}"),
        None => raw_path.clone(),
    };
    if let Some(kind) = &fault {
        if *kind == FaultKind::ConnectionReset {
            conn.reset();
            // The connection task drops the socket; this answer never goes out.
            std::future::pending::<()>().await;
        }
        if let Some(reply) = faults::replacement(kind, &path_and_query, shared.addr.port(), now) {
            return Ok(build(Shaped::plain(reply), &rate));
        }
    }

    // HTTP/2 names the authority in the request target, not in `Host`.
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| shared.addr.to_string());
    let scheme = if shared.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let req = Request::new(
        parts.method,
        raw_path,
        raw_query,
        parts.headers,
        body,
        format!("{scheme}://{host}"),
        now,
    );
    let reply = shared.answer(&req);
    shared.record_answer(
        id,
        RecordedAnswer {
            status: reply.status.as_u16(),
            content_type: reply.content_type.map(str::to_string),
            body: reply.body.to_vec(),
        },
    );
    let shaped = match &fault {
        Some(FaultKind::SlowHeaders { delay }) => {
            tokio::time::sleep(*delay).await;
            Shaped::plain(reply)
        }
        Some(kind) => faults::shape(kind, reply),
        None => Shaped::plain(reply),
    };
    Ok(build(shaped, &rate))
}

/// The whole body, or `None` once it is known to exceed `limit` bytes. A client that goes away
/// mid-body gets what arrived, so its (partial) request is still recorded.
async fn read_body(mut body: Incoming, limit: usize) -> Option<Bytes> {
    if body.size_hint().lower() > limit as u64 {
        return None;
    }
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > limit {
                return None;
            }
            read.extend_from_slice(&data);
        }
    }
    Some(read.freeze())
}

fn build(shaped: Shaped, rate: &RateStatus) -> Response<MockBody> {
    let Shaped { reply, paced } = shaped;
    let (body, declared) = match paced {
        Some((parts, declared)) => (MockBody::paced(parts), Some(declared)),
        None => (MockBody::full(reply.body), None),
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    if let Some(ct) = reply.content_type {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    if let Some(declared) = declared {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(declared));
    }
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(HeaderName::from_static(name), value);
        }
    }
    headers.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(rate.reset));
    response
}
