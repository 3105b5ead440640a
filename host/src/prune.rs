//! Tag cleanup for the surfaces that take JSON arguments (MCP, Lua): the arguments of
//! `plan_tag_cleanup` read into a [`TagCleanupPolicy`], with `older_than` as an age (`90d`,
//! `12w`, `36h`), a UTC date (`2024-05-01`, `2024-05-01T12:00:00Z`) or unix seconds, and those
//! of `apply_tag_cleanup` (a plan and `max_delete`). The policy is evaluated and the plan applied
//! by the component ([`Dockhand::plan_tag_cleanup`], [`Dockhand::apply_tag_cleanup`]); the
//! surfaces decide only whether a write is allowed at all.

use crate::bindings::exports::dockhand::hub::types::InvalidArgument;
use crate::{CallError, CallOptions, CallResult, Dockhand, HubError, TagCleanupPolicy};
use dockhand_vocab::time::{days_from_civil, days_in_month};
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The name MCP and Lua give the planner.
pub const PLAN_TAG_CLEANUP: &str = "plan_tag_cleanup";

/// What the planner does, for a tool description.
pub const DESCRIPTION: &str = "Plan a cleanup of a repository's tags by a retention policy, \
changing nothing: every tag is listed (all pages) and marked delete or keep with its rule and \
reason. Rules, the first that applies wins: a tag not matching `match` is kept; one matching \
`keep_match` is kept; `latest` is kept unless `match` is `latest` or `^latest$`; a tag without \
a readable last-pushed time is kept; the `keep_last` newest of the rest are kept; one pushed at \
or after `older_than` is kept; the rest would be deleted. Patterns are regular expressions that \
match anywhere in the name (`^pr-`, `-rc[0-9]+$`); anchor them to match the whole. At least one of keep_last, older_than and match is required. Returns the \
plan: tags newest first with name, digest, last_pushed, action, rule and reason, and totals.";

/// The name MCP and Lua give the apply.
pub const APPLY_TAG_CLEANUP: &str = "apply_tag_cleanup";

/// How many deletes an apply allows when the caller does not say.
pub const DEFAULT_MAX_DELETE: u32 = 100;

/// What the apply does, for a tool description.
pub const APPLY_DESCRIPTION: &str = "Apply a tag cleanup plan made by plan_tag_cleanup: delete \
each tag the plan marks `delete`, newest first. Each is read just before its delete and skipped \
if its digest or last-pushed time changed since the plan (it was pushed again); one already gone \
counts as done, so applying the same plan again resumes it. A plan deleting more than \
`max_delete` tags (default 100) is refused before anything is deleted. Returns the report: \
deleted, already_gone, skipped (with reasons), failed (with errors) and not_attempted.";

/// The JSON Schema of the apply's arguments.
pub fn apply_args_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "plan": {"type": "object", "description": "The plan, exactly as plan_tag_cleanup returned it."},
            "max_delete": {"type": "integer", "minimum": 0, "default": DEFAULT_MAX_DELETE, "description": "Refuse a plan that deletes more tags than this."}
        },
        "required": ["plan"],
        "additionalProperties": false
    })
}

/// The JSON Schema of the apply's report.
pub fn apply_result_schema() -> Value {
    let names = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "type": "object",
        "properties": {
            "namespace": {"type": "string"},
            "repository": {"type": "string"},
            "planned": {"type": "integer"},
            "deleted": names,
            "already_gone": names,
            "skipped": {"type": "array", "items": {"type": "object", "properties": {
                "tag": {"type": "string"}, "reason": {"type": "string"}}}},
            "failed": {"type": "array", "items": {"type": "object", "properties": {
                "tag": {"type": "string"}, "kind": {"type": "string"},
                "status": {"type": ["integer", "null"]}, "message": {"type": "string"}}}},
            "not_attempted": names
        },
        "required": ["planned", "deleted", "already_gone", "skipped", "failed", "not_attempted"]
    })
}

/// Applies by JSON arguments (see [`apply_args_schema`]).
pub async fn apply_from_args(
    hub: &Dockhand,
    args: &Value,
    options: &CallOptions,
) -> Result<CallResult, CallError> {
    let map = named_args(args, &["plan", "max_delete"])?;
    let plan = match map.get("plan") {
        Some(plan @ Value::Object(_)) => plan,
        None | Some(Value::Null) => return Err(invalid("plan", "missing")),
        Some(_) => {
            return Err(invalid(
                "plan",
                "expected the plan object plan_tag_cleanup returned",
            ));
        }
    };
    let max_delete = match map.get("max_delete") {
        None | Some(Value::Null) => DEFAULT_MAX_DELETE,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| invalid("max_delete", "expected a whole number >= 0"))?,
    };
    hub.apply_tag_cleanup(plan, max_delete, options).await
}

/// The JSON Schema of the planner's arguments.
pub fn args_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "namespace": {"type": "string", "description": "The repository's namespace (user or organization)."},
            "repository": {"type": "string", "description": "The repository's name."},
            "keep_last": {"type": "integer", "minimum": 0, "description": "Keep this many of the most recently pushed tags (of those no other rule keeps)."},
            "older_than": {"type": ["string", "integer"], "description": "Delete only tags last pushed before this: an age (`90d`, `12w`, `36h`), a UTC date (`2024-05-01`, `2024-05-01T12:00:00Z`) or unix seconds."},
            "match": {"type": "string", "description": "Only tags whose names match this regular expression (`^pr-`) are considered."},
            "keep_match": {"type": "string", "description": "Tags whose names match this regular expression are never deleted."}
        },
        "required": ["namespace", "repository"],
        "additionalProperties": false
    })
}

