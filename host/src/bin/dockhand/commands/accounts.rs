//! `dockhand accounts`: lists the accounts usable against `--base-url` and where each came from,
//! and whether a Hub token minted for it is cached and until when; never a secret or a token.
//! Broken config-file entries are listed last, each with why.

use super::Outcome;
use super::host::accounts;
use crate::cli::Global;
use crate::output::{print_json, say, usage};
use dockhand_host::credentials::AccountAuth;
use dockhand_host::policy::BaseUrl;
use serde_json::Value;
use std::process::ExitCode;

pub fn run(g: &Global) -> Outcome {
    let accounts = accounts(g)?;
    let base = BaseUrl::parse(&g.base_url).map_err(|e| usage(format!("--base-url: {e}")))?;
    let accounts = accounts.for_base_url(&base);
    let listing = accounts.listing();
    // Only accounts whose secret is exchanged here have a token to cache.
    let cached: Vec<Option<Option<i64>>> = accounts
        .iter()
        .map(|spec| {
            let exchanged = matches!(
                spec.auth,
                AccountAuth::PersonalToken { .. }
                    | AccountAuth::OrgToken { .. }
                    | AccountAuth::Password { .. }
            ) && spec.withheld.is_none();
            exchanged.then(|| {
                accounts
                    .token_cache()
                    .and_then(|cache| cache.cached_until(spec, &base))
            })
        })
        .collect();
    let cache_on = accounts.token_cache().is_some();
    if g.json {
        let mut value = serde_json::to_value(&listing).unwrap_or(Value::Null);
        if let Value::Array(items) = &mut value {
            for (item, cached) in items.iter_mut().zip(&cached) {
                if let (Value::Object(map), Some(until)) = (item, cached) {
                    map.insert(
                        "token_cached_until".into(),
                        until.map(rfc3339).map_or(Value::Null, Value::String),
                    );
                }
            }
        }
        if let Value::Array(items) = &mut value {
            for (name, why) in accounts.broken_entries() {
                items.push(serde_json::json!({"name": name, "broken": why.to_string()}));
            }
        }
        print_json(&value, true);
    } else {
        for (a, cached) in listing.iter().zip(&cached) {
            match cached {
                Some(Some(until)) => say!("{a}; Hub token cached until {}", rfc3339(*until)),
                Some(None) if cache_on => say!("{a}; no Hub token cached"),
                Some(None) => say!("{a}; Hub token cache off"),
                None => say!("{a}"),
            }
        }
        for (name, why) in accounts.broken_entries() {
            say!("{name}: broken, not usable: {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-12-06T06:20:00Z` for Unix seconds `secs` (UTC; the proleptic Gregorian calendar).
fn rfc3339(secs: i64) -> String {
    dockhand_vocab::time::Rfc3339(secs).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_537_363), "2026-12-06T06:09:23Z");
    }
}
