//! Applying a tag cleanup plan: the deletes a plan (from [`super::plan_json`]) marks, each
//! checked against the tag as it is just before its delete. One implementation, so that every
//! surface applies a plan the same way (the CLI one tag at a time, for its progress bar and
//! Ctrl-C; MCP, Lua, Node and Python a whole plan in one call).
//!
//! For each tag the plan deletes, in the plan's order (newest first):
//! - read it (`get_repository_tag`): a 404 means it is already gone, which counts as done, so an
//!   interrupted apply is resumed by applying the same plan again;
//! - a digest or last-pushed time other than the plan's means it was pushed again since: skipped
//!   and reported, never deleted;
//! - delete it (`delete_repository_tag`); a 404 here is also "already gone". A 429 that outlasts
//!   the client's own retries is waited out a few more times when the Hub says how long.
//! - a 401, 403 or host denial stops the apply: every later delete would fail the same way, so
//!   the rest are reported as not attempted. Any other failure is reported and the apply goes on.
//!
//! A plan that deletes more than `max_delete` tags is refused before anything is sent.

use crate::prelude::*;

use crate::client::{self, CallOptions, Credentials, Transport};
use crate::error::HubError;
use crate::retry::Clock;
use core::time::Duration;
use serde_json::{Map, Value, json};

/// A 429 the client gave up on is waited out at most this many more times per tag...
pub const RATE_LIMIT_WAITS: u32 = 3;
/// ...and only when the Hub asks for at most this long (a host gives an apply this much more
/// time per tag, so that a wait is never cut short by the call's deadline).
pub const RATE_LIMIT_LONGEST_WAIT: u64 = 60;

/// A tag the plan deletes, as it was when planned.
struct Planned<'a> {
    name: &'a str,
    digest: Option<&'a str>,
    last_pushed: Option<&'a str>,
}

/// What happened to each tag the plan deletes.
#[derive(Default)]
struct Report {
    deleted: Vec<String>,
    already_gone: Vec<String>,
    skipped: Vec<Value>,
    failed: Vec<Value>,
    not_attempted: Vec<String>,
}

/// The plan's repository and the tags it deletes, or why it is not a plan.
fn read_plan(plan: &Value) -> Result<(&str, &str, Vec<Planned<'_>>), HubError> {
    let text = |key: &str| {
        plan.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| HubError::invalid("plan", format!("has no `{key}`: not a plan")))
    };
    let (namespace, repository) = (text("namespace")?, text("repository")?);
    let tags = plan
        .get("tags")
        .and_then(Value::as_array)
        .ok_or_else(|| HubError::invalid("plan", "has no `tags` list: not a plan"))?;
    let mut planned = Vec::new();
    for t in tags {
        if t.get("action").and_then(Value::as_str) != Some("delete") {
            continue;
        }
        let name = t
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| HubError::invalid("plan", "a tag to delete has no `name`"))?;
        planned.push(Planned {
            name,
            digest: t.get("digest").and_then(Value::as_str),
            last_pushed: t.get("last_pushed").and_then(Value::as_str),
        });
    }
    Ok((namespace, repository, planned))
}

/// The error as a report entry: its kind, its status when it has one, its message.
fn error_entry(tag: &str, e: &HubError) -> Value {
    let status = match e {
        HubError::Unauthorized(_) => Some(401),
        HubError::Forbidden(_) => Some(403),
        HubError::NotFound(_) => Some(404),
        HubError::Conflict(_) => Some(409),
        HubError::RateLimited { .. } => Some(429),
        HubError::Upstream { status, .. } => Some(*status),
        _ => None,
    };
    let mut entry = Map::new();
    entry.insert("tag".into(), tag.into());
    entry.insert("kind".into(), e.kind().into());
    entry.insert("status".into(), status.map_or(Value::Null, Value::from));
    entry.insert("message".into(), e.to_string().into());
    Value::Object(entry)
}

