//! The plain JSON API of `dockhand serve`, for scripts and services:
//! - `GET /v1/operations`: the catalog, as `dockhand ops --json` lists it;
//! - `GET /v1/docs[/{topic}]`: the markdown reference, whole or for an operation or area;
//! - `POST /v1/call/{operation}`: the arguments as a JSON object in the body, call options in
//!   the query (`all_pages`, `max_pages`, `page_concurrency`); the result as the body, or the
//!   typed error (`{"error": {...}}`, as every surface shows it) with the status its kind maps to
//!   ([`report::http_status`]), and `Retry-After` on a 429.

use super::auth::Client;
use super::{Body, State, json_response, log_call, refusal, respond};
use crate::bindings::exports::dockhand::hub::catalog::Access;
use crate::{CallError, CallOptions, HubError, report};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// An error as the API answers it.
fn error_response(e: &CallError) -> Response<Body> {
    let kind = report::kind(e);
    let status = StatusCode::from_u16(report::http_status(kind))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, &report::error_json(e));
    if let CallError::Hub(HubError::RateLimited(r)) = e
        && let Some(secs) = r.retry_after
        && let Ok(value) = secs.to_string().parse()
    {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, value);
    }
    response
}

pub(super) async fn operations(state: &Arc<State>) -> Response<Body> {
    match state.hub.operations().await {
        Ok(ops) => json_response(
            StatusCode::OK,
            &Value::Array(ops.iter().map(report::operation_json).collect()),
        ),
        Err(e) => error_response(&e),
    }
}

pub(super) async fn docs(state: &Arc<State>, topic: Option<&str>) -> Response<Body> {
    let topic = topic.map(|t| t.trim_end_matches('/'));
    let topic = topic.filter(|t| !t.is_empty());
    match state.hub.docs(topic).await {
        Ok(markdown) => respond(StatusCode::OK, dockhand_api::MARKDOWN, markdown),
        Err(e) => error_response(&e),
    }
}

/// The call options of a `/v1/call` query string (`dockhand-api` reads them, as the gateway
/// does); `Err` names the parameter that is wrong.
fn options_of(query: Option<&str>, client: &Client) -> Result<CallOptions, String> {
    let options = dockhand_api::call_options(query)?;
    Ok(CallOptions {
        account: client.account.clone(),
        all_pages: options.all_pages,
        max_pages: options.max_pages,
        page_concurrency: options.page_concurrency,
        ..CallOptions::default()
    })
}

pub(super) async fn call(
    state: &Arc<State>,
    client: &Client,
    request: Request<Incoming>,
) -> Response<Body> {
    let started = Instant::now();
    let operation = request.uri().path()["/v1/call/".len()..].to_string();
    // Metrics and logs name the operation as the catalog does, so that what a client puts in
    // the path cannot grow the metrics' label sets.
    let label = match state.hub.resolve(&operation).await {
        Ok(Some(op)) => op.name.clone(),
        _ => "unknown".to_string(),
    };
    let mut unanswered = Unanswered {
        state,
        client: &client.name,
        label: &label,
        started,
        answered: false,
    };
    let answer = run(state, client, &operation, request).await;
    unanswered.answered = true;
    let (outcome, status) = match &answer {
        Ok(_) => ("ok", 200),
        Err(Failure::Call(e)) => (report::kind(e), report::http_status(report::kind(e))),
        Err(Failure::Request(status, kind, _)) => (*kind, status.as_u16()),
    };
    let took = started.elapsed();
    state.metrics.call("api", &label, outcome, took);
    if state.options.log {
        log_call(&client.name, "api", &label, outcome, Some(status), took);
    }
    match answer {
        Ok(response) => response,
        Err(Failure::Call(e)) => error_response(&e),
        Err(Failure::Request(status, kind, message)) => refusal(status, kind, &message),
    }
}

/// Counts and logs a call whose client went away before its answer: hyper drops the call's
/// future then, which stops the call (its component instance and its Hub request with it).
struct Unanswered<'a> {
    state: &'a State,
    client: &'a str,
    label: &'a str,
    started: Instant,
    /// Set once the call has its answer; until then a drop means the client went away.
    answered: bool,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let took = self.started.elapsed();
        self.state
            .metrics
            .call("api", self.label, "cancelled", took);
        if self.state.options.log {
            log_call(self.client, "api", self.label, "cancelled", None, took);
        }
    }
}

/// Why a call was not answered with a result.
enum Failure {
    /// The call ran (or was refused by the host) and failed: its typed error.
    Call(CallError),
    /// The HTTP request itself was wrong (body too large, not JSON, bad query).
    Request(StatusCode, &'static str, String),
}

async fn run(
    state: &Arc<State>,
    client: &Client,
    operation: &str,
    request: Request<Incoming>,
) -> Result<Response<Body>, Failure> {
    let options = options_of(request.uri().query(), client)
        .map_err(|m| Failure::Request(StatusCode::BAD_REQUEST, "usage", m))?;
    let bad = |bad: dockhand_api::BadRequest| {
        Failure::Request(
            StatusCode::from_u16(bad.status).unwrap_or(StatusCode::BAD_REQUEST),
            "usage",
            bad.message,
        )
    };
    dockhand_api::declares_json(
        request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    )
    .map_err(bad)?;
    // A write by a read-only client is refused before its body is read or anything is sent.
    if !client.allow_write
        && let Ok(Some(op)) = state.hub.resolve(operation).await
        && op.access == Access::Write
    {
        return Err(Failure::Call(CallError::Hub(HubError::Denied(
            dockhand_api::read_only(&op.name, &client.name),
        ))));
    }
    let limit = state.options.max_body_bytes;
    let body = Limited::new(request.into_body(), limit)
        .collect()
        .await
        .map_err(|_| bad(dockhand_api::body_too_large(limit)))?
        .to_bytes();
    let args = dockhand_api::call_arguments(&body).map_err(bad)?;
    let result = state
        .hub
        .call(operation, &args, &options)
        .await
        .map_err(Failure::Call)?;
    if let Some(remaining) = result.rate_limit.as_ref().and_then(|r| r.remaining) {
        let account = options.account.as_deref().unwrap_or("default");
        state.metrics.remaining(account, remaining);
    }
    let mut response = json_response(StatusCode::OK, &result.body);
    if let Ok(value) = result.pages.to_string().parse() {
        response
            .headers_mut()
            .insert(dockhand_api::PAGES_HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_options_come_from_the_query_and_anything_else_is_named() {
        let client = Client {
            name: "ci".into(),
            account: Some("work".into()),
            allow_write: false,
        };
        let o = options_of(
            Some("all_pages=true&max_pages=3&page_concurrency=2"),
            &client,
        )
        .unwrap();
        assert!(o.all_pages);
        assert_eq!((o.max_pages, o.page_concurrency), (Some(3), Some(2)));
        assert_eq!(o.account.as_deref(), Some("work"));
        assert!(options_of(Some("all_pages"), &client).unwrap().all_pages);
        assert!(
            options_of(Some("max_pages=0"), &client)
                .unwrap_err()
                .contains("max_pages")
        );
        assert!(
            options_of(Some("namespace=x"), &client)
                .unwrap_err()
                .contains("namespace")
        );
    }
}
