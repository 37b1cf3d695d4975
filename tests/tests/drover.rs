//! Drover (seed 000) end to end: the `drover` program, configured the
//! Drover way (`DROVER_OTEL_*` variables over its config file's `telemetry:`
//! section), runs twelve tasks on three workers. Checked against real
//! components:
//!
//! - rotel receives exactly the seed's span hierarchy, with its attributes
//!   and resource, and log records carrying trace id, span id and `task_id`;
//! - Drover's three SQL queries, run by chdb over this run's spans, give the
//!   answers computed from the spans;
//! - every query of the dashboard `semtel dashboards` makes from Drover's
//!   schema returns data from a real Prometheus scraping the program.

use semtel_tests::build::{cargo_build, dashboard, semtel_cli};
use semtel_tests::clickhouse::{self, FileSpan};
use semtel_tests::collector::{Rotel, Span, TempDir};
use semtel_tests::prometheus::Prometheus;
use semtel_tests::{free_port, poll};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONFIG: &str = "\
telemetry:
  enabled: false          # DROVER_OTEL_ENABLED=true turns it on
  endpoint: \"localhost:4317\"
  environment: \"production\"
  sampling: 1.0
  service:
    name: \"drover\"
    version: \"0.3.0\"
";

/// The drover program running the test's plan, stopped when dropped.
struct Drover(Child);

impl Drop for Drover {
    fn drop(&mut self) {
        semtel_tests::stop(&mut self.0);
    }
}

fn start_drover(exe: &Path, dir: &Path, rotel: &Rotel, metrics_port: u16) -> Drover {
    let config = dir.join("config.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let mut cmd = Command::new(exe);
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_") || k.starts_with("DROVER_") || k == "TRACEPARENT" {
            cmd.env_remove(k);
        }
    }
    let child = cmd
        .args(["--config"])
        .arg(&config)
        .args(["--tasks", "12", "--first-task", "121", "--workers", "3"])
        .args(["--pace-ms", "8", "--run-id", "run-7", "--linger", "120"])
        .env("DROVER_OTEL_ENABLED", "true")
        .env(
            "DROVER_OTEL_ENDPOINT",
            format!("127.0.0.1:{}", rotel.grpc_port),
        )
        .env("DROVER_ENV", "test")
        .env("OTEL_TRACES_EXPORTER", "otlp,otlp_file")
        .env("SEMTEL_EXPORTER_FILE_PATH", dir.join("spans.jsonl"))
        .env("OTEL_METRICS_EXPORTER", "prometheus")
        .env("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
        .env("OTEL_EXPORTER_PROMETHEUS_PORT", metrics_port.to_string())
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("drover.err")).unwrap(),
        ))
        .spawn()
        .expect("start drover");
    Drover(child)
}

/// 1 run + 12 tasks + their git and agent spans (the two agent timeouts
/// skip commit and merge) + the metrics span.
const SPANS: usize = 1 + 12 + 10 * 5 + 2 * 3 + 1;

fn check_hierarchy(spans: &[Span]) {
    assert_eq!(spans.len(), SPANS, "{spans:#?}");
    let root = spans
        .iter()
        .find(|s| s.parent_id.is_empty())
        .expect("a root span");
    assert_eq!(root.name, "drover.workflow.run");
    assert_eq!(root.attr("drover.project.id"), Some("Str(web-frontend)"));
    assert_eq!(root.attr("drover.run.id"), Some("Str(run-7)"));
    assert!(
        spans.iter().all(|s| s.trace_id == root.trace_id),
        "one trace"
    );
    let children =
        |p: &Span| -> Vec<&Span> { spans.iter().filter(|s| s.parent_id == p.id).collect() };
    let top = children(root);
    let tasks: Vec<&Span> = top
        .iter()
        .copied()
        .filter(|s| s.name == "drover.task.execute")
        .collect();
    assert_eq!(tasks.len(), 12);
    let metrics: Vec<&&Span> = top
        .iter()
        .filter(|s| s.name == "drover.workflow.metrics")
        .collect();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].attr("drover.run.id"), Some("Str(run-7)"));
    assert_eq!(top.len(), 13, "nothing else under the run");
    assert!(children(metrics[0]).is_empty());

    let git = ["worktree.create", "commit", "merge", "worktree.remove"];
    let mut outcomes = BTreeMap::new();
    for t in &tasks {
        let id = t
            .attr("drover.task.id")
            .expect("drover.task.id")
            .to_string();
        assert!(t.attr("drover.task.title").is_some() && t.attr("drover.worker.id").is_some());
        let mut names: Vec<&str> = children(t).iter().map(|s| s.name.as_str()).collect();
        names.sort();
        let timed_out = t
            .attr("drover.task.title")
            .is_some_and(|v| v.contains("timeout"));
        let mut want = vec![
            "drover.agent.execute",
            "drover.git.worktree.create",
            "drover.git.worktree.remove",
        ];
        if !timed_out {
            want.extend(["drover.git.commit", "drover.git.merge"]);
        }
        want.sort();
        assert_eq!(names, want, "{id}");
        for c in children(t) {
            assert!(children(c).is_empty(), "{} has children", c.name);
            if c.name == "drover.agent.execute" {
                assert_eq!(c.attr("drover.agent.type"), Some("Str(claude-code)"));
                assert_eq!(c.attr("drover.agent.model"), Some("Str(claude-sonnet-4)"));
            } else {
                let op = c
                    .attr("drover.git.operation")
                    .expect("drover.git.operation");
                assert!(git.iter().any(|g| op == format!("Str({g})")), "{op}");
                assert_eq!(c.name, format!("drover.git.{}", &op[4..op.len() - 1]));
                assert_eq!(c.kind, "SPAN_KIND_CLIENT");
                let branch = format!("Str(drover/{})", &id[4..id.len() - 1]);
                assert_eq!(c.attr("drover.git.branch"), Some(branch.as_str()));
            }
        }
        outcomes.insert(id, t.status_code.clone());
    }
    let failed = outcomes
        .values()
        .filter(|s| *s == "STATUS_CODE_ERROR")
        .count();
    assert_eq!(
        failed, 4,
        "two merge conflicts and two agent timeouts: {outcomes:?}"
    );
}

