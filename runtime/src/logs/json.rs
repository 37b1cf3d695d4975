//! One JSON object per log line, with the trace and span the event happened in.

use crate::trace::SpanContext;
use serde_json::{Map, Value};
use std::io::Write;

/// RFC 3339 UTC time with microseconds, from nanoseconds since the epoch.
pub(crate) fn rfc3339(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let micros = (nanos % 1_000_000_000) / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The JSON line for one event.
pub(crate) fn line(
    time: u64,
    level: &str,
    target: &str,
    message: Option<&str>,
    fields: &[(&'static str, Value)],
    ctx: SpanContext,
) -> String {
    let mut m = Map::new();
    m.insert("timestamp".into(), Value::String(rfc3339(time)));
    m.insert("level".into(), Value::String(level.into()));
    m.insert("target".into(), Value::String(target.into()));
    if let Some(msg) = message {
        m.insert("message".into(), Value::String(msg.into()));
    }
    for (k, v) in fields {
        m.insert((*k).into(), v.clone());
    }
    if ctx.is_valid() {
        m.insert("trace_id".into(), Value::String(ctx.trace_id.to_string()));
        m.insert("span_id".into(), Value::String(ctx.span_id.to_string()));
    }
    let mut s = Value::Object(m).to_string();
    s.push('\n');
    s
}

/// Writes a line to standard output without interleaving with other lines.
pub(crate) fn write(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            super::rfc3339(1_795_306_774_603_753_814),
            "2026-11-22T00:19:34.603753Z"
        );
        assert_eq!(
            super::rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
