//! Output shared by the `traces` commands: aligned tables for people,
//! JSON for programs, and the line that says what was read.

use super::read::Tally;
use std::io::Write;

/// Prints `rows` under `headers`, columns padded to their widest cell;
/// columns listed in `right` are right-aligned.
pub fn print(headers: &[&str], rows: &[Vec<String>], right: &[usize]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                text.push_str("  ");
            }
            if right.contains(&i) {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                if i + 1 < widths.len() {
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&mut headers.iter().copied())?;
    for row in rows {
        line(&mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// `n` and `word`, plural unless `n` is 1: `3 traces`.
pub fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// What was read, in words: `120 spans in 40 lines of 2 files; 1 line skipped`.
pub fn summary(t: &Tally) -> String {
    format!(
        "{} in {} of {}; {} skipped",
        plural(t.spans, "span"),
        plural(t.lines, "line"),
        plural(t.files, "file"),
        plural(t.skipped, "line"),
    )
}

/// The tally as JSON fields.
pub fn tally_json(t: &Tally) -> serde_json::Value {
    serde_json::json!({
        "files": t.files,
        "lines": t.lines,
        "spans": t.spans,
        "skipped_lines": t.skipped,
    })
}

/// Writes `value` as one line of JSON.
pub fn print_json(value: &serde_json::Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)
}

/// Nanoseconds as milliseconds, for JSON.
pub fn ms(nanos: f64) -> f64 {
    (nanos / 1e3).round() / 1e3
}

/// A Unix time in nanoseconds as RFC 3339 (UTC, microseconds).
pub fn timestamp(nanos: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos);
    humantime::format_rfc3339_micros(t).to_string()
}
