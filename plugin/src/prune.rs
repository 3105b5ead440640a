//! Tag cleanup: which tags of a repository a retention policy deletes and which it keeps, each
//! with its reason. One implementation, so that the CLI, MCP, Lua, Node and Python (all through
//! the component's `catalog.plan-tag-cleanup`) get the same plan for the same tags.
//!
//! Rules, first that applies wins, for each tag:
//! 1. it does not match `matching` (when given): keep (`no-match`);
//! 2. it matches `keep_matching`: keep (`keep-match`);
//! 3. it is `latest` and `matching` is neither `latest` nor `^latest$`: keep (`latest`);
//! 4. its last-pushed time is missing or unreadable: keep (`no-push-time`), as its age is unknown;
//! 5. it is among the `keep_last` newest of the tags still undecided: keep (`keep-last`);
//! 6. it was pushed at or after the `older_than` cutoff: keep (`recent`);
//! 7. otherwise: delete (`policy`).
//!
//! Patterns are regular expressions ([`crate::regex`]) that match anywhere in the name, as
//! `grep -E` does: `^pr-` for names that start with `pr-`, `^v[0-9]+$` for the whole name.
//! The plan does not depend on the order the tags were listed in:
//! tags are ranked newest first by last-pushed time, then by name, and a name listed twice
//! (pages that shifted while listed) counts once.

use crate::prelude::*;

pub mod apply;
pub use apply::apply_plan;

use crate::client::{self, CallOptions, Credentials, Transport};
use crate::error::HubError;
use crate::regex::Regex;
use crate::retry::Clock;
use dockhand_vocab::time::Rfc3339;
pub use dockhand_vocab::time::parse_rfc3339;
use serde_json::{Map, Value, json};

/// One tag as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// The tag's digest (`digest` of a tag listing's item).
    pub digest: Option<String>,
    /// `tag_last_pushed`, as the Hub gave it (RFC 3339).
    pub last_pushed: Option<String>,
}

/// A retention policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Keep this many of the newest tags (of those no other rule keeps).
    pub keep_last: Option<u32>,
    /// Delete only tags last pushed before this instant (unix seconds).
    pub older_than: Option<u64>,
    /// Only tags whose names match this regular expression are considered at all.
    pub matching: Option<String>,
    /// Tags whose names match this regular expression are never deleted.
    pub keep_matching: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Delete,
    Keep,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Keep => "keep",
        }
    }
}

/// Which rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    NoMatch,
    KeepMatch,
    Latest,
    NoPushTime,
    KeepLast,
    Recent,
    Policy,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NoMatch => "no-match",
            Rule::KeepMatch => "keep-match",
            Rule::Latest => "latest",
            Rule::NoPushTime => "no-push-time",
            Rule::KeepLast => "keep-last",
            Rule::Recent => "recent",
            Rule::Policy => "policy",
        }
    }
}

/// The decision about one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub tag: Tag,
    pub action: Action,
    pub rule: Rule,
    pub reason: String,
}

/// Every tag's decision, newest first (tags without a readable push time last, by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub decisions: Vec<Decision>,
}

impl Plan {
    pub fn deletes(&self) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.action == Action::Delete)
            .count()
    }

    pub fn keeps(&self) -> usize {
        self.decisions.len() - self.deletes()
    }
}

/// Checks a policy: at least one rule that narrows what is deleted, and patterns that are
/// regular expressions this matcher reads.
pub fn validate(policy: &Policy) -> Result<(), HubError> {
    if policy.keep_last.is_none() && policy.older_than.is_none() && policy.matching.is_none() {
        return Err(HubError::invalid(
            "policy",
            "it would delete every tag: give keep-last, older-than or matching".to_string(),
        ));
    }
    for (name, pattern) in [
        ("matching", &policy.matching),
        ("keep-matching", &policy.keep_matching),
    ] {
        if let Some(p) = pattern {
            if p.is_empty() {
                return Err(HubError::invalid(
                    name,
                    "an empty pattern matches every tag; leave it out instead".to_string(),
                ));
            }
            Regex::new(p).map_err(|e| {
                HubError::invalid(name, format!("`{p}` is not a regular expression: {e}"))
            })?;
        }
    }
    Ok(())
}

