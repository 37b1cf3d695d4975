//! The current span of each thread, and the identity spans pass to their
//! children.
//!
//! Each thread keeps a stack of the spans entered on it. An entry owns what it
//! holds: the span's identity and, for a recorded span, its record — lent by
//! the span while it is entered, or, for a `tracing` span that several threads
//! may enter at once, a shared handle on a record behind a lock. Nothing in
//! the stack points into memory it does not own, so a guard that is forgotten
//! or dropped out of order leaves at worst a stale entry, never a dangling
//! one; and an entry is removed by its identity, not by its position.
//!
//! The stack is only touched by the short functions of this module, which run
//! no code of the program's while they hold it: values are converted before,
//! and what an entry owned is dropped after.

use super::record::RawSpan;
use super::trace_state::State;
use crate::bridge::otel_trace as otel;
use opentelemetry::trace::{SpanId, TraceId};
use std::cell::RefCell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The identity of a span: what its children and other processes see of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanContext {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span itself.
    pub span_id: SpanId,
    /// Whether the span is recorded and exported.
    pub sampled: bool,
    /// Whether the span lives in another process (it came from a `traceparent`).
    pub remote: bool,
}

impl SpanContext {
    /// No span.
    pub const NONE: SpanContext = SpanContext {
        trace_id: TraceId::INVALID,
        span_id: SpanId::INVALID,
        sampled: false,
        remote: false,
    };

    /// Whether this names a span (both ids non-zero).
    pub fn is_valid(&self) -> bool {
        self.trace_id != TraceId::INVALID && self.span_id != SpanId::INVALID
    }

    /// The W3C `traceparent` header value for this context.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }

    /// Runs `f` with this context current on the calling thread: spans it
    /// starts are children of this span. This is how a context crosses into
    /// another thread (`std::thread::spawn`, `spawn_blocking`, rayon):
    ///
    /// ```
    /// let cx = semtel::current_context();
    /// let worker = std::thread::spawn(move || cx.in_scope(|| 2 + 2));
    /// assert_eq!(worker.join().unwrap(), 4);
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let token = push_context(Owner::Scope, self);
        let _restore = Restore(token);
        f()
    }

    /// Wraps `f` so that it runs in this context wherever it is called,
    /// for closures handed to another thread or pool:
    ///
    /// ```
    /// let job = semtel::current_context().wrap(|| 2 + 2);
    /// assert_eq!(std::thread::spawn(job).join().unwrap(), 4);
    /// ```
    pub fn wrap<R>(self, f: impl FnOnce() -> R) -> impl FnOnce() -> R {
        move || self.in_scope(f)
    }
}

impl fmt::Debug for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SpanContext({}/{}{}{})",
            self.trace_id,
            self.span_id,
            if self.sampled { " sampled" } else { "" },
            if self.remote { " remote" } else { "" }
        )
    }
}

/// Removes the entry a scope pushed, also when the scope unwinds.
struct Restore(Option<Token>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(t) = self.0 {
            drop(pop(t));
        }
    }
}

/// The identity of one entry on one thread: unique in the process, so an
/// entry is never confused with another, even one pushed on another thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token(NonZeroU64);

/// Who pushed an entry, and how it is found again to be removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A semtel span's guard or a future it wraps: removed by its token.
    Guard,
    /// A context made current for a closure: removed by its token.
    Scope,
    /// A `tracing` span (its id in the subscriber): removed when `tracing`
    /// exits that span on this thread.
    Tracing(u64),
}

/// What an entry lets code running in it write to.
pub(crate) enum Slot {
    /// Nothing: an unsampled span, or a context carried without its span.
    Empty,
    /// The span's own record, lent while the span is entered on this thread.
    Owned(Box<RawSpan>),
    /// The record of a span that several threads may enter at once.
    Shared(Arc<SharedRecord>),
}

/// A record that several threads may write to, each under the lock. It is
/// emptied when the span ends; later writes find nothing and are ignored.
#[derive(Default)]
pub(crate) struct SharedRecord {
    record: Mutex<Option<Box<RawSpan>>>,
}

