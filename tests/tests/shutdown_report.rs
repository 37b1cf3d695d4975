//! `Telemetry::shutdown` says whether the last spans made it out: `true`
//! when a real collector took them, `false` (and on time) when the collector
//! accepts the connection and never answers.

use semtel::{Protocol, TracesExporter, traced_task};
use semtel_tests::collector::Rotel;
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[traced_task(name = "shutdown.work")]
fn work() {}

/// Spans over OTLP gRPC to `endpoint`, only at flush; nothing else.
fn telemetry(endpoint: String, otlp_timeout: Duration) -> semtel::Telemetry {
    semtel::builder()
        .env_source(|_| None)
        .service_name("shutdown-test")
        .traces_exporter(TracesExporter::Otlp)
        .metrics_exporter(semtel::MetricsExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(endpoint)
        .otlp_timeout(otlp_timeout)
        .schedule_delay(Duration::from_secs(60))
        .export_timeout(Duration::from_secs(1))
        .init()
        .expect("telemetry")
}

#[test]
fn shutdown_reports_spans_a_collector_took() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let t = telemetry(rotel.grpc_endpoint(), Duration::from_secs(10));
    for _ in 0..3 {
        work();
    }
    assert!(
        !t.shutdown().lost_anything(),
        "the collector answered in time"
    );
    let spans = rotel.wait_for_spans(3, Duration::from_secs(20));
    assert_eq!(
        spans.iter().filter(|s| s.name == "shutdown.work").count(),
        3
    );
}

#[test]
fn shutdown_reports_spans_a_silent_collector_held() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept connections and never read or answer, until the test ends.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(8).collect();
        std::thread::sleep(Duration::from_secs(60));
        drop(held);
    });
    let t = telemetry(format!("http://{addr}"), Duration::from_secs(30));
    work();
    let start = Instant::now();
    assert!(
        t.shutdown().lost_anything(),
        "the export was still waiting for an answer"
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "shutdown kept to its deadline: {:?}",
        start.elapsed()
    );
}
