//! The OpenTelemetry tracing API served by semtel: spans started through
//! `opentelemetry::global::tracer(..)` go through semtel's pipeline, with
//! its sampler, limits and exporters, and hang in the same trace as
//! semtel's spans.
//!
//! Starting a span takes a parent from the context handed in; when that
//! context holds no span, or holds one made current before semtel's current
//! span, the parent is semtel's current span. So a library that only uses
//! the OpenTelemetry API nests under the semtel span around it without
//! semtel attaching an OpenTelemetry `Context` for every span; and a semtel
//! span started inside a context attached through the API is its child.

use crate::trace::context;
use crate::trace::{ActiveSpan, Parent, SpanContext};
use opentelemetry::trace::{SpanBuilder, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use semtel_conventions::SpanKind;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

static USED: AtomicBool = AtomicBool::new(false);

/// Whether the OpenTelemetry API has made spans or contexts through semtel
/// (until then semtel need not look at its current context).
#[inline]
pub(crate) fn used() -> bool {
    USED.load(Ordering::Relaxed)
}

/// Notes that the OpenTelemetry API is in use.
pub(crate) fn mark_used() {
    if !used() {
        USED.store(true, Ordering::Relaxed);
    }
}

/// The span of an OpenTelemetry context, if it holds a valid one.
pub(crate) fn span_of(cx: &Context) -> Option<SpanContext> {
    if !cx.has_active_span() {
        return None;
    }
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| SpanContext {
        trace_id: sc.trace_id(),
        span_id: sc.span_id(),
        sampled: sc.is_sampled(),
        remote: sc.is_remote(),
    })
}

/// The span of the OpenTelemetry API's current context, if any.
pub(crate) fn current() -> Option<SpanContext> {
    Context::map_current(span_of)
}

/// The context a span started with `cx` hangs under: semtel's current span
/// unless `cx` names a span that is newer or is not the current context.
pub(crate) fn parent_for(cx: &Context) -> SpanContext {
    match span_of(cx) {
        None => context::innermost(current()),
        Some(given) => {
            let cur = current();
            if cur.is_some_and(|c| c.span_id == given.span_id) {
                context::innermost(cur)
            } else {
                given
            }
        }
    }
}

/// An OpenTelemetry span context for a semtel one.
pub(crate) fn to_otel(ctx: SpanContext, state: TraceState) -> opentelemetry::trace::SpanContext {
    let flags = if ctx.sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    opentelemetry::trace::SpanContext::new(ctx.trace_id, ctx.span_id, flags, ctx.remote, state)
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// semtel as the OpenTelemetry API's tracer provider.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracerProvider {
    _private: (),
}

impl TracerProvider {
    /// The provider `init` installs as the global one.
    pub fn new() -> Self {
        TracerProvider::default()
    }
}

impl opentelemetry::trace::TracerProvider for TracerProvider {
    type Tracer = Tracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> Tracer {
        Tracer {
            scope: intern_scope(scope.name()),
        }
    }
}

/// Scope names kept for the process's life: one per distinct tracer name.
const MAX_SCOPES: usize = 256;

fn intern_scope(name: &str) -> &'static str {
    static SCOPES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut scopes = SCOPES.lock().unwrap_or_else(PoisonError::into_inner);
    let scopes = scopes.get_or_insert_with(HashSet::new);
    if let Some(s) = scopes.get(name) {
        return s;
    }
    if scopes.len() >= MAX_SCOPES {
        return "opentelemetry";
    }
    let s: &'static str = Box::leak(name.to_string().into_boxed_str());
    scopes.insert(s);
    s
}

/// A tracer of semtel's provider.
#[derive(Clone, Debug)]
pub struct Tracer {
    scope: &'static str,
}

fn kind(k: Option<opentelemetry::trace::SpanKind>) -> SpanKind {
    use opentelemetry::trace::SpanKind as K;
    match k {
        Some(K::Client) => SpanKind::Client,
        Some(K::Server) => SpanKind::Server,
        Some(K::Producer) => SpanKind::Producer,
        Some(K::Consumer) => SpanKind::Consumer,
        Some(K::Internal) | None => SpanKind::Internal,
    }
}

impl opentelemetry::trace::Tracer for Tracer {
    type Span = Span;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Span {
        mark_used();
        let parent = parent_for(parent_cx);
        let parent = if parent.is_valid() {
            Parent::Explicit(parent)
        } else {
            Parent::Current
        };
        let mut span =
            ActiveSpan::start_parts(builder.name, kind(builder.span_kind), self.scope, parent);
        if span.is_recording() {
            if let Some(t) = builder.start_time {
                span.set_start_unix(nanos(t));
            }
            if let Some(attrs) = builder.attributes {
                span.set_attributes(attrs);
            }
            for link in builder.links.into_iter().flatten() {
                let sc = &link.span_context;
                let ctx = SpanContext {
                    trace_id: sc.trace_id(),
                    span_id: sc.span_id(),
                    sampled: sc.is_sampled(),
                    remote: sc.is_remote(),
                };
                span.add_link_with(ctx, link.attributes);
            }
            for e in builder.events.into_iter().flatten() {
                span.add_event_at(e.name, nanos(e.timestamp), e.attributes);
            }
        }
        let state = match span.trace_state() {
            _ if parent_cx.has_active_span() => {
                parent_cx.span().span_context().trace_state().clone()
            }
            Some(carried) => carried.parse().unwrap_or_default(),
            None => TraceState::default(),
        };
        Span {
            otel_ctx: to_otel(span.context(), state),
            span,
        }
    }
}

/// A span started through the OpenTelemetry API, recorded by semtel.
pub struct Span {
    span: ActiveSpan,
    otel_ctx: opentelemetry::trace::SpanContext,
}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Span")
            .field("context", &self.otel_ctx)
            .finish()
    }
}

impl opentelemetry::trace::Span for Span {
    fn add_event<T>(&mut self, name: T, attributes: Vec<KeyValue>)
    where
        T: Into<Cow<'static, str>>,
    {
        self.span
            .add_event_at(name.into(), crate::clock::now(), attributes);
    }

    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        self.span
            .add_event_at(name.into(), nanos(timestamp), attributes);
    }

    fn span_context(&self) -> &opentelemetry::trace::SpanContext {
        &self.otel_ctx
    }

    fn is_recording(&self) -> bool {
        self.span.is_recording()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        self.span.set_attributes([attribute]);
    }

    fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        self.span.set_attributes(attributes);
    }

    fn set_status(&mut self, status: opentelemetry::trace::Status) {
        self.span.set_otel_status(status);
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.span.set_name(new_name);
    }

    fn add_link(
        &mut self,
        span_context: opentelemetry::trace::SpanContext,
        attributes: Vec<KeyValue>,
    ) {
        let ctx = SpanContext {
            trace_id: span_context.trace_id(),
            span_id: span_context.span_id(),
            sampled: span_context.is_sampled(),
            remote: span_context.is_remote(),
        };
        self.span.add_link_with(ctx, attributes);
    }

    fn end(&mut self) {
        self.span.end(None);
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.span.end(Some(nanos(timestamp)));
    }
}
