//! Hand-written calls to the OpenTelemetry SDK.

use crate::exporter::CountingExporter;
use opentelemetry::trace::{
    FutureExt, Span as _, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use std::hint::black_box;

/// One span with three attributes.
#[inline(never)]
pub fn step(tracer: &SdkTracer, x: u64) -> u64 {
    let mut span = tracer
        .span_builder("step")
        .with_attributes([
            KeyValue::new("orchestration.task.id", "task-1"),
            KeyValue::new("orchestration.task.priority", 3),
            KeyValue::new("gen_ai.agent.name", "coder"),
        ])
        .start(tracer);
    let r = black_box(x) + 1;
    span.end();
    r
}

/// 31 spans, parents passed through the context.
#[inline(never)]
pub fn tree(tracer: &SdkTracer, x: u64) -> u64 {
    tracer.in_span("workflow", |cx| {
        (0..5)
            .map(|i| {
                let task = tracer.start_with_context("task", &cx);
                let cx = cx.with_span(task);
                let _g = cx.clone().attach();
                let s: u64 = (0..5)
                    .map(|j| {
                        let mut leaf = tracer.start_with_context("agent.step", &cx);
                        let r = black_box(x + i + j) + 1;
                        leaf.end();
                        r
                    })
                    .sum();
                cx.span().end();
                s
            })
            .sum()
    })
}

/// An async step with its span as the future's context.
pub async fn step_async(tracer: &SdkTracer, x: u64) -> u64 {
    let span = tracer
        .span_builder("async.step")
        .with_attributes([
            KeyValue::new("orchestration.task.id", "task-1"),
            KeyValue::new("orchestration.task.priority", 3),
            KeyValue::new("gen_ai.agent.name", "coder"),
        ])
        .start(tracer);
    let cx = Context::current_with_span(span);
    let r = async { black_box(x) + 1 }.with_context(cx.clone()).await;
    cx.span().end();
    r
}

/// A provider with a batch processor into `exporter`.
pub fn install(exporter: CountingExporter, ratio: f64) -> (SdkTracerProvider, SdkTracer) {
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::TraceIdRatioBased(ratio))
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("bench");
    (provider, tracer)
}
