//! Entry points for the fuzz targets in `fuzz/` and for the tests that
//! replay their corpora on stable Rust. Not a public API: it may change in
//! any release.
//!
//! Each function takes arbitrary bytes, runs one of semtel's readers of
//! outside input on them, and panics when a property that must hold for
//! every input fails (a panic inside the reader fails the same way).

use crate::config::{self, EnvSource, MAX_QUEUE_SIZE, Settings};
use crate::export::otlp_encode::traces_request;
use crate::propagation::{check_tracestate, format_baggage, parse_baggage, parse_traceparent};
use crate::trace::{SpanEvent, SpanLink, SpanRecord, Status};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{Array, KeyValue, Value};
use semtel_conventions::SpanKind;
use std::collections::HashMap;
use std::path::Path;

/// The longest warning any input may produce: values are quoted cut short.
const LONGEST_WARNING: usize = 1000;

fn check_warnings(warnings: &[String]) {
    for w in warnings {
        assert!(w.len() <= LONGEST_WARNING, "a warning echoes too much: {w}");
    }
}

/// Reads `data` as an `OTEL_CONFIG_FILE` (with `${ENDPOINT}` and `${EMPTY}`
/// set), then resolves the configuration: errors and warnings, never a panic;
/// what is accepted is within bounds.
pub fn config_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let vars = |k: &str| match k {
        "ENDPOINT" => Some("http://collector:4318".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let Ok((file, warnings)) = config::file::parse(&text, Path::new("fuzz.yaml"), &vars) else {
        return;
    };
    check_warnings(&warnings);
    let mut env = EnvSource::new(|_| None);
    let cfg = config::resolve(Settings::default(), file, &mut env, Settings::default());
    check_config(&cfg);
}

/// Reads `data` as an environment (`NAME=value` lines) and resolves the
/// configuration and the inherited trace context from it.
pub fn environment(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let vars: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut env = EnvSource::new(|k| vars.get(k).cloned());
    let cfg = config::resolve(
        Settings::default(),
        Settings::default(),
        &mut env,
        Settings::default(),
    );
    check_config(&cfg);
    let mut warnings = env.warnings;
    crate::propagation::from_env(&|k| vars.get(k).cloned(), &mut warnings);
    check_warnings(&warnings);
}

fn check_config(cfg: &config::Config) {
    assert!((1..=MAX_QUEUE_SIZE).contains(&cfg.batch.max_queue_size));
    assert!((1..=MAX_QUEUE_SIZE).contains(&cfg.batch.max_export_batch_size));
    assert!(!cfg.metric_export_interval.is_zero());
    for o in [&cfg.traces_otlp, &cfg.metrics_otlp, &cfg.logs_otlp] {
        if let Err(e) = config::validate::endpoint(&o.endpoint) {
            panic!("an invalid endpoint was accepted: {} ({e})", o.endpoint);
        }
    }
}

/// Reads `data` as W3C values: its first line a `traceparent`, its second a
/// `tracestate`, the rest `baggage`. A parsed traceparent formats back to
/// itself; parsed baggage survives formatting and parsing again.
pub fn propagation(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (tp, ts, bag) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    match parse_traceparent(tp) {
        Ok(ctx) => {
            let again = parse_traceparent(&ctx.traceparent()).expect("a formatted traceparent");
            assert_eq!((again.trace_id, again.span_id), (ctx.trace_id, ctx.span_id));
            assert_eq!(again.sampled, ctx.sampled);
        }
        Err(e) => assert!(e.to_string().len() <= LONGEST_WARNING, "{e}"),
    }
    if let Err(e) = check_tracestate(ts) {
        assert!(e.to_string().len() <= LONGEST_WARNING, "{e}");
    }
    let items = parse_baggage(bag);
    let formatted = format_baggage(&items);
    if formatted.len() <= 8192 {
        assert_eq!(parse_baggage(&formatted), items, "baggage {formatted:?}");
    }
    let mut warnings = Vec::new();
    let vars = |k: &str| match k {
        "TRACEPARENT" => Some(tp.to_string()),
        "TRACESTATE" => Some(ts.to_string()),
        "BAGGAGE" => Some(bag.to_string()),
        _ => None,
    };
    crate::propagation::from_env(&vars, &mut warnings);
    check_warnings(&warnings);
}

/// Builds spans from `data`, encodes them as an OTLP request and checks that
/// the official protobuf types decode the same spans.
pub fn otlp_traces(data: &[u8]) {
    let mut input = Bytes(data);
    let resource = input.attributes();
    let mut spans = Vec::new();
    while !input.0.is_empty() && spans.len() < 64 {
        spans.push(input.span());
    }
    if let Err(e) = check_traces_round_trip(&resource, &spans) {
        panic!("{e}");
    }
}

/// Arbitrary values read from fuzz input, a byte at a time (zeros once it
/// runs out).
struct Bytes<'a>(&'a [u8]);

