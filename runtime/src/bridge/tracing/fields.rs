//! Reading the fields of `tracing` spans and events, the way the `tracing`
//! ecosystem uses them for OpenTelemetry: typed values, and the special
//! fields `otel.name`, `otel.kind`, `otel.status_code`,
//! `otel.status_message` (or `otel.status_description`), `message` and
//! `error`.

use crate::trace::Status;
use opentelemetry::{KeyValue, Value};
use semtel_conventions::SpanKind;
use std::borrow::Cow;
use tracing::field::{Field, Visit};

/// What a span's fields say.
#[derive(Default)]
pub(crate) struct SpanFields {
    pub attributes: Vec<KeyValue>,
    pub name: Option<Cow<'static, str>>,
    pub kind: Option<SpanKind>,
    pub status: Option<StatusField>,
    pub status_message: Option<String>,
}

/// The status an `otel.status_code` field names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StatusField {
    Ok,
    Error,
    Unset,
}

impl SpanFields {
    /// The status these fields set on top of `current`, if they set one.
    pub fn status(&self, current: &Status) -> Option<Status> {
        let message = || -> Cow<'static, str> {
            match (&self.status_message, current) {
                (Some(m), _) => m.clone().into(),
                (None, Status::Error(m)) => m.clone(),
                _ => "".into(),
            }
        };
        match self.status {
            Some(StatusField::Ok) => Some(Status::Ok),
            Some(StatusField::Error) => Some(Status::Error(message())),
            Some(StatusField::Unset) => Some(Status::Unset),
            None if self.status_message.is_some() && matches!(current, Status::Error(_)) => {
                Some(Status::Error(message()))
            }
            None => None,
        }
    }

    fn special(&mut self, field: &Field, text: &dyn Fn() -> String) -> bool {
        match field.name() {
            "otel.name" => self.name = Some(text().into()),
            "otel.kind" => self.kind = span_kind(&text()),
            "otel.status_code" => self.status = status_code(&text()),
            "otel.status_message" | "otel.status_description" => self.status_message = Some(text()),
            _ => return false,
        }
        true
    }

    fn push(&mut self, field: &Field, value: Value) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
}

fn span_kind(s: &str) -> Option<SpanKind> {
    let s = s.trim_matches('"');
    [
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
        ("internal", SpanKind::Internal),
    ]
    .into_iter()
    .find(|(name, _)| s.eq_ignore_ascii_case(name))
    .map(|(_, k)| k)
}

fn status_code(s: &str) -> Option<StatusField> {
    let s = s.trim_matches('"');
    // `otel.status_code = ?opentelemetry::trace::Status::Ok` debug-prints `Ok`.
    let s = s.split(['(', ' ', '{']).next().unwrap_or(s);
    [
        ("ok", StatusField::Ok),
        ("error", StatusField::Error),
        ("unset", StatusField::Unset),
    ]
    .into_iter()
    .find(|(name, _)| s.eq_ignore_ascii_case(name))
    .map(|(_, k)| k)
}

/// An integer as OpenTelemetry carries it: `i64`, else its decimal text.
fn int(v: impl TryInto<i64> + ToString + Copy) -> Value {
    match v.try_into() {
        Ok(i) => Value::I64(i),
        Err(_) => Value::from(v.to_string()),
    }
}

impl Visit for SpanFields {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        if !self.special(f, &|| format!("{v:?}")) {
            self.push(f, Value::from(format!("{v:?}")));
        }
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        if !self.special(f, &|| v.to_string()) {
            self.push(f, Value::from(v.to_string()));
        }
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.push(f, Value::I64(v));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.push(f, int(v));
    }
    fn record_i128(&mut self, f: &Field, v: i128) {
        self.push(f, int(v));
    }
    fn record_u128(&mut self, f: &Field, v: u128) {
        self.push(f, int(v));
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.push(f, Value::F64(v));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.push(f, Value::Bool(v));
    }
    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        self.push(f, Value::from(v.to_string()));
    }
}

/// What an event's fields say.
#[derive(Default)]
pub(crate) struct EventFields {
    pub message: Option<String>,
    /// The value of an `error` field (`#[instrument(err)]` records one).
    pub error: Option<String>,
    pub values: Vec<(&'static str, Value)>,
}

impl EventFields {
    /// The attributes of the event, `error` included.
    pub fn key_values(&self) -> Vec<KeyValue> {
        self.values
            .iter()
            .map(|(k, v)| KeyValue::new(*k, v.clone()))
            .collect()
    }

    fn text(&mut self, f: &Field, text: String) {
        match f.name() {
            "message" => self.message = Some(text),
            "error" => {
                self.values.push((f.name(), Value::from(text.clone())));
                self.error = Some(text);
            }
            name => self.values.push((name, Value::from(text))),
        }
    }
}

impl Visit for EventFields {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.text(f, format!("{v:?}"));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.text(f, v.to_string());
    }
    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        self.text(f, v.to_string());
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.values.push((f.name(), Value::I64(v)));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.values.push((f.name(), int(v)));
    }
    fn record_i128(&mut self, f: &Field, v: i128) {
        self.values.push((f.name(), int(v)));
    }
    fn record_u128(&mut self, f: &Field, v: u128) {
        self.values.push((f.name(), int(v)));
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.values.push((f.name(), Value::F64(v)));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.values.push((f.name(), Value::Bool(v)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_status_codes_read_case_insensitively() {
        assert_eq!(span_kind("Server"), Some(SpanKind::Server));
        assert_eq!(span_kind("\"client\""), Some(SpanKind::Client));
        assert_eq!(span_kind("gateway"), None);
        assert_eq!(status_code("ERROR"), Some(StatusField::Error));
        assert_eq!(status_code("Ok"), Some(StatusField::Ok));
        assert_eq!(status_code("maybe"), None);
    }

    #[test]
    fn integers_stay_integers_unless_too_large() {
        assert_eq!(int(42u64), Value::I64(42));
        assert_eq!(int(u64::MAX), Value::from(u64::MAX.to_string()));
    }
}
