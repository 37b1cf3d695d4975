//! A span in progress: started by the macros, current while its code runs,
//! recorded when it ends (also when the code panics).

use super::context::{self, Held, Mirror, Owner, SharedRecord, Slot, SpanContext, Token};
use super::id;
use super::limits::{self, Limits};
use super::pipeline::{self, Hot};
use super::record::{RawSpan, SpanEvent, Status};
use super::trace_state::{self, State as TraceState};
use crate::bridge::tracing::mirror;
use crate::clock;
use crate::outcome::{ErrorType, Failure};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanId;
use semtel_conventions::{IntoValue, Key, SpanKind};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::sync::Arc;

/// Where a span comes from: fixed per call site, so it costs nothing per
/// call. Made by the macros; not a public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    /// The span name.
    pub name: &'static str,
    /// The span kind.
    pub kind: SpanKind,
    /// The instrumentation scope (the module path of the instrumented code).
    pub scope: &'static str,
}

/// Which span a new span hangs under.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub enum Parent {
    /// The span the calling code runs in, else the process's parent from its
    /// environment (`TRACEPARENT`), else none (a new trace).
    #[default]
    Current,
    /// A new trace, whatever is current.
    Root,
    /// This context (from another thread, task or process).
    Explicit(SpanContext),
}

