//! `tracing` and logs. semtel's [`tracing_layer`] makes spans created with
//! `tracing` (by libraries using `#[tracing::instrument]`) semtel spans in the
//! same trace as the semtel spans around them, and turns events into log
//! records that carry `trace_id` and `span_id`: JSON lines on standard output
//! (`OTEL_LOGS_EXPORTER=console`) and/or OTLP log records.
//!
//! `init` installs a global `tracing` subscriber with this layer when the
//! program has none; a program with its own subscriber adds
//! `semtel::tracing_layer()` to it.

mod json;
mod otlp;

pub use otlp::dropped_logs;

use crate::config::{Config, LogsExporter};
use crate::trace::{ActiveSpan, Parent, SpanContext, context};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::TraceFlags;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use semtel_conventions::SpanKind;
use std::cell::RefCell;
use std::sync::{Arc, RwLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Targets whose events and spans are never turned into telemetry: the
/// exporters' own transport libraries (they would feed back into themselves).
const EXCLUDED: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "reqwest",
    "opentelemetry",
    "rustls",
    "semtel",
];

fn excluded(target: &str) -> bool {
    EXCLUDED
        .iter()
        .any(|t| target == *t || target.strip_prefix(t).is_some_and(|r| r.starts_with("::")))
}

struct State {
    json: bool,
    otlp: Option<SdkLogger>,
}

static STATE: RwLock<Option<Arc<State>>> = RwLock::new(None);

fn state() -> Option<Arc<State>> {
    STATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// What `init` started for logs.
pub(crate) struct Installed {
    provider: Option<SdkLoggerProvider>,
    exporter: Option<otlp::Exporter>,
}

impl Installed {
    pub fn shutdown(self) {
        *STATE
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        drop(self.provider);
        drop(self.exporter);
    }
}

/// Sets up log export per `cfg` and installs the global subscriber once.
pub(crate) fn install(cfg: &Config, resource: &Resource) -> Option<Installed> {
    let json = cfg.logs_exporters.contains(&LogsExporter::Console);
    let mut installed = Installed {
        provider: None,
        exporter: None,
    };
    let mut logger = None;
    if cfg.logs_exporters.contains(&LogsExporter::Otlp) {
        match otlp::Exporter::start(&cfg.logs_otlp, resource) {
            Ok((exporter, processor)) => {
                let provider = SdkLoggerProvider::builder()
                    .with_resource(resource.clone())
                    .with_log_processor(processor)
                    .build();
                logger = Some(provider.logger("semtel"));
                installed.provider = Some(provider);
                installed.exporter = Some(exporter);
            }
            Err(e) => crate::warn(format_args!("{e}; logs will not be sent over OTLP")),
        }
    }
    *STATE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some(Arc::new(State { json, otlp: logger }));
    install_subscriber();
    Some(installed)
}

fn install_subscriber() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        // Filtered at the subscriber, so the exporters' own libraries' spans
        // and events are disabled at their call sites and cost nothing.
        let filter = tracing_subscriber::filter::filter_fn(|meta| !excluded(meta.target()));
        let subscriber = tracing_subscriber::registry().with(tracing_layer().with_filter(filter));
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            crate::warn(format_args!(
                "a global tracing subscriber is already installed; add semtel::tracing_layer() to it for tracing spans and logs"
            ));
        }
    });
}

/// The `tracing` layer: `tracing` spans become semtel spans, events become
/// correlated log records.
pub fn tracing_layer() -> SemtelLayer {
    SemtelLayer { _private: () }
}

/// See [`tracing_layer`].
pub struct SemtelLayer {
    _private: (),
}

/// A `tracing` span's semtel span.
struct Bridged(ActiveSpan);

thread_local! {
    static ENTERED: RefCell<Vec<*const context::Frame>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        let text = format!("{v:?}");
        if f.name() == "message" {
            self.message = Some(text);
        } else {
            self.values.push((f.name(), Value::from(text)));
        }
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        if f.name() == "message" {
            self.message = Some(v.to_string());
        } else {
            self.values.push((f.name(), Value::from(v.to_string())));
        }
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.values.push((f.name(), Value::I64(v)));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.values
            .push((f.name(), Value::I64(i64::try_from(v).unwrap_or(i64::MAX))));
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.values.push((f.name(), Value::F64(v)));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.values.push((f.name(), Value::Bool(v)));
    }
}

