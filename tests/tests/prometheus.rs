//! A real Prometheus scrapes semtel's endpoint: the metric values arrive, and
//! exemplars link histogram buckets and counters to traces that reached a
//! real collector in the same run. `promtool` accepts the plain-text format.

use semtel::{MetricsExporter, Protocol, TracesExporter, metered, traced_task};
use semtel_tests::collector::Rotel;
use semtel_tests::poll;
use semtel_tests::prometheus::{Prometheus, http_get, promtool_check_metrics};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Debug, semtel::ErrorType)]
enum JobError {
    Flaky,
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("flaky job")
    }
}

#[traced_task(name = "prom.job", attrs(orchestration.task.id = n.to_string()))]
#[metered]
fn prom_job(n: u32) -> Result<u32, JobError> {
    std::thread::sleep(Duration::from_millis(2));
    if n.is_multiple_of(4) {
        Err(JobError::Flaky)
    } else {
        Ok(n)
    }
}

#[test]
fn prometheus_stores_series_and_exemplars_that_link_to_collected_traces() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("prometheus-test")
        .traces_exporter(TracesExporter::Otlp)
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(rotel.grpc_endpoint())
        .metrics_exporter(MetricsExporter::Prometheus)
        .prometheus_host("127.0.0.1")
        .prometheus_port(0)
        .logs_exporter(semtel::LogsExporter::None)
        .schedule_delay(Duration::from_millis(100))
        .init()
        .unwrap();
    let addr = telemetry
        .prometheus_addr()
        .expect("the endpoint runs")
        .to_string();
    for n in 1..=12 {
        let _ = prom_job(n);
    }
    assert!(telemetry.flush());
    let spans = rotel.wait_for_spans(12, Duration::from_secs(20));
    let collected: HashSet<String> = spans.iter().map(|s| s.trace_id.clone()).collect();

    // The exposition formats.
    let (head, om) = http_get(
        &addr,
        "/metrics",
        Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
    )
    .unwrap();
    assert!(
        head.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE function_calls counter"), "{om}");
    assert!(
        om.contains("function_calls_duration_seconds_bucket{function=\"prom_job\""),
        "{om}"
    );
    assert!(
        om.contains("# {trace_id=\""),
        "exemplars in OpenMetrics: {om}"
    );
    let (head, text) = http_get(&addr, "/metrics", None).unwrap();
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(
        !text.contains("# EOF") && !text.contains("trace_id"),
        "{text}"
    );
    let (code, out) = promtool_check_metrics(&text);
    assert_eq!(code, 0, "promtool check metrics:\n{out}\n{text}");

    // Prometheus scrapes and stores values and exemplars.
    let prom = Prometheus::start(&addr);
    let ok = poll(Duration::from_secs(30), || {
        prom.query_value(r#"function_calls_total{function="prom_job",result="ok"}"#)
            .filter(|v| *v == 9.0)
    });
    assert_eq!(
        ok,
        Some(9.0),
        "target: {}\n{}",
        prom.target_health(),
        prom.log()
    );
    let failed = prom.query_value(
        r#"function_calls_total{function="prom_job",result="error",error_type="flaky"}"#,
    );
    assert_eq!(failed, Some(3.0));
    let count = prom.query_value(r#"function_calls_duration_seconds_count{function="prom_job"}"#);
    assert_eq!(count, Some(12.0));
    let exemplars = poll(Duration::from_secs(30), || {
        let ids = prom
            .exemplar_trace_ids(r#"function_calls_duration_seconds_bucket{function="prom_job"}"#);
        (!ids.is_empty()).then_some(ids)
    })
    .expect("exemplars stored by prometheus");
    assert!(
        exemplars.iter().any(|id| collected.contains(id)),
        "an exemplar's trace_id {exemplars:?} reached the collector ({collected:?})"
    );
    let counter_exemplars = prom.exemplar_trace_ids(r#"function_calls_total{function="prom_job"}"#);
    assert!(
        counter_exemplars.iter().any(|id| collected.contains(id)),
        "{counter_exemplars:?}"
    );
    drop(telemetry);
}
