// The guards kept the usual ways compile without a warning under
// `deny(warnings)`; `shutdown` reports whether the last export finished.
#![deny(warnings)]

fn quiet() -> semtel::Builder {
    semtel::builder()
        .env_source(|_| None)
        .traces_exporter(semtel::TracesExporter::Console)
        .metrics_exporter(semtel::MetricsExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
}

fn main() {
    let _telemetry = quiet().init().expect("telemetry");
    let telemetry = quiet().init().expect("telemetry");
    assert!(!telemetry.shutdown().lost_anything());
    let _off = semtel::testing::without_telemetry();
    let capture = semtel::testing::capture();
    assert!(capture.spans().is_empty());
}
