//! What safe code may do with spans, guards and the current span without
//! reaching freed memory or racing: guards forgotten or dropped out of
//! order, guards held across `.await` by two futures at once, the current
//! span written from inside its own callbacks and from a `tracing` span
//! entered on several threads. These run under Miri in the test command.

mod common;

use common::{named, parents_are_real, span};
use opentelemetry::trace::SpanId;
use semtel::conventions::orchestration::task;
use semtel::testing;
use semtel::trace::ActiveSpan;
use semtel::{SpanContext, current_context, current_span, traced_task};

#[traced_task(attrs(orchestration.task.id = id))]
fn documented_path(id: &str) {
    current_span().set(task::PRIORITY, 7);
    current_span().add_event("checkpoint", vec![]);
}

#[test]
fn the_current_span_is_written_through_the_documented_path() {
    let cap = testing::capture();
    documented_path("t-1");
    let s = cap.span("documented_path");
    assert_eq!(
        s.attribute("orchestration.task.priority").unwrap().as_str(),
        "7"
    );
    assert_eq!(s.events[0].name, "checkpoint");
}

#[test]
fn guards_dropped_out_of_order_leave_a_sound_context() {
    let cap = testing::capture();
    let mut a = span("a");
    let mut b = span("b");
    let (a_ctx, b_ctx) = (a.context(), b.context());
    let ga = a.enter();
    let mut c = span("c");
    let c_ctx = c.context();
    let gc = c.enter();
    drop(ga); // the outer guard goes first
    assert_eq!(current_context(), c_ctx, "c stays current");
    drop(gc);
    assert_eq!(current_context(), SpanContext::NONE);
    let gb = b.enter();
    assert_eq!(current_context(), b_ctx);
    drop(gb);
    drop((a, b, c));
    let spans = cap.spans();
    assert_eq!(spans.len(), 3);
    parents_are_real(&spans);
    assert_eq!(named(&spans, "c").parent_span_id, a_ctx.span_id);
}

#[test]
fn a_forgotten_guard_is_harmless() {
    let cap = testing::capture();
    let mut a = span("forgotten");
    std::mem::forget(a.enter());
    // Still current: a later span is its child, with a real parent id.
    let child = span("after");
    assert_eq!(child.context().trace_id, a.context().trace_id);
    drop(child);
    current_span().set(task::ID, "written while forgotten");
    // Ending on the same thread takes the record back and leaves the context.
    drop(a);
    assert_eq!(current_context(), SpanContext::NONE);
    let spans = cap.spans();
    parents_are_real(&spans);
    let f = named(&spans, "forgotten");
    assert_eq!(
        f.attribute("orchestration.task.id").unwrap().as_str(),
        "written while forgotten"
    );
    assert_eq!(named(&spans, "after").parent_span_id, f.span_id);
}

#[test]
fn a_span_forgotten_on_one_thread_and_ended_on_another_is_lost_not_dangling() {
    let cap = testing::capture();
    let before = semtel::trace::dropped_spans();
    let mut a = span("moved");
    std::mem::forget(a.enter());
    std::thread::spawn(move || drop(a)).join().unwrap();
    // This thread still lists the span as current; writes go to a record
    // nobody will export, and new spans hang under an id that was real.
    current_span().set(task::ID, "late");
    let later = span("later");
    drop(later);
    assert_eq!(semtel::trace::dropped_spans(), before + 1);
    let spans = cap.spans();
    assert!(spans.iter().all(|s| s.name != "moved"));
    assert_eq!(spans.len(), 1);
}

#[test]
fn many_forgotten_guards_stay_bounded() {
    let _cap = testing::capture();
    // Natively beyond the context's depth bound; under Miri (slow) the
    // bound itself is checked by the context's unit test.
    let n = if cfg!(miri) { 200 } else { 5000 };
    let mut spans: Vec<ActiveSpan> = (0..n).map(|_| span("deep")).collect();
    for s in &mut spans {
        std::mem::forget(s.enter());
    }
    // Beyond the bound spans still run; dropping them in any order is fine.
    spans.reverse();
    drop(spans);
    assert_eq!(current_context(), SpanContext::NONE);
}

#[test]
fn two_futures_holding_guards_across_await_interleave_soundly() {
    let cap = testing::capture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let one = async {
            let mut s = span("one");
            let _g = s.enter();
            tokio::task::yield_now().await;
            let inner = span("one.inner");
            drop(inner);
            tokio::task::yield_now().await;
        };
        let two = async {
            let mut s = span("two");
            let _g = s.enter();
            tokio::task::yield_now().await;
            current_span().set(task::ID, "two");
            tokio::task::yield_now().await;
        };
        tokio::join!(one, two);
    });
    assert_eq!(current_context(), SpanContext::NONE);
    let spans = cap.spans();
    parents_are_real(&spans);
    assert_eq!(spans.len(), 3);
}