/// The JSON Schema of the plan.
pub fn result_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "namespace": {"type": "string"},
            "repository": {"type": "string"},
            "policy": {"type": "object"},
            "tags": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "digest": {"type": ["string", "null"]},
                        "last_pushed": {"type": ["string", "null"]},
                        "action": {"type": "string", "enum": ["delete", "keep"]},
                        "rule": {"type": "string"},
                        "reason": {"type": "string"}
                    }
                }
            },
            "totals": {
                "type": "object",
                "properties": {
                    "tags": {"type": "integer"},
                    "delete": {"type": "integer"},
                    "keep": {"type": "integer"}
                }
            }
        },
        "required": ["namespace", "repository", "tags", "totals"]
    })
}

/// `args` as an object whose keys are all in `known`.
fn named_args<'a>(args: &'a Value, known: &[&str]) -> Result<&'a Map<String, Value>, CallError> {
    let Value::Object(map) = args else {
        return Err(invalid("args", "expected an object of named arguments"));
    };
    if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid(
            unknown,
            format!("unknown argument; expected one of {}", known.join(", ")),
        ));
    }
    Ok(map)
}

fn invalid(name: &str, reason: impl Into<String>) -> CallError {
    CallError::Hub(HubError::InvalidArgument(InvalidArgument {
        name: name.into(),
        reason: reason.into(),
    }))
}

/// Plans by JSON arguments (see [`args_schema`]).
pub async fn plan_from_args(
    hub: &Dockhand,
    args: &Value,
    options: &CallOptions,
) -> Result<CallResult, CallError> {
    let map = named_args(
        args,
        &[
            "namespace",
            "repository",
            "keep_last",
            "older_than",
            "match",
            "keep_match",
        ],
    )?;
    let text = |name: &str, required: bool| -> Result<Option<String>, CallError> {
        match map.get(name) {
            None | Some(Value::Null) if required => Err(invalid(name, "missing")),
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(invalid(name, "expected a non-empty string")),
        }
    };
    let namespace = text("namespace", true)?.unwrap_or_default();
    let repository = text("repository", true)?.unwrap_or_default();
    let keep_last = match map.get("keep_last") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid("keep_last", "expected a whole number >= 0"))?,
        ),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let older_than = match map.get("older_than") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| invalid("older_than", "expected unix seconds >= 0"))?,
        ),
        Some(Value::String(s)) => Some(cutoff(s, now).map_err(|e| invalid("older_than", e))?),
        Some(_) => {
            return Err(invalid(
                "older_than",
                "expected an age, a date or unix seconds",
            ));
        }
    };
    let policy = TagCleanupPolicy {
        keep_last,
        older_than,
        matching: text("match", false)?,
        keep_matching: text("keep_match", false)?,
    };
    hub.plan_tag_cleanup(&namespace, &repository, &policy, options)
        .await
}

/// The cutoff instant (unix seconds) of `90d`, `12w`, `36h`, `2024-05-01` or
/// `2024-05-01T12:00:00Z`, `now` being the current time.
pub fn cutoff(text: &str, now: u64) -> Result<u64, String> {
    let text = text.trim();
    if let Some(unit) = text.chars().last().filter(char::is_ascii_alphabetic)
        && text.len() > 1
        && text[..text.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        let n: u64 = text[..text.len() - 1]
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        let unit_secs = match unit {
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(format!("`{text}`: an age is a number of h, d or w (`90d`)")),
        };
        return n
            .checked_mul(unit_secs)
            .map(|age| now.saturating_sub(age))
            .ok_or_else(|| format!("`{text}` is too large"));
    }
    parse_date(text).ok_or_else(|| {
        format!(
            "`{text}` is neither an age (`90d`, `12w`, `36h`) nor a UTC date \
             (`2024-05-01`, `2024-05-01T12:00:00Z`)"
        )
    })
}

/// `2024-05-01` (midnight UTC) or `2024-05-01T12:00:00Z` as unix seconds.
fn parse_date(text: &str) -> Option<u64> {
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z')?)),
        None => (text, None),
    };
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    let (m, d) = (u32::try_from(m).ok()?, u32::try_from(d).ok()?);
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(time) = time {
        let mut hms = time.split(':');
        let (h, mi, s) = (num(hms.next()?)?, num(hms.next()?)?, num(hms.next()?)?);
        if hms.next().is_some() || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        secs += h * 3600 + mi * 60 + s;
    }
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_dates_become_cutoffs() {
        let now = 1_700_000_000;
        assert_eq!(cutoff("90d", now), Ok(now - 90 * 86_400));
        assert_eq!(cutoff("2w", now), Ok(now - 14 * 86_400));
        assert_eq!(cutoff("36h", now), Ok(now - 36 * 3600));
        assert_eq!(cutoff("2023-11-14", now), Ok(1_699_920_000));
        assert_eq!(cutoff("2023-11-14T22:13:20Z", now), Ok(1_700_000_000));
        for bad in [
            "90",
            "d",
            "90y",
            "2023-02-30",
            "2023-11-14T25:00:00Z",
            "soon",
            "",
        ] {
            assert!(cutoff(bad, now).is_err(), "{bad}");
        }
    }
}
