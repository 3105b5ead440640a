//! Any operation name and any argument text through the whole call path, against a Hub that
//! answers `200 {}`: a value or a typed error, never a panic, and nothing sent for rejected
//! arguments.
//!
//! Input: the name up to the first newline, then the arguments as JSON text (text that is not
//! JSON is passed as a JSON string).

#![no_main]

mod support;

use dockhand_plugin::client::{CallOptions, call};
use dockhand_plugin::error::HubError;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use support::{Replay, StillClock, Token, ok_json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (name, args) = text.split_once('\n').unwrap_or((&text, ""));
    let args = serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.to_string()));
    let mut transport = Replay::new(vec![Ok(ok_json())]);
    let result = call(
        name,
        &args,
        &CallOptions::default(),
        &mut transport,
        &mut Token,
        &mut StillClock::default(),
    );
    if let Err(HubError::InvalidArgument { .. } | HubError::UnknownOperation(_)) = result {
        assert_eq!(transport.sent, 0, "rejected arguments must send nothing");
    }
});