struct Reentrant;

impl semtel::conventions::IntoValue<str> for Reentrant {
    fn into_value(self) -> opentelemetry::Value {
        // User code run by a conversion writes the current span too.
        current_span().set(task::PRIORITY, 1);
        "converted".into()
    }
}

#[traced_task]
fn reentrant_writes() {
    current_span().set(task::ID, Reentrant);
    let kept = current_span().attributes_where(|k| {
        // ... and so does a filter.
        current_span().set(task::TYPE, "retry");
        k.starts_with("orchestration.task")
    });
    assert!(kept.len() >= 2, "{kept:?}");
    current_span().add_event(Named("event"), vec![]);
}

struct Named(&'static str);

impl From<Named> for std::borrow::Cow<'static, str> {
    fn from(n: Named) -> Self {
        current_span().set(task::TITLE, "from a name conversion");
        n.0.into()
    }
}

#[test]
fn user_code_may_write_the_current_span_from_inside_its_callbacks() {
    let cap = testing::capture();
    reentrant_writes();
    let s = cap.span("reentrant_writes");
    for (k, v) in [
        ("orchestration.task.id", "converted"),
        ("orchestration.task.priority", "1"),
        ("orchestration.task.type", "retry"),
        ("orchestration.task.title", "from a name conversion"),
    ] {
        assert_eq!(
            s.attribute(k).map(|v| v.as_str().into_owned()).as_deref(),
            Some(v),
            "{k}"
        );
    }
    assert_eq!(s.events[0].name, "event");
}

#[test]
fn a_tracing_span_entered_on_four_threads_takes_every_event() {
    let per_thread = if cfg!(miri) { 8 } else { 2000 };
    let cap = common::capture_keeping_events(4 * per_thread);
    common::shared_span_on_threads(&cap, 4, per_thread);
}

#[test]
fn sibling_tracing_guards_dropped_in_creation_order_restore_by_identity() {
    use tracing_subscriber::layer::SubscriberExt;
    let cap = testing::capture();
    let subscriber = tracing_subscriber::registry().with(semtel::tracing_layer());
    tracing::subscriber::with_default(subscriber, || {
        let a = tracing::info_span!("a");
        let b = tracing::info_span!("b");
        let ga = a.enter();
        let gb = b.enter();
        drop(ga);
        // `b` is still entered: a span started now is its child.
        drop(span("in_b"));
        drop(gb);
        drop(span("outside"));
        drop((a, b));
    });
    let spans = cap.spans();
    parents_are_real(&spans);
    let b = named(&spans, "b");
    assert_eq!(named(&spans, "in_b").parent_span_id, b.span_id);
    assert_eq!(named(&spans, "outside").parent_span_id, SpanId::INVALID);
}

#[test]
fn sampled_out_spans_are_current_in_order_and_leave_nothing_behind() {
    use semtel::trace::{Root, Sampler};
    let capture =
        testing::capture_with(semtel::builder().sampler(Sampler::ParentBased(Root::AlwaysOff)));
    let mut a = span("a");
    let a_ctx = a.context();
    assert!(a_ctx.is_valid() && !a_ctx.sampled);
    let ga = a.enter();
    assert_eq!(current_context(), a_ctx, "a sampled-out span is current");
    let mut b = span("b");
    let b_ctx = b.context();
    assert_eq!(b_ctx.trace_id, a_ctx.trace_id, "its child joins its trace");
    assert!(!b_ctx.sampled, "and follows its decision");
    let gb = b.enter();
    assert_eq!(current_context(), b_ctx);
    drop(ga); // out of order: b stays current
    assert_eq!(current_context(), b_ctx);
    drop(gb);
    assert_eq!(current_context(), SpanContext::NONE);
    // A forgotten guard of a sampled-out span leaves the span current, as a
    // forgotten guard of any span does: later spans nest under it and go.
    let mut c = span("c");
    let c_ctx = c.context();
    std::mem::forget(c.enter());
    assert_eq!(current_context(), c_ctx);
    let mut d = span("d");
    assert_eq!(d.context().trace_id, c_ctx.trace_id);
    let gd = d.enter();
    drop(gd);
    assert_eq!(current_context(), c_ctx);
    drop((a, b, c, d));
    assert!(
        capture.spans().is_empty(),
        "nothing sampled out is exported"
    );
}
