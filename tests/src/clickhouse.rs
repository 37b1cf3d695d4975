//! Drover's three ClickHouse queries over spans semtel wrote: the
//! OpenTelemetry Collector ClickHouse exporter's `otel_traces` table made in
//! chdb (the ClickHouse engine, installed into `.venv` by `scripts/test`),
//! loaded with the rows `semtel traces export --format clickhouse` writes,
//! and the answers checked against what is computed here from the same
//! spans, read from the OTLP JSON Lines file with serde_json alone.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Drover's task success rate, as its documentation gives it.
pub const SUCCESS_RATE: &str = "SELECT
    countIf(StatusCode = 'Ok') AS completed,
    countIf(StatusCode = 'Error') AS failed,
    completed / (completed + failed) * 100 AS success_rate
FROM otel_traces
WHERE SpanName = 'drover.task.execute'
  AND Timestamp > now() - INTERVAL 24 HOUR;";

/// Drover's average and p95 task duration by epic.
pub const BY_EPIC: &str = "SELECT
    SpanAttributes['drover.epic.id'] AS epic,
    avg(Duration) / 1e9 AS avg_seconds,
    quantile(0.95)(Duration) / 1e9 AS p95_seconds
FROM otel_traces
WHERE SpanName = 'drover.task.execute'
  AND Timestamp > now() - INTERVAL 1 HOUR
GROUP BY epic;";

/// Drover's trace of task `task-123`.
pub const ONE_TASK: &str = "SELECT *
FROM otel_traces
WHERE TraceId = (
    SELECT TraceId
    FROM otel_traces
    WHERE SpanAttributes['drover.task.id'] = 'task-123'
    LIMIT 1
)
ORDER BY Timestamp;";

/// The OpenTelemetry Collector ClickHouse exporter's `otel_traces` table
/// (its DDL with the engine filled in and no TTL).
pub const DDL: &str = "CREATE TABLE IF NOT EXISTS otel_traces (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity=8192, ttl_only_drop_parts = 1";

/// Loads the rows into chdb and prints each query's rows as a JSON array, one per line.
const LOAD_AND_QUERY: &str = r#"
import json, sys
from chdb import session
ddl, rows_path, *queries = sys.argv[1:]
s = session.Session()
s.query(ddl)
s.query("SET input_format_skip_unknown_fields = 0")
s.query("INSERT INTO otel_traces FORMAT JSONEachRow\n" + open(rows_path).read())
for q in queries:
    out = s.query(q.rstrip().rstrip(";"), "JSONEachRow").bytes().decode()
    print(json.dumps([json.loads(l) for l in out.splitlines() if l.strip()]))
"#;

fn python() -> PathBuf {
    let p = crate::workspace_root().join(".venv/bin/python");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test, which creates .venv and installs chdb",
        p.display()
    );
    p
}

/// Creates `otel_traces`, loads the JSONEachRow `rows` and runs each query:
/// one array of result rows per query.
pub fn query(rows: &Path, queries: &[&str]) -> Vec<Vec<Value>> {
    let out = Command::new(python())
        .args(["-c", LOAD_AND_QUERY, DDL])
        .arg(rows)
        .args(queries)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "chdb failed (scripts/test installs it into .venv):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("chdb output"))
        .collect()
}

