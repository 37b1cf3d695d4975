//! The `tracing` bridge. Spans that libraries create with `tracing`
//! (`#[tracing::instrument]`, `info_span!`) become semtel spans in the same
//! trace as the semtel spans around them; events become log records that
//! carry `trace_id` and `span_id`, and events of the span they happen in;
//! and inside a semtel span `tracing::Span::current()` refers to it (see
//! [`mirror`]).
//!
//! The fields the `tracing` ecosystem uses for OpenTelemetry behave as it
//! documents them: `otel.name` renames the span, `otel.kind` sets its kind,
//! `otel.status_code` and `otel.status_message` its status; an `ERROR`
//! event fails the span it happens in, and an event with an `error` field
//! and no message (what `#[instrument(err)]` emits) becomes an `exception`
//! event with the error as the span's status message.

pub(crate) mod fields;
pub(crate) mod mirror;
mod subscriber;

pub use subscriber::SemtelFilter;
pub(crate) use subscriber::install;

use crate::trace::context::{self, Held, Owner, Slot};
use crate::trace::{ActiveSpan, Parent, SharedSpan, SpanContext, SpanEvent, Status};
use fields::{EventFields, SpanFields};
use opentelemetry::{KeyValue, Value};
use semtel_conventions::SpanKind;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Targets whose events and spans never become telemetry: the exporters'
/// own transport libraries (they would feed back into themselves).
const EXCLUDED: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "reqwest",
    "rustls",
    "semtel",
];

/// Every crate of the OpenTelemetry family (`opentelemetry_sdk`,
/// `opentelemetry-otlp`, ...: their internal logs use the package name as
/// the target) is part of the export path too.
const EXCLUDED_FAMILY: &str = "opentelemetry";

fn excluded(target: &str) -> bool {
    let module_of = |t: &str| {
        target
            .strip_prefix(t)
            .is_some_and(|r| r.is_empty() || r.starts_with("::"))
    };
    EXCLUDED.iter().any(|t| module_of(t))
        || target
            .strip_prefix(EXCLUDED_FAMILY)
            .is_some_and(|r| r.is_empty() || r.starts_with(['-', '_', ':']))
}

static EVENTS_TO_SPANS: AtomicBool = AtomicBool::new(true);
static LAYER_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether `tracing` events are also recorded as events of their span.
pub(crate) fn set_events_to_spans(on: bool) {
    EVENTS_TO_SPANS.store(on, Ordering::Relaxed);
}

/// Whether semtel's layer runs in some subscriber of this process.
pub(crate) fn layer_registered() -> bool {
    LAYER_REGISTERED.load(Ordering::Relaxed)
}

/// The `tracing` layer, for a program that sets up its own subscriber:
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(semtel::tracing_layer());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!("an event, correlated with the semtel span it happens in");
/// });
/// ```
///
/// `tracing` spans become semtel spans and events become correlated log
/// records (and span events), filtered by the `RUST_LOG` directives
/// (`EnvFilter` syntax; default `info`); the libraries semtel exports with
/// never show up. Inside semtel spans, `tracing::Span::current()` and the
/// other layers of the subscriber (a `fmt` layer's log lines) see the semtel
/// span: each semtel span entered is mirrored by a `tracing` span, which
/// costs about what a `tracing` span costs.
pub fn tracing_layer<S>() -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let filter = SemtelFilter::from_env(&|k| std::env::var(k).ok(), &mut |w| {
        crate::warn(format_args!("{w}"))
    });
    SemtelLayer { owned: false }.with_filter(filter)
}

/// See [`tracing_layer`].
pub struct SemtelLayer {
    /// Whether semtel's own subscriber carries this layer.
    owned: bool,
}

/// What semtel keeps of a `tracing` span.
enum Bridge {
    /// A span of the program's, recorded as a semtel span.
    Span(SharedSpan),
    /// A mirror: it stands for this semtel span.
    Mirror(SpanContext),
}

impl Bridge {
    fn context(&self) -> SpanContext {
        match self {
            Bridge::Span(s) => s.context(),
            Bridge::Mirror(c) => *c,
        }
    }
}

