//! Which `tracing` spans and events semtel takes ([`SemtelFilter`]), and the
//! subscriber semtel installs when the program asks it to.
//!
//! semtel's subscriber is a `tracing_subscriber` registry with semtel's
//! layer, and one difference: asked for the current span inside a semtel
//! span, it answers with that span's mirror (made then, once), so that
//! `tracing::Span::current()` refers to the semtel span at no cost to
//! semtel spans nobody asks about.

use super::{SemtelLayer, excluded, mirror};
use crate::trace::context;
use std::any::TypeId;
use std::sync::OnceLock;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_core::span::Current;
use tracing_subscriber::filter::{EnvFilter, Filtered, LevelFilter};
use tracing_subscriber::layer::{Context, Filter, Layer, Layered, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

/// Which `tracing` spans and events semtel turns into telemetry: those the
/// `RUST_LOG` directives enable (`EnvFilter` syntax, default `info`), never
/// those of the libraries semtel exports with, and always semtel's own
/// mirrors.
pub struct SemtelFilter {
    env: EnvFilter,
}

impl SemtelFilter {
    /// The filter the `RUST_LOG` value that `get` returns describes; an
    /// invalid value is reported through `warn` and the default applies.
    pub(crate) fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        warn: &mut dyn FnMut(String),
    ) -> Self {
        let builder = EnvFilter::builder().with_default_directive(LevelFilter::INFO.into());
        let env = match get("RUST_LOG") {
            None => builder.parse_lossy(""),
            Some(v) => match builder.parse(&v) {
                Ok(f) => f,
                Err(e) => {
                    warn(format!(
                        "RUST_LOG={v:?} is not a valid filter ({e}); using the default `info`"
                    ));
                    EnvFilter::builder()
                        .with_default_directive(LevelFilter::INFO.into())
                        .parse_lossy("")
                }
            },
        };
        SemtelFilter { env }
    }
}

impl<S> Filter<S> for SemtelFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if mirror::is_mirror(meta) {
            return true;
        }
        !excluded(meta.target()) && Filter::<S>::enabled(&self.env, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if mirror::is_mirror(meta) {
            Interest::always()
        } else if excluded(meta.target()) {
            Interest::never()
        } else {
            Filter::<S>::callsite_enabled(&self.env, meta)
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Mirrors are INFO spans, whatever the directives say.
        Filter::<S>::max_level_hint(&self.env).map(|l| l.max(LevelFilter::INFO))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        Filter::<S>::on_new_span(&self.env, attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        Filter::<S>::on_record(&self.env, id, values, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        Filter::<S>::on_enter(&self.env, id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        Filter::<S>::on_exit(&self.env, id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        Filter::<S>::on_close(&self.env, id, ctx);
    }
}

type Inner = Layered<Filtered<SemtelLayer, SemtelFilter, Registry>, Registry>;

/// The subscriber semtel installs: see the module's documentation.
struct SemtelSubscriber {
    inner: Inner,
}

/// The dispatcher of semtel's subscriber, once installed.
static OWN: OnceLock<Dispatch> = OnceLock::new();

/// Installs semtel's subscriber as the global default, once per process.
/// Fails (with what the program should do instead) when the program set
/// a global subscriber of its own first.
pub(crate) fn install(filter: SemtelFilter) -> Result<(), String> {
    if OWN.get().is_some() {
        return Ok(());
    }
    let inner =
        tracing_subscriber::registry().with(SemtelLayer { owned: true }.with_filter(filter));
    let dispatch = Dispatch::new(SemtelSubscriber { inner });
    if tracing::dispatcher::set_global_default(dispatch.clone()).is_err() {
        return Err(if super::layer_registered() {
            String::new()
        } else {
            "the program set a global tracing subscriber already; add \
             semtel::tracing_layer() to it for tracing spans and logs"
                .into()
        });
    }
    let _ = OWN.set(dispatch);
    Ok(())
}

/// The mirror of the innermost semtel span or carried context, made now if
/// it has none; `None` when the innermost entry is a `tracing` span (the
/// registry knows it) or there is none.
fn current_mirror(d: &Dispatch) -> Option<Current> {
    let (token, ctx, existing) = context::top_for_mirror()?;
    if let Some((id, meta)) = existing {
        return Some(Current::new(id, meta));
    }
    let m = mirror::create_generic(d, ctx)?;
    let current = Current::new(m.id()?, m.metadata()?);
    context::set_mirror(token, m).ok()?;
    Some(current)
}

impl Subscriber for SemtelSubscriber {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.inner.enabled(meta)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.inner.event_enabled(event)
    }

    fn event(&self, event: &Event<'_>) {
        self.inner.event(event);
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> Current {
        OWN.get()
            .and_then(current_mirror)
            .unwrap_or_else(|| self.inner.current_span())
    }

    // SAFETY (of the contract this implements): a pointer is returned only
    // for the `TypeId` of the type it points to — this subscriber for its
    // own, otherwise whatever the inner subscriber returns under the same
    // contract.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded with the caller's `id`, under the same contract.
        unsafe { self.inner.downcast_raw(id) }
    }
}
