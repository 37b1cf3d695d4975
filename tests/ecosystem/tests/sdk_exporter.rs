//! The OpenTelemetry SDK's own exporters plug into semtel: the official
//! `opentelemetry-otlp` span exporter, given to `Builder::span_exporter`,
//! delivers semtel's and `tracing`'s spans to a real collector (rotel) with
//! their parents. With `RUST_LOG=trace`, the crates that export (tonic, h2,
//! hyper, tower, opentelemetry-otlp) still never show up as the
//! application's spans or logs.

use opentelemetry_otlp::WithExportConfig;
use semtel_ecosystem_tests::{Mode, Session};
use semtel_tests::collector::Rotel;
use std::time::Duration;

#[semtel::traced_task(name = "job.run", attrs(orchestration.task.id = id))]
fn run(id: &str) {
    tracing::info_span!("job.step", step = 2u64).in_scope(|| {
        tracing::info!(target: "job", "step done");
    });
}

#[test]
fn opentelemetry_otlp_exporter_delivers_semtel_spans_to_a_collector() {
    let rotel = Rotel::start();
    let endpoint = rotel.grpc_endpoint();
    // tonic's channel lives on the runtime it is built in.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let exporter = {
        let _in = rt.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .with_timeout(Duration::from_secs(5))
            .build()
            .expect("the official exporter builds")
    };
    let env = move |k: &str| match k {
        "RUST_LOG" => Some("trace".to_string()),
        "OTEL_LOGS_EXPORTER" => Some("otlp".to_string()),
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("grpc".to_string()),
        _ => None,
    };
    let session = Session::with(
        Mode::Semtel,
        semtel::builder().span_exporter(exporter).env_source(env),
    );
    for id in ["job-1", "job-2"] {
        run(id);
    }
    let captured = session.spans();
    drop(session);

    let spans = rotel.wait_for_spans(4, Duration::from_secs(20));
    let runs: Vec<_> = spans.iter().filter(|s| s.name == "job.run").collect();
    assert_eq!(runs.len(), 2, "{spans:?}");
    for run in runs {
        let step = spans
            .iter()
            .find(|s| s.name == "job.step" && s.parent_id == run.id)
            .unwrap_or_else(|| panic!("no job.step under {run:?}: {spans:?}"));
        assert_eq!(step.trace_id, run.trace_id);
        assert_eq!(step.attr("step"), Some("Int(2)"));
        assert!(
            captured
                .iter()
                .any(|c| c.span_id.to_string() == run.id && c.name == "job.run")
        );
    }
    rotel.wait_until("the job's log record", Duration::from_secs(20), |out| {
        out.contains("step done")
    });
    // Nothing of the export path became telemetry, at any level.
    let out = rotel.output();
    for target in ["h2", "hyper", "tonic", "tower", "opentelemetry"] {
        for line in out
            .lines()
            .filter(|l| l.contains("Name ") || l.contains("Body"))
        {
            assert!(
                !line.to_lowercase().contains(target),
                "the exporter's own {target} telemetry was exported: {line}\n{out}"
            );
        }
    }
    let logs = rotel.logs();
    assert!(
        logs.iter().all(|l| l.body.contains("step done")),
        "only the program's logs: {logs:?}"
    );
    assert_eq!(
        spans.len(),
        4,
        "only the program's spans: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
}
