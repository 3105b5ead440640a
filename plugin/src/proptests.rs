//! Property tests of the core's two untrusted inputs: what a caller passes (any operation name,
//! any JSON) and what comes back over HTTP (any status, headers and bytes). Whatever arrives, a
//! call returns a value or a typed error: it never panics, and never sends a request for
//! arguments it rejected. `fuzz/` runs the same entry points for longer.

use crate::catalog::{Method, NAME_INDEX, OPERATIONS, Operation, Type};
use crate::client::{CallOptions, CredentialKind, Credentials, Transport, call};
use crate::error::{HubError, TransportKind};
use crate::request::HttpRequest;
use crate::response::{HttpResponse, decode};
use crate::retry::{FakeClock, RetryPolicy};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::time::Duration;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        // Shrinking a failure is worth it; persisting it to a file in the source tree is not.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every name the catalog answers to, and names near them or nowhere near them.
fn operation_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..NAME_INDEX.len()).prop_map(|i| NAME_INDEX[i].0.to_string()),
        1 => (0..NAME_INDEX.len()).prop_map(|i| NAME_INDEX[i].0.replace('_', "-")),
        1 => "[a-zA-Z_-]{0,40}",
        1 => any::<String>(),
    ]
}

/// Keys that parameters and body fields answer to, so that arguments often half-fit.
fn known_key() -> impl Strategy<Value = String> {
    let keys: Vec<&'static str> = OPERATIONS
        .iter()
        .flat_map(|op| {
            op.params
                .iter()
                .map(|p| p.name)
                .chain(op.body.iter().flat_map(|b| b.fields.iter().map(|f| f.name)))
        })
        .collect();
    (0..keys.len()).prop_map(move |i| keys[i].to_string())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[ -~]{0,20}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
        // Values that look like what parameters want: names, tags, enum words, dates.
        prop_oneof![
            Just("library"),
            Just("alpine"),
            Just("latest"),
            Just("read"),
            Just("public"),
            Just("2025-01-01T00:00:00Z"),
            Just("../x"),
            Just(""),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop_oneof![known_key(), any::<String>()], inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A value of the type a parameter wants (one of its enum values, when it has them), or now
/// and then anything at all.
fn value_for(ty: Type, enum_values: &'static [&'static str]) -> BoxedStrategy<Value> {
    let fitting = if !enum_values.is_empty() {
        (0..enum_values.len())
            .prop_map(move |i| Value::from(enum_values[i]))
            .boxed()
    } else {
        match ty {
            Type::String => "[a-z0-9._-]{1,12}".prop_map(Value::String).boxed(),
            Type::Integer => (0i64..200).prop_map(Value::from).boxed(),
            Type::Number => (0.0f64..200.0).prop_map(Value::from).boxed(),
            Type::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Array => prop::collection::vec("[a-z]{1,8}".prop_map(Value::String), 0..3)
                .prop_map(Value::Array)
                .boxed(),
            Type::Object => Just(Value::Object(Map::new())).boxed(),
        }
    };
    prop_oneof![6 => fitting, 1 => json_value()].boxed()
}

/// Arguments shaped for `op`: each parameter and body field present or not (required ones
/// usually present), with values that usually fit, and now and then a stray key.
fn arguments_for(op: &'static Operation) -> BoxedStrategy<Value> {
    let mut members: Vec<(&'static str, bool, BoxedStrategy<Value>)> = op
        .params
        .iter()
        .map(|p| (p.name, p.required, value_for(p.ty, p.enum_values)))
        .collect();
    if let Some(body) = &op.body {
        members.extend(
            body.fields
                .iter()
                .map(|f| (f.name, f.required, value_for(f.ty, f.enum_values))),
        );
    }
    let picks: Vec<BoxedStrategy<Option<(String, Value)>>> = members
        .into_iter()
        .map(|(name, required, value)| {
            let presence = if required { 0.95 } else { 0.5 };
            prop::option::weighted(presence, value.prop_map(move |v| (name.to_string(), v))).boxed()
        })
        .collect();
    let stray = prop::option::weighted(0.1, (known_key(), json_value()));
    (picks, stray)
        .prop_map(|(picked, stray)| {
            Value::Object(picked.into_iter().flatten().chain(stray).collect())
        })
        .boxed()
}

/// A name and arguments: mostly an operation's own names with arguments shaped for it, else
/// any name with any JSON.
fn name_and_arguments() -> impl Strategy<Value = (String, Value)> {
    let shaped = (0..NAME_INDEX.len()).prop_flat_map(|i| {
        let (name, op) = NAME_INDEX[i];
        arguments_for(&OPERATIONS[op]).prop_map(move |args| (name.to_string(), args))
    });
    let anything = (
        operation_name(),
        prop_oneof![
            4 => prop::collection::vec((known_key(), json_value()), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            1 => json_value(),
        ],
    );
    prop_oneof![3 => shaped, 1 => anything]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Get),
        Just(Method::Head),
        Just(Method::Post),
        Just(Method::Put),
        Just(Method::Patch),
        Just(Method::Delete),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..100).prop_map(|n| n.to_string()),
        Just("application/json; charset=utf-8".to_string()),
        Just("application/scim+json".to_string()),
        Just("text/csv".to_string()),
        Just(String::new()),
        "[ -~]{0,30}",
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("content-type"),
        Just("retry-after"),
        Just("x-retry-after"),
        Just("x-ratelimit-limit"),
        Just("x-ratelimit-remaining"),
        Just("x-ratelimit-reset"),
        Just("location"),
    ];
    prop::collection::vec((name.prop_map(str::to_string), header_value()), 0..6)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        // JSON cut short, as a truncated body would be.
        (json_value(), any::<prop::sample::Index>()).prop_map(|(v, i)| {
            let text = v.to_string().into_bytes();
            let end = i.index(text.len() + 1);
            text[..end].to_vec()
        }),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(204),
        Just(302),
        Just(401),
        Just(404),
        Just(429),
        Just(503),
        100u16..600,
    ]
}

