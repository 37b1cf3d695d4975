//! Drover's three ClickHouse queries, verbatim, on our spans: a Drover-like
//! run (the `drover.*` schema of `examples/drover`) writes its spans through
//! semtel's `otlp_file` exporter; `semtel traces export --format clickhouse`
//! turns them into `otel_traces` rows; chdb (the ClickHouse engine, installed
//! by `scripts/test`) loads them into a table created with the OpenTelemetry
//! Collector ClickHouse exporter's DDL and runs the queries. The answers must
//! equal what this test computes from the same spans.

mod common;
use common::{SEMTEL, clean, text};
use drover_example::{Task, TaskError, semconv};
use semtel::traced_task;
use semtel_tests::collector::TempDir;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One task of the run: the agent, then the merge (which fails on a
/// "conflict" title), as `drover.task.execute` with its id and epic.
#[traced_task(name = "drover.task.execute")]
fn execute(task: &Task, work: Duration) -> Result<(), TaskError> {
    let span = semtel::current_span();
    span.set(semconv::drover::task::ID, task.id.as_str());
    span.set(semconv::drover::epic::ID, task.epic.as_str());
    drover_example::run_agent(task);
    std::thread::sleep(work);
    drover_example::merge(task)
}

/// Runs 18 tasks over three epics (every fifth one failing) with spans in `file`.
fn drover_run(file: &Path) {
    let telemetry = semtel::builder()
        .service_name("drover")
        .traces_exporter(semtel::TracesExporter::File)
        .traces_file(file, 64 << 20, 2)
        .metrics_exporter(semtel::MetricsExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
        .env_source(|_| None)
        .init()
        .expect("telemetry");
    for i in 0..18u64 {
        let task = Task {
            id: if i == 7 {
                "task-123".into()
            } else {
                format!("task-{i}")
            },
            title: if i % 5 == 4 {
                "resolve conflict".into()
            } else {
                format!("change {i}")
            },
            epic: format!("epic-{}", i % 3),
        };
        let _ = execute(&task, Duration::from_millis(1 + (i * 7) % 11));
    }
    assert!(telemetry.flush());
}

// Drover's queries, as its documentation gives them.
const SUCCESS_RATE: &str = "SELECT
    countIf(StatusCode = 'Ok') AS completed,
    countIf(StatusCode = 'Error') AS failed,
    completed / (completed + failed) * 100 AS success_rate
FROM otel_traces
WHERE SpanName = 'drover.task.execute'
  AND Timestamp > now() - INTERVAL 24 HOUR;";

const BY_EPIC: &str = "SELECT
    SpanAttributes['drover.epic.id'] AS epic,
    avg(Duration) / 1e9 AS avg_seconds,
    quantile(0.95)(Duration) / 1e9 AS p95_seconds
FROM otel_traces
WHERE SpanName = 'drover.task.execute'
  AND Timestamp > now() - INTERVAL 1 HOUR
GROUP BY epic;";

const ONE_TASK: &str = "SELECT *
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
const DDL: &str = "CREATE TABLE IF NOT EXISTS otel_traces (
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
    let p = semtel_tests::workspace_root().join(".venv/bin/python");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test, which creates .venv and installs chdb",
        p.display()
    );
    p
}

