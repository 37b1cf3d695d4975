//! The generated operations side against a real Prometheus scraping the
//! real `agent_service`: every query of every committed dashboard returns
//! data (and a dashboard made from a schema with a renamed metric does not),
//! and the generated rules fire the failure-rate alert when steps fail often.

use semtel_tests::build::{agent_service, run_semtel, semtel_cli};
use semtel_tests::collector::TempDir;
use semtel_tests::prometheus::{Prometheus, http_get};
use semtel_tests::{free_port, poll, workspace_root};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `agent_service` serving /metrics on a free port, stopped when dropped.
struct Service {
    child: Child,
    addr: String,
    _dir: TempDir,
}

impl Service {
    fn start(failure_rate: &str) -> Service {
        let dir = TempDir::new("semtel-ops-service");
        let port = free_port();
        let child = Command::new(agent_service())
            .env("OTEL_METRICS_EXPORTER", "prometheus")
            .env("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
            .env("OTEL_EXPORTER_PROMETHEUS_PORT", port.to_string())
            // Spans are sampled (so measurements carry exemplars) and written to a file.
            .env("OTEL_TRACES_EXPORTER", "otlp_file")
            .env("SEMTEL_EXPORTER_FILE_PATH", dir.0.join("traces.jsonl"))
            .env("OTEL_LOGS_EXPORTER", "none")
            .env("JOB_INTERVAL_MS", "40")
            .env("AGENT_SERVICE_FAILURE_RATE", failure_rate)
            .env_remove("OTEL_CONFIG_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start agent_service");
        let addr = format!("127.0.0.1:{port}");
        let up = poll(Duration::from_secs(30), || {
            http_get(&addr, "/metrics", None)
                .ok()
                .filter(|(_, b)| b.contains("orchestration_step_failures_total"))
        });
        assert!(
            up.is_some(),
            "agent_service does not serve /metrics on {addr}"
        );
        Service {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        semtel_tests::stop(&mut self.child);
    }
}

fn dashboards(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dashboards directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            serde_json::from_str(&std::fs::read_to_string(f).unwrap()).expect("dashboard JSON")
        })
        .collect()
}

/// Every problem of every dashboard, once the data has had time to arrive.
fn problems(prom: &Prometheus, boards: &[serde_json::Value]) -> Vec<String> {
    let mut last = Vec::new();
    let ok = poll(Duration::from_secs(60), || {
        last = boards
            .iter()
            .flat_map(|d| prom.dashboard_problems(d, "30s"))
            .collect();
        last.is_empty().then_some(())
    });
    if ok.is_none() { last } else { Vec::new() }
}

#[test]
fn every_dashboard_query_returns_data_and_a_renamed_metric_does_not() {
    let service = Service::start("0.3");
    let prom = Prometheus::start(&service.addr);
    let committed = dashboards(&workspace_root().join("deploy/grafana/dashboards"));
    assert_eq!(committed.len(), 4, "the four committed dashboards");
    let queries: usize = committed
        .iter()
        .map(|d| semtel_tests::grafana::queries(d).len())
        .sum();
    assert!(queries >= 40, "{queries} queries");
    let found = problems(&prom, &committed);
    assert!(
        found.is_empty(),
        "{} of {queries} queries have no data:\n{}\ntarget: {}",
        found.len(),
        found.join("\n"),
        prom.target_health()
    );

    // The same check fails for dashboards made from a schema in which a
    // metric was renamed (the program still records the old name).
    let tmp = TempDir::new("semtel-renamed");
    let schema = tmp.0.join("schema");
    std::fs::create_dir_all(&schema).unwrap();
    for e in std::fs::read_dir(workspace_root().join("conventions/schema"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap().replace(
            "metric_name: orchestration.queue.depth",
            "metric_name: orchestration.queue.length",
        );
        std::fs::write(schema.join(e.file_name()), text).unwrap();
    }
    let out = tmp.0.join("dashboards");
    run_semtel(
        &semtel_cli(),
        &[
            "dashboards",
            schema.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let renamed = dashboards(&out);
    let found: Vec<String> = renamed
        .iter()
        .flat_map(|d| prom.dashboard_problems(d, "30s"))
        .collect();
    assert!(
        !found.is_empty()
            && found
                .iter()
                .all(|p| p.contains("orchestration_queue_length")),
        "the renamed metric's panels, and only they, are empty: {found:#?}"
    );
}

#[test]
fn generated_rules_fire_the_failure_rate_alert() {
    let tmp = TempDir::new("semtel-rules");
    let rules = tmp.0.join("semtel.rules.yml");
    run_semtel(
        &semtel_cli(),
        &[
            "alerts",
            "conventions/schema",
            "--out",
            rules.to_str().unwrap(),
            "--for",
            "1s",
        ],
    );
    let service = Service::start("0.6");
    let prom = Prometheus::start_with_rules(&service.addr, &[rules]);
    let firing = poll(Duration::from_secs(60), || {
        prom.alerts().into_iter().find(|a| {
            a["labels"]["alertname"] == "AgentStepFailureRate"
                && a["labels"]["gen_ai_agent_name"] == "coder"
                && a["state"] == "firing"
        })
    });
    let Some(alert) = firing else {
        panic!(
            "AgentStepFailureRate is not firing: {:#?}\n{}",
            prom.alerts(),
            prom.log()
        );
    };
    assert_eq!(alert["labels"]["severity"], "warning");
    assert_eq!(alert["labels"]["component"], "agent-steps");
    assert_eq!(
        alert["annotations"]["summary"],
        "High failure rate for agent coder"
    );
    let description = alert["annotations"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.starts_with("Agent coder has ") && description.ends_with("% failure rate"),
        "{description}"
    );
    // Steps take milliseconds: the p95 latency alert (600 s) stays silent.
    assert!(
        prom.alerts()
            .iter()
            .all(|a| a["labels"]["alertname"] != "AgentStepHighDuration"),
        "{:#?}",
        prom.alerts()
    );
}