fn response() -> impl Strategy<Value = HttpResponse> {
    (status(), headers(), body()).prop_map(|(status, headers, body)| HttpResponse {
        status,
        headers,
        body,
    })
}

fn transport_error() -> impl Strategy<Value = HubError> {
    prop_oneof![
        Just(HubError::transport(TransportKind::Timeout, "t")),
        Just(HubError::transport(TransportKind::ConnectionReset, "r")),
        Just(HubError::transport(TransportKind::ConnectionRefused, "c")),
        Just(HubError::transport(TransportKind::BodyTooLarge, "b")),
        Just(HubError::Denied("d".into())),
    ]
}

/// Answers from a list, over and over, and counts what it was sent.
struct Replay {
    answers: Vec<Result<HttpResponse, HubError>>,
    sent: usize,
}

impl Transport for Replay {
    fn send(&mut self, _: &HttpRequest) -> Result<HttpResponse, HubError> {
        let answer = self.answers[self.sent % self.answers.len()].clone();
        self.sent += 1;
        answer
    }
}

struct Token;

impl Credentials for Token {
    fn get(&mut self, _: &str, _: CredentialKind) -> Result<Option<String>, String> {
        Ok(Some("tok".into()))
    }
    fn invalidate(&mut self, _: &str, _: CredentialKind) {}
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_name_and_arguments_give_a_value_or_a_typed_error(
        (name, args) in name_and_arguments(),
    ) {
        let ok = HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        };
        let mut transport = Replay { answers: vec![Ok(ok)], sent: 0 };
        let result = call(
            &name,
            &args,
            &CallOptions::default(),
            &mut transport,
            &mut Token,
            &mut FakeClock::default(),
        );
        match result {
            Ok(outcome) => prop_assert_eq!(outcome.status, 200),
            Err(HubError::InvalidArgument { .. } | HubError::UnknownOperation(_)) => {
                prop_assert_eq!(transport.sent, 0, "rejected arguments must send nothing");
            }
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }

    #[test]
    fn any_response_decodes_to_a_value_or_a_typed_error(
        method in method(),
        resp in response(),
        now in any::<u64>(),
    ) {
        match decode(method, resp.clone(), || now) {
            Ok(decoded) => {
                let head_miss = method == Method::Head && resp.status == 404;
                prop_assert!((200..=299).contains(&resp.status) || head_miss);
                prop_assert_eq!(decoded.status, resp.status);
            }
            Err(HubError::RateLimited { .. }) => prop_assert_eq!(resp.status, 429),
            Err(HubError::Decode(_)) => prop_assert!((200..=299).contains(&resp.status)),
            Err(HubError::Upstream { status, .. }) => prop_assert_eq!(status, resp.status),
            Err(_) => prop_assert!([401, 403, 404, 409].contains(&resp.status)),
        }
    }

    #[test]
    fn any_run_of_answers_ends_within_the_retry_and_page_bounds(
        list in any::<bool>(),
        answers in prop::collection::vec(
            prop_oneof![4 => response().prop_map(Ok), 1 => transport_error().prop_map(Err)],
            1..6,
        ),
        max_retries in 0u32..4,
        max_pages in 1u32..4,
    ) {
        let (name, args) = if list {
            ("list_repository_tags", serde_json::json!({"namespace": "a", "repository": "b"}))
        } else {
            ("get_repository", serde_json::json!({"namespace": "a", "repository": "b"}))
        };
        let options = CallOptions {
            all_pages: list,
            max_pages: Some(max_pages),
            retry: RetryPolicy { max_retries, max_wait: Duration::from_secs(3600) },
            ..CallOptions::default()
        };
        let mut transport = Replay { answers, sent: 0 };
        let mut clock = FakeClock::default();
        let _ = call(name, &args, &options, &mut transport, &mut Token, &mut clock);
        // Each page: every attempt may be a 401 followed by one fresh-credential resend.
        let per_page = 2 * (max_retries as usize + 1);
        let pages = if list { max_pages as usize } else { 1 };
        prop_assert!(transport.sent <= per_page * pages, "sent {}", transport.sent);
        prop_assert!(clock.slept.len() <= (max_retries as usize) * pages);
        let slept: Duration = clock.slept.iter().sum();
        prop_assert!(slept <= Duration::from_secs(3600));
    }
}
