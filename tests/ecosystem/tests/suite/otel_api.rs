//! A library that knows only the `opentelemetry` API (global tracer,
//! propagator and meter), used inside semtel spans, and semtel spans used
//! inside a context attached through that API.

use opentelemetry::trace::{FutureExt, Span as _, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue, global};
use semtel::conventions::SpanKind;
use semtel::metrics::Point;
use semtel_ecosystem_tests::{Mode, Session, assert_child, attr, one};
use std::collections::HashMap;

/// The library: `opentelemetry` only, no semtel, no `tracing`.
mod store_library {
    use super::*;

    /// Looks `key` up, in a span of its own, counting and timing the call.
    pub fn get(key: &str) -> Option<String> {
        let tracer = global::tracer("kv-store");
        let meter = global::meter("kv-store");
        meter
            .u64_counter("kv.lookups")
            .build()
            .add(1, &[KeyValue::new("kv.outcome", "hit")]);
        meter
            .f64_histogram("kv.lookup.duration")
            .with_unit("s")
            .with_boundaries(vec![0.001, 0.01, 0.1])
            .build()
            .record(0.004, &[KeyValue::new("kv.outcome", "hit")]);
        let mut span = tracer
            .span_builder("kv.get")
            .with_kind(opentelemetry::trace::SpanKind::Client)
            .with_attributes([
                KeyValue::new("db.system.name", "kv"),
                KeyValue::new("kv.key.length", key.len() as i64),
            ])
            .start(&tracer);
        span.add_event("cache checked", vec![KeyValue::new("cache.hit", false)]);
        span.end();
        Some(format!("value of {key}"))
    }

    /// The headers a request of the library would carry.
    pub fn outgoing_headers() -> HashMap<String, String> {
        let mut headers = HashMap::new();
        global::get_text_map_propagator(|p| p.inject_context(&Context::current(), &mut headers));
        headers
    }

    /// Runs `f` inside a span of the library's, attached as the current
    /// OpenTelemetry context.
    pub fn with_span<R>(f: impl FnOnce() -> R) -> R {
        let tracer = global::tracer("kv-store");
        tracer.in_span("kv.transaction", |_cx| f())
    }

    /// An async operation in a span of the library's.
    pub async fn fetch_async(key: &str) -> String {
        let tracer = global::tracer("kv-store");
        let span = tracer.start("kv.fetch");
        let cx = Context::current_with_span(span);
        async { format!("fetched {key}") }.with_context(cx).await
    }
}

#[semtel::traced_task(name = "agent.remember")]
fn remember() -> (Option<String>, HashMap<String, String>) {
    (
        store_library::get("plan"),
        store_library::outgoing_headers(),
    )
}

#[semtel::traced_task(name = "inside.library")]
fn inside_library() {}

pub fn global_tracer_and_propagator_serve_semtel_spans(mode: Mode) {
    let session = Session::start(mode);
    let (value, headers) = remember();
    assert_eq!(value.as_deref(), Some("value of plan"));
    store_library::with_span(inside_library);
    let spans = session.spans();
    let task = one(&spans, "agent.remember");
    let get = one(&spans, "kv.get");
    assert_child(get, task);
    assert_eq!(get.kind, SpanKind::Client);
    assert_eq!(get.scope, "kv-store");
    assert_eq!(attr(get, "db.system.name"), "kv");
    assert_eq!(
        get.attribute("kv.key.length"),
        Some(&opentelemetry::Value::I64(4))
    );
    assert_eq!(get.events[0].name, "cache checked");
    // The propagator writes the semtel span around the library's call.
    let tp = headers.get("traceparent").expect("a traceparent");
    let parsed = semtel::propagation::parse_traceparent(tp).unwrap();
    assert_eq!(
        (parsed.trace_id, parsed.span_id),
        (task.trace_id, task.span_id)
    );
    // A semtel span inside a context attached through the API is its child.
    let transaction = one(&spans, "kv.transaction");
    assert_child(one(&spans, "inside.library"), transaction);
}

#[semtel::traced_task(name = "agent.fetch")]
async fn fetch() -> String {
    store_library::fetch_async("notes").await
}

pub fn global_tracer_in_async_code(mode: Mode) {
    let session = Session::start(mode);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(fetch()), "fetched notes");
    let spans = session.spans();
    assert_child(one(&spans, "kv.fetch"), one(&spans, "agent.fetch"));
}

pub fn global_meter_instruments_are_semtel_s(mode: Mode) {
    let session = Session::start(mode);
    let before = lookups();
    remember();
    assert_eq!(lookups() - before, 1.0);
    let histogram = semtel::metrics::collect()
        .into_iter()
        .find(|m| m.descriptor.name == "kv.lookup.duration")
        .expect("the library's histogram");
    match &histogram.series[0].point {
        // The bucket advice holds: 0.004 s is in (0.001, 0.01].
        Point::Histogram(h) => assert_eq!(h.counts.len(), 4, "{h:?}"),
        other => panic!("not a histogram: {other:?}"),
    }
    drop(session);
}

fn lookups() -> f64 {
    semtel::metrics::collect()
        .into_iter()
        .filter(|m| m.descriptor.name == "kv.lookups")
        .flat_map(|m| m.series)
        .map(|s| match s.point {
            Point::Sum(v) => v,
            _ => 0.0,
        })
        .sum()
}