/// The plan for `tags` under `policy` (which [`validate`] accepted).
pub fn plan(tags: &[Tag], policy: &Policy) -> Plan {
    // Order-independent: ranked newest first (undated last), ties by name, then by the listed
    // time and digest, so that of a name listed twice the first is always the same one.
    let mut ranked: Vec<(Option<u64>, &Tag)> = tags.iter().map(|t| (pushed(t), t)).collect();
    ranked.sort_by(|(ta, a), (tb, b)| {
        let by_time = match (ta, tb) {
            (Some(x), Some(y)) => y.cmp(x),
            (Some(_), None) => core::cmp::Ordering::Less,
            (None, Some(_)) => core::cmp::Ordering::Greater,
            (None, None) => core::cmp::Ordering::Equal,
        };
        by_time
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| b.last_pushed.cmp(&a.last_pushed))
            .then_with(|| b.digest.cmp(&a.digest))
    });
    let mut seen: Vec<&str> = Vec::with_capacity(ranked.len());
    let unique = ranked
        .into_iter()
        .filter(|(_, t)| match seen.binary_search(&t.name.as_str()) {
            Ok(_) => false,
            Err(at) => {
                seen.insert(at, &t.name);
                true
            }
        });

    let latest_named = matches!(policy.matching.as_deref(), Some("latest" | "^latest$"));
    // `validate` accepted the patterns; one that does not compile matches nothing.
    let patterns = Patterns {
        matching: compiled(&policy.matching),
        keep_matching: compiled(&policy.keep_matching),
    };
    let mut kept_newest = 0u32;
    let decisions = unique
        .into_iter()
        .map(|(time, tag)| {
            let (action, rule, reason) =
                decide(tag, time, policy, &patterns, latest_named, &mut kept_newest);
            Decision {
                tag: tag.clone(),
                action,
                rule,
                reason,
            }
        })
        .collect();
    Plan { decisions }
}

/// A policy's patterns, each with its compiled form.
struct Patterns<'a> {
    matching: Option<(&'a str, Option<Regex>)>,
    keep_matching: Option<(&'a str, Option<Regex>)>,
}

fn compiled(pattern: &Option<String>) -> Option<(&str, Option<Regex>)> {
    pattern.as_deref().map(|p| (p, Regex::new(p).ok()))
}

fn is_match(re: &Option<Regex>, name: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(name))
}

fn decide(
    tag: &Tag,
    time: Option<u64>,
    policy: &Policy,
    patterns: &Patterns<'_>,
    latest_named: bool,
    kept_newest: &mut u32,
) -> (Action, Rule, String) {
    use Action::{Delete, Keep};
    if let Some((p, re)) = &patterns.matching
        && !is_match(re, &tag.name)
    {
        return (Keep, Rule::NoMatch, format!("does not match `{p}`"));
    }
    if let Some((p, re)) = &patterns.keep_matching
        && is_match(re, &tag.name)
    {
        return (Keep, Rule::KeepMatch, format!("matches keep pattern `{p}`"));
    }
    if tag.name == "latest" && !latest_named {
        return (
            Keep,
            Rule::Latest,
            "`latest` is kept unless the match pattern is `latest` or `^latest$`".to_string(),
        );
    }
    let Some(time) = time else {
        return (
            Keep,
            Rule::NoPushTime,
            "no readable last-pushed time, so its age is unknown".to_string(),
        );
    };
    if let Some(n) = policy.keep_last
        && *kept_newest < n
    {
        *kept_newest += 1;
        return (
            Keep,
            Rule::KeepLast,
            format!("one of the {n} newest (#{})", *kept_newest),
        );
    }
    if let Some(cutoff) = policy.older_than
        && time >= cutoff
    {
        return (
            Keep,
            Rule::Recent,
            format!("pushed {}, not before {}", rfc3339(time), rfc3339(cutoff)),
        );
    }
    let mut reason = match policy.older_than {
        Some(cutoff) => format!("pushed {}, before {}", rfc3339(time), rfc3339(cutoff)),
        None => format!("pushed {}", rfc3339(time)),
    };
    if let Some(n) = policy.keep_last {
        reason.push_str(&format!(", not one of the {n} newest"));
    }
    if let Some(p) = &policy.matching {
        reason.push_str(&format!(", matches `{p}`"));
    }
    (Delete, Rule::Policy, reason)
}

