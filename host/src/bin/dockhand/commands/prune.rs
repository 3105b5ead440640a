//! `dockhand tags prune NAMESPACE/REPOSITORY`: a tag cleanup by a retention policy. The policy
//! is evaluated by the component (`catalog.plan-tag-cleanup`), as for every other surface; this
//! command turns `--older-than 90d` into the cutoff instant, prints the plan as a table (or as
//! JSON with `--json`) and writes it with `--plan-out`.

use super::Outcome;
use super::host::open;
use crate::cli::{Global, PruneArgs};
use crate::output::{Failure, exit, print_json, printable, progress, say, usage};
use dockhand_host::prune::cutoff;
use dockhand_host::{CallError, CallOptions, Dockhand, HubError, TagCleanupPolicy, report};
use serde_json::{Value, json};
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

/// Set by Ctrl-C; checked between deletes.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Applies `plan` one tag at a time through the component's `apply-tag-cleanup` (which checks
/// each tag against the Hub just before deleting it), so that progress shows per tag and
/// Ctrl-C stops between deletes, never in the middle of one.
async fn apply(g: &Global, hub: &Dockhand, plan: &Value, max_delete: usize) -> Outcome {
    hub.check_access("delete_repository_tag").await?;
    let namespace = plan["namespace"].as_str().unwrap_or_default();
    let repository = plan["repository"].as_str().unwrap_or_default();
    let planned: Vec<&Value> = plan["tags"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|t| t["action"] == "delete")
        .collect();
    if planned.len() > max_delete {
        return Err(usage(format!(
            "{} tags would be deleted, more than --max-delete {max_delete}; nothing was \
             deleted (narrow the policy, or raise --max-delete)",
            planned.len()
        )));
    }
    let options = CallOptions {
        account: g.account.clone(),
        ..CallOptions::default()
    };
    let watcher = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    });
    let mut progress = Progress::new(planned.len(), g.json);
    let mut summary = Summary::default();
    for (i, tag) in planned.iter().enumerate() {
        if INTERRUPTED.load(Ordering::SeqCst) {
            progress.finish();
            eprintln!("interrupted: {} tags not attempted", planned.len() - i);
            summary.not_attempted = planned[i..].iter().map(|t| name_of(t)).collect();
            summary.interrupted = true;
            break;
        }
        let one = json!({"namespace": namespace, "repository": repository, "tags": [tag]});
        let name = name_of(tag);
        let stop = match hub.apply_tag_cleanup(&one, 1, &options).await {
            Ok(result) => summary.add(&result.body, &mut progress),
            Err(e) => {
                progress.line(format!("{name} failed: {}", report::message(&e)));
                let mut failed = report::error_fields(&e);
                failed.insert("tag".into(), name.clone().into());
                let stop = matches!(
                    e,
                    CallError::Hub(
                        HubError::Unauthorized(_) | HubError::Forbidden(_) | HubError::Denied(_)
                    )
                );
                summary.failed.push(Value::Object(failed));
                stop
            }
        };
        if stop {
            // Every other delete would fail the same way.
            summary.not_attempted = planned[i + 1..].iter().map(|t| name_of(t)).collect();
            break;
        }
    }
    progress.finish();
    watcher.abort();
    summary.report(g.json, namespace, repository, planned.len());
    Ok(ExitCode::from(summary.exit_code()))
}

fn name_of(tag: &Value) -> String {
    tag["name"].as_str().unwrap_or("?").to_string()
}

/// Where an apply stands, for a person: a bar on a terminal (the CLI's one progress display),
/// one line per tag when stderr is piped (or a log), nothing with `--json`.
struct Progress {
    total: usize,
    done: usize,
    bar: Option<progress::Steps>,
    /// With `--json`, stderr carries JSON only: no per-tag lines (the report has every tag).
    quiet: bool,
}

impl Progress {
    fn new(total: usize, as_json: bool) -> Progress {
        Progress {
            total,
            done: 0,
            bar: progress::wanted(as_json).then(|| progress::Steps::new(total as u64)),
            quiet: as_json,
        }
    }

    /// One tag done, with what happened to it.
    fn line(&mut self, what: String) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.step(&what),
            None if self.quiet => {}
            None => eprintln!("[{}/{}] {}", self.done, self.total, printable(&what)),
        }
    }

    /// Clears the bar, so what follows starts on its own line.
    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// The reports of the one-tag applies, merged.
#[derive(Default)]
struct Summary {
    deleted: Vec<String>,
    gone: Vec<String>,
    skipped: Vec<Value>,
    failed: Vec<Value>,
    not_attempted: Vec<String>,
    interrupted: bool,
}

impl Summary {
    /// Adds one tag's report; true when the apply should stop (the component stopped on it).
    fn add(&mut self, one: &Value, progress: &mut Progress) -> bool {
        let names = |key: &str| -> Vec<String> {
            one[key]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        for name in names("deleted") {
            progress.line(format!("deleted {name}"));
            self.deleted.push(name);
        }
        for name in names("already_gone") {
            progress.line(format!("{name} was already gone"));
            self.gone.push(name);
        }
        for skipped in one["skipped"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            progress.line(format!(
                "skipped {}",
                skipped["tag"].as_str().unwrap_or("?")
            ));
            self.skipped.push(skipped.clone());
        }
        let mut stop = false;
        for failed in one["failed"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            progress.line(format!(
                "{} failed: {}",
                failed["tag"].as_str().unwrap_or("?"),
                failed["message"].as_str().unwrap_or("?")
            ));
            stop |= matches!(
                failed["kind"].as_str(),
                Some("unauthorized" | "forbidden" | "denied")
            );
            self.failed.push(failed.clone());
        }
        stop
    }

    fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if let Some(failed) = self.failed.first() {
            report::exit_code(failed["kind"].as_str().unwrap_or("host"))
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
                "skipped": self.skipped,
                "failed": self.failed,
                "not_attempted": self.not_attempted,
                "interrupted": self.interrupted,
            });
            print_json(&value, true);
            return;
        }
        // Tag names and the Hub's messages, shown and not obeyed by a terminal.
        let text = |v: &Value| printable(v.as_str().unwrap_or("?"));
        for skipped in &self.skipped {
            say!(
                "skipped {}: {}",
                text(&skipped["tag"]),
                text(&skipped["reason"])
            );
        }
        for failed in &self.failed {
            say!(
                "failed {}: {}",
                text(&failed["tag"]),
                text(&failed["message"])
            );
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
    let text = |v: &Value| printable(v.as_str().unwrap_or("-"));
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
