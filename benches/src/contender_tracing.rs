//! `#[tracing::instrument]` with the `tracing-opentelemetry` layer over the
//! OpenTelemetry SDK's batch processor.

use crate::exporter::CountingExporter;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::hint::black_box;
use tracing::Dispatch;
use tracing::instrument;
use tracing_subscriber::layer::SubscriberExt;

/// One span with three attributes.
#[instrument(
    name = "step",
    skip_all,
    fields(task_id = "task-1", priority = 3, agent = "coder")
)]
#[inline(never)]
pub fn step(x: u64) -> u64 {
    black_box(x) + 1
}

#[instrument(name = "agent.step", skip_all)]
#[inline(never)]
fn leaf(x: u64) -> u64 {
    black_box(x) + 1
}

#[instrument(name = "task", skip_all)]
#[inline(never)]
fn task(x: u64) -> u64 {
    (0..5).map(|i| leaf(x + i)).sum()
}

/// 31 spans.
#[instrument(name = "workflow", skip_all)]
#[inline(never)]
pub fn tree(x: u64) -> u64 {
    (0..5).map(|i| task(x + i)).sum()
}

/// A library's function, instrumented with `tracing` (scenario h's inner
/// span, for every contender).
#[instrument(name = "library.call", skip_all, fields(attempt = 1))]
#[inline(never)]
pub fn library_call(x: u64) -> u64 {
    black_box(x) + 1
}

/// Scenario h done entirely with `tracing`: an instrumented function
/// calling the library's.
#[instrument(name = "agent.step", skip_all)]
#[inline(never)]
pub fn nested(x: u64) -> u64 {
    library_call(x)
}

/// An async step.
#[instrument(
    name = "async.step",
    skip_all,
    fields(task_id = "task-1", priority = 3, agent = "coder")
)]
#[inline(never)]
pub async fn step_async(x: u64) -> u64 {
    black_box(x) + 1
}

/// The installed pipeline: a dispatcher to run under, and the provider to shut down.
pub struct Installed {
    /// Runs code with this subscriber: `tracing::dispatcher::with_default(&d, ..)`.
    pub dispatch: Dispatch,
    provider: SdkTracerProvider,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// The SDK batch pipeline into `exporter` behind the tracing layer.
pub fn install(exporter: CountingExporter, ratio: f64) -> Installed {
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::TraceIdRatioBased(ratio))
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("bench");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    Installed {
        dispatch: Dispatch::new(subscriber),
        provider,
    }
}