// An explicit one-byte tag: the callers test it right after `start_with`
// returns, and a byte reads back from the store that wrote it at once
// (a niche inside a wider field stalls that load).
#[repr(u8)]
enum State {
    /// Telemetry is off: nothing to record, nothing to make current. A span
    /// in this state owns nothing (no trace state, no mirror): `Drop` relies
    /// on it.
    Off,
    /// Sampled out: only the identity is passed to children.
    Unsampled,
    /// Recorded; the record is here.
    Recording(Box<RawSpan>, &'static Hot),
    /// Recorded and entered: the record is lent to the thread's context
    /// under this token until the guard gives it back.
    Lent(Token, &'static Hot),
    /// Ended (recorded already, or handed to a [`SharedSpan`]).
    Done,
}

/// A span in progress. It ends when dropped; a panic while it is current
/// marks it failed.
// The fields that own something are dropped by hand, in `Drop`: a span of
// telemetry that is off (state `Off`, owning nothing) then ends with one
// test, inlined at the call site, rather than a call to drop each field.
pub struct ActiveSpan {
    ctx: SpanContext,
    state: ManuallyDrop<State>,
    /// The trace state it inherited, handed on to its children.
    trace_state: ManuallyDrop<TraceState>,
    /// The `tracing` span standing for this one, once one was needed.
    mirror: ManuallyDrop<Option<Mirror>>,
}

impl ActiveSpan {
    /// Starts a span of a macro's call site. When telemetry is off this
    /// costs one atomic load. Made by the macros; not a public API (see
    /// [`start_parts`](Self::start_parts)).
    #[doc(hidden)]
    #[inline]
    pub fn start(site: &'static Site, parent: Parent) -> ActiveSpan {
        match pipeline::hot() {
            None => ActiveSpan::OFF,
            Some(hot) => {
                Self::start_with(hot, Cow::Borrowed(site.name), site.kind, site.scope, parent)
            }
        }
    }

    /// Starts a span from its parts, for spans made by hand or by other
    /// instrumentation: it ends when dropped.
    ///
    /// ```
    /// use semtel::conventions::SpanKind;
    /// use semtel::trace::{ActiveSpan, Parent};
    ///
    /// let mut span = ActiveSpan::start_parts("git.fetch".into(), SpanKind::Client, module_path!(), Parent::Current);
    /// span.in_scope(|| { /* spans started here are its children */ });
    /// ```
    pub fn start_parts(
        name: Cow<'static, str>,
        kind: SpanKind,
        scope: &'static str,
        parent: Parent,
    ) -> ActiveSpan {
        match pipeline::hot() {
            None => ActiveSpan::OFF,
            Some(hot) => Self::start_with(hot, name, kind, scope, parent),
        }
    }

    const OFF: ActiveSpan = ActiveSpan {
        ctx: SpanContext::NONE,
        state: ManuallyDrop::new(State::Off),
        trace_state: ManuallyDrop::new(None),
        mirror: ManuallyDrop::new(None),
    };

    #[inline(never)]
    fn start_with(
        hot: &'static Hot,
        name: Cow<'static, str>,
        kind: SpanKind,
        scope: &'static str,
        parent: Parent,
    ) -> ActiveSpan {
        let (parent, carried) = match parent {
            Parent::Current => {
                let (cur, state) = context::current_resolved_with_state();
                if cur.is_valid() {
                    (cur, state)
                } else {
                    (hot.process_parent, None)
                }
            }
            Parent::Root => (SpanContext::NONE, None),
            Parent::Explicit(ctx) => (ctx, None),
        };
        let has_parent = parent.is_valid();
        let trace_state = match carried {
            Some(s) => Some(s),
            None if has_parent => trace_state::for_trace(hot, parent.trace_id),
            None => None,
        };
        let (trace_id, span_id) = if has_parent {
            (parent.trace_id, id::span_id())
        } else {
            id::trace_and_span_id()
        };
        let sampled = hot
            .sampler
            .sample(has_parent.then_some(parent.sampled), trace_id);
        let ctx = SpanContext {
            trace_id,
            span_id,
            sampled,
            remote: false,
        };
        if !sampled {
            return ActiveSpan {
                ctx,
                state: ManuallyDrop::new(State::Unsampled),
                trace_state: ManuallyDrop::new(trace_state),
                mirror: ManuallyDrop::new(None),
            };
        }
        let mut raw = pipeline::take_record();
        raw.trace_id = trace_id;
        raw.span_id = span_id;
        raw.parent_span_id = if has_parent {
            parent.span_id
        } else {
            SpanId::INVALID
        };
        raw.parent_remote = parent.remote;
        if trace_state.is_some() {
            raw.trace_state.clone_from(&trace_state);
        }
        raw.kind = kind;
        raw.name = name;
        raw.scope = scope;
        raw.start = clock::ticks();
        ActiveSpan {
            ctx,
            state: ManuallyDrop::new(State::Recording(raw, hot)),
            trace_state: ManuallyDrop::new(trace_state),
            mirror: ManuallyDrop::new(None),
        }
    }

    /// The span's identity ([`SpanContext::NONE`] when telemetry is off).
    #[inline]
    pub fn context(&self) -> SpanContext {
        self.ctx
    }

    /// The W3C trace state the span carries (from its remote ancestor).
    pub(crate) fn trace_state(&self) -> Option<&str> {
        self.trace_state.as_deref()
    }

    /// Whether the span is being recorded (sampled, telemetry on).
    #[inline]
    pub fn is_recording(&self) -> bool {
        matches!(*self.state, State::Recording(..) | State::Lent(..))
    }

    #[inline]
    fn raw_mut(&mut self) -> Option<&mut RawSpan> {
        match &mut *self.state {
            State::Recording(raw, _) => Some(raw),
            _ => None,
        }
    }

    /// The record and the limits it is kept under, if the span is recorded.
    #[inline]
    fn recording(&mut self) -> Option<(&mut RawSpan, &'static Limits)> {
        match &mut *self.state {
            State::Recording(raw, hot) => Some((raw, &hot.limits)),
            _ => None,
        }
    }

    /// Sets an attribute (checked against its key's type). A later value
    /// replaces an earlier one; a new key beyond the attribute count limit
    /// is left out and counted.
    pub fn set<T: ?Sized, V: IntoValue<T>>(&mut self, key: Key<T>, value: V) {
        if let Some((r, limits)) = self.recording() {
            r.set_attribute(key.value(value), limits.attributes);
        }
    }

    /// Sets attributes in order (a later value of a key replaces an earlier
    /// one; new keys beyond the attribute count limit are left out and counted).
    #[inline]
    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        if let Some((r, limits)) = self.recording() {
            r.set_attributes(attributes, limits.attributes);
        }
    }

    /// Links this span to another (a follows-from relation).
    pub fn add_link(&mut self, ctx: SpanContext) {
        self.add_link_with(ctx, Vec::new());
    }

    /// Names the span from a pattern such as `invoke_agent {gen_ai.agent.name}`,
    /// filled with the span's attribute values (a missing one is left out).
    pub fn name_from_pattern(&mut self, pattern: &str) {
        if let Some(r) = self.raw_mut() {
            let mut name = String::with_capacity(pattern.len() + 16);
            let mut rest = pattern;
            while let Some(open) = rest.find('{') {
                name.push_str(&rest[..open]);
                let Some(close) = rest[open..].find('}') else {
                    break;
                };
                let key = &rest[open + 1..open + close];
                if let Some(v) = r.attribute(key) {
                    name.push_str(&v.as_str());
                }
                rest = &rest[open + close + 1..];
            }
            name.push_str(rest);
            r.name = name.split_whitespace().collect::<Vec<_>>().join(" ").into();
        }
    }

    /// Renames the span.
    pub fn set_name(&mut self, name: impl Into<Cow<'static, str>>) {
        if let Some(r) = self.raw_mut() {
            r.name = name.into();
        }
    }

    /// Marks the span failed with `description`.
    pub fn set_error(&mut self, description: impl Into<Cow<'static, str>>) {
        if let Some(r) = self.raw_mut() {
            r.status = Status::Error(description.into());
        }
    }

    /// Records the failure of the instrumented function (the macros' way
    /// to [`record_error`](Self::record_error)).
    #[doc(hidden)]
    pub fn fail(&mut self, failure: &Failure<'_>) {
        if let Some((r, limits)) = self.recording() {
            record_failure(r, limits, &failure.error_type, failure.message());
        }
    }

    /// Records `error` as a returned `Err` is recorded: error status with its
    /// message, `error.type` from its [`ErrorType`], and an `exception`
    /// event. Any error can be passed as `&dyn std::error::Error`
    /// (`error.type` is then its I/O error kind, else `_OTHER`).
    pub fn record_error<E: ErrorType + fmt::Display + ?Sized>(&mut self, error: &E) {
        if let Some((r, limits)) = self.recording() {
            record_failure(r, limits, &error.error_type(), error.to_string());
        }
    }

    /// Sets a content attribute to `value` as JSON, truncated to the
    /// attribute length limit (still valid JSON).
    pub fn set_json<T: serde::Serialize + ?Sized>(&mut self, key: Key<str>, value: &T) {
        if let Some((r, limits)) = self.recording() {
            let text = crate::content::to_json(value, crate::content::value_length_limit());
            r.set_attribute(key.value(text), limits.attributes);
        }
    }

    /// Adds an event.
    pub fn add_event(&mut self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        if let Some((r, limits)) = self.recording() {
            r.add_event(SpanEvent::new(name, clock::now(), attributes), limits);
        }
    }

    /// Runs `f` with this span current: spans started inside become its children.
    #[inline]
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let _entered = self.enter();
        f()
    }

