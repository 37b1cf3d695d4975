//! A span in progress: started by the macros, current while its code runs,
//! recorded when it ends (also when the code panics).

use super::context::{self, Frame, SpanContext};
use super::id;
use super::pipeline::{self, Hot};
use super::record::{RawSpan, SpanEvent, SpanLink, Status, set_attr};
use crate::clock;
use crate::outcome::Failure;
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanId;
use semtel_conventions::{IntoValue, Key, SpanKind};
use std::borrow::Cow;

/// Where a span comes from: fixed per call site, so it costs nothing per call.
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
    Off,
    Unsampled(Frame),
    Recording(Recording),
}

struct Recording {
    frame: Frame,
    raw: Box<RawSpan>,
    hot: &'static Hot,
}

// SAFETY: the frame's record pointer points into the span's own boxed
// record, which moves with the span; it is only followed on the thread the
// span is entered on, while entered.
unsafe impl Send for State {}
unsafe impl Sync for State {}

/// A span in progress. It ends when dropped; a panic while it is current
/// marks it failed.
pub struct ActiveSpan {
    state: State,
}

impl ActiveSpan {
    /// Starts a span. When telemetry is off this costs one atomic load.
    #[inline]
    pub fn start(site: &'static Site, parent: Parent) -> ActiveSpan {
        match pipeline::hot() {
            None => ActiveSpan { state: State::Off },
            Some(hot) => {
                Self::start_with(hot, Cow::Borrowed(site.name), site.kind, site.scope, parent)
            }
        }
    }

    /// Starts a span from its parts (for spans made by other instrumentation).
    pub fn start_parts(
        name: Cow<'static, str>,
        kind: SpanKind,
        scope: &'static str,
        parent: Parent,
    ) -> ActiveSpan {
        match pipeline::hot() {
            None => ActiveSpan { state: State::Off },
            Some(hot) => Self::start_with(hot, name, kind, scope, parent),
        }
    }

    #[inline(never)]
    fn start_with(
        hot: &'static Hot,
        name: Cow<'static, str>,
        kind: SpanKind,
        scope: &'static str,
        parent: Parent,
    ) -> ActiveSpan {
        let parent = match parent {
            Parent::Current => {
                let cur = context::current().ctx;
                if cur.is_valid() {
                    cur
                } else {
                    hot.process_parent
                }
            }
            Parent::Root => SpanContext::NONE,
            Parent::Explicit(ctx) => ctx,
        };
        let has_parent = parent.is_valid();
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
                state: State::Unsampled(Frame {
                    ctx,
                    record: std::ptr::null_mut(),
                }),
            };
        }
        let mut raw = pipeline::take_record();
        raw.trace_id = trace_id;
        raw.span_id = ctx.span_id;
        raw.parent_span_id = if has_parent {
            parent.span_id
        } else {
            SpanId::INVALID
        };
        raw.parent_remote = parent.remote;
        raw.kind = kind;
        raw.name = name;
        raw.scope = scope;
        raw.start = clock::ticks();
        let record: *mut RawSpan = &mut *raw;
        ActiveSpan {
            state: State::Recording(Recording {
                frame: Frame { ctx, record },
                raw,
                hot,
            }),
        }
    }

    /// The span's identity ([`SpanContext::NONE`] when telemetry is off).
    #[inline]
    pub fn context(&self) -> SpanContext {
        match &self.state {
            State::Off => SpanContext::NONE,
            State::Unsampled(f) => f.ctx,
            State::Recording(r) => r.frame.ctx,
        }
    }

    /// Whether the span is being recorded (sampled, telemetry on).
    #[inline]
    pub fn is_recording(&self) -> bool {
        matches!(self.state, State::Recording(_))
    }

    #[inline]
    fn raw_mut(&mut self) -> Option<&mut RawSpan> {
        match &mut self.state {
            State::Recording(r) => Some(&mut *r.raw),
            _ => None,
        }
    }

    /// Sets an attribute (checked against its key's type).
    pub fn set<T: ?Sized, V: IntoValue<T>>(&mut self, key: Key<T>, value: V) {
        if let Some(r) = self.raw_mut() {
            set_attr(&mut r.attributes, key.value(value));
        }
    }

    /// Sets attributes (later values of a key replace earlier ones).
    #[inline]
    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        if let State::Recording(r) = &mut self.state {
            let limit = r.hot.max_attributes;
            let attrs = &mut r.raw.attributes;
            if attrs.is_empty() {
                attrs.extend(attributes);
            } else {
                for kv in attributes {
                    set_attr(attrs, kv);
                }
            }
            attrs.truncate(limit);
        }
    }

    /// Links this span to another (a follows-from relation).
    pub fn add_link(&mut self, ctx: SpanContext) {
        if let Some(r) = self.raw_mut() {
            if ctx.is_valid() {
                r.links.push(SpanLink {
                    trace_id: ctx.trace_id,
                    span_id: ctx.span_id,
                    attributes: Vec::new(),
                });
            }
        }
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

    /// Marks the span failed with `description`.
    pub fn set_error(&mut self, description: impl Into<Cow<'static, str>>) {
        if let Some(r) = self.raw_mut() {
            r.status = Status::Error(description.into());
        }
    }

    /// Records a failure the OpenTelemetry way: error status with the
    /// message, `error.type`, and an `exception` event.
    pub fn fail(&mut self, failure: &Failure<'_>) {
        if let Some(r) = self.raw_mut() {
            let message = failure.message();
            set_attr(
                &mut r.attributes,
                semtel_conventions::error::TYPE.value(failure.error_type.to_string()),
            );
            r.events.push(SpanEvent {
                name: "exception".into(),
                time: clock::now(),
                attributes: vec![
                    semtel_conventions::exception::TYPE.value(failure.error_type.to_string()),
                    semtel_conventions::exception::MESSAGE.value(message.clone()),
                ],
            });
            r.status = Status::Error(message.into());
        }
    }

    /// Sets a content attribute to `value` as JSON, truncated to the
    /// attribute length limit (still valid JSON).
    pub fn set_json<T: serde::Serialize + ?Sized>(&mut self, key: Key<str>, value: &T) {
        if let Some(r) = self.raw_mut() {
            let text = crate::content::to_json(value, crate::content::value_length_limit());
            set_attr(&mut r.attributes, key.value(text));
        }
    }

    /// Adds an event.
    pub fn add_event(&mut self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        if let Some(r) = self.raw_mut() {
            r.events.push(SpanEvent {
                name: name.into(),
                time: clock::now(),
                attributes,
            });
        }
    }

    /// Runs `f` with this span current: spans started inside become its children.
    #[inline]
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let _entered = self.enter();
        f()
    }

    /// This span's frame, to make it current (`None` when telemetry is off).
    #[inline]
    pub(crate) fn frame(&self) -> Option<*const Frame> {
        match &self.state {
            State::Off => None,
            State::Unsampled(f) => Some(f),
            State::Recording(r) => Some(&r.frame),
        }
    }

    /// Makes this span current until the returned guard is dropped.
    #[inline]
    pub fn enter(&mut self) -> Entered<'_> {
        Entered {
            previous: self.frame().map(context::enter),
            _span: std::marker::PhantomData,
        }
    }
}

