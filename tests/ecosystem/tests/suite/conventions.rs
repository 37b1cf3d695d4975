//! The fields and events the `tracing` ecosystem uses for OpenTelemetry
//! behave as tracing-opentelemetry documents them, field types are kept, and
//! `tracing` and semtel spans nest in both directions.

use opentelemetry::Value;
use semtel::conventions::SpanKind;
use semtel::trace::{SpanRecord, Status};
use semtel_ecosystem_tests::{Mode, Session, assert_child, attr, names, one};

fn event<'a>(span: &'a SpanRecord, name: &str) -> &'a semtel::trace::SpanEvent {
    span.events
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{:?} has no event {name:?}: {:?}", span.name, span.events))
}

fn event_attr<'a>(e: &'a semtel::trace::SpanEvent, key: &str) -> Option<&'a Value> {
    e.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("push refused by remote")
    }
}

impl std::error::Error for Refused {}

#[tracing::instrument(err)]
fn push(branch: &str) -> Result<(), Refused> {
    Err(Refused)
}

pub fn otel_fields_errors_and_events(mode: Mode) {
    let session = Session::start(mode);
    {
        let span = tracing::info_span!(
            "db query",
            otel.name = "SELECT tasks",
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            otel.status_message = tracing::field::Empty,
            db.rows = 12u64,
            db.sample_ratio = 0.25,
            db.cached = false,
            big = u64::MAX,
        );
        let _g = span.enter();
        tracing::info!(batch = 3u64, ratio = 0.5, last = true, "rows read");
        tracing::debug!("below the default level");
        tracing::info!(target: "hyper::proto", "a transport library's event");
        span.record("otel.status_code", "error");
        span.record("otel.status_message", "deadline exceeded");
    }
    let _ = push("main");
    tracing::info_span!("failing step").in_scope(|| tracing::error!(code = 7i64, "step failed"));
    let spans = session.spans();

    let query = one(&spans, "SELECT tasks");
    assert_eq!(query.kind, SpanKind::Client);
    assert_eq!(query.status, Status::Error("deadline exceeded".into()));
    assert_eq!(query.attribute("db.rows"), Some(&Value::I64(12)));
    assert_eq!(query.attribute("db.sample_ratio"), Some(&Value::F64(0.25)));
    assert_eq!(query.attribute("db.cached"), Some(&Value::Bool(false)));
    assert_eq!(attr(query, "big"), u64::MAX.to_string());
    for special in [
        "otel.name",
        "otel.kind",
        "otel.status_code",
        "otel.status_message",
    ] {
        assert!(
            query.attribute(special).is_none(),
            "{special} left as an attribute"
        );
    }
    let read = event(query, "rows read");
    assert_eq!(event_attr(read, "batch"), Some(&Value::I64(3)));
    assert_eq!(event_attr(read, "ratio"), Some(&Value::F64(0.5)));
    assert_eq!(event_attr(read, "last"), Some(&Value::Bool(true)));
    assert_eq!(
        query.events.len(),
        1,
        "filtered events recorded: {:?}",
        query.events
    );

    let push = one(&spans, "push");
    assert_eq!(push.status, Status::Error("push refused by remote".into()));
    let exception = event(push, "exception");
    assert_eq!(
        event_attr(exception, "exception.message").map(Value::as_str),
        Some("push refused by remote".into())
    );
    assert_eq!(attr(push, "branch"), "main");

    let failing = one(&spans, "failing step");
    assert_eq!(failing.status, Status::Error("step failed".into()));
    assert_eq!(
        event_attr(event(failing, "step failed"), "code"),
        Some(&Value::I64(7))
    );
}

pub fn events_as_span_events_can_be_switched_off(mode: Mode) {
    let session = Session::with(mode, semtel::builder().tracing_events_as_span_events(false));
    tracing::info_span!("quiet").in_scope(|| tracing::info!("only a log"));
    let spans = session.spans();
    assert!(one(&spans, "quiet").events.is_empty());
    drop(session);
    // Switched on again for the sessions after.
    let session = Session::start(mode);
    tracing::info_span!("chatty").in_scope(|| tracing::info!("a span event"));
    let spans = session.spans();
    event(one(&spans, "chatty"), "a span event");
}

#[semtel::traced_task(name = "semtel.outer")]
fn semtel_outer() -> bool {
    let current = tracing::Span::current();
    let inner = tracing::info_span!("tracing.inner");
    inner.in_scope(semtel_inner);
    // A span below the level semtel takes, entered inside the semtel span:
    // semtel spans and events inside it still find the semtel span.
    tracing::debug_span!("below the level").in_scope(|| {
        tracing::info!("inside a span semtel does not take");
        semtel_under_unknown();
    });
    !current.is_none()
}

#[semtel::traced_task(name = "semtel.inner")]
fn semtel_inner() {}

#[semtel::traced_task(name = "semtel.under.unknown")]
fn semtel_under_unknown() {}

pub fn tracing_and_semtel_spans_nest_both_ways(mode: Mode) {
    let session = Session::start(mode);
    let saw_current = tracing::info_span!("tracing.outer").in_scope(semtel_outer);
    assert!(
        saw_current,
        "tracing::Span::current() was none inside a semtel span"
    );
    let spans = session.spans();
    let outer = one(&spans, "semtel.outer");
    assert_child(outer, one(&spans, "tracing.outer"));
    let inner = one(&spans, "tracing.inner");
    assert_child(inner, outer);
    assert_child(one(&spans, "semtel.inner"), inner);
    assert_child(one(&spans, "semtel.under.unknown"), outer);
    assert!(
        spans.iter().all(|s| s.name != "below the level"),
        "{:?}",
        names(&spans)
    );
    event(outer, "inside a span semtel does not take");
}
