//! One value as a table cell for a person: sizes in kB/MB/GB, times as "3 days ago", digests
//! short, booleans as yes/no, and nothing that can steer the terminal. Tables only: JSON, YAML
//! and raw output keep the values as the Hub sent them.

use dockhand_vocab::time::parse_rfc3339;
use serde_json::Value;

/// The cell for `value` in the column named by the dotted path `column`, `now` in unix seconds.
pub fn cell(column: &str, value: Option<&Value>, now: i64) -> String {
    let field = column.rsplit('.').next().unwrap_or(column);
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        Some(Value::Number(n)) if field.ends_with("size") => {
            n.as_f64().map_or_else(|| n.to_string(), size)
        }
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => text(s, now),
        Some(Value::Array(items)) if items.is_empty() => "-".into(),
        Some(Value::Array(items)) if items.iter().all(is_scalar) => items
            .iter()
            .map(|item| cell(column, Some(item), now))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Array(items)) if items.len() == 1 => "1 item".into(),
        Some(Value::Array(items)) => format!("{} items", items.len()),
        Some(object) => printable(&object.to_string()),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// A string cell: a time relative to now, a digest shortened as docker shortens image IDs, any
/// other text on one line and free of control characters.
fn text(s: &str, now: i64) -> String {
    if let Some(then) = parse_rfc3339(s) {
        return ago(then as i64, now);
    }
    if let Some(hex) = s.strip_prefix("sha256:")
        && hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return format!("sha256:{}", &hex[..12]);
    }
    printable(s)
}

/// Bytes in the units docker prints (powers of 1000): `512 B`, `7.8 MB`.
pub fn size(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} {}", UNITS[0])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How long ago `then` was (or, for a time to come such as an expiry, how soon it is).
pub fn ago(then: i64, now: i64) -> String {
    let (span, future) = if then > now {
        (then - now, true)
    } else {
        (now - then, false)
    };
    let (n, unit) = match span {
        s if s < 60 => return if future { "in a moment" } else { "just now" }.into(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 60 * 86_400 => (s / 86_400, "day"),
        s if s < 730 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// Text as one line a terminal shows and does not obey: line breaks and tabs become spaces,
/// every other control character (ESC starting a terminal sequence among them) becomes `�`.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn sizes_use_dockers_units() {
        assert_eq!(size(512.0), "512 B");
        assert_eq!(size(7_812_345.0), "7.8 MB");
        assert_eq!(size(1_500_000_000.0), "1.5 GB");
        assert_eq!(cell("full_size", Some(&json!(3_400_000)), NOW), "3.4 MB");
        // Only a column named as a size is one.
        assert_eq!(cell("pull_count", Some(&json!(3_400_000)), NOW), "3400000");
    }

    #[test]
    fn times_are_relative_both_ways() {
        assert_eq!(ago(NOW - 30, NOW), "just now");
        assert_eq!(ago(NOW - 3 * 86_400, NOW), "3 days ago");
        assert_eq!(ago(NOW - 3600, NOW), "1 hour ago");
        assert_eq!(ago(NOW + 90 * 86_400, NOW), "in 3 months");
        assert_eq!(ago(NOW - 800 * 86_400, NOW), "2 years ago");
        let stamp = dockhand_vocab::time::Rfc3339(NOW - 120).to_string();
        assert_eq!(
            cell("tag_last_pushed", Some(&json!(stamp)), NOW),
            "2 minutes ago"
        );
    }

    #[test]
    fn digests_shorten_and_other_values_read_plainly() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            cell("digest", Some(&json!(digest)), NOW),
            "sha256:abababababab"
        );
        assert_eq!(cell("is_private", Some(&json!(true)), NOW), "yes");
        assert_eq!(cell("x", Some(&Value::Null), NOW), "-");
        assert_eq!(cell("x", None, NOW), "-");
        assert_eq!(
            cell("scopes", Some(&json!(["repo:read", "repo:write"])), NOW),
            "repo:read, repo:write"
        );
        assert_eq!(
            cell("images", Some(&json!([{"os": "linux"}])), NOW),
            "1 item"
        );
    }

    #[test]
    fn a_hostile_string_cannot_steer_the_terminal() {
        let hostile = "ok\u{1b}]0;owned\u{7}\u{1b}[2J\nnext\u{9b}31m";
        let shown = cell("description", Some(&json!(hostile)), NOW);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.starts_with("ok\u{FFFD}]0;owned"), "{shown:?}");
    }
}