/// Instrumentation scopes the spans are made with.
const SCOPES: &[&str] = &["app", "app::agents", "lib::x::y", "", "::", "a:b"];

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| acc << 8 | u64::from(self.u8()))
    }

    /// A dropped count: zero for a zero byte, else small or (for a high
    /// first byte) anything a `u32` holds.
    fn count(&mut self) -> u32 {
        match self.u8() {
            0 => 0,
            b if b >= 0xf0 => (self.u64() >> 32) as u32,
            b => u32::from(b),
        }
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.u8() % 24).min(self.0.len());
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8_lossy(head).into_owned()
    }

    fn value(&mut self) -> Value {
        let n = usize::from(self.u8() % 4);
        match self.u8() % 8 {
            0 => Value::Bool(self.u8() & 1 == 1),
            1 => Value::I64(self.u64() as i64),
            2 => Value::F64(f64::from_bits(self.u64())),
            3 => Value::Array(Array::Bool((0..n).map(|_| self.u8() & 1 == 1).collect())),
            4 => Value::Array(Array::I64((0..n).map(|_| self.u64() as i64).collect())),
            5 => Value::Array(Array::F64(
                (0..n).map(|_| f64::from_bits(self.u64())).collect(),
            )),
            6 => Value::Array(Array::String((0..n).map(|_| self.text().into()).collect())),
            _ => Value::String(self.text().into()),
        }
    }

    fn attributes(&mut self) -> Vec<KeyValue> {
        (0..self.u8() % 6)
            .map(|_| KeyValue::new(self.text(), self.value()))
            .collect()
    }

    fn span(&mut self) -> SpanRecord {
        let kinds = [
            SpanKind::Internal,
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer,
        ];
        SpanRecord {
            trace_id: TraceId::from(u128::from(self.u64()) << 64 | u128::from(self.u64())),
            span_id: SpanId::from(self.u64()),
            parent_span_id: SpanId::from(self.u64() * u64::from(self.u8() & 1)),
            parent_remote: self.u8() & 1 == 1,
            trace_state: match self.u8() % 3 {
                0 => None,
                _ => Some(self.text().into()),
            },
            name: self.text().into(),
            kind: kinds[usize::from(self.u8()) % kinds.len()],
            start: self.u64(),
            end: self.u64(),
            attributes: self.attributes(),
            dropped_attributes_count: self.count(),
            events: (0..self.u8() % 3)
                .map(|_| SpanEvent {
                    name: self.text().into(),
                    time: self.u64(),
                    attributes: self.attributes(),
                    dropped_attributes_count: self.count(),
                })
                .collect(),
            dropped_events_count: self.count(),
            links: (0..self.u8() % 3)
                .map(|_| SpanLink {
                    trace_id: TraceId::from(u128::from(self.u64())),
                    span_id: SpanId::from(self.u64()),
                    attributes: self.attributes(),
                    dropped_attributes_count: self.count(),
                })
                .collect(),
            dropped_links_count: self.count(),
            status: match self.u8() % 3 {
                0 => Status::Unset,
                1 => Status::Ok,
                _ => Status::Error(self.text().into()),
            },
            scope: SCOPES[usize::from(self.u8()) % SCOPES.len()],
        }
    }
}

mod round_trip {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{self as pb, any_value::Value as Pb};
    use prost::Message;

    /// The decoded form an attribute must take.
    fn any(v: &Value) -> Option<Pb> {
        let array = |items: Vec<Pb>| {
            Pb::ArrayValue(pb::ArrayValue {
                values: items
                    .into_iter()
                    .map(|v| pb::AnyValue { value: Some(v) })
                    .collect(),
            })
        };
        Some(match v {
            Value::Bool(b) => Pb::BoolValue(*b),
            Value::I64(i) => Pb::IntValue(*i),
            Value::F64(f) => Pb::DoubleValue(*f),
            Value::String(s) => Pb::StringValue(s.as_str().to_string()),
            Value::Array(Array::Bool(a)) => array(a.iter().map(|b| Pb::BoolValue(*b)).collect()),
            Value::Array(Array::I64(a)) => array(a.iter().map(|i| Pb::IntValue(*i)).collect()),
            Value::Array(Array::F64(a)) => array(a.iter().map(|f| Pb::DoubleValue(*f)).collect()),
            Value::Array(Array::String(a)) => array(
                a.iter()
                    .map(|s| Pb::StringValue(s.as_str().to_string()))
                    .collect(),
            ),
            _ => return None,
        })
    }

    /// Attribute lists compared with doubles by their bits (NaN equals itself).
    fn same_attributes(got: &[pb::KeyValue], want: &[KeyValue]) -> Result<(), String> {
        let key = |v: &Option<Pb>| format!("{v:?}");
        let got: Vec<(String, String)> = got
            .iter()
            .map(|kv| (kv.key.clone(), key(&kv.value.clone().and_then(|v| v.value))))
            .collect();
        let want: Vec<(String, String)> = want
            .iter()
            .map(|kv| (kv.key.as_str().to_string(), key(&any(&kv.value))))
            .collect();
        if got == want {
            Ok(())
        } else {
            Err(format!("attributes differ:\n got {got:?}\nwant {want:?}"))
        }
    }

