//! Drover's three ClickHouse queries, verbatim, on our spans: Drover's task
//! execution (`examples/drover`) writes its spans through semtel's
//! `otlp_file` exporter; `semtel traces export --format clickhouse` turns
//! them into `otel_traces` rows; chdb (the ClickHouse engine, installed by
//! `scripts/test`) loads them into a table created with the OpenTelemetry
//! Collector ClickHouse exporter's DDL and runs the queries. The answers must
//! equal what this test computes from the same spans.

mod common;
use common::SEMTEL;
use drover_example::{Task, execute};
use semtel_tests::clickhouse::{
    BY_EPIC, ONE_TASK, SUCCESS_RATE, check_drover_answers, export, file_spans, number, query,
};
use semtel_tests::collector::TempDir;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs 18 tasks over three epics (every fifth one conflicting at the merge),
/// each its own trace, with spans in `file`.
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
            priority: 50,
        };
        let pace = Duration::from_millis(1 + (i * 7) % 11);
        let _ = execute(&task, "worker-1", pace);
    }
    assert!(telemetry.flush());
}

#[test]
fn drovers_queries_give_the_answers_computed_from_the_spans() {
    let dir = TempDir::new("semtel-clickhouse");
    let file = dir.0.join("drover.jsonl");
    drover_run(&file);
    let spans = file_spans(&[file.as_path()]);
    let tasks = spans.iter().filter(|s| s.name == "drover.task.execute");
    assert_eq!(tasks.clone().count(), 18);
    assert_eq!(tasks.filter(|t| t.error).count(), 3);

    let rows = dir.0.join("rows.jsonl");
    let semtel = PathBuf::from(SEMTEL);
    export(
        &semtel,
        &file,
        &rows,
        &["--ok-spans", "drover.task.execute"],
    );
    let answers = query(&rows, &[SUCCESS_RATE, BY_EPIC, ONE_TASK]);
    let trace = check_drover_answers(&spans, &answers);
    assert_eq!(
        trace.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        [
            "drover.task.execute",
            "drover.git.worktree.create",
            "drover.agent.execute",
            "drover.git.commit",
            "drover.git.merge",
            "drover.git.worktree.remove",
        ]
    );
    assert_eq!(answers[2][0]["ServiceName"], "drover");

    // Without marking the task spans, a task that did not fail stays `Unset`
    // and Drover's query counts no success: the reason for --ok-spans.
    export(&semtel, &file, &rows, &[]);
    let unmarked = query(&rows, &[SUCCESS_RATE]);
    assert_eq!(number(&unmarked[0][0]["completed"]), 0);
    assert_eq!(number(&unmarked[0][0]["failed"]), 3);
}