fn bridge_context<S>(id: &Id, ctx: &Context<'_, S>) -> Option<SpanContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ctx.span(id)?
        .extensions()
        .get::<Bridge>()
        .map(Bridge::context)
}

/// Where a `tracing` span's semtel span hangs.
fn parent<S>(attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Parent
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if attrs.is_root() {
        return Parent::Root;
    }
    attrs
        .parent()
        .and_then(|p| bridge_context(p, ctx))
        .map_or(Parent::Current, Parent::Explicit)
}

/// Applies what a span's fields say to its record.
fn apply(fields: SpanFields, r: &mut crate::trace::RawSpan, limit: usize) {
    if let Some(status) = fields.status(&r.status) {
        r.status = status;
    }
    if let Some(name) = fields.name {
        r.name = name;
    }
    if let Some(kind) = fields.kind {
        r.kind = kind;
    }
    r.set_attributes(fields.attributes, limit);
}

fn attribute_limit() -> usize {
    crate::trace::limits::current().attributes
}

impl<S> Layer<S> for SemtelLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, _: &Dispatch) {
        LAYER_REGISTERED.store(true, Ordering::Relaxed);
        if !self.owned {
            mirror::set_eager();
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        let bridge = if mirror::is_mirror(meta) {
            Bridge::Mirror(mirror::take_creating().unwrap_or_else(context::current))
        } else {
            let mut fields = SpanFields::default();
            attrs.record(&mut fields);
            let name = fields.name.take().unwrap_or(Cow::Borrowed(meta.name()));
            let kind = fields.kind.unwrap_or(SpanKind::Internal);
            let span = ActiveSpan::start_parts(name, kind, meta.target(), parent(attrs, &ctx));
            let span = span.share();
            span.with(|r| apply(fields, r, attribute_limit()));
            Bridge::Span(span)
        };
        if let Some(s) = ctx.span(id) {
            s.extensions_mut().insert(bridge);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(s) = ctx.span(id) else { return };
        if let Some(Bridge::Span(b)) = s.extensions().get::<Bridge>() {
            let mut fields = SpanFields::default();
            values.record(&mut fields);
            b.with(|r| apply(fields, r, attribute_limit()));
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        let Some(linked) = bridge_context(follows, &ctx) else {
            return;
        };
        let Some(s) = ctx.span(id) else { return };
        if let Some(Bridge::Span(b)) = s.extensions().get::<Bridge>() {
            let limits = crate::trace::limits::current();
            b.with(|r| r.add_link(linked, Vec::new(), &limits));
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if mirror::mirroring() {
            return;
        }
        let Some(s) = ctx.span(id) else { return };
        let held = match s.extensions().get::<Bridge>() {
            Some(Bridge::Span(b)) => (b.context(), b.slot()),
            Some(Bridge::Mirror(c)) => (*c, Slot::Empty),
            None => return,
        };
        // At the depth bound the span is not made current; its exit then
        // finds nothing to remove, which is harmless.
        let _ = context::push(Owner::Tracing(id.into_u64()), held.0, Held::slot(held.1));
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        if mirror::mirroring() {
            return;
        }
        drop(context::pop_tracing(id.into_u64()));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(s) = ctx.span(&id) {
            // Dropping a bridged span ends and records it.
            let bridge = s.extensions_mut().remove::<Bridge>();
            drop(bridge);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = EventFields::default();
        event.record(&mut fields);
        // The span the event belongs to: its explicit parent, else the
        // thread's current span.
        let explicit = event.parent().and_then(|p| ctx.span(p));
        let span_ctx = match &explicit {
            Some(s) => s
                .extensions()
                .get::<Bridge>()
                .map_or(SpanContext::NONE, Bridge::context),
            None => context::current(),
        };
        crate::logs::emit(meta, &fields, span_ctx);
        if !EVENTS_TO_SPANS.load(Ordering::Relaxed) || !span_ctx.is_valid() {
            return;
        }
        let (event, status) = span_event(meta, fields);
        let limits = crate::trace::limits::current();
        let write = move |r: &mut crate::trace::RawSpan| {
            if let Some(s) = status {
                if !matches!(r.status, Status::Error(_)) {
                    r.status = s;
                }
            }
            r.add_event(event, &limits);
        };
        match explicit {
            Some(s) => {
                if let Some(Bridge::Span(b)) = s.extensions().get::<Bridge>() {
                    b.with(write);
                }
            }
            None => {
                context::with_record(write);
            }
        }
    }
}

/// The span event an event becomes, and the status it gives its span.
fn span_event(
    meta: &'static tracing::Metadata<'static>,
    fields: EventFields,
) -> (SpanEvent, Option<Status>) {
    let mut attributes = fields.key_values();
    attributes.push(KeyValue::new("level", meta.level().as_str()));
    attributes.push(KeyValue::new("target", meta.target()));
    let (name, status): (Cow<'static, str>, _) = match (fields.message, fields.error) {
        (None, Some(error)) => {
            attributes.push(KeyValue::new(
                "exception.message",
                Value::from(error.clone()),
            ));
            ("exception".into(), Some(Status::Error(error.into())))
        }
        (message, _) => {
            let status = (*meta.level() == Level::ERROR)
                .then(|| Status::Error(message.clone().unwrap_or_default().into()));
            (
                message.map_or(Cow::Borrowed(meta.name()), Cow::Owned),
                status,
            )
        }
    };
    (
        SpanEvent::new(name, crate::clock::now(), attributes),
        status,
    )
}

/// Ways to reach the semtel span of a `tracing` span: its context, and a
/// parent adopted from elsewhere (an incoming request's `traceparent`).
///
/// ```
/// use semtel::TracingSpanExt;
///
/// let span = tracing::info_span!("request");
/// if let Ok(remote) = semtel::propagation::parse_traceparent(
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
/// ) {
///     span.set_parent(remote);
/// }
/// let _ = span.semtel_context();
/// ```
pub trait TracingSpanExt {
    /// Makes the span a child of `parent` (typically a remote context
    /// extracted from a request) — before it has children, as a server's
    /// request span does in its `make_span_with` — and returns whether the
    /// span is bridged to semtel.
    fn set_parent(&self, parent: SpanContext) -> bool;

    /// The semtel context of the span ([`SpanContext::NONE`] when it is
    /// disabled or not bridged).
    fn semtel_context(&self) -> SpanContext;
}

impl TracingSpanExt for tracing::Span {
    fn set_parent(&self, parent: SpanContext) -> bool {
        with_bridge(self, |b| match b {
            Bridge::Span(s) => {
                s.set_parent(parent);
                true
            }
            Bridge::Mirror(_) => false,
        })
        .unwrap_or(false)
    }

    fn semtel_context(&self) -> SpanContext {
        with_bridge(self, |b| b.context()).unwrap_or(SpanContext::NONE)
    }
}

/// Runs `f` on the bridge of `span`, when its subscriber is a
/// `tracing_subscriber` registry that carries semtel's layer.
fn with_bridge<R>(span: &tracing::Span, f: impl FnOnce(&mut Bridge) -> R) -> Option<R> {
    span.with_subscriber(|(id, d)| {
        let registry = d.downcast_ref::<tracing_subscriber::Registry>()?;
        let data = registry.span(id)?;
        let mut ext = data.extensions_mut();
        ext.get_mut::<Bridge>().map(f)
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::excluded;

    #[test]
    fn the_export_path_s_targets_are_excluded_and_the_program_s_are_not() {
        for t in [
            "h2",
            "h2::proto::streams",
            "hyper_util::client",
            "tonic::transport",
            "opentelemetry",
            "opentelemetry_sdk",
            "opentelemetry-otlp",
            "opentelemetry_sdk::trace",
        ] {
            assert!(excluded(t), "{t}");
        }
        for t in [
            "h2o",
            "tower_http::trace",
            "reqwest_tracing",
            "app::hyper",
            "opentelemetryish",
        ] {
            assert!(!excluded(t), "{t}");
        }
    }
}
