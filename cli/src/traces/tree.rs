//! `semtel traces tree`: one trace, drawn by the console exporter's renderer.

use super::model::{AnyValue, KeyValue, Span};
use super::{Input, table};
use clap::Args;
use opentelemetry::trace::{SpanId, TraceId};
use semtel::conventions::SpanKind;
use semtel::trace::{SpanEvent, SpanRecord, Status};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// `tree` options.
#[derive(Args)]
pub struct TreeArgs {
    /// The trace id (32 hex digits)
    #[arg(value_name = "TRACE_ID", value_parser = trace_id)]
    trace: String,
    #[command(flatten)]
    input: Input,
    /// Print the trace's spans as JSON (one object per span, in start order) instead of a tree
    #[arg(long)]
    json: bool,
}

fn trace_id(s: &str) -> Result<String, String> {
    let lower = s.trim().to_ascii_lowercase();
    if lower.len() == 32 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(lower)
    } else {
        Err(format!("`{s}` is not a trace id (32 hex digits)"))
    }
}

fn value(v: &AnyValue<'_>) -> opentelemetry::Value {
    if let Some(b) = v.bool_value {
        b.into()
    } else if let Some(i) = v.int_value {
        i.into()
    } else if let Some(d) = v.double_value {
        d.into()
    } else {
        v.text().into_owned().into()
    }
}

fn attributes(kvs: &[KeyValue<'_>]) -> Vec<opentelemetry::KeyValue> {
    kvs.iter()
        .map(|kv| opentelemetry::KeyValue::new(kv.key.to_string(), value(&kv.value)))
        .collect()
}

/// The runtime's record of a span read from a file.
fn record(s: &Span<'_>) -> SpanRecord {
    let kind = match s.kind {
        2 => SpanKind::Server,
        3 => SpanKind::Client,
        4 => SpanKind::Producer,
        5 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    };
    let mut record = SpanRecord::default();
    record.trace_id = TraceId::from_hex(&s.trace_id).unwrap_or(TraceId::INVALID);
    record.span_id = SpanId::from_hex(&s.span_id).unwrap_or(SpanId::INVALID);
    record.parent_span_id = SpanId::from_hex(&s.parent_span_id).unwrap_or(SpanId::INVALID);
    record.trace_state = (!s.trace_state.is_empty()).then(|| s.trace_state.as_ref().into());
    record.name = s.name.to_string().into();
    record.kind = kind;
    record.start = s.start_time_unix_nano;
    record.end = s.end_time_unix_nano;
    record.attributes = attributes(&s.attributes);
    record.events = s
        .events
        .iter()
        .map(|e| {
            SpanEvent::new(
                e.name.to_string(),
                e.time_unix_nano,
                attributes(&e.attributes),
            )
        })
        .collect();
    record.status = match s.status.code {
        1 => Status::Ok,
        2 => Status::Error(s.status.message.to_string().into()),
        _ => Status::Unset,
    };
    record
}

/// Runs `semtel traces tree`.
pub fn run(a: &TreeArgs) -> Result<ExitCode, String> {
    let mut spans = Vec::new();
    let mut json = Vec::new();
    let tally = a.input.for_each(|s| {
        if s.span.trace_id.eq_ignore_ascii_case(&a.trace) {
            if a.json {
                let status = ["unset", "ok", "error"]
                    .get(usize::try_from(s.span.status.code).unwrap_or(0))
                    .unwrap_or(&"unset");
                let attributes: serde_json::Map<_, _> = s
                    .span
                    .attributes
                    .iter()
                    .map(|kv| {
                        let v = serde_json::to_value(kv.value.json()).unwrap_or_default();
                        (kv.key.to_string(), v)
                    })
                    .collect();
                json.push((
                    s.span.start_time_unix_nano,
                    serde_json::json!({
                        "span_id": s.span.span_id,
                        "parent_span_id": s.span.parent_span_id,
                        "name": s.span.name,
                        "start": table::timestamp(s.span.start_time_unix_nano),
                        "duration_ms": table::ms(s.span.duration() as f64),
                        "status": status,
                        "status_message": s.span.status.message,
                        "attributes": attributes,
                    }),
                ));
            }
            spans.push(record(s.span));
        }
    })?;
    if spans.is_empty() {
        return Err(format!(
            "no span of trace {} in {}",
            a.trace,
            table::summary(&tally)
        ));
    }
    // A parent outside the files is shown as the remote parent the trace continues.
    let ids: std::collections::HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    for s in &mut spans {
        s.parent_remote = s.parent_span_id != SpanId::INVALID && !ids.contains(&s.parent_span_id);
    }
    let written = if a.json {
        json.sort_by_key(|(start, _)| *start);
        let mut out = table::tally_json(&tally);
        out["trace_id"] = serde_json::json!(a.trace);
        out["trace"] = json.into_iter().map(|(_, span)| span).collect();
        table::print_json(&out)
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let text = semtel::render_trace(&spans, color);
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| writeln!(out, "\n{}", table::summary(&tally)))
    };
    written.map_err(|e| format!("cannot write the answer: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