fn pushed(tag: &Tag) -> Option<u64> {
    tag.last_pushed.as_deref().and_then(parse_rfc3339)
}

/// Unix seconds as `2024-05-01T12:00:00Z`.
pub fn rfc3339(secs: u64) -> String {
    Rfc3339(secs as i64).to_string()
}

/// The tags of a merged `list_repository_tags` answer (`results`).
pub fn tags_of_listing(listing: &Value) -> Result<Vec<Tag>, HubError> {
    let items = listing
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| HubError::Decode("the tag listing has no `results` array".to_string()))?;
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
            Ok(Tag {
                name: text("name").ok_or_else(|| {
                    HubError::Decode("a tag in the listing has no `name`".to_string())
                })?,
                digest: text("digest"),
                last_pushed: text("tag_last_pushed"),
            })
        })
        .collect()
}

/// The plan as JSON: the repository, the policy, every tag (with the digest and last-pushed
/// time it had when planned) and the totals.
pub fn plan_json(namespace: &str, repository: &str, policy: &Policy, plan: &Plan) -> Value {
    let mut p = Map::new();
    p.insert("keep_last".into(), json!(policy.keep_last));
    p.insert("older_than".into(), json!(policy.older_than.map(rfc3339)));
    p.insert("matching".into(), json!(policy.matching));
    p.insert("keep_matching".into(), json!(policy.keep_matching));
    let tags: Vec<Value> = plan
        .decisions
        .iter()
        .map(|d| {
            json!({
                "name": d.tag.name,
                "digest": d.tag.digest,
                "last_pushed": d.tag.last_pushed,
                "action": d.action.as_str(),
                "rule": d.rule.as_str(),
                "reason": d.reason,
            })
        })
        .collect();
    json!({
        "namespace": namespace,
        "repository": repository,
        "policy": Value::Object(p),
        "tags": tags,
        "totals": {
            "tags": plan.decisions.len(),
            "delete": plan.deletes(),
            "keep": plan.keeps(),
        },
    })
}

/// Lists every tag of the repository (all pages, through `list_repository_tags`) and plans.
/// Returns the plan's JSON and the listing's outcome (pages, rate limit).
pub fn plan_repository(
    namespace: &str,
    repository: &str,
    policy: &Policy,
    options: &CallOptions,
    transport: &mut dyn Transport,
    credentials: &mut dyn Credentials,
    clock: &mut dyn Clock,
) -> Result<(Value, client::Outcome), HubError> {
    validate(policy)?;
    let options = CallOptions {
        all_pages: true,
        max_pages: Some(options.max_pages.unwrap_or(1000)),
        ..options.clone()
    };
    let args = json!({"namespace": namespace, "repository": repository, "page_size": 100});
    let outcome = client::call(
        "list_repository_tags",
        &args,
        &options,
        transport,
        credentials,
        clock,
    )?;
    let listing = outcome.body.to_value()?;
    if let Some(next) = listing.get("next").and_then(Value::as_str) {
        return Err(HubError::invalid(
            "max-pages",
            format!(
                "the listing stopped before its last page (next: {next}); no plan from part of the tags"
            ),
        ));
    }
    let tags = tags_of_listing(&listing)?;
    let plan = plan(&tags, policy);
    Ok((plan_json(namespace, repository, policy, &plan), outcome))
}

#[cfg(test)]
mod tests;
