//! OTLP trace export requests written straight from span records: protobuf
//! bytes without building intermediate messages (the export path's cost is
//! dominated by allocation otherwise).

use crate::trace::{SpanRecord, Status};
use opentelemetry::{Array, KeyValue, Value};
use semtel_conventions::SpanKind;

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    varint(buf, u64::from(field << 3 | wire));
}

fn bytes(buf: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(buf, field, LEN);
    varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn any_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::String(s) => bytes(buf, 1, s.as_str().as_bytes()),
        Value::Bool(b) => {
            key(buf, 2, VARINT);
            varint(buf, u64::from(*b));
        }
        Value::I64(i) => {
            key(buf, 3, VARINT);
            varint(buf, *i as u64);
        }
        Value::F64(f) => {
            key(buf, 4, FIXED64);
            buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::Array(a) => {
            let mut arr = Vec::new();
            let mut item = Vec::new();
            let mut push = |v: Value| {
                item.clear();
                any_value(&mut item, &v);
                bytes(&mut arr, 1, &item);
            };
            match a {
                Array::Bool(v) => v.iter().for_each(|x| push(Value::Bool(*x))),
                Array::I64(v) => v.iter().for_each(|x| push(Value::I64(*x))),
                Array::F64(v) => v.iter().for_each(|x| push(Value::F64(*x))),
                Array::String(v) => v.iter().for_each(|x| push(Value::String(x.clone()))),
                _ => {}
            }
            bytes(buf, 5, &arr);
        }
        other => bytes(buf, 1, other.as_str().as_bytes()),
    }
}

/// The bytes `v` takes as a varint.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// The bytes a length-delimited field of `len` content bytes takes (field numbers < 16).
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// The encoded size of a scalar `AnyValue`'s content; `None` for arrays and
/// other composite values.
fn scalar_len(v: &Value) -> Option<usize> {
    Some(match v {
        Value::String(s) => field_len(s.as_str().len()),
        Value::Bool(_) => 2,
        Value::I64(i) => 1 + varint_len(*i as u64),
        Value::F64(_) => 9,
        _ => return None,
    })
}

fn key_values(buf: &mut Vec<u8>, field: u32, kvs: &[KeyValue]) {
    let mut composite = Vec::new();
    for a in kvs {
        let k = a.key.as_str().as_bytes();
        // Scalars are written in place, their lengths computed; composite
        // values are encoded aside first.
        let value_len = scalar_len(&a.value).unwrap_or_else(|| {
            composite.clear();
            any_value(&mut composite, &a.value);
            composite.len()
        });
        key(buf, field, LEN);
        varint(buf, (field_len(k.len()) + field_len(value_len)) as u64);
        bytes(buf, 1, k);
        key(buf, 2, LEN);
        varint(buf, value_len as u64);
        if scalar_len(&a.value).is_some() {
            any_value(buf, &a.value);
        } else {
            buf.extend_from_slice(&composite);
        }
    }
}

/// A `uint32` field, left out when zero (the protobuf default).
fn count(buf: &mut Vec<u8>, field: u32, n: u32) {
    if n != 0 {
        key(buf, field, VARINT);
        varint(buf, u64::from(n));
    }
}

fn span(buf: &mut Vec<u8>, s: &SpanRecord) {
    bytes(buf, 1, &s.trace_id.to_bytes());
    bytes(buf, 2, &s.span_id.to_bytes());
    if let Some(state) = s.trace_state.as_deref().filter(|t| !t.is_empty()) {
        bytes(buf, 3, state.as_bytes());
    }
    if s.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        bytes(buf, 4, &s.parent_span_id.to_bytes());
    }
    bytes(buf, 5, s.name.as_bytes());
    key(buf, 6, VARINT);
    varint(
        buf,
        match s.kind {
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        },
    );
    key(buf, 7, FIXED64);
    buf.extend_from_slice(&s.start.to_le_bytes());
    key(buf, 8, FIXED64);
    buf.extend_from_slice(&s.end.to_le_bytes());
    key_values(buf, 9, &s.attributes);
    count(buf, 10, s.dropped_attributes_count);
    let mut sub = Vec::new();
    for e in &s.events {
        sub.clear();
        key(&mut sub, 1, FIXED64);
        sub.extend_from_slice(&e.time.to_le_bytes());
        bytes(&mut sub, 2, e.name.as_bytes());
        key_values(&mut sub, 3, &e.attributes);
        count(&mut sub, 4, e.dropped_attributes_count);
        bytes(buf, 11, &sub);
    }
    count(buf, 12, s.dropped_events_count);
    for l in &s.links {
        sub.clear();
        bytes(&mut sub, 1, &l.trace_id.to_bytes());
        bytes(&mut sub, 2, &l.span_id.to_bytes());
        key_values(&mut sub, 4, &l.attributes);
        count(&mut sub, 5, l.dropped_attributes_count);
        bytes(buf, 13, &sub);
    }
    count(buf, 14, s.dropped_links_count);
    let (code, message) = match &s.status {
        Status::Unset => (0, ""),
        Status::Ok => (1, ""),
        Status::Error(m) => (2, m.as_ref()),
    };
    // Always present (code 0 is unset), as collectors expect.
    let message_len = if message.is_empty() {
        0
    } else {
        field_len(message.len())
    };
    key(buf, 15, LEN);
    varint(buf, (message_len + if code != 0 { 2 } else { 0 }) as u64);
    if !message.is_empty() {
        bytes(buf, 2, message.as_bytes());
    }
    if code != 0 {
        key(buf, 3, VARINT);
        varint(buf, code);
    }
    // Flags: sampled, and whether the parent is remote (bits 8 and 9).
    key(buf, 16, FIXED32);
    let flags: u32 = 1 | 0x100 | if s.parent_remote { 0x200 } else { 0 };
    buf.extend_from_slice(&flags.to_le_bytes());
}

