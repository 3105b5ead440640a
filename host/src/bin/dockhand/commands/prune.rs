//! `dockhand tags prune NAMESPACE/REPOSITORY`: a tag cleanup by a retention policy. The policy
//! is evaluated by the component (`catalog.plan-tag-cleanup`), as for every other surface; this
//! command turns `--older-than 90d` into the cutoff instant, prints the plan as a table (or as
//! JSON with `--json`) and writes it with `--plan-out`.

use super::Outcome;
use super::host::open;
use crate::cli::{Global, PruneArgs};
use crate::output::{Failure, exit, print_json, say, usage};
use dockhand_host::prune::cutoff;
use dockhand_host::{CallError, CallOptions, Dockhand, HubError, TagCleanupPolicy, report};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub async fn run(g: &Global, args: &PruneArgs) -> Outcome {
    let (namespace, repository) = split_repository(&args.repository)?;
    let plan_file = args.apply.as_ref().and_then(Option::as_ref);
    if let Some(path) = plan_file {
        if args.keep_last.is_some()
            || args.older_than.is_some()
            || args.matching.is_some()
            || args.keep_matching.is_some()
            || args.plan_out.is_some()
        {
            return Err(usage(
                "--apply PLAN.json applies the plan as it was made: give no policy flags \
                 (--keep-last, --older-than, --match, --keep-match, --plan-out) with it",
            ));
        }
        let plan = read_plan(path, namespace, repository)?;
        let hub = open(g, g.base_url.clone())?;
        return apply(g, &hub, &plan, args.max_delete).await;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let older_than = args
        .older_than
        .as_deref()
        .map(|text| cutoff(text, now).map_err(|e| usage(format!("--older-than: {e}"))))
        .transpose()?;
    let policy = TagCleanupPolicy {
        keep_last: args.keep_last,
        older_than,
        matching: args.matching.clone(),
        keep_matching: args.keep_matching.clone(),
    };
    if policy.keep_last.is_none() && policy.older_than.is_none() && policy.matching.is_none() {
        return Err(usage(
            "a policy that names no rule would delete every tag: give --keep-last, \
             --older-than or --match",
        ));
    }
    let hub = open(g, g.base_url.clone())?;
    if args.apply.is_some() {
        // Refused before the listing, not after it.
        hub.check_access("delete_repository_tag").await?;
    }
    let options = CallOptions {
        account: g.account.clone(),
        all_pages: true,
        max_pages: args.max_pages,
        ..CallOptions::default()
    };
    let result = hub
        .plan_tag_cleanup(namespace, repository, &policy, &options)
        .await?;
    let plan = result.body;
    if let Some(path) = &args.plan_out {
        let text = serde_json::to_string_pretty(&plan).unwrap_or_else(|_| plan.to_string());
        std::fs::write(path, text + "\n")
            .map_err(|e| Failure::Host(format!("writing the plan to {}: {e}", path.display())))?;
    }
    if args.apply.is_some() {
        if !g.json {
            print_table(&plan, result.pages, false);
        }
        return apply(g, &hub, &plan, args.max_delete).await;
    }
    if g.json {
        print_json(&plan, true);
    } else {
        print_table(&plan, result.pages, true);
        if let Some(path) = &args.plan_out {
            say!("Plan written to {}.", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A plan file, checked to be a plan of this repository.
fn read_plan(path: &Path, namespace: &str, repository: &str) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("reading the plan {}: {e}", path.display())))?;
    let plan: Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("the plan {} is not JSON: {e}", path.display())))?;
    if !plan["tags"].is_array() {
        return Err(usage(format!(
            "{} is not a plan (written by --plan-out): it has no `tags` list",
            path.display()
        )));
    }
    if plan["namespace"] != namespace || plan["repository"] != repository {
        return Err(usage(format!(
            "the plan {} is for {}/{}, not {namespace}/{repository}",
            path.display(),
            plan["namespace"].as_str().unwrap_or("?"),
            plan["repository"].as_str().unwrap_or("?"),
        )));
    }
    Ok(plan)
}

/// A tag the plan deletes, as it was when planned.
struct Planned<'a> {
    name: &'a str,
    digest: Option<&'a str>,
    last_pushed: Option<&'a str>,
}