/// Applies `plan` (see the module docs). Returns the report as JSON: `namespace`,
/// `repository`, `planned` (tags the plan deletes), `deleted`, `already_gone`, `skipped`
/// (`tag`, `reason`), `failed` (`tag`, `kind`, `status`, `message`) and `not_attempted`.
pub fn apply_plan(
    plan: &Value,
    max_delete: u32,
    options: &CallOptions,
    transport: &mut dyn Transport,
    credentials: &mut dyn Credentials,
    clock: &mut dyn Clock,
) -> Result<Value, HubError> {
    let (namespace, repository, planned) = read_plan(plan)?;
    if planned.len() > max_delete as usize {
        return Err(HubError::invalid(
            "max-delete",
            format!(
                "the plan deletes {} tags, more than {max_delete}; nothing was deleted",
                planned.len()
            ),
        ));
    }
    let options = CallOptions {
        all_pages: false,
        ..options.clone()
    };
    let mut report = Report::default();
    for (i, p) in planned.iter().enumerate() {
        let args = json!({"namespace": namespace, "repository": repository, "tag": p.name});
        let outcome = check(p, &args, &options, transport, credentials, clock).and_then(|fresh| {
            if let Some(reason) = fresh {
                return Ok(Some(reason));
            }
            delete(&args, &options, transport, credentials, clock).map(|()| None)
        });
        match outcome {
            Ok(None) => report.deleted.push(p.name.to_string()),
            Ok(Some(reason)) => {
                let mut entry = Map::new();
                entry.insert("tag".into(), p.name.into());
                entry.insert("reason".into(), reason.into());
                report.skipped.push(Value::Object(entry));
            }
            Err(HubError::NotFound(_)) => report.already_gone.push(p.name.to_string()),
            Err(e) => {
                report.failed.push(error_entry(p.name, &e));
                if matches!(
                    e,
                    HubError::Unauthorized(_) | HubError::Forbidden(_) | HubError::Denied(_)
                ) {
                    report.not_attempted = planned[i + 1..]
                        .iter()
                        .map(|p| p.name.to_string())
                        .collect();
                    break;
                }
            }
        }
    }
    let names = |names: Vec<String>| Value::Array(names.into_iter().map(Value::String).collect());
    let mut out = Map::new();
    out.insert("namespace".into(), namespace.into());
    out.insert("repository".into(), repository.into());
    out.insert("planned".into(), planned.len().into());
    out.insert("deleted".into(), names(report.deleted));
    out.insert("already_gone".into(), names(report.already_gone));
    out.insert("skipped".into(), Value::Array(report.skipped));
    out.insert("failed".into(), Value::Array(report.failed));
    out.insert("not_attempted".into(), names(report.not_attempted));
    Ok(Value::Object(out))
}

/// The tag as it is now: `Some(reason)` when it changed since the plan.
fn check(
    planned: &Planned<'_>,
    args: &Value,
    options: &CallOptions,
    transport: &mut dyn Transport,
    credentials: &mut dyn Credentials,
    clock: &mut dyn Clock,
) -> Result<Option<String>, HubError> {
    let outcome = client::call(
        "get_repository_tag",
        args,
        options,
        transport,
        credentials,
        clock,
    )?;
    let now = outcome.body.to_value()?;
    let digest = now.get("digest").and_then(Value::as_str);
    let pushed = now.get("tag_last_pushed").and_then(Value::as_str);
    if digest == planned.digest && pushed == planned.last_pushed {
        return Ok(None);
    }
    Ok(Some(format!(
        "changed since the plan (pushed again?): digest {} -> {}, last pushed {} -> {}",
        planned.digest.unwrap_or("-"),
        digest.unwrap_or("-"),
        planned.last_pushed.unwrap_or("-"),
        pushed.unwrap_or("-"),
    )))
}

/// One delete, with a 429 that outlasted the client's retries waited out a few more times.
fn delete(
    args: &Value,
    options: &CallOptions,
    transport: &mut dyn Transport,
    credentials: &mut dyn Credentials,
    clock: &mut dyn Clock,
) -> Result<(), HubError> {
    let mut waits = 0;
    loop {
        match client::call(
            "delete_repository_tag",
            args,
            options,
            transport,
            credentials,
            clock,
        ) {
            Ok(_) => return Ok(()),
            Err(HubError::RateLimited {
                retry_after: Some(secs),
                ..
            }) if waits < RATE_LIMIT_WAITS && secs <= RATE_LIMIT_LONGEST_WAIT => {
                waits += 1;
                clock.sleep(Duration::from_secs(secs.max(1)));
            }
            Err(e) => return Err(e),
        }
    }
}