impl SharedRecord {
    /// A shared handle on `raw`.
    pub fn new(raw: Box<RawSpan>) -> Arc<SharedRecord> {
        Arc::new(SharedRecord {
            record: Mutex::new(Some(raw)),
        })
    }

    /// Runs `f` on the record unless the span has ended.
    pub fn with<R>(&self, f: impl FnOnce(&mut RawSpan) -> R) -> Option<R> {
        let mut guard = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_deref_mut().map(f)
    }

    /// Takes the record out, to end the span.
    pub fn take(&self) -> Option<Box<RawSpan>> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// What an entry holds for the span it stands for.
pub(crate) struct Held {
    /// What code running in the entry writes to.
    pub slot: Slot,
    /// The `tracing` span that stands for this span in `tracing`'s idea of
    /// the current span, once there is one.
    pub mirror: Option<Mirror>,
    /// The span's trace state, inherited by spans started in the entry.
    pub trace_state: State,
}

/// A `tracing` span standing for a semtel span (see `bridge::tracing::mirror`).
pub(crate) type Mirror = Box<tracing::Span>;

impl Held {
    /// A slot with no mirror.
    pub fn slot(slot: Slot) -> Held {
        Held {
            slot,
            mirror: None,
            trace_state: None,
        }
    }
}

struct Entry {
    owner: Owner,
    token: Token,
    ctx: SpanContext,
    held: Held,
    /// The OpenTelemetry API's current span when the entry was pushed.
    otel_seen: Seen,
}

/// What the OpenTelemetry API's current context held when an entry was
/// pushed: how semtel tells whether a context attached through that API
/// since is newer than the entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Seen {
    /// Not looked at (nothing had used the OpenTelemetry API yet).
    Unknown,
    /// No span.
    Nothing,
    /// This span.
    Span(SpanId),
}

struct Stack {
    entries: Vec<Entry>,
    /// The next token of this thread (0 until the thread's first entry).
    next: u64,
}

/// Entries a thread may hold at once; beyond, a span still runs and records
/// but is not made current (a bound on what forgotten guards can hold).
pub(crate) const MAX_DEPTH: usize = 4096;

/// Threads that took a token range so far.
static THREADS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static STACK: RefCell<Stack> = const {
        RefCell::new(Stack { entries: Vec::new(), next: 0 })
    };
}

/// Runs `f` on this thread's stack, or returns `None` when the thread is
/// ending or the stack is held already (never panics).
#[inline]
fn with_stack<R>(f: impl FnOnce(&mut Stack) -> R) -> Option<R> {
    STACK
        .try_with(|s| s.try_borrow_mut().ok().map(|mut s| f(&mut s)))
        .ok()
        .flatten()
}

/// What the OpenTelemetry API's current context holds now, for a new entry.
#[inline]
fn otel_seen() -> Seen {
    if otel::used() {
        otel::current().map_or(Seen::Nothing, |c| Seen::Span(c.span_id))
    } else {
        Seen::Unknown
    }
}

impl Stack {
    /// The token of a new entry, or `None` when the stack is full.
    #[inline]
    fn next_token(&mut self) -> Option<Token> {
        if self.entries.len() >= MAX_DEPTH {
            return None;
        }
        if self.next == 0 {
            // 2^40 tokens per thread, each thread its own range.
            self.next = (THREADS.fetch_add(1, Ordering::Relaxed) + 1) << 40;
        }
        self.next += 1;
        NonZeroU64::new(self.next).map(Token)
    }
}

/// Pushes an entry and makes it current; gives `slot` back when the thread
/// holds [`MAX_DEPTH`] entries already or is ending.
#[inline]
pub(crate) fn push(owner: Owner, ctx: SpanContext, held: Held) -> Result<Token, Held> {
    let mut held = Some(held);
    let otel_seen = otel_seen();
    let pushed = with_stack(|s| {
        let token = s.next_token()?;
        s.entries.push(Entry {
            owner,
            token,
            ctx,
            held: held.take()?,
            otel_seen,
        });
        Some(token)
    });
    match (pushed.flatten(), held) {
        (Some(t), _) => Ok(t),
        (None, Some(h)) => Err(h),
        (None, None) => Err(Held::slot(Slot::Empty)),
    }
}