    /// Makes this span current until the returned guard is dropped.
    ///
    /// While entered, the span's record is lent to the thread's context; the
    /// guard gives it back. A guard that is forgotten, or dropped after a
    /// guard entered later, is harmless: the thread's context forgets the
    /// span by its identity when its guard goes, and a span whose guard never
    /// went takes its record back when it ends on the same thread (on another
    /// thread the span is lost and counted as dropped).
    #[inline]
    pub fn enter(&mut self) -> Entered<'_> {
        let (token, mirrored) = match *self.state {
            // Telemetry is off: nothing becomes current.
            State::Off => (None, false),
            _ => self.enter_on(),
        };
        Entered {
            span: self,
            token,
            mirrored,
            _not_send: PhantomData,
        }
    }

    /// [`enter`](Self::enter) when telemetry is on: the entry's token, and
    /// whether the span's mirror was entered in `tracing`.
    #[inline(never)]
    fn enter_on(&mut self) -> (Option<Token>, bool) {
        if matches!(*self.state, State::Unsampled)
            && self.mirror.is_none()
            && self.trace_state.is_none()
            && !mirror::eager()
        {
            // Sampled out: only the identity becomes current.
            return (context::push_context(Owner::Guard, &self.ctx), false);
        }
        self.reclaim();
        let (slot, hot) = match std::mem::replace(&mut *self.state, State::Unsampled) {
            done @ (State::Off | State::Done) => {
                *self.state = done;
                return (None, false);
            }
            State::Unsampled => (Slot::Empty, None),
            State::Recording(raw, hot) => (Slot::Owned(raw), Some(hot)),
            // Not reached: `reclaim` leaves no span lent.
            lent @ State::Lent(..) => {
                *self.state = lent;
                (Slot::Empty, None)
            }
        };
        let mut mirrored = mirror::eager() && self.enter_mirror(&slot);
        let held = Held {
            slot,
            mirror: self.mirror.take(),
            trace_state: (*self.trace_state).clone(),
        };
        let token = match context::push(Owner::Guard, self.ctx, held) {
            Ok(t) => {
                if let Some(hot) = hot {
                    *self.state = State::Lent(t, hot);
                }
                Some(t)
            }
            Err(held) => {
                if mirrored {
                    if let Some(m) = &held.mirror {
                        mirror::exit(m);
                    }
                    mirrored = false;
                }
                self.give_back(held, hot);
                None
            }
        };
        (token, mirrored)
    }

    /// Creates (once) and enters in `tracing` the mirror of this span.
    #[cold]
    fn enter_mirror(&mut self, slot: &Slot) -> bool {
        if self.mirror.is_none() {
            let label = match slot {
                Slot::Owned(raw) => raw.label(),
                _ => mirror::GENERIC,
            };
            *self.mirror = mirror::create(label, self.ctx);
        }
        self.mirror.as_deref().is_some_and(mirror::enter)
    }

    /// Takes back what the thread's context held for this span (`hot` is
    /// what the span records with, when it is recorded).
    fn give_back(&mut self, held: Held, hot: Option<&'static Hot>) {
        if held.mirror.is_some() {
            *self.mirror = held.mirror;
        }
        *self.state = match (held.slot, hot) {
            (Slot::Owned(raw), Some(hot)) => State::Recording(raw, hot),
            _ => State::Unsampled,
        };
    }

    /// Takes the record back from the thread's context after a guard that
    /// never gave it back (forgotten); a record lent on another thread is
    /// out of reach, and the span is then lost.
    #[inline]
    fn reclaim(&mut self) {
        if let State::Lent(token, hot) = *self.state {
            match context::pop(token) {
                Some(held) => self.give_back(held, Some(hot)),
                None => {
                    pipeline::count_lost();
                    *self.state = State::Unsampled;
                }
            }
        }
    }

    /// Applies an OpenTelemetry API status: `Ok` is final, `Error` replaces
    /// `Unset`, `Unset` changes nothing.
    pub(crate) fn set_otel_status(&mut self, status: opentelemetry::trace::Status) {
        use opentelemetry::trace::Status as Otel;
        if let Some(r) = self.raw_mut() {
            match status {
                Otel::Ok => r.status = Status::Ok,
                Otel::Error { description } if r.status != Status::Ok => {
                    r.status = Status::Error(description)
                }
                _ => {}
            }
        }
    }

    /// Adds an event that happened at `time` (nanoseconds since the epoch).
    pub(crate) fn add_event_at(
        &mut self,
        name: Cow<'static, str>,
        time: u64,
        attributes: Vec<KeyValue>,
    ) {
        if let Some((r, limits)) = self.recording() {
            r.add_event(SpanEvent::new(name, time, attributes), limits);
        }
    }

    /// Links this span to `ctx`, with attributes describing the link.
    pub(crate) fn add_link_with(&mut self, ctx: SpanContext, attributes: Vec<KeyValue>) {
        if let Some((r, limits)) = self.recording() {
            r.add_link(ctx, attributes, limits);
        }
    }

    /// Sets the start time the program gives (nanoseconds since the epoch).
    pub(crate) fn set_start_unix(&mut self, nanos: u64) {
        if let Some(r) = self.raw_mut() {
            r.start = nanos;
            r.unix_times = true;
        }
    }

    /// Ends the span now, or at `end` (nanoseconds since the epoch).
    pub(crate) fn end(&mut self, end: Option<u64>) {
        self.reclaim();
        if let State::Recording(raw, _) = &mut *self.state {
            match end {
                Some(nanos) => {
                    if !raw.unix_times {
                        raw.start = clock::to_unix(raw.start);
                        raw.unix_times = true;
                    }
                    raw.end = nanos;
                }
                None if raw.unix_times => {
                    raw.end = clock::to_unix(clock::ticks());
                }
                None => raw.end = clock::ticks(),
            }
        }
        self.finish_ended();
    }

    /// Turns this span into one that several threads may enter at once (a
    /// bridged `tracing` span).
    pub(crate) fn share(mut self) -> SharedSpan {
        let record = match std::mem::replace(&mut *self.state, State::Done) {
            State::Recording(raw, hot) => Some((SharedRecord::new(raw), hot)),
            _ => None,
        };
        SharedSpan {
            ctx: self.ctx,
            record,
        }
    }
}

