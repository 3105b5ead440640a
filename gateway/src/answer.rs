//! Which answer a request gets: the routes of `dockhand serve`'s `/v1` API, in the same order of
//! checks and with the same bodies and statuses (`dockhand-api` renders both), so that a client
//! cannot tell the two apart. No `/mcp` and no `/metrics`: an engine scales the gateway out by
//! running many copies, which share no state to count in.

use crate::settings::{Client, MAX_BODY_BYTES, Settings};
use dockhand_api::{CallOptions as ApiOptions, OperationEntry, Problem};
use dockhand_plugin_core::catalog::{self, Access};
use dockhand_plugin_core::client::{self, CallOptions, Credentials, Transport};
use dockhand_plugin_core::retry::{Clock, RetryPolicy};
use serde_json::Value;

/// The answer to every request (but `/healthz`) while the settings are broken.
pub const MISCONFIGURED: &str =
    "the gateway is misconfigured; its log on the engine says which setting";

/// The parts of an incoming request the API reads before its body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

/// An answer, for the engine's glue to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    fn json(status: u16, value: &Value) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    fn refusal(status: u16, kind: &str, message: &str) -> Answer {
        Answer::json(status, &dockhand_api::refusal(kind, message))
    }

    fn problem(problem: &Problem<'_>) -> Answer {
        let mut answer = Answer::json(
            dockhand_api::http_status(problem.kind()),
            &dockhand_api::error_body(problem.fields()),
        );
        if let Some(secs) = problem.retry_after() {
            answer.headers.push(("retry-after", secs.to_string()));
        }
        answer
    }
}

/// What a call needs from the engine: the Hub (through the egress rule), credentials and time.
pub struct Hub<'a> {
    pub transport: &'a mut dyn Transport,
    pub credentials: &'a mut dyn Credentials,
    pub clock: &'a mut dyn Clock,
}

/// The answer to `request`. `settings` is what the engine configured, or why it cannot be
/// used; `body` reads the request's body, at most the given number of bytes (`Err` past it),
/// and is called only for a call that gets that far.
pub fn answer(
    settings: Result<&Settings, &str>,
    request: &Request<'_>,
    body: impl FnOnce(usize) -> Result<Vec<u8>, ()>,
    hub: Hub<'_>,
) -> Answer {
    if request.path == "/healthz" && request.method == "GET" {
        return Answer::json(200, &serde_json::json!({"status": "ok"}));
    }
    let Ok(settings) = settings else {
        // A gateway that cannot tell its clients apart answers none of them; which setting is
        // wrong goes to the engine's log (handler.rs), not to whoever asks.
        return Answer::refusal(500, "host", MISCONFIGURED);
    };
    let Some(client) = dockhand_api::authenticate(request.authorization, &settings.clients) else {
        let mut answer = Answer::refusal(401, "unauthorized", dockhand_api::NEEDS_CLIENT_TOKEN);
        answer.headers.push(("www-authenticate", "Bearer".into()));
        return answer;
    };
    match (request.method, request.path) {
        ("GET", "/v1/operations") => operations(),
        ("GET", p) if p == "/v1/docs" || p.starts_with("/v1/docs/") => {
            docs(p.strip_prefix("/v1/docs/"))
        }
        ("POST", p) if p.starts_with("/v1/call/") => call(
            settings,
            client,
            &p["/v1/call/".len()..],
            request,
            body,
            hub,
        ),
        _ => Answer::refusal(404, "not-found", &dockhand_api::no_such_route(false)),
    }
}

fn operations() -> Answer {
    let list: Vec<Value> = catalog::OPERATIONS
        .iter()
        .map(|op| {
            dockhand_api::operation_json(&OperationEntry {
                name: op.name,
                aliases: op.aliases.to_vec(),
                area: op.area,
                method: op.method.as_str(),
                path: op.path,
                write: op.access == Access::Write,
                destructive: op.destructive,
                deprecated: op.deprecated,
                summary: op.summary,
            })
        })
        .collect();
    Answer::json(200, &Value::Array(list))
}

fn docs(topic: Option<&str>) -> Answer {
    let topic = topic
        .map(|t| t.trim_end_matches('/'))
        .filter(|t| !t.is_empty());
    match dockhand_plugin_core::docs::docs(topic) {
        Ok(markdown) => Answer {
            status: 200,
            content_type: dockhand_api::MARKDOWN,
            headers: Vec::new(),
            body: markdown.into_bytes(),
        },
        Err(e) => Answer::problem(&e.problem()),
    }
}

fn call(
    settings: &Settings,
    client: &Client,
    operation: &str,
    request: &Request<'_>,
    body: impl FnOnce(usize) -> Result<Vec<u8>, ()>,
    hub: Hub<'_>,
) -> Answer {
    let options = match dockhand_api::call_options(request.query) {
        Ok(options) => options,
        Err(why) => return Answer::refusal(400, "usage", &why),
    };
    if let Err(bad) = dockhand_api::declares_json(request.content_type) {
        return Answer::refusal(bad.status, "usage", &bad.message);
    }
    // A write by a read-only client is refused before its body is read or anything is sent.
    if !client.allow_write
        && let Some(op) = catalog::find(operation)
        && op.access == Access::Write
    {
        let why = dockhand_api::read_only(op.name, &client.name);
        return Answer::problem(&Problem::Denied(&why));
    }
    let Ok(bytes) = body(MAX_BODY_BYTES) else {
        let bad = dockhand_api::body_too_large(MAX_BODY_BYTES);
        return Answer::refusal(bad.status, "usage", &bad.message);
    };
    let args = match dockhand_api::call_arguments(&bytes) {
        Ok(args) => args,
        Err(bad) => return Answer::refusal(bad.status, "usage", &bad.message),
    };
    let ApiOptions {
        all_pages,
        max_pages,
        page_concurrency,
    } = options;
    let options = CallOptions {
        account: client.account.clone(),
        base_url: Some(settings.base_url.clone()),
        all_pages,
        max_pages,
        page_concurrency,
        retry: RetryPolicy::default(),
    };
    let outcome = client::call(
        operation,
        &args,
        &options,
        hub.transport,
        hub.credentials,
        hub.clock,
    )
    .and_then(|outcome| Ok((outcome.body.to_value()?, outcome.pages)));
    match outcome {
        Ok((result, pages)) => {
            let mut answer = Answer::json(200, &result);
            answer
                .headers
                .push((dockhand_api::PAGES_HEADER, pages.to_string()));
            answer
        }
        Err(e) => Answer::problem(&e.problem()),
    }
}
