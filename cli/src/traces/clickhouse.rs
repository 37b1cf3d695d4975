//! `semtel traces export --format clickhouse`: one JSONEachRow line per span
//! with the columns of the OpenTelemetry Collector ClickHouse exporter's
//! `otel_traces` table, so that queries written for that table (Drover's)
//! run on spans read from files.
//!
//! Values follow the exporter: ids in lower-case hex (empty for none),
//! `SpanKind` as `Internal`/`Server`/`Client`/`Producer`/`Consumer`
//! (`Unspecified`), `StatusCode` as `Unset`/`Ok`/`Error`, attribute values as
//! strings (arrays and maps as JSON), `Duration` in nanoseconds,
//! `ServiceName` from the resource's `service.name`. Timestamps are written
//! as `<seconds>.<nanoseconds>` since the Unix epoch, which ClickHouse reads
//! into `DateTime64(9)` whatever the server's time zone.
//!
//! Success: a span semtel records ends `Error` when its code fails (an
//! `Err`, a panic, a non-zero exit) and otherwise `Unset`, as the
//! OpenTelemetry specification asks of instrumentation. A query that counts
//! `StatusCode = 'Ok'` as success needs the unit of work marked `Ok` when it
//! completes; `--ok-spans NAME` writes `Ok` for the `Unset` spans of that
//! name, the same rule a collector applies with its transform processor
//! (`set(span.status.code, STATUS_CODE_OK) where span.name == "NAME" and
//! span.status.code == STATUS_CODE_UNSET`).

use super::Input;
use super::model::{KeyValue, find};
use super::table;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `export` options.
#[derive(Args)]
pub struct ExportArgs {
    /// The row format
    #[arg(long, value_enum)]
    format: Format,
    /// Write the rows to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Spans of this name that did not fail are written with StatusCode `Ok` (the units of work whose success a query counts); repeatable
    #[arg(long = "ok-spans", value_name = "NAME")]
    ok_spans: Vec<String>,
    #[command(flatten)]
    input: Input,
}

/// Row formats.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// JSONEachRow rows for the OpenTelemetry Collector ClickHouse exporter's `otel_traces` table
    Clickhouse,
}

const KINDS: [&str; 6] = [
    "Unspecified",
    "Internal",
    "Server",
    "Client",
    "Producer",
    "Consumer",
];
const STATUSES: [&str; 3] = ["Unset", "Ok", "Error"];

/// `<seconds>.<nanoseconds>` since the Unix epoch.
fn time(nanos: u64) -> String {
    format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000)
}

fn map<'v>(kvs: &'v [KeyValue<'_>]) -> BTreeMap<&'v str, String> {
    kvs.iter()
        .map(|kv| (&*kv.key, kv.value.text().into_owned()))
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row<'v> {
    timestamp: String,
    trace_id: &'v str,
    span_id: &'v str,
    parent_span_id: &'v str,
    trace_state: &'v str,
    span_name: &'v str,
    span_kind: &'static str,
    service_name: String,
    resource_attributes: BTreeMap<&'v str, String>,
    scope_name: &'v str,
    scope_version: &'v str,
    span_attributes: BTreeMap<&'v str, String>,
    duration: u64,
    status_code: &'static str,
    status_message: &'v str,
    #[serde(rename = "Events.Timestamp")]
    events_timestamp: Vec<String>,
    #[serde(rename = "Events.Name")]
    events_name: Vec<&'v str>,
    #[serde(rename = "Events.Attributes")]
    events_attributes: Vec<BTreeMap<&'v str, String>>,
    #[serde(rename = "Links.TraceId")]
    links_trace_id: Vec<&'v str>,
    #[serde(rename = "Links.SpanId")]
    links_span_id: Vec<&'v str>,
    #[serde(rename = "Links.TraceState")]
    links_trace_state: Vec<&'v str>,
    #[serde(rename = "Links.Attributes")]
    links_attributes: Vec<BTreeMap<&'v str, String>>,
}

/// Runs `semtel traces export`.
pub fn run(a: &ExportArgs) -> Result<ExitCode, String> {
    let Format::Clickhouse = a.format;
    let (mut out, target): (Box<dyn Write>, String) = match &a.out {
        Some(p) => (
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(p)
                    .map_err(|e| format!("cannot create {}: {e}", p.display()))?,
            )),
            p.display().to_string(),
        ),
        None => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            "standard output".into(),
        ),
    };
    let mut failed: Option<std::io::Error> = None;
    let tally = a.input.for_each(|s| {
        if failed.is_some() {
            return;
        }
        let span = s.span;
        let mut code = usize::try_from(span.status.code).unwrap_or(0).min(2);
        if code == 0 && a.ok_spans.iter().any(|n| *n == span.name) {
            code = 1;
        }
        let row = Row {
            timestamp: time(span.start_time_unix_nano),
            trace_id: &span.trace_id,
            span_id: &span.span_id,
            parent_span_id: &span.parent_span_id,
            trace_state: &span.trace_state,
            span_name: &span.name,
            span_kind: KINDS
                .get(usize::try_from(span.kind).unwrap_or(0))
                .copied()
                .unwrap_or("Unspecified"),
            service_name: find(&s.resource.attributes, "service.name")
                .map(|v| v.text().into_owned())
                .unwrap_or_default(),
            resource_attributes: map(&s.resource.attributes),
            scope_name: &s.scope.name,
            scope_version: &s.scope.version,
            span_attributes: map(&span.attributes),
            duration: span.duration(),
            status_code: STATUSES[code],
            status_message: &span.status.message,
            events_timestamp: span.events.iter().map(|e| time(e.time_unix_nano)).collect(),
            events_name: span.events.iter().map(|e| &*e.name).collect(),
            events_attributes: span.events.iter().map(|e| map(&e.attributes)).collect(),
            links_trace_id: span.links.iter().map(|l| &*l.trace_id).collect(),
            links_span_id: span.links.iter().map(|l| &*l.span_id).collect(),
            links_trace_state: span.links.iter().map(|l| &*l.trace_state).collect(),
            links_attributes: span.links.iter().map(|l| map(&l.attributes)).collect(),
        };
        let written = serde_json::to_writer(&mut out, &row)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed.or_else(|| out.flush().err()) {
        return Err(format!("cannot write to {target}: {e}"));
    }
    eprintln!(
        "semtel traces export: {} rows; {}",
        tally.spans,
        table::summary(&tally)
    );
    Ok(ExitCode::SUCCESS)
}