fn clickhouse(rows: &Path, queries: &[&str]) -> Vec<Vec<Value>> {
    let out = Command::new(python())
        .args(["-c", LOAD_AND_QUERY, DDL])
        .arg(rows)
        .args(queries)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "chdb failed (scripts/test installs it into .venv):\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn export(spans: &Path, rows: &Path, extra: &[&str]) {
    let out = clean(SEMTEL)
        .args(["traces", "export", "--format", "clickhouse", "--out"])
        .arg(rows)
        .args(extra)
        .arg(spans)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

struct Span {
    trace_id: String,
    span_id: String,
    name: String,
    start: u64,
    duration: u64,
    error: bool,
    attrs: BTreeMap<String, String>,
}

fn n(v: &Value) -> u64 {
    v.as_str()
        .map_or_else(|| v.as_u64().unwrap(), |s| s.parse().unwrap())
}

/// The spans of the file, read here with serde_json alone.
fn spans(file: &Path) -> Vec<Span> {
    let mut out = Vec::new();
    for line in std::fs::read_to_string(file).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    out.push(Span {
                        trace_id: s["traceId"].as_str().unwrap().into(),
                        span_id: s["spanId"].as_str().unwrap().into(),
                        name: s["name"].as_str().unwrap().into(),
                        start: n(&s["startTimeUnixNano"]),
                        duration: n(&s["endTimeUnixNano"]) - n(&s["startTimeUnixNano"]),
                        error: s["status"]["code"].as_i64() == Some(2),
                        attrs: s["attributes"]
                            .as_array()
                            .unwrap()
                            .iter()
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
    }
    out
}

/// ClickHouse's `quantile`: linear interpolation at q (n - 1).
fn interpolated(mut v: Vec<f64>, q: f64) -> f64 {
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

#[test]
fn drovers_queries_give_the_answers_computed_from_the_spans() {
    let dir = TempDir::new("semtel-clickhouse");
    let file = dir.0.join("drover.jsonl");
    drover_run(&file);
    let spans = spans(&file);
    let tasks: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "drover.task.execute")
        .collect();
    assert_eq!(tasks.len(), 18);

    let rows = dir.0.join("rows.jsonl");
    export(&file, &rows, &["--ok-spans", "drover.task.execute"]);
    let answers = clickhouse(&rows, &[SUCCESS_RATE, BY_EPIC, ONE_TASK]);

    // Task success rate.
    let failed = tasks.iter().filter(|t| t.error).count();
    let completed = tasks.len() - failed;
    assert_eq!((completed, failed), (15, 3));
    let rate = &answers[0][0];
    assert_eq!(n(&rate["completed"]), completed as u64);
    assert_eq!(n(&rate["failed"]), failed as u64);
    near(
        rate["success_rate"].as_f64().unwrap(),
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
    assert_eq!(answers[1].len(), 3);
    for row in &answers[1] {
        let durations = &by_epic[row["epic"].as_str().unwrap()];
        let avg = durations.iter().sum::<f64>() / durations.len() as f64;
        near(row["avg_seconds"].as_f64().unwrap(), avg / 1e9, "average");
        near(
            row["p95_seconds"].as_f64().unwrap(),
            interpolated(durations.clone(), 0.95) / 1e9,
            "p95",
        );
    }

    // The trace of task-123: the task and its agent and merge spans, in time order.
    let task = tasks
        .iter()
        .find(|t| t.attrs["drover.task.id"] == "task-123")
        .unwrap();
    let mut trace: Vec<&Span> = spans
        .iter()
        .filter(|s| s.trace_id == task.trace_id)
        .collect();
    trace.sort_by_key(|s| s.start);
    let got: Vec<(&str, &str)> = answers[2]
        .iter()
        .map(|r| {
            (
                r["SpanId"].as_str().unwrap(),
                r["SpanName"].as_str().unwrap(),
            )
        })
        .collect();
    let want: Vec<(&str, &str)> = trace
        .iter()
        .map(|s| (s.span_id.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        want.iter().map(|(_, name)| *name).collect::<Vec<_>>(),
        [
            "drover.task.execute",
            "drover.agent.execute",
            "drover.git.merge"
        ]
    );
    let first = &answers[2][0];
    assert_eq!(first["ServiceName"], "drover");
    assert_eq!(first["SpanKind"], "Internal");
    assert_eq!(first["StatusCode"], "Ok");
    assert_eq!(first["SpanAttributes"]["drover.task.id"], "task-123");
    assert_eq!(n(&first["Duration"]), task.duration);

    // Without marking the task spans, a task that did not fail stays `Unset`
    // and Drover's query counts no success: the reason for --ok-spans.
    export(&file, &rows, &[]);
    let unmarked = clickhouse(&rows, &[SUCCESS_RATE]);
    assert_eq!(n(&unmarked[0][0]["completed"]), 0);
    assert_eq!(n(&unmarked[0][0]["failed"]), failed as u64);
}
