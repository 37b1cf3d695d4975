//! Golden Armada (seed 003) on semtel: a coordinator process and two
//! sub-agent processes are one trace at a real collector (OTLP/HTTP with
//! an `Authorization` header); the JSON span files rotate by interval and
//! stay within the configured number; `semtel traces stats` on them gives
//! the p95 a direct computation gives; the Prometheus endpoint serves the
//! seed's metric names and labels.

use semtel_tests::collector::{Rotel, TempDir};
use semtel_tests::prometheus::http_get;
use semtel_tests::{free_port, poll};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const MAX_FILES: usize = 3;
const TOOL_CALLS: usize = 120;

/// Every span in a file and its rotated siblings: (name, duration in ns).
fn spans_in_files(dir: &Path, role: &str) -> (usize, Vec<(String, u64)>) {
    let mut files = 0;
    let mut spans = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&format!("{role}.jsonl")) {
            continue;
        }
        files += 1;
        for line in std::fs::read_to_string(entry.path()).unwrap().lines() {
            let v: Value = serde_json::from_str(line).expect("one JSON object per line");
            for rs in v["resourceSpans"].as_array().unwrap() {
                for ss in rs["scopeSpans"].as_array().unwrap() {
                    for s in ss["spans"].as_array().unwrap() {
                        let t = |k: &str| s[k].as_str().unwrap().parse::<u64>().unwrap();
                        spans.push((
                            s["name"].as_str().unwrap().to_string(),
                            t("endTimeUnixNano") - t("startTimeUnixNano"),
                        ));
                    }
                }
            }
        }
    }
    (files, spans)
}