/// Pushes an entry that holds nothing but `ctx` (a sampled-out span, a
/// carried context) and makes it current; `None` when the thread holds
/// [`MAX_DEPTH`] entries already or is ending.
///
/// The entry is written field by field where it will stay, not built aside
/// and copied: a copy reads back, in wide loads, fields stored just before
/// in narrow ones, and such a load waits for the stores to retire (a
/// sampled-out span cost several times its budget so).
#[inline]
pub(crate) fn push_context(owner: Owner, ctx: &SpanContext) -> Option<Token> {
    let otel_seen = otel_seen();
    with_stack(|s| {
        let token = s.next_token()?;
        s.entries.reserve(1);
        let len = s.entries.len();
        // SAFETY: `reserve(1)` made room for an entry at index `len`; each
        // field is written (through raw pointers, never reading the
        // uninitialised memory) before `set_len` makes the entry part of
        // the vector, and nothing runs in between that could observe it.
        unsafe {
            let e = s.entries.as_mut_ptr().add(len);
            (&raw mut (*e).owner).write(owner);
            (&raw mut (*e).token).write(token);
            (&raw mut (*e).ctx.trace_id).write(ctx.trace_id);
            (&raw mut (*e).ctx.span_id).write(ctx.span_id);
            (&raw mut (*e).ctx.sampled).write(ctx.sampled);
            (&raw mut (*e).ctx.remote).write(ctx.remote);
            (&raw mut (*e).held).write(Held::slot(Slot::Empty));
            (&raw mut (*e).otel_seen).write(otel_seen);
            s.entries.set_len(len + 1);
        }
        Some(token)
    })
    .flatten()
}

/// Removes the entry `token` names, wherever it stands on this thread's
/// stack; what it held is returned (and dropped by the caller, outside the
/// stack). `None` when this thread has no such entry.
#[inline]
pub(crate) fn pop(token: Token) -> Option<Held> {
    with_stack(|s| {
        let i = s.entries.iter().rposition(|e| e.token == token)?;
        Some(s.entries.remove(i).held)
    })
    .flatten()
}

/// Removes the entry `token` names, like [`pop`], for an entry that can hold
/// nothing but a mirror: the mirror, if it had one. `None` when this thread
/// has no such entry.
#[inline]
pub(crate) fn pop_mirror(token: Token) -> Option<Option<Mirror>> {
    with_stack(|s| {
        // The innermost entry, most often: taken in place and dropped where
        // it stands, for the reason `push_context` gives.
        let len = s.entries.len();
        if let Some(e) = s.entries.last_mut() {
            if e.token == token {
                let mirror = e.held.mirror.take();
                s.entries.truncate(len - 1);
                return Some(mirror);
            }
        }
        let i = s.entries.iter().rposition(|e| e.token == token)?;
        Some(s.entries.remove(i).held.mirror)
    })
    .flatten()
}

/// Removes the innermost entry of `tracing` span `id` on this thread.
pub(crate) fn pop_tracing(id: u64) -> Option<Held> {
    with_stack(|s| {
        let i = s
            .entries
            .iter()
            .rposition(|e| e.owner == Owner::Tracing(id))?;
        Some(s.entries.remove(i).held)
    })
    .flatten()
}

/// The innermost entry, when it stands for a semtel span or a carried
/// context rather than a `tracing` span: its token, its context and the
/// `tracing` span that mirrors it (id and metadata), if it has one.
pub(crate) fn top_for_mirror() -> Option<(Token, SpanContext, Option<MirrorRef>)> {
    with_stack(|s| {
        let e = s.entries.last()?;
        if let Owner::Tracing(_) = e.owner {
            return None;
        }
        let mirror = e
            .held
            .mirror
            .as_ref()
            .and_then(|m| Some((m.id()?, m.metadata()?)));
        Some((e.token, e.ctx, mirror))
    })
    .flatten()
}