#[test]
fn drover_on_semtel_end_to_end() {
    // Everything is built before the run starts, so that it is observed
    // while it runs.
    let semtel = semtel_cli();
    let exe = cargo_build(&["-p", "drover-example", "--bin", "drover"], "drover");
    let dir = TempDir::new("semtel-drover");
    let board = dashboard(
        &semtel,
        "examples/drover/schema",
        &dir.0.join("dashboards"),
        "drover",
    );
    let rotel = Rotel::start();
    let metrics_port = free_port();
    let _drover = start_drover(&exe, &dir.0, &rotel, metrics_port);
    let prom = Prometheus::start(&format!("127.0.0.1:{metrics_port}"));

    // Traces: exactly the seed's hierarchy, and the resource from Drover's settings.
    let spans = rotel.wait_for_spans(SPANS, Duration::from_secs(20));
    check_hierarchy(&spans);
    let out = rotel.output();
    for attr in [
        "service.name: Str(drover)",
        "service.version: Str(0.3.0)",
        "deployment.environment.name: Str(test)",
    ] {
        assert!(out.contains(attr), "resource without {attr}");
    }

    // Logs: trace id, span id and task_id, as the seed's logger.With(...).
    let task_123 = spans
        .iter()
        .find(|s| s.attr("drover.task.id") == Some("Str(task-123)"))
        .expect("task-123");
    let logs = poll(Duration::from_secs(10), || {
        let logs: Vec<_> = rotel
            .logs()
            .into_iter()
            .filter(|l| l.attr("task_id") == Some("Str(task-123)"))
            .collect();
        (logs.len() >= 2).then_some(logs)
    })
    .unwrap_or_else(|| panic!("no logs of task-123: {:#?}", rotel.logs()));
    for l in &logs {
        assert_eq!(
            (&l.trace_id, &l.span_id),
            (&task_123.trace_id, &task_123.id),
            "{l:?}"
        );
    }

    // Every query of the generated dashboard has data in Prometheus.
    let mut problems = Vec::new();
    let ok = poll(Duration::from_secs(30), || {
        problems = prom.dashboard_problems(&board, "30s");
        problems.is_empty().then_some(())
    });
    assert!(
        ok.is_some(),
        "{} dashboard queries have no data:\n{}\ntarget: {}",
        problems.len(),
        problems.join("\n"),
        prom.target_health()
    );
    let queries = semtel_tests::grafana::queries(&board).len();
    assert!(queries >= 20, "{queries} queries");

    // Drover's SQL over this run's spans (the file the run wrote beside OTLP).
    let file = dir.0.join("spans.jsonl");
    let file_spans: Vec<FileSpan> = clickhouse::file_spans(&[file.as_path()]);
    assert_eq!(file_spans.len(), SPANS);
    let rows = dir.0.join("rows.jsonl");
    clickhouse::export(
        &semtel,
        &file,
        &rows,
        &["--ok-spans", "drover.task.execute"],
    );
    let answers = clickhouse::query(
        &rows,
        &[
            clickhouse::SUCCESS_RATE,
            clickhouse::BY_EPIC,
            clickhouse::ONE_TASK,
        ],
    );
    assert_eq!(clickhouse::number(&answers[0][0]["completed"]), 8);
    let trace = clickhouse::check_drover_answers(&file_spans, &answers);
    assert_eq!(trace.len(), SPANS, "task-123's trace is the whole run");
    assert_eq!(trace[0].name, "drover.workflow.run");
}
