//! Timestamps, intervals and ISO-8601 durations in the exact forms Genesys Cloud uses
//! (`2026-11-25T10:00:00.000Z`, `start/end`, `PT30M`).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// `2026-11-25T10:00:00.000Z`.
pub(crate) fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

pub(crate) fn format_interval(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!("{}/{}", format_instant(start), format_instant(end))
}

pub(crate) fn parse_interval(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, end) = text.split_once('/')?;
    Some((parse_instant(start)?, parse_instant(end)?))
}

/// The instant `ms` milliseconds after the epoch, if representable.
pub(crate) fn from_epoch_millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// Parses the ISO-8601 durations Genesys accepts as granularity: `PT5M`, `PT1H`, `P1D`, …
/// Anything beyond a year is refused, so arithmetic on the result cannot overflow.
pub(crate) fn parse_iso_duration(text: &str) -> Option<Duration> {
    const MAX_SECONDS: u64 = 366 * 86_400;
    let rest = text.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((days, time)) => (days, Some(time)),
        None => (rest, None),
    };
    let mut seconds = 0u64;
    let mut add = |number: &str, factor: u64| -> Option<()> {
        let part = number.parse::<u64>().ok()?.checked_mul(factor)?;
        seconds = seconds.checked_add(part)?;
        Some(())
    };
    if !days.is_empty() {
        add(days.strip_suffix('D')?, 86_400)?;
    }
    if let Some(mut time) = time {
        if time.is_empty() {
            return None;
        }
        for (unit, factor) in [('H', 3_600u64), ('M', 60), ('S', 1)] {
            if let Some((number, tail)) = time.split_once(unit) {
                add(number, factor)?;
                time = tail;
            }
        }
        if !time.is_empty() {
            return None;
        }
    }
    (seconds > 0 && seconds <= MAX_SECONDS).then(|| Duration::from_secs(seconds))
}

/// Formats a whole number of minutes/hours as Genesys expects (`PT30M`, `PT1H`).
pub(crate) fn format_iso_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds.is_multiple_of(3_600) {
        format!("PT{}H", seconds / 3_600)
    } else if seconds.is_multiple_of(60) {
        format!("PT{}M", seconds / 60)
    } else {
        format!("PT{seconds}S")
    }
}

/// The start of the bucket of width `granularity` (aligned to the epoch) that holds `at`.
pub(crate) fn bucket_start(at: DateTime<Utc>, granularity: Duration) -> DateTime<Utc> {
    let width = granularity.as_millis().max(1) as i64;
    let ms = at.timestamp_millis();
    from_epoch_millis(ms - ms.rem_euclid(width)).unwrap_or(at)
}

#[cfg(test)]
mod tests;
