//! Mirror spans: `tracing` spans that stand for semtel spans in `tracing`'s
//! idea of the current span, so that `tracing::Span::current()` inside a
//! semtel span refers to it. Libraries that parent their spans from it (an
//! LLM client's agent spans), `.in_current_span()`, and a `fmt` layer's log
//! lines all see the semtel span.
//!
//! Where semtel installed the subscriber, a mirror is made lazily: the first
//! time `tracing` asks for the current span inside a semtel span (see
//! `subscriber.rs`). Where the program brought its own subscriber with
//! `semtel::tracing_layer()`, that subscriber keeps its own stack of current
//! spans, so each semtel span is mirrored and entered there as it is entered
//! ("eager" mirroring, which costs a `tracing` span per semtel span).
//!
//! The layer recognises a mirror by its callsite and never turns it into a
//! semtel span of its own: it only remembers which semtel span it stands for.

use crate::trace::SpanContext;
use crate::trace::context::Mirror;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::{Dispatch, Level, Metadata};
use tracing_core::callsite::{Callsite as _, DefaultCallsite};
use tracing_core::subscriber::Interest;

/// A mirror's name and target.
pub(crate) type Label = (&'static str, &'static str);

/// The label of mirrors of spans whose name is not known in advance.
pub(crate) const GENERIC: Label = ("semtel.span", "semtel");

/// The one field every mirror callsite declares (and never records): how
/// the layer tells a mirror from a span of the program's.
const MARK: &str = "semtel.mirror";

static EAGER: AtomicBool = AtomicBool::new(false);

/// Whether semtel spans are mirrored as they are entered (the program's own
/// subscriber carries semtel's layer).
#[inline]
pub(crate) fn eager() -> bool {
    EAGER.load(Ordering::Relaxed)
}

/// Turns eager mirroring on, for good: semtel's layer runs in a subscriber
/// semtel did not install.
pub(crate) fn set_eager() {
    EAGER.store(true, Ordering::Relaxed);
}

thread_local! {
    /// The context of the mirror being created on this thread, for the
    /// layer's `on_new_span`.
    static CREATING: Cell<Option<SpanContext>> = const { Cell::new(None) };
    /// Set while semtel itself enters or exits a mirror in `tracing`.
    static MIRRORING: Cell<bool> = const { Cell::new(false) };
}

/// The context a mirror created just now stands for (once).
pub(crate) fn take_creating() -> Option<SpanContext> {
    CREATING.try_with(Cell::take).ok().flatten()
}

/// Whether semtel is entering or exiting a mirror on this thread (the layer
/// then leaves the thread's context alone: the semtel span is entered already).
pub(crate) fn mirroring() -> bool {
    MIRRORING.try_with(Cell::get).unwrap_or(false)
}

static GENERIC_CALLSITE: DefaultCallsite = DefaultCallsite::new(&GENERIC_META);
static GENERIC_META: Metadata<'static> = Metadata::new(
    GENERIC.0,
    GENERIC.1,
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&[MARK], tracing_core::identify_callsite!(&GENERIC_CALLSITE)),
    Kind::SPAN,
);

/// A callsite made at run time for one label (one per label, kept for the
/// process's life).
struct Labelled {
    meta: OnceLock<Metadata<'static>>,
}

impl tracing_core::callsite::Callsite for Labelled {
    fn set_interest(&self, _: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        self.meta.get().unwrap_or(&GENERIC_META)
    }
}

/// Distinct labels given callsites of their own; beyond, mirrors share the
/// generic one (labels come from span names fixed in code, so this is a
/// bound for the unusual, not a limit for the usual).
const MAX_LABELS: usize = 1024;

/// The metadata of mirrors labelled `label`.
fn metadata(label: Label) -> &'static Metadata<'static> {
    if label == GENERIC {
        return GENERIC_CALLSITE.metadata();
    }
    static LABELS: Mutex<Option<HashMap<Label, &'static Labelled>>> = Mutex::new(None);
    let mut labels = LABELS.lock().unwrap_or_else(PoisonError::into_inner);
    let labels = labels.get_or_insert_with(HashMap::new);
    if let Some(cs) = labels.get(&label) {
        return cs.metadata();
    }
    if labels.len() >= MAX_LABELS {
        return GENERIC_CALLSITE.metadata();
    }
    let cs: &'static Labelled = Box::leak(Box::new(Labelled {
        meta: OnceLock::new(),
    }));
    let meta = Metadata::new(
        label.0,
        label.1,
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(&[MARK], tracing_core::identify_callsite!(cs)),
        Kind::SPAN,
    );
    let _ = cs.meta.set(meta);
    tracing_core::callsite::register(cs);
    labels.insert(label, cs);
    cs.metadata()
}

/// Whether `meta` is a mirror's.
pub(crate) fn is_mirror(meta: &Metadata<'_>) -> bool {
    meta.fields().len() == 1 && meta.fields().field(MARK).is_some()
}

/// A mirror of the span `ctx`, labelled `label`, in the thread's current
/// `tracing` dispatcher; `None` when that dispatcher does not want it.
pub(crate) fn create(label: Label, ctx: SpanContext) -> Option<Mirror> {
    tracing::dispatcher::get_default(|d| create_in(d, metadata(label), ctx))
}

/// A generic mirror of `ctx` in dispatcher `d`.
pub(crate) fn create_generic(d: &Dispatch, ctx: SpanContext) -> Option<Mirror> {
    create_in(d, GENERIC_CALLSITE.metadata(), ctx)
}

fn create_in(d: &Dispatch, meta: &'static Metadata<'static>, ctx: SpanContext) -> Option<Mirror> {
    // As `tracing`'s own macros do: ask first, so per-layer filters know.
    if !d.enabled(meta) {
        return None;
    }
    let _ = CREATING.try_with(|c| c.set(Some(ctx)));
    let no_values: [(&tracing::field::Field, Option<&dyn tracing::Value>); 0] = [];
    let span = tracing::Span::new_with(meta, &meta.fields().value_set(&no_values), d);
    let _ = CREATING.try_with(Cell::take);
    (!span.is_disabled()).then(|| Box::new(span))
}

/// Enters `mirror` in `tracing` (semtel entered its span already).
pub(crate) fn enter(mirror: &tracing::Span) -> bool {
    quietly(|| mirror.with_subscriber(|(id, d)| d.enter(id)).is_some())
}

/// Exits `mirror` in `tracing`.
pub(crate) fn exit(mirror: &tracing::Span) {
    quietly(|| mirror.with_subscriber(|(id, d)| d.exit(id)));
}

/// Runs `f` with [`mirroring`] set (cleared again also if `f` unwinds).
fn quietly<R>(f: impl FnOnce() -> R) -> R {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            let _ = MIRRORING.try_with(|m| m.set(false));
        }
    }
    let _ = MIRRORING.try_with(|m| m.set(true));
    let _clear = Clear;
    f()
}