/// Adds what a failure adds to a span, under `limits`: `error.type`, the
/// `exception` event and the error status.
fn record_failure(r: &mut RawSpan, limits: &Limits, error_type: &str, message: String) {
    r.set_attribute(
        semtel_conventions::error::TYPE.value(error_type.to_string()),
        limits.attributes,
    );
    let event = SpanEvent::new(
        "exception",
        clock::now(),
        vec![
            semtel_conventions::exception::TYPE.value(error_type.to_string()),
            semtel_conventions::exception::MESSAGE.value(message.clone()),
        ],
    );
    r.add_event(event, limits);
    r.status = Status::Error(message.into());
}

impl Drop for ActiveSpan {
    #[inline]
    fn drop(&mut self) {
        // `Off` owns nothing (see `State::Off`): nothing to end or release.
        if !matches!(*self.state, State::Off) {
            self.end_and_release();
        }
    }
}

impl ActiveSpan {
    /// Ends the span if it is recorded and drops what it owns; `drop` only.
    #[inline(never)]
    fn end_and_release(&mut self) {
        if !matches!(*self.state, State::Unsampled | State::Done) {
            self.finish();
        }
        // SAFETY: called once, by `drop`, which is the last use of these
        // fields: each is dropped exactly once and never read again.
        unsafe {
            ManuallyDrop::drop(&mut self.state);
            ManuallyDrop::drop(&mut self.trace_state);
            ManuallyDrop::drop(&mut self.mirror);
        }
    }
}

