//! `dockhand tags prune NAMESPACE/REPOSITORY`: a tag cleanup by a retention policy. The policy
//! is evaluated by the component (`catalog.plan-tag-cleanup`), as for every other surface; this
//! command turns `--older-than 90d` into the cutoff instant, prints the plan as a table (or as
//! JSON with `--json`) and writes it with `--plan-out`.

use super::Outcome;
use super::host::open;
use crate::cli::{Global, PruneArgs};
use crate::output::{Failure, print_json, say, usage};
use dockhand_host::{CallOptions, TagCleanupPolicy};
use serde_json::Value;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

pub async fn run(g: &Global, args: &PruneArgs) -> Outcome {
    let (namespace, repository) = split_repository(&args.repository)?;
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
    if g.json {
        print_json(&plan, true);
    } else {
        print_table(&plan, result.pages);
        if let Some(path) = &args.plan_out {
            say!("Plan written to {}.", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
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

/// The cutoff instant (unix seconds) of `90d`, `12w`, `36h`, `2024-05-01` or
/// `2024-05-01T12:00:00Z`, `now` being the current time.
pub(crate) fn cutoff(text: &str, now: u64) -> Result<u64, String> {
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

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The plan as two tables, what would be deleted and what is kept, each row with its reason,
/// then the totals.
fn print_table(plan: &Value, pages: u32) {
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
    say!(
        "{}/{}: {} tags ({} pages listed), {} to delete, {} to keep. Nothing was deleted.",
        text(&plan["namespace"]),
        text(&plan["repository"]),
        totals["tags"],
        pages,
        totals["delete"],
        totals["keep"]
    );
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