/// A mirror's identity in its subscriber.
pub(crate) type MirrorRef = (tracing::Id, &'static tracing::Metadata<'static>);

/// Gives entry `token` its mirror; hands `mirror` back when the entry is gone
/// or has one.
pub(crate) fn set_mirror(token: Token, mirror: Mirror) -> Result<(), Mirror> {
    let mut mirror = Some(mirror);
    with_stack(|s| {
        let e = s.entries.iter_mut().rev().find(|e| e.token == token)?;
        if e.held.mirror.is_some() {
            return None;
        }
        e.held.mirror = mirror.take();
        Some(())
    });
    match mirror {
        None => Ok(()),
        Some(m) => Err(m),
    }
}

/// The context of the innermost entry of this thread ([`SpanContext::NONE`]
/// when there is none).
#[inline]
pub(crate) fn current() -> SpanContext {
    with_stack(|s| s.entries.last().map(|e| e.ctx))
        .flatten()
        .unwrap_or(SpanContext::NONE)
}

/// The trace state this thread carries for span `id`, when an entry of
/// this thread stands for it (`Some(None)` when it carries none).
pub(crate) fn state_of(id: SpanId) -> Option<State> {
    with_stack(|s| {
        s.entries
            .iter()
            .rev()
            .find(|e| e.ctx.span_id == id)
            .map(|e| e.held.trace_state.clone())
    })
    .flatten()
}

/// The context code running now hangs under (see [`current_resolved`]) and
/// the trace state this thread carries for it, if it carries one.
#[inline]
pub(crate) fn current_resolved_with_state() -> (SpanContext, State) {
    if otel::used() {
        let ctx = innermost(otel::current());
        let state = state_of(ctx.span_id).flatten();
        return (ctx, state);
    }
    with_stack(|s| {
        s.entries
            .last()
            .map(|e| (e.ctx, e.held.trace_state.clone()))
    })
    .flatten()
    .unwrap_or((SpanContext::NONE, None))
}

/// The innermost of semtel's current span on this thread and `otel`, the
/// span of an OpenTelemetry API context: the API's span when it was made
/// current after semtel's (or semtel has none).
pub(crate) fn innermost(otel: Option<SpanContext>) -> SpanContext {
    let top = with_stack(|s| s.entries.last().map(|e| (e.ctx, e.otel_seen))).flatten();
    match (top, otel) {
        (Some((ctx, seen)), Some(o)) => match seen {
            Seen::Span(id) if id != o.span_id => o,
            Seen::Nothing => o,
            _ => ctx,
        },
        (Some((ctx, _)), None) => ctx,
        (None, Some(o)) => o,
        (None, None) => SpanContext::NONE,
    }
}

/// The context code running now hangs under: semtel's current span, or a
/// span made current through the OpenTelemetry API after it.
#[inline]
pub(crate) fn current_resolved() -> SpanContext {
    if otel::used() {
        innermost(otel::current())
    } else {
        current()
    }
}

/// Runs `f` on the record of the current span, if it is recorded: the
/// innermost entry's record, or — for an entry that carries a span's
/// identity without its record — the record of the same span further down
/// this thread's stack. `f` must not run code of the program's.
pub(crate) fn with_record<R>(f: impl FnOnce(&mut RawSpan) -> R) -> Option<R> {
    let mut shared = None;
    let out = with_stack(|s| {
        let top = s.entries.last()?.ctx.span_id;
        let entry = s
            .entries
            .iter_mut()
            .rev()
            .take_while(|e| e.ctx.span_id == top)
            .find(|e| !matches!(e.held.slot, Slot::Empty))?;
        match &mut entry.held.slot {
            Slot::Owned(raw) => Some(f(raw)),
            Slot::Shared(rec) => {
                // Locked outside the stack: another thread may hold the lock.
                shared = Some((Arc::clone(rec), f));
                None
            }
            Slot::Empty => None,
        }
    })
    .flatten();
    match shared {
        Some((rec, f)) => rec.with(f),
        None => out,
    }
}