impl Drop for ActiveSpan {
    #[inline]
    fn drop(&mut self) {
        if let State::Recording(_) = self.state {
            self.finish();
        }
    }
}

impl ActiveSpan {
    #[inline(never)]
    fn finish(&mut self) {
        if let State::Recording(r) = std::mem::replace(&mut self.state, State::Off) {
            let Recording { mut raw, hot, .. } = r;
            raw.end = clock::ticks();
            if std::thread::panicking() && !matches!(raw.status, Status::Error(_)) {
                raw.status = Status::Error("panicked".into());
            }
            pipeline::submit(raw, hot);
        }
    }
}

/// Keeps a span current; restores the previous span when dropped (also on panic).
pub struct Entered<'a> {
    previous: Option<*const Frame>,
    _span: std::marker::PhantomData<&'a mut ActiveSpan>,
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(p) = self.previous {
            context::restore(p);
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
    fn with(&self, f: impl FnOnce(&mut RawSpan)) {
        let cur = context::current();
        // SAFETY: a non-null `record` points into the span guard that made
        // itself current on this thread; it stays alive and in place until that
        // guard's `Entered` restores the previous context, and nothing else
        // touches the record while the instrumented code runs.
        if let Some(r) = unsafe { cur.record.as_mut() } {
            f(r);
        }
    }

    /// Sets an attribute on the current span (checked against its key's type).
    pub fn set<T: ?Sized, V: IntoValue<T>>(&self, key: Key<T>, value: V) {
        self.with(|r| set_attr(&mut r.attributes, key.value(value)));
    }

    /// Adds an event to the current span.
    pub fn add_event(&self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        self.with(|r| {
            r.events.push(SpanEvent {
                name: name.into(),
                time: clock::now(),
                attributes,
            })
        });
    }

    /// Marks the current span failed.
    pub fn set_error(&self, description: impl Into<Cow<'static, str>>) {
        self.with(|r| r.status = Status::Error(description.into()));
    }

    /// The current span's attributes whose keys pass `keep`.
    pub fn attributes_where(&self, keep: impl Fn(&str) -> bool) -> Vec<KeyValue> {
        let mut out = Vec::new();
        self.with(|r| {
            out = r
                .attributes
                .iter()
                .filter(|kv| keep(kv.key.as_str()))
                .cloned()
                .collect()
        });
        out
    }

    /// The current span's identity.
    pub fn context(&self) -> SpanContext {
        context::current().ctx
    }
}
