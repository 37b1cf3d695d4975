//! Each seed's unit of work on semtel, against the costs Golden Armada's
//! seed publishes: recording one metric (~0.1 ms), creating one span
//! (~0.2 ms), exporting 1000 metrics over OTLP (~200 ms) and rendering them
//! for Prometheus (~50 ms). Prints one Markdown row per unit: the median,
//! the seed's figure and the ratio.
//!
//! `cargo run --release -p semtel-benches --bin seeds` (about 10 s; needs
//! `rotel-agent`, see `SEMTEL_ROTEL_AGENT`).

use semtel::conventions::metrics::orchestration as m;
use semtel::conventions::{gen_ai as g, orchestration as o};
use semtel::metrics::Counter;
use semtel::{LogsExporter, MetricsExporter, Protocol, Telemetry, TracesExporter, traced_task};
use semtel_tests::collector::Rotel;
use std::time::{Duration, Instant};

#[traced_task(name = "coder-execution", attrs(orchestration.task.id = "task-1", orchestration.task.priority = 3, gen_ai.agent.name = "coder"))]
fn span(x: u64) -> u64 {
    std::hint::black_box(x) + 1
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Telemetry exporting to `rotel` over OTLP/HTTP; metrics only at shutdown.
fn install(rotel: &Rotel, traces: TracesExporter) -> Telemetry {
    semtel::builder()
        .env_source(|_| None)
        .service_name("seeds-bench")
        .otlp_endpoint(rotel.http_endpoint())
        .otlp_protocol(Protocol::HttpProtobuf)
        .traces_exporter(traces)
        .metrics_exporter(MetricsExporter::Otlp)
        .metric_export_interval(Duration::from_secs(3600))
        .logs_exporter(LogsExporter::None)
        .metrics_endpoint_in_program(true)
        .init()
        .expect("telemetry")
}

fn row(unit: &str, ours_ms: f64, seed_ms: f64) {
    let shown = if ours_ms < 0.01 {
        format!("{:.1} ns", ours_ms * 1e6)
    } else {
        format!("{ours_ms:.2} ms")
    };
    println!(
        "| {unit} | {shown} | {seed_ms} ms | {:.5} |",
        ours_ms / seed_ms
    );
}

fn main() {
    let rotel = Rotel::start();

    // One metric: a counter add with one attribute, as `trackToolUsage` does.
    let telemetry = install(&rotel, TracesExporter::Otlp);
    let calls = Counter::new(&m::step::SUCCESSES);
    let per_metric: Vec<f64> = (0..21)
        .map(|_| {
            let n = 20_000;
            let t = Instant::now();
            for i in 0..n {
                let agent = if i % 2 == 0 { "coder" } else { "reviewer" };
                calls.add(1, vec![g::agent::NAME.value_static(agent)]);
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();

    // One span with three attributes, exported over OTLP in batches: the
    // caller's cost, with the buffer drained between samples (not timed).
    let per_span: Vec<f64> = (0..21)
        .map(|_| {
            let n = 1000;
            let t = Instant::now();
            for i in 0..n {
                span(i);
            }
            let ns = t.elapsed().as_nanos() as f64 / n as f64;
            telemetry.flush();
            ns
        })
        .collect();
    drop(telemetry);

    // 1000 metric points: rendered for Prometheus, then exported over OTLP
    // (the final export of shutdown, timed until it returns).
    let points = Counter::new(&m::tasks::COMPLETED);
    let mut render = Vec::new();
    let mut export = Vec::new();
    for _ in 0..11 {
        let telemetry = install(&rotel, TracesExporter::None);
        for i in 0..1000 {
            points.add(1, vec![o::task::ID.value(format!("task-{i}"))]);
        }
        let t = Instant::now();
        let (_, text) = telemetry.prometheus_scrape("text/plain").expect("scrape");
        render.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(
            text.matches("task-").count() >= 1000,
            "{} points rendered",
            text.matches("task-").count()
        );
        let t = Instant::now();
        drop(telemetry);
        export.push(t.elapsed().as_secs_f64() * 1e3);
    }
    rotel.wait_until("1000 metric points", Duration::from_secs(10), |out| {
        out.contains("task-999")
    });

    println!("| unit of work | semtel (median) | Golden Armada's figure | ratio |");
    println!("|---|---:|---:|---:|");
    row("record one metric", median(per_metric) / 1e6, 0.1);
    row("create one span", median(per_span) / 1e6, 0.2);
    row(
        "export 1000 metric points over OTLP/HTTP",
        median(export),
        200.0,
    );
    row(
        "render 1000 metric points for Prometheus",
        median(render),
        50.0,
    );
}