/// Whether the current span is recorded (see [`with_record`]).
pub(crate) fn is_recording() -> bool {
    with_stack(|s| {
        let Some(top) = s.entries.last() else {
            return false;
        };
        let id = top.ctx.span_id;
        s.entries
            .iter()
            .rev()
            .take_while(|e| e.ctx.span_id == id)
            .any(|e| !matches!(e.held.slot, Slot::Empty))
    })
    .unwrap_or(false)
}

/// Entries on this thread's stack (for tests of the bounds).
#[cfg(test)]
pub(crate) fn depth() -> usize {
    with_stack(|s| s.entries.len()).unwrap_or(0)
}

/// The context of the span the calling code runs in ([`SpanContext::NONE`]
/// outside any span): semtel's, or one made current through the
/// OpenTelemetry API inside it.
pub fn current_context() -> SpanContext {
    current_resolved()
}

/// Runs `future` with the calling code's current span as its context, so
/// spans it starts (also on another thread, as in `tokio::spawn`) are
/// children of that span.
///
/// ```
/// # async fn work() {}
/// let task = semtel::in_current_span(async { work().await });
/// # drop(task);
/// ```
pub fn in_current_span<F: std::future::Future>(future: F) -> WithContext<F> {
    let ctx = current_context();
    WithContext {
        ctx,
        trace_state: super::trace_state::of(ctx),
        future,
    }
}

pin_project_lite::pin_project! {
    /// A future that runs in a given span context; see [`in_current_span`].
    pub struct WithContext<F> {
        ctx: SpanContext,
        trace_state: State,
        #[pin]
        future: F,
    }
}

impl<F: std::future::Future> std::future::Future for WithContext<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let held = Held {
            trace_state: this.trace_state.clone(),
            ..Held::slot(Slot::Empty)
        };
        let _restore = Restore(push(Owner::Scope, *this.ctx, held).ok());
        this.future.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(n: u64) -> SpanContext {
        SpanContext {
            trace_id: TraceId::from(u128::from(n)),
            span_id: SpanId::from(n),
            sampled: true,
            remote: false,
        }
    }

    #[test]
    fn entries_leave_by_identity_whatever_the_order() {
        let a = push(Owner::Guard, ctx(1), Held::slot(Slot::Empty))
            .ok()
            .unwrap();
        let b = push(Owner::Guard, ctx(2), Held::slot(Slot::Empty))
            .ok()
            .unwrap();
        assert_eq!(current(), ctx(2));
        // The outer entry leaves first: the inner stays current.
        assert!(pop(a).is_some());
        assert_eq!(current(), ctx(2));
        assert!(pop(a).is_none(), "an entry leaves once");
        assert!(pop(b).is_some());
        assert_eq!(current(), SpanContext::NONE);
    }

    #[test]
    fn a_token_of_another_thread_finds_nothing_here() {
        let t = std::thread::spawn(|| {
            push(Owner::Guard, ctx(3), Held::slot(Slot::Empty))
                .ok()
                .unwrap()
        })
        .join()
        .unwrap();
        let here = push(Owner::Guard, ctx(4), Held::slot(Slot::Empty))
            .ok()
            .unwrap();
        assert!(pop(t).is_none());
        assert_eq!(current(), ctx(4));
        assert!(pop(here).is_some());
    }

    #[test]
    fn depth_is_bounded() {
        let tokens: Vec<Token> = (0..MAX_DEPTH + 10)
            .filter_map(|i| push(Owner::Guard, ctx(i as u64 + 1), Held::slot(Slot::Empty)).ok())
            .collect();
        assert_eq!(tokens.len(), MAX_DEPTH);
        assert_eq!(depth(), MAX_DEPTH);
        for t in tokens.into_iter().rev() {
            pop(t);
        }
        assert_eq!(depth(), 0);
    }
}
