//! Which spans a command looks at: `--where KEY=VALUE` (span attribute,
//! else resource attribute), `--since` and `--until` (on the span's start).

use super::model::find;
use super::read::SpanRef;
use clap::Args;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Span selection options.
#[derive(Args, Clone, Default)]
pub struct FilterArgs {
    /// Only spans whose attribute (or resource attribute) KEY has VALUE; repeat for all of several
    #[arg(long = "where", value_name = "KEY=VALUE", value_parser = key_value)]
    pub conditions: Vec<(String, String)>,
    /// Only spans that started at or after TIME (RFC 3339, e.g. 2026-01-16T10:00:00Z, or a duration ago: 90m, 24h, 7d)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub since: Option<u64>,
    /// Only spans that started before TIME (same forms as --since)
    #[arg(long, value_name = "TIME", value_parser = time)]
    pub until: Option<u64>,
}

/// Parses `KEY=VALUE`.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// Parses a point in time into nanoseconds since the Unix epoch.
fn time(s: &str) -> Result<u64, String> {
    let at = match humantime::parse_rfc3339_weak(s) {
        Ok(t) => t,
        Err(_) => {
            let ago = humantime::parse_duration(s).map_err(|_| {
                format!("`{s}` is neither an RFC 3339 time (2026-01-16T10:00:00Z) nor a duration (90m, 24h, 7d)")
            })?;
            SystemTime::now()
                .checked_sub(ago)
                .ok_or_else(|| format!("`{s}` reaches before 1970"))?
        }
    };
    let nanos = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    u64::try_from(nanos).map_err(|_| format!("`{s}` is too far in the future"))
}

/// Whether `attributes` of the span (else of its resource) hold `key` = `value`.
pub fn has(s: &SpanRef<'_, '_>, key: &str, value: &str) -> bool {
    find(&s.span.attributes, key)
        .or_else(|| find(&s.resource.attributes, key))
        .is_some_and(|v| v.text() == value)
}

impl FilterArgs {
    /// Whether the span is selected.
    pub fn matches(&self, s: &SpanRef<'_, '_>) -> bool {
        let start = s.span.start_time_unix_nano;
        self.since.is_none_or(|t| start >= t)
            && self.until.is_none_or(|t| start < t)
            && self.conditions.iter().all(|(k, v)| has(s, k, v))
    }
}