    /// The scope a span is exported under: the first segment of its module.
    fn crate_of(scope: &str) -> &str {
        scope.split(':').next().unwrap_or_default()
    }

    /// Encodes `spans` under `resource` and checks that decoding the request
    /// with the official protobuf types gives back each span, grouped by
    /// scope in order of first appearance.
    pub fn check_traces_round_trip(
        resource: &[KeyValue],
        spans: &[SpanRecord],
    ) -> Result<(), String> {
        let bytes = traces_request(resource, spans);
        let req = ExportTraceServiceRequest::decode(bytes.as_slice())
            .map_err(|e| format!("not a valid request: {e}"))?;
        let [rs] = req.resource_spans.as_slice() else {
            return Err(format!("{} resource spans", req.resource_spans.len()));
        };
        let res = rs.resource.clone().unwrap_or_default();
        same_attributes(&res.attributes, resource)?;
        let mut order: Vec<&str> = Vec::new();
        for s in spans {
            if !order.contains(&crate_of(s.scope)) {
                order.push(crate_of(s.scope));
            }
        }
        let scopes: Vec<String> = rs
            .scope_spans
            .iter()
            .map(|ss| ss.scope.clone().unwrap_or_default().name)
            .collect();
        if scopes != order {
            return Err(format!("scopes {scopes:?}, expected {order:?}"));
        }
        let decoded = rs.scope_spans.iter().flat_map(|ss| ss.spans.iter());
        let expected = order
            .iter()
            .flat_map(|o| spans.iter().filter(move |s| crate_of(s.scope) == *o));
        let mut n = 0;
        for (got, want) in decoded.zip(expected) {
            n += 1;
            check_span(got, want).map_err(|e| format!("span {}: {e}", want.name))?;
        }
        if n != spans.len() {
            return Err(format!("{n} spans decoded, {} encoded", spans.len()));
        }
        Ok(())
    }

    fn check_span(
        got: &opentelemetry_proto::tonic::trace::v1::Span,
        want: &SpanRecord,
    ) -> Result<(), String> {
        let parent = if want.parent_span_id == SpanId::INVALID {
            Vec::new()
        } else {
            want.parent_span_id.to_bytes().to_vec()
        };
        let kind = match want.kind {
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        };
        let flags = 0x101 | if want.parent_remote { 0x200 } else { 0 };
        let ids = (
            got.trace_id.as_slice(),
            got.span_id.as_slice(),
            got.parent_span_id.as_slice(),
        );
        if ids
            != (
                &want.trace_id.to_bytes()[..],
                &want.span_id.to_bytes()[..],
                parent.as_slice(),
            )
        {
            return Err(format!("ids differ: {ids:?}"));
        }
        if (got.name.as_str(), got.kind, got.flags) != (want.name.as_ref(), kind, flags) {
            return Err(format!(
                "name/kind/flags: {} {} {:#x}",
                got.name, got.kind, got.flags
            ));
        }
        if (got.start_time_unix_nano, got.end_time_unix_nano) != (want.start, want.end) {
            return Err("times differ".into());
        }
        if got.trace_state != want.trace_state.as_deref().unwrap_or_default() {
            return Err(format!("trace state {:?}", got.trace_state));
        }
        let dropped = (
            got.dropped_attributes_count,
            got.dropped_events_count,
            got.dropped_links_count,
        );
        if dropped
            != (
                want.dropped_attributes_count,
                want.dropped_events_count,
                want.dropped_links_count,
            )
        {
            return Err(format!("dropped counts {dropped:?}"));
        }
        same_attributes(&got.attributes, &want.attributes)?;
        if got.events.len() != want.events.len() || got.links.len() != want.links.len() {
            return Err("event or link count differs".into());
        }
        for (g, w) in got.events.iter().zip(&want.events) {
            if (
                g.time_unix_nano,
                g.name.as_str(),
                g.dropped_attributes_count,
            ) != (w.time, w.name.as_ref(), w.dropped_attributes_count)
            {
                return Err(format!("event {} differs", w.name));
            }
            same_attributes(&g.attributes, &w.attributes)?;
        }
        for (g, w) in got.links.iter().zip(&want.links) {
            if (
                g.trace_id.as_slice(),
                g.span_id.as_slice(),
                g.dropped_attributes_count,
            ) != (
                &w.trace_id.to_bytes()[..],
                &w.span_id.to_bytes()[..],
                w.dropped_attributes_count,
            ) {
                return Err("link ids or dropped count differ".into());
            }
            same_attributes(&g.attributes, &w.attributes)?;
        }
        let status = got.status.clone().unwrap_or_default();
        let (code, message) = match &want.status {
            Status::Unset => (0, ""),
            Status::Ok => (1, ""),
            Status::Error(m) => (2, m.as_ref()),
        };
        if got.status.is_none() || (status.code, status.message.as_str()) != (code, message) {
            return Err(format!("status {:?}", got.status));
        }
        Ok(())
    }
}

pub use round_trip::check_traces_round_trip;
