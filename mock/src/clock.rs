//! Wall-clock time as the Hub shows it: unix seconds inside the mock, RFC 3339 strings on the wire.
//!
//! The mock keeps every timestamp as unix seconds so that ordering and window filters are plain
//! integer comparisons; only the JSON layer turns them into text.

use dockhand_vocab::time::{Rfc3339, days_from_civil, days_in_month};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the unix epoch, now.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2024-05-01T12:00:00Z`.
pub(crate) fn rfc3339(secs: u64) -> String {
    Rfc3339(secs as i64).to_string()
}

/// `2024-05-01 12:00:00 +0000 UTC`, the layout of the Hub's CSV export.
pub(crate) fn csv_time(secs: u64) -> String {
    let text = rfc3339(secs);
    format!("{} {} +0000 UTC", &text[..10], &text[11..19])
}

/// Exactly `width` ASCII digits, as RFC 3339 fixes every field's width.
fn digits(text: &str, width: usize) -> Option<u32> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Reads `YYYY-MM-DD`, or a full RFC 3339 date-time with optional fraction and `Z`/`±HH:MM`.
/// Callers filter by these, so anything else is refused rather than guessed at: a day the
/// month does not have (`2023-02-31`) would otherwise roll over into the next month. Second 60
/// is refused too, as the Hub's Go `time.Parse` refuses it.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let rest = &text[10..];
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = digits(parts.next()?, 2)?;
    let day = digits(parts.next()?, 2)?;
    if parts.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    if !(1..=days_in_month(i64::from(year), month)).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(i64::from(year), month, day) * 86_400;
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let time = rest.get(..8)?;
        let mut zone = &rest[8..];
        let mut hms = time.split(':');
        let h = digits(hms.next()?, 2)?;
        let mi = digits(hms.next()?, 2)?;
        let s = digits(hms.next()?, 2)?;
        if hms.next().is_some() || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        secs += i64::from(h * 3600 + mi * 60 + s);
        if let Some(frac) = zone.strip_prefix('.') {
            let count = frac.bytes().take_while(u8::is_ascii_digit).count();
            if count == 0 {
                return None;
            }
            zone = &frac[count..];
        }
        match zone {
            "" | "Z" | "z" => {}
            _ => {
                let sign = match zone.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let (oh, om) = zone[1..].split_once(':')?;
                let (oh, om) = (digits(oh, 2)?, digits(om, 2)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                secs -= sign * i64::from(oh * 3600 + om * 60);
            }
        }
    }
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn reads_offsets_fractions_and_dates() {
        assert_eq!(parse_rfc3339("2023-11-14"), Some(1_699_920_000));
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20.123+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2023-13-01"), None);
    }

    #[test]
    fn refuses_dates_that_do_not_exist() {
        for text in [
            "2023-02-31",
            "2023-02-29",
            "1900-02-29",
            "2023-04-31",
            "2023-13-01",
            "2023-00-10",
            "2023-01-00",
            "2023-01-32",
            "2023-06-01T24:00:00Z",
            "2023-06-01T23:60:00Z",
            "2023-06-01T23:59:60Z",
            "2023-06-01T12:00:00+24:00",
            "2023-06-01T12:00:00+01:60",
            "2023-06-01T12:00:00+1:00",
            "2023-6-011",
            "2023-06-01T1:000:00Z",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text} was accepted");
        }
    }

    #[test]
    fn accepts_the_last_day_of_every_month() {
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_rfc3339("2000-02-29"), Some(951_782_400));
        for (month, last) in [
            (1, 31),
            (2, 28),
            (3, 31),
            (4, 30),
            (5, 31),
            (6, 30),
            (7, 31),
            (8, 31),
            (9, 30),
            (10, 31),
            (11, 30),
            (12, 31),
        ] {
            let text = format!("2023-{month:02}-{last:02}T23:59:59+14:00");
            assert!(parse_rfc3339(&text).is_some(), "{text} was refused");
        }
    }
}