/// `semtel traces export --format clickhouse --out rows EXTRA... spans`.
pub fn export(semtel: &Path, spans: &Path, rows: &Path, extra: &[&str]) {
    let out = Command::new(semtel)
        .args(["traces", "export", "--format", "clickhouse", "--out"])
        .arg(rows)
        .args(extra)
        .arg(spans)
        .output()
        .expect("run semtel");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A span of an OTLP JSON Lines file.
#[derive(Clone, Debug)]
pub struct FileSpan {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The span name.
    pub name: String,
    /// Start, in nanoseconds since the Unix epoch.
    pub start: u64,
    /// Nanoseconds.
    pub duration: u64,
    /// Whether its status is an error.
    pub error: bool,
    /// Its string attributes.
    pub attrs: BTreeMap<String, String>,
}

/// A JSON number, or a number written as a string (OTLP JSON's 64-bit integers).
pub fn number(v: &Value) -> u64 {
    v.as_str()
        .map_or_else(|| v.as_u64(), |s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The spans of the OTLP JSON Lines files.
pub fn file_spans(files: &[&Path]) -> Vec<FileSpan> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("span file");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).expect("an OTLP JSON line");
            let scopes = v["resourceSpans"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|rs| rs["scopeSpans"].as_array().into_iter().flatten());
            for s in scopes.flat_map(|ss| ss["spans"].as_array().into_iter().flatten()) {
                out.push(FileSpan {
                    trace_id: s["traceId"].as_str().unwrap_or_default().into(),
                    span_id: s["spanId"].as_str().unwrap_or_default().into(),
                    name: s["name"].as_str().unwrap_or_default().into(),
                    start: number(&s["startTimeUnixNano"]),
                    duration: number(&s["endTimeUnixNano"]) - number(&s["startTimeUnixNano"]),
                    error: s["status"]["code"].as_i64() == Some(2),
                    attrs: s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|kv| {
                            Some((
                                kv["key"].as_str()?.into(),
                                kv["value"]["stringValue"].as_str()?.into(),
                            ))
                        })
                        .collect(),
                });
            }
        }
    }
    out
}

/// ClickHouse's `quantile`: linear interpolation at q (n - 1).
pub fn interpolated(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    if lo + 1 < v.len() {
        v[lo] + frac * (v[lo + 1] - v[lo])
    } else {
        v[lo]
    }
}

fn near(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: ClickHouse {a}, computed {b}"
    );
}

/// Checks the answers to `[SUCCESS_RATE, BY_EPIC, ONE_TASK]` (rows exported
/// with `--ok-spans drover.task.execute`) against `spans`; returns the
/// spans of task-123's trace in time order.
pub fn check_drover_answers<'a>(
    spans: &'a [FileSpan],
    answers: &[Vec<Value>],
) -> Vec<&'a FileSpan> {
    let tasks: Vec<&FileSpan> = spans
        .iter()
        .filter(|s| s.name == "drover.task.execute")
        .collect();
    assert!(!tasks.is_empty(), "no drover.task.execute spans");

    // Task success rate.
    let failed = tasks.iter().filter(|t| t.error).count();
    let completed = tasks.len() - failed;
    let rate = &answers[0][0];
    assert_eq!(number(&rate["completed"]), completed as u64);
    assert_eq!(number(&rate["failed"]), failed as u64);
    near(
        rate["success_rate"].as_f64().expect("success_rate"),
        completed as f64 / tasks.len() as f64 * 100.0,
        "success rate",
    );

    // Average and p95 duration by epic.
    let mut by_epic: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for t in &tasks {
        by_epic
            .entry(&t.attrs["drover.epic.id"])
            .or_default()
            .push(t.duration as f64);
    }
    assert_eq!(answers[1].len(), by_epic.len(), "{:?}", answers[1]);
    for row in &answers[1] {
        let durations = &by_epic[row["epic"].as_str().expect("epic")];
        let avg = durations.iter().sum::<f64>() / durations.len() as f64;
        near(row["avg_seconds"].as_f64().unwrap(), avg / 1e9, "average");
        near(
            row["p95_seconds"].as_f64().unwrap(),
            interpolated(durations.clone(), 0.95) / 1e9,
            "p95",
        );
    }

    // The trace of task-123, in time order.
    let task = tasks
        .iter()
        .find(|t| t.attrs["drover.task.id"] == "task-123")
        .expect("a span of task-123");
    let mut trace: Vec<&FileSpan> = spans
        .iter()
        .filter(|s| s.trace_id == task.trace_id)
        .collect();
    trace.sort_by_key(|s| s.start);
    let got: Vec<&str> = answers[2]
        .iter()
        .map(|r| r["SpanId"].as_str().unwrap_or_default())
        .collect();
    let want: Vec<&str> = trace.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(got, want, "the rows of task-123's trace, in time order");
    let row = answers[2]
        .iter()
        .find(|r| r["SpanAttributes"]["drover.task.id"] == "task-123")
        .expect("task-123's row");
    assert_eq!(row["SpanKind"], "Internal");
    assert_eq!(number(&row["Duration"]), task.duration);
    assert_eq!(
        row["StatusCode"],
        if task.error { "Error" } else { "Ok" },
        "{row}"
    );
    trace
}
