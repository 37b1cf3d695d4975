//! `#[metered]`: call counts, durations and calls in flight, alone, merged
//! with a span macro on the same function, bound to metrics of the schema,
//! and on methods of different types.

use semtel::testing;
use semtel::{ErrorType, metered, traced_task};
use std::fmt;

#[derive(Debug, ErrorType)]
enum PushError {
    Rejected,
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("push rejected")
    }
}

#[metered]
fn metered_plain(fail: bool) -> Result<u32, PushError> {
    if fail {
        Err(PushError::Rejected)
    } else {
        Ok(1)
    }
}

#[metered]
#[traced_task(name = "both.metered_first")]
fn metered_first() -> u32 {
    1
}

#[traced_task(name = "both.traced_first")]
#[metered]
fn traced_first() -> u32 {
    2
}

#[metered(duration = orchestration.task.duration, calls = orchestration.tasks.completed, attrs(orchestration.task.state = state, orchestration.task.type = "bugfix"))]
fn bound_task(
    state: semtel::conventions::orchestration::task::OrchestrationTaskState,
) -> Result<(), PushError> {
    Err(PushError::Rejected)
}

#[metered]
fn metered_panics() {
    panic!("boom");
}

#[test]
fn metered_counts_times_and_links_exemplars() {
    let cap = testing::capture();
    let f = [("function", "metered_plain")];
    let before_ok = cap.metric_value(
        "function.calls",
        &[("function", "metered_plain"), ("result", "ok")],
    );
    metered_plain(false).unwrap();
    metered_plain(false).unwrap();
    metered_plain(true).unwrap_err();
    assert_eq!(
        cap.metric_value(
            "function.calls",
            &[("function", "metered_plain"), ("result", "ok")]
        ) - before_ok,
        2.0
    );
    assert_eq!(
        cap.metric_value(
            "function.calls",
            &[
                ("function", "metered_plain"),
                ("result", "error"),
                ("error.type", "rejected")
            ]
        ),
        1.0
    );
    assert_eq!(cap.metric_value("function.calls.duration", &f), 3.0);
    assert_eq!(cap.metric_value("function.calls.concurrent", &f), 0.0);
    let dur = cap.series("function.calls.duration", &f);
    assert_eq!(
        dur[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "module")
            .unwrap()
            .value
            .as_str(),
        "metered"
    );
    assert!(dur[0].exemplars.is_empty(), "no span, no exemplar");

    metered_first();
    traced_first();
    let first = cap.span("both.metered_first");
    let series = cap.series("function.calls.duration", &[("function", "metered_first")]);
    let (_, ex) = series[0].exemplars[0];
    assert_eq!(
        (ex.trace_id, ex.span_id),
        (first.trace_id, first.span_id),
        "exemplar is the function's own span"
    );
    assert_eq!(
        cap.metric_value(
            "function.calls",
            &[("function", "traced_first"), ("result", "ok")]
        ),
        1.0
    );
    cap.span("both.traced_first");

    use semtel::conventions::orchestration::task::OrchestrationTaskState as State;
    bound_task(State::Failed).unwrap_err();
    assert_eq!(
        cap.metric_value(
            "orchestration.tasks.completed",
            &[
                ("orchestration.task.state", "failed"),
                ("orchestration.task.type", "bugfix"),
                ("error.type", "rejected")
            ]
        ),
        1.0
    );
    assert_eq!(
        cap.metric_value(
            "orchestration.task.duration",
            &[("orchestration.task.state", "failed")]
        ),
        1.0
    );
    assert!(
        cap.series(
            "orchestration.tasks.completed",
            &[("function", "bound_task")]
        )
        .is_empty(),
        "bound metrics carry only their own attributes"
    );

    assert!(std::panic::catch_unwind(metered_panics).is_err());
    assert_eq!(
        cap.metric_value(
            "function.calls",
            &[("function", "metered_panics"), ("error.type", "panic")]
        ),
        1.0
    );
}

// ---- methods: one series and one span name per type ----

struct Git;
struct Http;

impl Git {
    #[traced_task]
    #[metered]
    fn call(&self) -> u32 {
        1
    }
}

impl Http {
    #[metered]
    #[traced_task]
    fn call(&self) -> u32 {
        2
    }
}

trait Tool {
    #[metered]
    fn invoke(&self) -> u32 {
        0
    }
}

impl Tool for Git {}
impl Tool for Http {}

#[test]
fn methods_are_qualified_by_their_type() {
    let cap = testing::capture();
    assert_eq!(Git.call() + Http.call() + Http.call(), 5);
    assert_eq!(Git.invoke() + Http.invoke(), 0);
    let calls = |function: &str| {
        cap.metric_value(
            "function.calls",
            &[("function", function), ("result", "ok")],
        )
    };
    assert_eq!(
        [
            calls("Git::call"),
            calls("Http::call"),
            calls("Git::invoke"),
            calls("Http::invoke")
        ],
        [1.0, 2.0, 1.0, 1.0]
    );
    assert_eq!(calls("call"), 0.0, "no unqualified series");
    let spans = cap.spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "Git::call").count(),
        1,
        "{names:?}"
    );
    assert_eq!(names.iter().filter(|n| **n == "Http::call").count(), 2);
}

// ---- which attributes are semtel's own ----

mod elsewhere {
    // The same macro under another crate's path: not taken for a sibling.
    pub use semtel::metered;
}

extern crate semtel as telemetry;

#[traced_task(name = "sibling.qualified")]
#[semtel::metered]
fn qualified_sibling() {}

#[traced_task(name = "sibling.foreign")]
#[elsewhere::metered]
fn foreign_path() {}

#[telemetry::traced_task(name = "sibling.renamed", crate = telemetry)]
#[telemetry::metered]
fn renamed_crate() {}

#[test]
fn siblings_are_recognised_by_their_path() {
    let cap = testing::capture();
    qualified_sibling();
    foreign_path();
    renamed_crate();
    let exemplar = |function: &str| {
        let series = cap.series("function.calls.duration", &[("function", function)]);
        assert_eq!(series.len(), 1, "{function}");
        series[0]
            .exemplars
            .first()
            .map(|(_, ex)| (ex.trace_id, ex.span_id))
    };
    // Merged into one wrapper, the measurement's exemplar is the function's
    // own span.
    for (function, span) in [
        ("qualified_sibling", "sibling.qualified"),
        ("renamed_crate", "sibling.renamed"),
    ] {
        let s = cap.span(span);
        assert_eq!(exemplar(function), Some((s.trace_id, s.span_id)));
    }
    // `elsewhere::metered` expanded on its own, around the span: no span is
    // current when it measures.
    cap.span("sibling.foreign");
    assert_eq!(exemplar("foreign_path"), None);
}

#[derive(Debug, telemetry::ErrorType)]
#[error_type(crate = telemetry)]
enum RenamedError {
    Offline,
}

#[test]
fn the_derive_takes_a_renamed_crate_too() {
    use telemetry::ErrorType as _;
    assert_eq!(RenamedError::Offline.error_type(), "offline");
}