/// Set by Ctrl-C; checked between deletes.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Deletes what `plan` marks `delete`, after checking each against the tags as they are now.
async fn apply(g: &Global, hub: &Dockhand, plan: &Value, max_delete: usize) -> Outcome {
    hub.check_access("delete_repository_tag").await?;
    let namespace = plan["namespace"].as_str().unwrap_or_default();
    let repository = plan["repository"].as_str().unwrap_or_default();
    let planned: Vec<Planned> = plan["tags"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|t| t["action"] == "delete")
        .filter_map(|t| {
            Some(Planned {
                name: t["name"].as_str()?,
                digest: t["digest"].as_str(),
                last_pushed: t["last_pushed"].as_str(),
            })
        })
        .collect();

    // The tags as they are now: one listing, every page.
    let options = CallOptions {
        account: g.account.clone(),
        all_pages: true,
        max_pages: Some(1000),
        ..CallOptions::default()
    };
    let listing = hub
        .call(
            "list_repository_tags",
            &json!({"namespace": namespace, "repository": repository, "page_size": 100}),
            &options,
        )
        .await?;
    if listing.body["next"].is_string() {
        return Err(Failure::Host(
            "the tag listing stopped before its last page; nothing was deleted".into(),
        ));
    }
    let current: HashMap<&str, (Option<&str>, Option<&str>)> = listing.body["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some((
                t["name"].as_str()?,
                (t["digest"].as_str(), t["tag_last_pushed"].as_str()),
            ))
        })
        .collect();

    let mut summary = Summary::default();
    let mut to_delete = Vec::new();
    for p in &planned {
        match current.get(p.name) {
            None => summary.gone.push(p.name.to_string()),
            Some((digest, pushed)) if *digest != p.digest || *pushed != p.last_pushed => {
                summary.skipped.push((
                    p.name.to_string(),
                    format!(
                        "changed since the plan (pushed again?): digest {} -> {}, last pushed {} -> {}",
                        p.digest.unwrap_or("-"),
                        digest.unwrap_or("-"),
                        p.last_pushed.unwrap_or("-"),
                        pushed.unwrap_or("-")
                    ),
                ));
            }
            Some(_) => to_delete.push(p.name),
        }
    }
    if to_delete.len() > max_delete {
        return Err(usage(format!(
            "{} tags would be deleted, more than --max-delete {max_delete}; nothing was \
             deleted (narrow the policy, or raise --max-delete)",
            to_delete.len()
        )));
    }

    // Ctrl-C stops between deletes, never in the middle of one.
    let watcher = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    });
    let total = to_delete.len();
    for (i, name) in to_delete.iter().enumerate() {
        if INTERRUPTED.load(Ordering::SeqCst) {
            summary.not_attempted = to_delete[i..].iter().map(|n| n.to_string()).collect();
            summary.interrupted = true;
            eprintln!("interrupted: {} tags not attempted", total - i);
            break;
        }
        let args = json!({"namespace": namespace, "repository": repository, "tag": name});
        let options = CallOptions {
            account: g.account.clone(),
            ..CallOptions::default()
        };
        let outcome = delete_waiting_out_rate_limits(hub, &args, &options).await;
        let n = i + 1;
        match outcome {
            Ok(()) => {
                eprintln!("[{n}/{total}] deleted {name}");
                summary.deleted.push(name.to_string());
            }
            Err(CallError::Hub(HubError::NotFound(_))) => {
                eprintln!("[{n}/{total}] {name} was already gone");
                summary.gone.push(name.to_string());
            }
            Err(e) => {
                eprintln!("[{n}/{total}] {name} failed: {}", report::message(&e));
                let stop = matches!(
                    e,
                    CallError::Hub(
                        HubError::Unauthorized(_) | HubError::Forbidden(_) | HubError::Denied(_)
                    )
                );
                summary.failed.push((name.to_string(), e));
                if stop {
                    // Every other delete would fail the same way.
                    summary.not_attempted = to_delete[n..].iter().map(|n| n.to_string()).collect();
                    break;
                }
            }
        }
    }
    watcher.abort();
    summary.report(g.json, namespace, repository, planned.len());
    Ok(ExitCode::from(summary.exit_code()))
}