impl Fields {
    fn key_values(self) -> Vec<KeyValue> {
        self.values
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect()
    }
}

fn json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Bool(b) => (*b).into(),
        Value::I64(i) => (*i).into(),
        Value::F64(f) => (*f).into(),
        other => other.as_str().into_owned().into(),
    }
}

fn severity(level: &Level) -> (Severity, &'static str) {
    match *level {
        Level::TRACE => (Severity::Trace, "TRACE"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::ERROR => (Severity::Error, "ERROR"),
    }
}

impl<S> Layer<S> for SemtelLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if excluded(meta.target()) {
            return;
        }
        let parent = if attrs.is_root() {
            Parent::Root
        } else if let Some(p) = attrs.parent() {
            ctx.span(p)
                .and_then(|s| {
                    s.extensions()
                        .get::<Bridged>()
                        .map(|b| Parent::Explicit(b.0.context()))
                })
                .unwrap_or(Parent::Current)
        } else {
            Parent::Current
        };
        let mut span = ActiveSpan::start_parts(
            meta.name().into(),
            SpanKind::Internal,
            meta.target(),
            parent,
        );
        if span.is_recording() {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            span.set_attributes(fields.key_values());
        }
        if let Some(s) = ctx.span(id) {
            s.extensions_mut().insert(Bridged(span));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(s) = ctx.span(id) {
            if let Some(b) = s.extensions_mut().get_mut::<Bridged>() {
                let mut fields = Fields::default();
                values.record(&mut fields);
                b.0.set_attributes(fields.key_values());
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(s) = ctx.span(id) {
            if let Some(b) = s.extensions_mut().get_mut::<Bridged>() {
                if let Some(frame) = b.0.frame() {
                    let previous = context::enter(frame);
                    ENTERED.with(|e| e.borrow_mut().push(previous));
                }
            }
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let bridged = ctx.span(id).is_some_and(|s| {
            s.extensions()
                .get::<Bridged>()
                .is_some_and(|b| b.0.context().is_valid())
        });
        if bridged {
            if let Some(previous) = ENTERED.with(|e| e.borrow_mut().pop()) {
                context::restore(previous);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(s) = ctx.span(&id) {
            // Dropping the semtel span ends and records it.
            drop(s.extensions_mut().remove::<Bridged>());
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if excluded(meta.target()) {
            return;
        }
        let Some(state) = state() else { return };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span_ctx: SpanContext = context::current().ctx;
        let now = crate::clock::now();
        let (sev, level) = severity(meta.level());
        if state.json {
            let values: Vec<(&'static str, serde_json::Value)> = fields
                .values
                .iter()
                .map(|(k, v)| (*k, json_value(v)))
                .collect();
            json::write(&json::line(
                now,
                level,
                meta.target(),
                fields.message.as_deref(),
                &values,
                span_ctx,
            ));
        }
        if let Some(logger) = &state.otlp {
            let mut rec = logger.create_log_record();
            rec.set_timestamp(crate::clock::to_system_time(now));
            rec.set_observed_timestamp(crate::clock::to_system_time(now));
            rec.set_severity_number(sev);
            rec.set_severity_text(level);
            rec.set_target(meta.target().to_string());
            if let Some(m) = fields.message.take() {
                rec.set_body(AnyValue::from(m));
            }
            for (k, v) in fields.values {
                let any = match v {
                    Value::Bool(b) => AnyValue::Boolean(b),
                    Value::I64(i) => AnyValue::Int(i),
                    Value::F64(f) => AnyValue::Double(f),
                    other => AnyValue::from(other.as_str().into_owned()),
                };
                rec.add_attribute(k, any);
            }
            if span_ctx.is_valid() {
                let flags = if span_ctx.sampled {
                    TraceFlags::SAMPLED
                } else {
                    TraceFlags::default()
                };
                rec.set_trace_context(span_ctx.trace_id, span_ctx.span_id, Some(flags));
            }
            logger.emit(rec);
        }
    }
}