impl ActiveSpan {
    #[inline(never)]
    fn finish(&mut self) {
        self.reclaim();
        if let State::Recording(raw, _) = &mut *self.state {
            raw.end = if raw.unix_times {
                clock::to_unix(clock::ticks())
            } else {
                clock::ticks()
            };
        }
        self.finish_ended();
    }

    /// Records the span, whose end time is set.
    fn finish_ended(&mut self) {
        if let State::Recording(mut raw, hot) = std::mem::replace(&mut *self.state, State::Done) {
            if std::thread::panicking() && !matches!(raw.status, Status::Error(_)) {
                raw.status = Status::Error("panicked".into());
            }
            pipeline::submit(raw, hot);
        }
    }
}

/// Keeps a span current; makes it not current when dropped (also on panic).
pub struct Entered<'a> {
    span: &'a mut ActiveSpan,
    token: Option<Token>,
    /// Whether the span's mirror was entered in `tracing` with it.
    mirrored: bool,
    // The token names an entry of this thread's context.
    _not_send: PhantomData<*const ()>,
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(token) = self.token {
            self.span.exit(token, self.mirrored);
        }
    }
}

impl ActiveSpan {
    /// Removes the entry `token` names and gives this span back what it
    /// held (`mirrored`: the guard entered the span's mirror in `tracing`).
    /// The guard's parts are passed by value, so that the guard itself need
    /// not be in memory.
    #[inline(never)]
    fn exit(&mut self, token: Token, mirrored: bool) {
        let hot = match *self.state {
            State::Lent(lent, hot) if lent == token => hot,
            // The span went on without this guard (a later `enter` took
            // its record back): nothing here is the span's any more.
            State::Lent(..) | State::Recording(..) => {
                drop(context::pop(token));
                return;
            }
            // Sampled out (or off): the entry holds at most the mirror.
            _ => {
                if let Some(Some(m)) = context::pop_mirror(token) {
                    if mirrored {
                        mirror::exit(&m);
                    }
                    *self.mirror = Some(m);
                }
                return;
            }
        };
        match context::pop(token) {
            Some(held) => {
                if mirrored {
                    if let Some(m) = &held.mirror {
                        mirror::exit(m);
                    }
                }
                self.give_back(held, Some(hot));
            }
            None => {
                pipeline::count_lost();
                *self.state = State::Unsampled;
            }
        }
    }
}

/// A span that several threads may enter at once: a `tracing` span bridged
/// to semtel, whose record each thread writes under a lock. It ends when
/// dropped.
pub(crate) struct SharedSpan {
    ctx: SpanContext,
    record: Option<(Arc<SharedRecord>, &'static Hot)>,
}

impl SharedSpan {
    /// The span's identity.
    pub fn context(&self) -> SpanContext {
        self.ctx
    }

