//! Any HTTP answers (status, headers, bytes, transport failures) decoded alone and through a
//! whole call with retries and pagination: a value or a typed error, never a panic, and never
//! more requests or waiting than the retry and page bounds allow.

#![no_main]

mod support;

use dockhand_plugin::catalog::Method;
use dockhand_plugin::client::{CallOptions, call};
use dockhand_plugin::error::HubError;
use dockhand_plugin::response::{HttpResponse, decode};
use dockhand_plugin::retry::RetryPolicy;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use support::{Replay, StillClock, Token};

const HEADERS: [&str; 7] = [
    "content-type",
    "retry-after",
    "x-retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "location",
];
const METHODS: [Method; 6] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
];

#[derive(Debug, Arbitrary)]
struct Answer {
    status: u16,
    headers: Vec<(u8, String)>,
    body: Vec<u8>,
    /// Some: a transport failure of this kind instead.
    failure: Option<u8>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    now: u64,
    list: bool,
    max_retries: u8,
    max_pages: u8,
    answers: Vec<Answer>,
}

fn response(a: &Answer) -> HttpResponse {
    HttpResponse {
        status: a.status,
        headers: a
            .headers
            .iter()
            .map(|(n, v)| (HEADERS[*n as usize % HEADERS.len()].to_string(), v.clone()))
            .collect(),
        body: a.body.clone(),
    }
}

fn failure(kind: u8) -> HubError {
    use dockhand_plugin::error::TransportKind::*;
    let kinds = [
        Timeout,
        ConnectionReset,
        ConnectionRefused,
        BodyTooLarge,
        Dns,
    ];
    HubError::transport(kinds[kind as usize % kinds.len()], "fuzzed")
}

fuzz_target!(|input: Input| {
    let method = METHODS[input.method as usize % METHODS.len()];
    for a in &input.answers {
        let resp = response(a);
        match decode(method, resp.clone(), || input.now) {
            Ok(d) => assert_eq!(d.status, resp.status),
            Err(HubError::RateLimited { .. }) => assert_eq!(resp.status, 429),
            Err(_) => {}
        }
    }
    if input.answers.is_empty() {
        return;
    }

    let answers = input
        .answers
        .iter()
        .map(|a| match a.failure {
            Some(kind) => Err(failure(kind)),
            None => Ok(response(a)),
        })
        .collect();
    let max_retries = u32::from(input.max_retries % 4);
    let max_pages = u32::from(input.max_pages % 4) + 1;
    let name = if input.list {
        "list_repository_tags"
    } else {
        "get_repository"
    };
    let options = CallOptions {
        all_pages: input.list,
        max_pages: Some(max_pages),
        retry: RetryPolicy {
            max_retries,
            max_wait: Duration::from_secs(3600),
        },
        ..CallOptions::default()
    };
    let args = serde_json::json!({"namespace": "a", "repository": "b"});
    let mut transport = Replay::new(answers);
    let mut clock = StillClock::default();
    let _ = call(
        name,
        &args,
        &options,
        &mut transport,
        &mut Token,
        &mut clock,
    );
    let pages = if input.list { max_pages as usize } else { 1 };
    assert!(transport.sent <= 2 * (max_retries as usize + 1) * pages);
    assert!(clock.waited <= Duration::from_secs(3600));
});