#[test]
fn coordinator_and_sub_agents_are_one_trace_with_rotated_files_and_seed_metrics() {
    let exe = semtel_tests::build::golden_armada();
    let cli = semtel_tests::build::semtel_cli();
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-golden-armada");
    let exports = dir.0.join("exports");
    let port = free_port();
    // The seed's configuration format, with a short interval so that the
    // files rotate within the run.
    let config = serde_json::json!({
        "prometheus": {"enabled": true, "port": port, "path": "/metrics"},
        "json": {"enabled": true, "outputDir": exports, "rotateInterval": 150, "maxFiles": MAX_FILES},
        "opentelemetry": {
            "enabled": true,
            "endpoint": format!("{}/v1/metrics", rotel.http_endpoint()),
            "protocol": "http",
            "headers": {"Authorization": "Bearer armada-token"}
        }
    });
    let config_path = dir.0.join("telemetry.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut child = Command::new(&exe)
        .env("GOLDEN_ARMADA_TELEMETRY", &config_path)
        .env("GOLDEN_ARMADA_TOOL_CALLS", TOOL_CALLS.to_string())
        .env("GOLDEN_ARMADA_HOLD_MS", "2500")
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .env_remove("OTEL_CONFIG_FILE")
        .env_remove("TRACEPARENT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start golden_armada");

    // The coordinator's endpoint, once both sub-agents have reported.
    let addr = format!("127.0.0.1:{port}");
    let metrics = poll(Duration::from_secs(20), || {
        let (_, body) = http_get(&addr, "/metrics", Some("application/openmetrics-text")).ok()?;
        body.contains("agent_execution_total{agent_type=\"reviewer\"")
            .then_some(body)
    });
    let exited = poll(Duration::from_secs(30), || child.try_wait().ok().flatten());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let metrics = metrics.unwrap_or_else(|| panic!("no agent metrics served; stderr:\n{stderr}"));
    assert!(exited.is_some_and(|s| s.success()), "{stderr}");
    for series in [
        "agent_execution_total{agent_type=\"coder\",phase=\"code\",status=\"success\"} 1",
        "agent_execution_total{agent_type=\"reviewer\",phase=\"review\",status=\"success\"} 1",
        "agent_execution_duration_seconds_bucket{agent_type=\"coder\",phase=\"code\",le=",
        "agent_tokens_used_total{agent_type=\"coder\",model=\"claude-sonnet-4\"}",
        "context_window_utilization_ratio{agent_type=\"coder\"}",
        "context_window_size{agent_type=\"reviewer\"} 200000",
        "context_window_used{agent_type=\"coder\"}",
        "task_queue_size{priority=\"high\"} 0",
        "task_duration_seconds_count{status=\"success\",task_type=\"feature\"} 2",
        "task_success_total{task_type=\"feature\"} 2",
    ] {
        assert!(metrics.contains(series), "{series}:\n{metrics}");
    }

    // One trace: session → {coder,reviewer}-execution → tool-call, across three processes.
    let n = 1 + 2 + 2 * TOOL_CALLS;
    let spans = rotel.wait_for_spans(n, Duration::from_secs(20));
    assert_eq!(spans.len(), n);
    let root = spans
        .iter()
        .find(|s| s.name == "orchestration-session")
        .expect("the session span");
    assert_eq!(root.parent_id, "");
    assert_eq!(root.kind, "SPAN_KIND_SERVER");
    assert_eq!(root.attr("coordinator"), Some("Str(hierarchical)"));
    assert_eq!(root.attr("total_agents"), Some("Int(2)"));
    assert!(spans.iter().all(|s| s.trace_id == root.trace_id));
    for agent in ["coder", "reviewer"] {
        let exec = spans
            .iter()
            .find(|s| s.name == format!("{agent}-execution"))
            .unwrap_or_else(|| panic!("{agent}-execution"));
        assert_eq!(exec.parent_id, root.id, "{agent} continues the session");
        assert_eq!(exec.attr("session_id"), root.attr("session_id"));
        assert!(exec.attr("agent_id").is_some());
        let tools: Vec<_> = spans.iter().filter(|s| s.parent_id == exec.id).collect();
        assert_eq!(tools.len(), TOOL_CALLS);
        assert!(tools.iter().all(|s| s.name == "tool-call"));
        let failed: Vec<_> = tools
            .iter()
            .filter(|s| s.status_code == "STATUS_CODE_ERROR")
            .collect();
        assert_eq!(failed.len(), TOOL_CALLS / 12, "{agent}");
        assert!(
            failed
                .iter()
                .all(|s| s.attr("error.type") == Some("Str(timeout)")
                    && s.attr("tool") == Some("Str(Bash)"))
        );
    }
    // The sub-agents' metrics went over OTLP/HTTP.
    rotel.wait_until("the tool metrics", Duration::from_secs(10), |out| {
        out.contains("-> Name: tool_call.duration") && out.contains("-> Name: tool_calls")
    });

    // Rotated by interval, never more than maxFiles rotated files kept.
    let mut all: Vec<(String, u64)> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for role in ["coordinator", "coder", "reviewer"] {
        let (count, spans) = spans_in_files(&exports, role);
        assert!(count <= 1 + MAX_FILES, "{role}: {count} files");
        if role != "coordinator" {
            assert_eq!(count, 1 + MAX_FILES, "{role}'s file was rotated");
            assert!(
                spans.len() < 1 + TOOL_CALLS,
                "{role}: the oldest files were dropped ({} spans kept)",
                spans.len()
            );
        }
        all.extend(spans);
        files.push(exports.join(format!("{role}.jsonl")));
    }
    // The coder's execution span carries the seed's event.
    let coder_file = std::fs::read_to_string(exports.join("coder.jsonl")).unwrap();
    assert!(
        coder_file.contains("\"code_generation_started\""),
        "{coder_file}"
    );

    // `semtel traces stats` reads the files and their rotated siblings.
    let out = Command::new(&cli)
        .args(["traces", "stats", "--json"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["spans"].as_u64().unwrap() as usize, all.len());
    let group = stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "tool-call")
        .expect("tool-call group");
    let mut durations: Vec<u64> = all
        .iter()
        .filter(|(name, _)| name == "tool-call")
        .map(|(_, d)| *d)
        .collect();
    durations.sort_unstable();
    assert_eq!(group["count"].as_u64().unwrap() as usize, durations.len());
    let exact_ms = durations[(0.95 * (durations.len() as f64 - 1.0)) as usize] as f64 / 1e6;
    let p95 = group["p95_ms"].as_f64().unwrap();
    assert!(
        (p95 - exact_ms).abs() <= exact_ms * 0.01 + 0.001,
        "semtel traces stats p95 {p95} ms, direct {exact_ms} ms"
    );
}