/// The instrumentation scope of a span: the crate that made it (the first
/// segment of its module path).
fn scope_of(s: &SpanRecord) -> &'static str {
    let module = s.scope;
    module
        .as_bytes()
        .iter()
        .position(|&b| b == b':')
        .map_or(module, |i| &module[..i])
}

/// The bytes a length-delimited field takes before its contents.
fn header_len(field: u32, len: usize) -> usize {
    varint_len(u64::from(field << 3 | LEN)) + varint_len(len as u64)
}

/// A resource's attributes, as [`traces_request`] takes them.
pub(crate) fn resource_attributes(resource: &opentelemetry_sdk::Resource) -> Vec<KeyValue> {
    resource
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect()
}

/// An `ExportTraceServiceRequest` for `spans` (see [`TracesEncoder::request`]).
pub(crate) fn traces_request(resource: &[KeyValue], spans: &[SpanRecord]) -> Vec<u8> {
    TracesEncoder::default().request(resource, spans)
}

/// Scope buffers an encoder keeps between requests.
const SCOPES_KEPT: usize = 8;

/// Encodes trace export requests, reusing its working buffers from one
/// request to the next (only the request itself is allocated, once, at its
/// final size).
#[derive(Default)]
pub(crate) struct TracesEncoder {
    /// One span's message, before it is copied into its scope's.
    one: Vec<u8>,
    /// Each scope's `ScopeSpans` content; the first `used` are this request's.
    scopes: Vec<(&'static str, Vec<u8>)>,
    resource: Vec<u8>,
}

impl TracesEncoder {
    /// An `ExportTraceServiceRequest` for `spans`, grouped by instrumentation
    /// scope (the crate that made each span), under `resource`. Each span is
    /// encoded once and copied once into its scope's message; the enclosing
    /// messages' headers are computed from the lengths, not by copying.
    pub fn request(&mut self, resource: &[KeyValue], spans: &[SpanRecord]) -> Vec<u8> {
        let mut used = 0;
        for s in spans {
            let name = scope_of(s);
            let i = match self.scopes[..used].iter().position(|(n, _)| *n == name) {
                Some(i) => i,
                None => {
                    if used == self.scopes.len() {
                        self.scopes.push((name, Vec::new()));
                    }
                    let (n, ss) = &mut self.scopes[used];
                    *n = name;
                    ss.clear();
                    self.one.clear();
                    bytes(&mut self.one, 1, name.as_bytes());
                    bytes(ss, 1, &self.one);
                    used += 1;
                    used - 1
                }
            };
            self.one.clear();
            span(&mut self.one, s);
            bytes(&mut self.scopes[i].1, 2, &self.one);
        }
        let scopes = &self.scopes[..used];
        let res = &mut self.resource;
        res.clear();
        key_values(res, 1, resource);
        let rs_len = header_len(1, res.len())
            + res.len()
            + scopes
                .iter()
                .map(|(_, ss)| header_len(2, ss.len()) + ss.len())
                .sum::<usize>();
        let mut out = Vec::with_capacity(rs_len + 8);
        key(&mut out, 1, LEN);
        varint(&mut out, rs_len as u64);
        bytes(&mut out, 1, res);
        for (_, ss) in scopes {
            bytes(&mut out, 2, ss);
        }
        self.scopes.truncate(SCOPES_KEPT);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceId};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;

