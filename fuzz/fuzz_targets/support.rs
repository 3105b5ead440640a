//! What both fuzz targets plug into the call path: a transport replaying answers, a credential
//! source, and a clock that only adds up the waits.

// Each target uses its own part of this module.
#![allow(dead_code)]

use dockhand_plugin::client::{CredentialKind, Credentials, Transport};
use dockhand_plugin::error::HubError;
use dockhand_plugin::request::HttpRequest;
use dockhand_plugin::response::HttpResponse;
use dockhand_plugin::retry::Clock;
use std::time::Duration;

/// Answers from a list, over and over, and counts what it was sent.
pub struct Replay {
    answers: Vec<Result<HttpResponse, HubError>>,
    pub sent: usize,
}

impl Replay {
    pub fn new(answers: Vec<Result<HttpResponse, HubError>>) -> Replay {
        Replay { answers, sent: 0 }
    }
}

impl Transport for Replay {
    fn send(&mut self, _: &HttpRequest) -> Result<HttpResponse, HubError> {
        let answer = self.answers[self.sent % self.answers.len()].clone();
        self.sent += 1;
        answer
    }
}

pub fn ok_json() -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{}".to_vec(),
    }
}

pub struct Token;

impl Credentials for Token {
    fn get(&mut self, _: &str, _: CredentialKind) -> Result<Option<String>, String> {
        Ok(Some("tok".into()))
    }
    fn invalidate(&mut self, _: &str, _: CredentialKind) {}
}

/// Sleeping returns at once; the waits are summed instead.
#[derive(Default)]
pub struct StillClock {
    pub waited: Duration,
}

impl Clock for StillClock {
    fn now_unix(&mut self) -> u64 {
        1_700_000_000 + self.waited.as_secs()
    }
    fn sleep(&mut self, d: Duration) {
        self.waited += d;
    }
    fn random(&mut self) -> u64 {
        self.waited.as_nanos() as u64
    }
}
