//! The long-running example service, configured only by its environment:
//! it serves /metrics, exports over OTLP, and on SIGTERM stops cleanly with
//! a final flush.
//!
//! On a cold target this test takes about a minute: it builds the example
//! service (a separate binary) before starting it; warm, a few seconds.

use semtel_tests::collector::Rotel;
use semtel_tests::prometheus::http_get;
use semtel_tests::{free_port, poll};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serves_metrics_exports_and_stops_cleanly_on_sigterm() {
    let exe = semtel_tests::build::agent_service();
    let rotel = Rotel::start();
    let port = free_port();
    let mut child = Command::new(exe)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_METRICS_EXPORTER", "prometheus")
        .env("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
        .env("OTEL_EXPORTER_PROMETHEUS_PORT", port.to_string())
        .env("OTEL_BSP_SCHEDULE_DELAY", "60000")
        .env("JOB_INTERVAL_MS", "30")
        .env_remove("OTEL_CONFIG_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start agent_service");
    let addr = format!("127.0.0.1:{port}");
    let metrics = poll(Duration::from_secs(30), || {
        let (_, body) = http_get(&addr, "/metrics", Some("application/openmetrics-text")).ok()?;
        body.contains("orchestration_step_failures_total")
            .then_some(body)
    })
    .expect("the service serves /metrics");
    assert!(
        metrics.contains("orchestration_tasks_completed_total{"),
        "{metrics}"
    );
    assert!(metrics.contains("orchestration_queue_depth{"), "{metrics}");
    // The resource as target_info, and semtel's own counters of lost telemetry.
    assert!(metrics.contains("# TYPE target info\n"), "{metrics}");
    let info = metrics
        .lines()
        .find(|l| l.starts_with("target_info{"))
        .expect("target_info");
    assert!(info.contains("service_name=\"agent-service\""), "{info}");
    assert!(info.contains("telemetry_sdk_name=\"semtel\""), "{info}");
    for own in [
        "semtel_spans_dropped_total ",
        "semtel_span_exports_failed_total ",
        "semtel_logs_dropped_total ",
    ] {
        assert!(metrics.contains(own), "{own}: {metrics}");
    }
    assert!(
        metrics.contains("gen_ai_client_token_usage_bucket{"),
        "{metrics}"
    );
    // The batch delay is a minute: spans arrive only through the final flush.
    assert!(rotel.spans().is_empty());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = poll(Duration::from_secs(20), || child.try_wait().ok().flatten());
    let Some(exit) = exited else {
        let _ = child.kill();
        panic!("the service did not stop on SIGTERM");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(exit.success(), "{stderr}");
    assert!(stderr.contains("agent-service: stopping"), "{stderr}");
    let spans = rotel.wait_for_spans(5, Duration::from_secs(20));
    assert!(
        spans.iter().any(|s| s.name == "workflow.run"),
        "final flush delivered the workflows"
    );
    assert!(
        spans
            .iter()
            .any(|s| s.name.starts_with("invoke_agent coder"))
    );
    assert!(spans.iter().any(|s| s.status_code == "STATUS_CODE_ERROR"));
}
