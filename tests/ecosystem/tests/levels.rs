//! `RUST_LOG` directives (the `EnvFilter` syntax) choose which `tracing`
//! spans and events become telemetry; an invalid value is a warning naming
//! it, and the default (`info`) applies.

use semtel_ecosystem_tests::{Mode, Session, assert_child, names, one};

mod db {
    pub fn query() {
        tracing::debug_span!("db.query").in_scope(|| tracing::debug!("rows fetched"));
    }
}

#[semtel::traced_task(name = "levels.task")]
fn task() {
    tracing::info!("routine progress");
    tracing::warn!("disk nearly full");
    tracing::info_span!("chatty.span").in_scope(inner);
    db::query();
    tracing::trace!(target: "h2::codec", "a frame");
}

#[semtel::traced_task(name = "levels.inner")]
fn inner() {}

fn env(rust_log: &'static str) -> impl Fn(&str) -> Option<String> + 'static {
    move |k| (k == "RUST_LOG").then(|| rust_log.to_string())
}

#[test]
fn rust_log_directives_choose_spans_and_events_and_bad_ones_are_named() {
    // One filter per process: this binary's subscriber takes this one.
    let session = Session::with(
        Mode::Semtel,
        semtel::builder().env_source(env("warn,levels::db=debug,h2=trace")),
    );
    task();
    let spans = session.spans();
    let task = one(&spans, "levels.task");
    let events: Vec<&str> = task.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(events, ["disk nearly full"], "{:?}", task.events);
    // The INFO span is not taken: the semtel span inside it hangs under the
    // semtel span around it.
    assert!(
        spans.iter().all(|s| s.name != "chatty.span"),
        "{:?}",
        names(&spans)
    );
    assert_child(one(&spans, "levels.inner"), task);
    // The module the directives name at DEBUG is taken.
    let query = one(&spans, "db.query");
    assert_child(query, task);
    assert_eq!(query.events[0].name, "rows fetched");
    // h2 is on semtel's export path: never taken, whatever the directives.
    assert!(events.iter().all(|e| !e.contains("frame")));
    drop(session);

    // Later in the same test: the subscriber above took its filter first.
    let session = Session::with(Mode::Semtel, semtel::builder().env_source(env("info,[[=")));
    let warnings = session.warnings().join("\n");
    assert!(
        warnings.contains("RUST_LOG=\"info,[[=\"") && warnings.contains("default `info`"),
        "{warnings}"
    );
}
