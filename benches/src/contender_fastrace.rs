//! fastrace `#[trace]` with its OpenTelemetry reporter.

use crate::exporter::CountingExporter;
use fastrace::collector::{Config, SpanContext};
use fastrace::prelude::*;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use std::borrow::Cow;
use std::hint::black_box;

#[trace(name = "agent.step")]
#[inline(never)]
fn leaf(x: u64) -> u64 {
    black_box(x) + 1
}

#[trace(name = "task")]
#[inline(never)]
fn task(x: u64) -> u64 {
    (0..5).map(|i| leaf(x + i)).sum()
}

/// One root span with three attributes.
#[inline(never)]
pub fn step(x: u64, sampled: bool) -> u64 {
    let root = Span::root("step", SpanContext::random().sampled(sampled))
        .with_properties(|| [("task_id", "task-1"), ("priority", "3"), ("agent", "coder")]);
    let _g = root.set_local_parent();
    black_box(x) + 1
}

/// A bare `#[trace]` function (no root: what an instrumented call costs when nothing traces).
#[trace]
#[inline(never)]
pub fn traced(x: u64) -> u64 {
    black_box(x) + 1
}

/// 31 spans under one root.
#[inline(never)]
pub fn tree(x: u64) -> u64 {
    let root = Span::root("workflow", SpanContext::random());
    let _g = root.set_local_parent();
    (0..5).map(|i| task(x + i)).sum()
}

#[trace(name = "async.step", properties = { "task_id": "task-1", "priority": "3", "agent": "coder" })]
async fn inner_async(x: u64) -> u64 {
    black_box(x) + 1
}

/// An async step under a root.
pub async fn step_async(x: u64) -> u64 {
    let root = Span::root("root", SpanContext::random());
    inner_async(x).in_span(root).await
}

/// Reports into `exporter`.
pub fn install(exporter: CountingExporter) {
    let reporter = fastrace_opentelemetry::OpenTelemetryReporter::new(
        exporter,
        Cow::Owned(Resource::builder_empty().build()),
        InstrumentationScope::builder("bench").build(),
    );
    fastrace::set_reporter(reporter, Config::default());
}
