//! Logs: `tracing` events (taken by the `tracing` bridge, see
//! [`crate::tracing_layer`]) become log records that carry the `trace_id`
//! and `span_id` of the span they happen in: JSON lines on standard output
//! (`OTEL_LOGS_EXPORTER=console`) and/or OTLP log records.

mod json;
mod otlp;

pub use otlp::{dropped_logs, unsent_logs};

use crate::bridge::tracing::fields::EventFields;
use crate::config::{Config, LogsExporter};
use crate::trace::SpanContext;
use opentelemetry::Value;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::TraceFlags;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use std::sync::{Arc, RwLock};
use tracing::{Level, Metadata};

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
    /// A handle that ends the OTLP log exporter's requests by a deadline.
    pub fn closer(&self) -> Option<crate::export::otlp_client::Closer> {
        self.exporter.as_ref().map(otlp::Exporter::closer)
    }

    pub fn shutdown(self) {
        *STATE
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        drop(self.provider);
        drop(self.exporter);
    }
}

/// Sets up log export per `cfg`.
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
    Some(installed)
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

/// Writes the log record of an event to the configured log exporters.
pub(crate) fn emit(meta: &Metadata<'_>, fields: &EventFields, span_ctx: SpanContext) {
    let Some(state) = state() else { return };
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
        if let Some(m) = &fields.message {
            rec.set_body(AnyValue::from(m.clone()));
        }
        for (k, v) in fields.values.iter().cloned() {
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