    #[test]
    fn decodes_as_the_official_message() {
        let span = SpanRecord {
            trace_id: TraceId::from(0x0102u128),
            span_id: SpanId::from(7u64),
            parent_span_id: SpanId::from(9u64),
            parent_remote: true,
            trace_state: Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".into()),
            name: "task.execute".into(),
            kind: SpanKind::Client,
            start: 10,
            end: 20,
            attributes: vec![
                KeyValue::new("s", "x"),
                KeyValue::new("i", -3),
                KeyValue::new("f", 1.5),
                KeyValue::new("b", true),
                KeyValue::new(
                    "a",
                    Value::Array(Array::String(vec!["p".into(), "q".into()])),
                ),
            ],
            dropped_attributes_count: 172,
            events: vec![crate::trace::SpanEvent {
                name: "exception".into(),
                time: 15,
                attributes: vec![KeyValue::new("exception.message", "boom")],
                dropped_attributes_count: 3,
            }],
            dropped_events_count: 2,
            links: vec![crate::trace::SpanLink {
                trace_id: TraceId::from(5u128),
                span_id: SpanId::from(6u64),
                attributes: Vec::new(),
                dropped_attributes_count: 4,
            }],
            dropped_links_count: 1,
            status: Status::Error("boom".into()),
            scope: "quickstart::agents",
        };
        let bytes = traces_request(&[KeyValue::new("service.name", "svc")], &[span]);
        let req = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("valid protobuf");
        let rs = &req.resource_spans[0];
        assert_eq!(
            rs.resource.as_ref().unwrap().attributes[0].key,
            "service.name"
        );
        let ss = &rs.scope_spans[0];
        assert_eq!(ss.scope.as_ref().unwrap().name, "quickstart");
        let s = &ss.spans[0];
        assert_eq!(s.name, "task.execute");
        assert_eq!(s.trace_state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        assert_eq!(
            (
                s.dropped_attributes_count,
                s.dropped_events_count,
                s.dropped_links_count
            ),
            (172, 2, 1)
        );
        assert_eq!(s.events[0].dropped_attributes_count, 3);
        assert_eq!(s.links[0].dropped_attributes_count, 4);
        assert_eq!(s.kind, 3);
        assert_eq!((s.start_time_unix_nano, s.end_time_unix_nano), (10, 20));
        assert_eq!(s.trace_id, TraceId::from(0x0102u128).to_bytes().to_vec());
        assert_eq!(s.parent_span_id, SpanId::from(9u64).to_bytes().to_vec());
        assert_eq!(s.attributes.len(), 5);
        assert_eq!(s.events[0].name, "exception");
        assert_eq!(s.status.as_ref().unwrap().code, 2);
        assert_eq!(s.status.as_ref().unwrap().message, "boom");
        assert_eq!(s.flags, 0x301);
        use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
        assert_eq!(
            s.attributes[1].value.as_ref().unwrap().value,
            Some(V::IntValue(-3))
        );
        assert_eq!(
            s.attributes[2].value.as_ref().unwrap().value,
            Some(V::DoubleValue(1.5))
        );
        match &s.attributes[4].value.as_ref().unwrap().value {
            Some(V::ArrayValue(a)) => assert_eq!(a.values.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spans_are_grouped_by_the_crate_that_made_them() {
        let record = |scope: &'static str, id: u64| SpanRecord {
            trace_id: TraceId::from(1u128),
            span_id: SpanId::from(id),
            name: format!("s{id}").into(),
            start: 1,
            end: 2,
            scope,
            ..SpanRecord::default()
        };
        let spans = [
            record("app::a", 1),
            record("lib", 2),
            record("app::b::c", 3),
        ];
        let bytes = traces_request(&[], &spans);
        let req = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("valid protobuf");
        assert_eq!(req.resource_spans.len(), 1);
        let scopes: Vec<(String, Vec<String>)> = req.resource_spans[0]
            .scope_spans
            .iter()
            .map(|ss| {
                let names = ss.spans.iter().map(|s| s.name.clone()).collect();
                (ss.scope.as_ref().unwrap().name.clone(), names)
            })
            .collect();
        assert_eq!(
            scopes,
            vec![
                ("app".to_string(), vec!["s1".to_string(), "s3".to_string()]),
                ("lib".to_string(), vec!["s2".to_string()]),
            ]
        );
        assert!(
            req.resource_spans[0].scope_spans[0].spans[0]
                .status
                .is_some()
        );
    }

    mod property {
        use super::*;
        use crate::__fuzz::check_traces_round_trip;
        use crate::trace::{SpanEvent, SpanLink};
        use proptest::collection::vec;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::I64),
                any::<f64>().prop_map(Value::F64),
                ".{0,12}".prop_map(|s| Value::String(s.into())),
                vec(any::<bool>(), 0..4).prop_map(|a| Value::Array(Array::Bool(a))),
                vec(any::<i64>(), 0..4).prop_map(|a| Value::Array(Array::I64(a))),
                vec(any::<f64>(), 0..4).prop_map(|a| Value::Array(Array::F64(a))),
                vec(".{0,6}", 0..4).prop_map(|a| Value::Array(Array::String(
                    a.into_iter().map(Into::into).collect()
                ))),
            ]
        }

        fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
            vec(
                ("[a-z._]{0,10}", value()).prop_map(|(k, v)| KeyValue::new(k, v)),
                0..5,
            )
        }

