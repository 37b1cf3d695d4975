//! What the soundness and stress suites share: spans made by hand, checks on
//! what was captured, and one `tracing` span entered on many threads.

#![allow(dead_code)]

use opentelemetry::trace::SpanId;
use semtel::conventions::SpanKind;
use semtel::current_span;
use semtel::testing::Capture;
use semtel::trace::{ActiveSpan, Parent, SpanRecord};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

/// A span started by hand under the current one.
pub fn span(name: &'static str) -> ActiveSpan {
    ActiveSpan::start_parts(
        name.into(),
        SpanKind::Internal,
        "soundness",
        Parent::Current,
    )
}

/// In-memory telemetry whose spans keep up to `events` events (the default
/// limit is 128).
pub fn capture_keeping_events(events: usize) -> Capture {
    semtel::testing::capture_with(
        semtel::builder()
            .env_source(move |k| (k == "OTEL_SPAN_EVENT_COUNT_LIMIT").then(|| events.to_string())),
    )
}

/// Every parent id names a span of the capture (or none).
pub fn parents_are_real(spans: &[SpanRecord]) {
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    for s in spans {
        assert!(
            s.parent_span_id == SpanId::INVALID || ids.contains(&s.parent_span_id),
            "{} has parent {} which is no span",
            s.name,
            s.parent_span_id
        );
    }
}

/// The span named `name`.
pub fn named<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} among {} spans", spans.len()))
}

/// A `tracing` span entered on `threads` threads at once, `per_thread`
/// times each, every thread writing an event to the current span while in
/// it, and — every 64th time — two semtel spans whose guards are dropped in
/// the order they were made: each event lands on the shared span, none is
/// lost, and every span has a real parent.
pub fn shared_span_on_threads(cap: &Capture, threads: usize, per_thread: usize) {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = Arc::new(tracing_subscriber::registry().with(semtel::tracing_layer()));
    let shared = tracing::subscriber::with_default(Arc::clone(&subscriber), || {
        tracing::info_span!("shared")
    });
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (shared, barrier, subscriber) = (
                shared.clone(),
                Arc::clone(&barrier),
                Arc::clone(&subscriber),
            );
            std::thread::spawn(move || {
                tracing::subscriber::with_default(subscriber, || {
                    barrier.wait();
                    for i in 0..per_thread {
                        let _g = shared.enter();
                        current_span().add_event(
                            "tick",
                            vec![opentelemetry::KeyValue::new("thread", t as i64)],
                        );
                        if i % 64 == 0 {
                            out_of_order();
                        }
                    }
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    drop(shared);
    let spans = cap.spans();
    parents_are_real(&spans);
    let s = named(&spans, "shared");
    assert_eq!(s.events.len(), threads * per_thread);
    for t in 0..threads {
        let n = s
            .events
            .iter()
            .filter(|e| e.attributes[0].value == opentelemetry::Value::I64(t as i64))
            .count();
        assert_eq!(n, per_thread, "thread {t}");
    }
    let ids = |name: &str| -> HashSet<SpanId> {
        spans
            .iter()
            .filter(|x| x.name == name)
            .map(|x| x.span_id)
            .collect()
    };
    let (outer, inner) = (ids("outer"), ids("inner"));
    assert_eq!(outer.len(), threads * per_thread.div_ceil(64));
    for x in &spans {
        match x.name.as_ref() {
            "outer" => assert_eq!(x.parent_span_id, s.span_id),
            "inner" => assert!(outer.contains(&x.parent_span_id), "{x:?}"),
            // Started after the outer guard went: the inner span is current.
            "after" => assert!(inner.contains(&x.parent_span_id), "{x:?}"),
            _ => {}
        }
    }
}

/// Two semtel spans, the outer's guard dropped first: the inner stays
/// current, and a span started then is its child.
fn out_of_order() {
    let mut outer = span("outer");
    let g_outer = outer.enter();
    let mut inner = span("inner");
    let g_inner = inner.enter();
    drop(g_outer);
    drop(span("after"));
    drop(g_inner);
}
