//! semtel: `#[traced_task]` and `#[metered]`.

use crate::exporter::CountingExporter;
use semtel::{LogsExporter, MetricsExporter, TracesExporter, metered, traced_task};
use std::hint::black_box;
use std::time::Duration;

/// One span with three attributes.
#[traced_task(name = "step", attrs(orchestration.task.id = "task-1", orchestration.task.priority = 3, gen_ai.agent.name = "coder"))]
#[inline(never)]
pub fn step(x: u64) -> u64 {
    black_box(x) + 1
}

#[traced_task(name = "agent.step")]
#[inline(never)]
fn leaf(x: u64) -> u64 {
    black_box(x) + 1
}

#[traced_task(name = "task")]
#[inline(never)]
fn task(x: u64) -> u64 {
    (0..5).map(|i| leaf(x + i)).sum()
}

/// A workflow of 5 tasks of 5 steps: 31 spans.
#[traced_task(name = "workflow")]
#[inline(never)]
pub fn tree(x: u64) -> u64 {
    (0..5).map(|i| task(x + i)).sum()
}

/// Scenario h: a semtel span with a `#[tracing::instrument]` function of a
/// library inside.
#[traced_task(name = "agent.step")]
#[inline(never)]
pub fn nested(x: u64) -> u64 {
    crate::contender_tracing::library_call(x)
}

/// An async step.
#[traced_task(name = "async.step", attrs(orchestration.task.id = "task-1", orchestration.task.priority = 3, gen_ai.agent.name = "coder"))]
#[inline(never)]
pub async fn step_async(x: u64) -> u64 {
    black_box(x) + 1
}

/// Call counter, duration histogram and in-flight counter.
#[metered]
#[inline(never)]
pub fn metered_call(x: u64) -> u64 {
    black_box(x) + 1
}

/// Installs telemetry exporting into `exporter`; `ratio` 0 samples everything out.
pub fn install(exporter: CountingExporter, ratio: f64) -> semtel::Telemetry {
    builder(exporter, ratio).init().expect("semtel telemetry")
}

/// [`install`], with semtel's `tracing` subscriber installed as the global
/// one (for good: a process has one global subscriber).
pub fn install_with_subscriber(exporter: CountingExporter) -> semtel::Telemetry {
    builder(exporter, 1.0)
        .tracing_subscriber(true)
        .init()
        .expect("semtel telemetry")
}

/// A `tracing` dispatcher of the program's own: a registry with
/// `semtel::tracing_layer()`. Once made, semtel keeps `tracing`'s current
/// span in step with its own in every later run of this process.
pub fn own_registry() -> tracing::Dispatch {
    use tracing_subscriber::layer::SubscriberExt;
    tracing::Dispatch::new(tracing_subscriber::registry().with(semtel::tracing_layer()))
}

fn builder(exporter: CountingExporter, ratio: f64) -> semtel::Builder {
    semtel::builder()
        .env_source(|_| None)
        .service_name("bench")
        .traces_exporter(TracesExporter::None)
        .span_exporter(exporter)
        .metrics_exporter(MetricsExporter::Prometheus)
        .prometheus_host("127.0.0.1")
        .prometheus_port(0)
        .logs_exporter(LogsExporter::None)
        .sampler(semtel::trace::Sampler::TraceIdRatio(ratio))
        .schedule_delay(Duration::from_millis(200))
}