    /// What an entry of this span in a thread's context holds.
    pub fn slot(&self) -> Slot {
        match &self.record {
            Some((r, _)) => Slot::Shared(Arc::clone(r)),
            None => Slot::Empty,
        }
    }

    /// Runs `f` on the record, if the span is recorded.
    pub fn with<R>(&self, f: impl FnOnce(&mut RawSpan) -> R) -> Option<R> {
        self.record.as_ref().and_then(|(r, _)| r.with(f))
    }

    /// Moves the span into another trace, under `parent` (a remote context
    /// adopted after the span started, before it has children).
    pub fn set_parent(&mut self, parent: SpanContext) {
        if !parent.is_valid() {
            return;
        }
        self.ctx.trace_id = parent.trace_id;
        let state = trace_state::of(parent);
        self.with(|r| {
            r.trace_id = parent.trace_id;
            r.parent_span_id = parent.span_id;
            r.parent_remote = parent.remote;
            r.trace_state = state;
        });
    }
}

impl Drop for SharedSpan {
    fn drop(&mut self) {
        if let Some((record, hot)) = self.record.take() {
            if let Some(mut raw) = record.take() {
                raw.end = clock::ticks();
                pipeline::submit(raw, hot);
            }
        }
    }
}

/// The span the calling code runs in, for setting what is known only later.
///
/// ```
/// semtel::current_span().set(semtel::conventions::gen_ai::usage::OUTPUT_TOKENS, 180);
/// ```
pub fn current_span() -> CurrentSpan {
    CurrentSpan {
        _not_send: std::marker::PhantomData,
    }
}

/// A handle on the current span; every call acts on the span current at that moment.
pub struct CurrentSpan {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl CurrentSpan {
    /// Sets an attribute on the current span (checked against its key's type).
    pub fn set<T: ?Sized, V: IntoValue<T>>(&self, key: Key<T>, value: V) {
        // The value is converted before the span's record is touched.
        let kv = key.value(value);
        let limit = limits::current().attributes;
        context::with_record(|r| r.set_attribute(kv, limit));
    }

    /// Adds an event to the current span.
    pub fn add_event(&self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        let event = SpanEvent::new(name, clock::now(), attributes);
        let limits = limits::current();
        context::with_record(|r| r.add_event(event, &limits));
    }

    /// Marks the current span failed.
    pub fn set_error(&self, description: impl Into<Cow<'static, str>>) {
        let status = Status::Error(description.into());
        context::with_record(|r| r.status = status);
    }

    /// Records `error` on the current span as a returned `Err` is recorded:
    /// error status with its message, `error.type` from its [`ErrorType`],
    /// and an `exception` event. Any error can be passed as
    /// `&dyn std::error::Error` (`error.type` is then its I/O error kind,
    /// else `_OTHER`).
    ///
    /// ```
    /// # let capture = semtel::testing::capture();
    /// #[semtel::traced_task]
    /// fn fetch() {
    ///     if let Err(e) = std::fs::read("/no/such/file") {
    ///         semtel::current_span().record_error(&e); // error.type = not_found
    ///     }
    /// }
    /// fetch();
    /// # assert_eq!(capture.span("fetch").attribute("error.type").unwrap().as_str(), "not_found");
    /// ```
    pub fn record_error<E: ErrorType + fmt::Display + ?Sized>(&self, error: &E) {
        if !self.is_recording() {
            return;
        }
        // The error's own code runs before the span's record is touched.
        let (error_type, message) = (error.error_type(), error.to_string());
        let limits = limits::current();
        context::with_record(|r| record_failure(r, &limits, &error_type, message));
    }

    /// Whether the current span is recorded: compute an expensive value only
    /// when it is.
    pub fn is_recording(&self) -> bool {
        context::is_recording()
    }

    /// The current span's attributes whose keys pass `keep`.
    pub fn attributes_where(&self, keep: impl Fn(&str) -> bool) -> Vec<KeyValue> {
        // Copied out first: `keep` runs with no record held.
        let mut all = context::with_record(|r| r.attributes.to_vec()).unwrap_or_default();
        all.retain(|kv| keep(kv.key.as_str()));
        all
    }

    /// The current span's identity.
    pub fn context(&self) -> SpanContext {
        context::current()
    }
}