        /// A dropped count: mostly none, sometimes a few, sometimes huge.
        fn dropped() -> impl Strategy<Value = u32> {
            prop_oneof![Just(0u32), 1..300u32, any::<u32>()]
        }

        fn span() -> impl Strategy<Value = SpanRecord> {
            let ids = (any::<u128>(), any::<u64>(), any::<u64>(), any::<bool>());
            let kind = prop_oneof![
                Just(SpanKind::Internal),
                Just(SpanKind::Server),
                Just(SpanKind::Client),
                Just(SpanKind::Producer),
                Just(SpanKind::Consumer),
            ];
            let event = (".{0,8}", any::<u64>(), attributes(), dropped()).prop_map(
                |(name, time, attributes, dropped_attributes_count)| SpanEvent {
                    name: name.into(),
                    time,
                    attributes,
                    dropped_attributes_count,
                },
            );
            let link = (any::<u128>(), any::<u64>(), attributes(), dropped()).prop_map(
                |(t, s, attributes, dropped_attributes_count)| SpanLink {
                    trace_id: TraceId::from(t),
                    span_id: SpanId::from(s),
                    attributes,
                    dropped_attributes_count,
                },
            );
            let trace_state = prop_oneof![
                Just(None),
                "[a-z0-9]{1,8}=[a-zA-Z0-9]{1,12}(,[a-z0-9@]{1,8}=[ -+--<>-~]{1,8}){0,3}"
                    .prop_map(|s| Some(s.into())),
                ".{0,12}".prop_map(|s| Some(s.into())),
            ];
            let status = prop_oneof![
                Just(Status::Unset),
                Just(Status::Ok),
                ".{0,10}".prop_map(|m| Status::Error(m.into())),
            ];
            let scope = prop_oneof![Just("app"), Just("app::a"), Just("lib::b::c"), Just("")];
            (
                ids,
                (".{0,16}", kind, any::<u64>(), any::<u64>()),
                (attributes(), vec(event, 0..3), vec(link, 0..3)),
                (dropped(), dropped(), dropped()),
                (status, scope, trace_state),
            )
                .prop_map(
                    |(
                        (t, s, p, remote),
                        (name, kind, start, end),
                        (attributes, events, links),
                        (dropped_attributes_count, dropped_events_count, dropped_links_count),
                        (status, scope, trace_state),
                    )| {
                        SpanRecord {
                            trace_id: TraceId::from(t),
                            span_id: SpanId::from(s),
                            parent_span_id: SpanId::from(p),
                            parent_remote: remote,
                            trace_state,
                            name: name.into(),
                            kind,
                            start,
                            end,
                            attributes,
                            dropped_attributes_count,
                            events,
                            dropped_events_count,
                            links,
                            dropped_links_count,
                            status,
                            scope,
                        }
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            /// Whatever spans are recorded, the official protobuf types
            /// decode from the request exactly those spans.
            #[test]
            fn any_spans_decode_as_recorded(resource in attributes(), spans in vec(span(), 0..8)) {
                prop_assert_eq!(check_traces_round_trip(&resource, &spans), Ok(()));
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            /// An encoder reused across requests (as the OTLP sink reuses
            /// it) writes each request exactly as a fresh encoder does:
            /// nothing of an earlier request leaks into a later one.
            #[test]
            fn a_reused_encoder_writes_what_a_fresh_one_writes(
                resource in attributes(),
                batches in vec(vec(span(), 0..6), 1..5),
            ) {
                let mut reused = TracesEncoder::default();
                for spans in &batches {
                    prop_assert_eq!(reused.request(&resource, spans), traces_request(&resource, spans));
                }
            }
        }
    }
}