/// One delete; a 429 that outlasted the component's own retries is waited out here, a few
/// times, when the Hub said how long to wait.
async fn delete_waiting_out_rate_limits(
    hub: &Dockhand,
    args: &Value,
    options: &CallOptions,
) -> Result<(), CallError> {
    let mut waits = 0;
    loop {
        match hub.call("delete_repository_tag", args, options).await {
            Ok(_) => return Ok(()),
            Err(CallError::Hub(HubError::RateLimited(r)))
                if waits < 3 && r.retry_after.is_some_and(|s| s <= 300) =>
            {
                waits += 1;
                let secs = r.retry_after.unwrap_or(1).max(1);
                eprintln!("rate limited: waiting {secs} s");
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[derive(Default)]
struct Summary {
    deleted: Vec<String>,
    gone: Vec<String>,
    skipped: Vec<(String, String)>,
    failed: Vec<(String, CallError)>,
    not_attempted: Vec<String>,
    interrupted: bool,
}

impl Summary {
    fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if let Some((_, e)) = self.failed.first() {
            report::exit_code(report::kind(e))
        } else if !self.skipped.is_empty() || !self.not_attempted.is_empty() {
            exit::UPSTREAM
        } else {
            0
        }
    }

    fn report(&self, as_json: bool, namespace: &str, repository: &str, planned: usize) {
        if as_json {
            let value = json!({
                "namespace": namespace,
                "repository": repository,
                "planned": planned,
                "deleted": self.deleted,
                "already_gone": self.gone,
                "skipped": self.skipped.iter().map(|(t, why)| json!({"tag": t, "reason": why})).collect::<Vec<_>>(),
                "failed": self.failed.iter().map(|(t, e)| json!({"tag": t, "error": report::error_json(e)})).collect::<Vec<_>>(),
                "not_attempted": self.not_attempted,
                "interrupted": self.interrupted,
            });
            print_json(&value, true);
            return;
        }
        for (tag, why) in &self.skipped {
            say!("skipped {tag}: {why}");
        }
        for (tag, e) in &self.failed {
            say!("failed {tag}: {}", report::message(e));
        }
        say!(
            "{namespace}/{repository}: {planned} planned to delete: {} deleted, {} already gone, \
             {} skipped, {} failed, {} not attempted.",
            self.deleted.len(),
            self.gone.len(),
            self.skipped.len(),
            self.failed.len(),
            self.not_attempted.len()
        );
    }
}

/// `acme/api` as its namespace and repository.
fn split_repository(text: &str) -> Result<(&str, &str), Failure> {
    match text.split_once('/') {
        Some((ns, repo)) if !ns.is_empty() && !repo.is_empty() && !repo.contains('/') => {
            Ok((ns, repo))
        }
        _ => Err(usage(format!(
            "`{text}`: the repository is written NAMESPACE/REPOSITORY (`library/alpine`)"
        ))),
    }
}

/// The plan as two tables, what would be deleted and what is kept, each row with its reason,
/// then the totals.
fn print_table(plan: &Value, pages: u32, only_planned: bool) {
    let tags = plan["tags"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let width = tags
        .iter()
        .map(|t| text(&t["name"]).chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    for (action, title) in [("delete", "Would delete"), ("keep", "Keep")] {
        let rows: Vec<&Value> = tags.iter().filter(|t| t["action"] == action).collect();
        say!("{title} ({}):", rows.len());
        if rows.is_empty() {
            continue;
        }
        say!("  {:<width$}  {:<24}  REASON", "TAG", "LAST PUSHED");
        for t in rows {
            say!(
                "  {:<width$}  {:<24}  {}",
                text(&t["name"]),
                text(&t["last_pushed"]),
                text(&t["reason"])
            );
        }
    }
    let totals = &plan["totals"];
    let note = if only_planned {
        " Nothing was deleted."
    } else {
        ""
    };
    say!(
        "{}/{}: {} tags ({} page{} listed), {} to delete, {} to keep.{note}",
        text(&plan["namespace"]),
        text(&plan["repository"]),
        totals["tags"],
        pages,
        if pages == 1 { "" } else { "s" },
        totals["delete"],
        totals["keep"]
    );
}
