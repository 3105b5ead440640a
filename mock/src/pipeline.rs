//! One request from arrival to response: record it, count it, apply any fault, answer it.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use crate::body::MockBody;
use crate::clock;
use crate::faults::{self, FaultKind, Shaped};
use crate::http::{Reply, Request};
use crate::hub::Shared;
use crate::ratelimit::RateStatus;
use crate::record::RecordedRequest;
use crate::server::ConnControl;

pub(crate) async fn respond(
    shared: Arc<Shared>,
    conn: Arc<ConnControl>,
    request: hyper::Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = request.into_parts();
    // A client that goes away mid-body still gets its (partial) request recorded.
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().map(str::to_string);
    shared.record(RecordedRequest::new(
        parts.method.as_str(),
        &raw_path,
        raw_query.as_deref(),
        &parts.headers,
        &body,
    ));

    let rate = shared.count_request();
    if let Some(seconds) = rate.retry_after {
        let reply = Reply::json(StatusCode::TOO_MANY_REQUESTS, &faults::rate_limited_body())
            .with_header("retry-after", seconds.to_string());
        return Ok(build(Shaped::plain(reply), &rate));
    }

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

    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| shared.addr.to_string());
    let req = Request::new(
        parts.method,
        raw_path,
        raw_query,
        parts.headers,
        body,
        format!("http://{host}"),
        now,
    );
    let reply = shared.answer(&req);
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
