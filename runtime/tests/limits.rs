//! Span limits and trace state as the OpenTelemetry specification has them,
//! observed in the OTLP request the exporter sends (decoded with the
//! official protobuf types): what a limit leaves out is counted in the
//! `dropped_*_count` fields, a later value of a key replaces an earlier one,
//! long strings are cut, and the W3C trace state a trace came with is written
//! on its spans and handed on.

use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue as PbKeyValue, any_value::Value as Pb};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use semtel::conventions::orchestration;
use semtel::testing::{self, Capture};
use semtel::trace::{ActiveSpan, Parent};
use semtel::{SpanContext, traced_task};
use semtel_conventions::SpanKind;
use std::borrow::Cow;
use std::collections::HashMap;

/// In-memory telemetry configured by the environment `vars`.
fn capture_env(vars: &[(&str, &str)]) -> Capture {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    testing::capture_with(semtel::builder().env_source(move |k| vars.get(k).cloned()))
}

/// The spans of the OTLP request for everything captured so far.
fn exported(cap: &Capture) -> Vec<Span> {
    let bytes = cap.otlp_request(&[KeyValue::new("service.name", "limits-test")]);
    let req = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("a valid OTLP request");
    req.resource_spans
        .into_iter()
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect()
}

fn named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one span named {name}: {spans:#?}");
    found[0]
}

/// Attributes as `key=value` text (`"s"` for strings, `[..]` for arrays).
fn attrs(kvs: &[PbKeyValue]) -> Vec<String> {
    fn text(v: Option<&Pb>) -> String {
        match v {
            Some(Pb::StringValue(s)) => format!("{s:?}"),
            Some(Pb::IntValue(i)) => i.to_string(),
            Some(Pb::BoolValue(b)) => b.to_string(),
            Some(Pb::DoubleValue(d)) => d.to_string(),
            Some(Pb::ArrayValue(a)) => format!(
                "[{}]",
                a.values
                    .iter()
                    .map(|v| text(v.value.as_ref()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => format!("{other:?}"),
        }
    }
    kvs.iter()
        .map(|kv| {
            let v = kv.value.as_ref().and_then(|v| v.value.as_ref());
            format!("{}={}", kv.key, text(v))
        })
        .collect()
}

fn start(name: &'static str) -> ActiveSpan {
    ActiveSpan::start_parts(
        Cow::Borrowed(name),
        SpanKind::Internal,
        "limits",
        Parent::Current,
    )
}

#[traced_task(name = "limited", attrs(orchestration.task.id = "t-1", orchestration.task.priority = 7, orchestration.workflow.name = "w"))]
fn limited() {
    // A new key beyond the limit is left out; a key already set is replaced.
    semtel::current_span().set(orchestration::queue::NAME, "q");
    semtel::current_span().set(orchestration::task::ID, "t-2");
}

#[test]
fn the_attribute_count_limit_holds_on_every_set_and_counts_what_it_left_out() {
    let cap = capture_env(&[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2")]);
    limited();
    let mut late = start("late");
    late.set_attributes([KeyValue::new("a", 1), KeyValue::new("b", 2)]);
    late.set(orchestration::task::PRIORITY, 3);
    late.set_attributes([KeyValue::new("c", 3), KeyValue::new("a", 10)]);
    drop(late);
    let spans = exported(&cap);
    let s = named(&spans, "limited");
    assert_eq!(
        attrs(&s.attributes),
        [
            "orchestration.task.id=\"t-2\"",
            "orchestration.task.priority=7"
        ]
    );
    assert_eq!(s.dropped_attributes_count, 2);
    let s = named(&spans, "late");
    assert_eq!(attrs(&s.attributes), ["a=10", "b=2"]);
    assert_eq!(s.dropped_attributes_count, 2);
}

#[test]
fn three_hundred_attributes_arrive_as_128_with_172_dropped() {
    let cap = testing::capture();
    let mut span = start("wide");
    span.set_attributes((0..300).map(|i| KeyValue::new(format!("k{i}"), i)));
    drop(span);
    let spans = exported(&cap);
    let s = named(&spans, "wide");
    assert_eq!(s.attributes.len(), 128);
    assert_eq!(s.attributes[127].key, "k127");
    assert_eq!(s.dropped_attributes_count, 172);
    assert_eq!(
        (s.dropped_events_count, s.dropped_links_count),
        (0, 0),
        "nothing else was dropped"
    );
}

#[test]
fn events_and_links_keep_their_limits_and_count_the_rest() {
    let cap = capture_env(&[
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "2"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "1"),
        ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1"),
        ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "2"),
    ]);
    let other = start("other").context();
    let tracer = opentelemetry::global::tracer("limits-test");
    let mut span = tracer.start("limited.events");
    for i in 0..3 {
        span.add_event(
            format!("e{i}"),
            vec![KeyValue::new("x", i), KeyValue::new("y", i)],
        );
    }
    let linked = |ctx: SpanContext| {
        opentelemetry::trace::SpanContext::new(
            ctx.trace_id,
            ctx.span_id,
            opentelemetry::trace::TraceFlags::SAMPLED,
            false,
            Default::default(),
        )
    };
    span.add_link(
        linked(other),
        vec![
            KeyValue::new("a", 1),
            KeyValue::new("a", 2),
            KeyValue::new("b", 3),
            KeyValue::new("c", 4),
        ],
    );
    span.add_link(linked(other), Vec::new());
    span.end();
    let spans = exported(&cap);
    let s = named(&spans, "limited.events");
    let events: Vec<(&str, Vec<String>, u32)> = s
        .events
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                attrs(&e.attributes),
                e.dropped_attributes_count,
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("e0", vec!["x=0".to_string()], 1),
            ("e1", vec!["x=1".to_string()], 1)
        ]
    );
    assert_eq!(s.dropped_events_count, 1);
    assert_eq!(s.links.len(), 1);
    assert_eq!(attrs(&s.links[0].attributes), ["a=2", "b=3"]);
    assert_eq!(s.links[0].dropped_attributes_count, 1);
    assert_eq!(s.dropped_links_count, 1);
}

#[test]
fn long_strings_and_strings_of_arrays_are_cut_at_characters() {
    let cap = capture_env(&[
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "10"),
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4"),
    ]);
    let mut span = start("long");
    span.set_attributes([
        KeyValue::new("s", "héllo wörld"),
        KeyValue::new("short", "abcd"),
        KeyValue::new(
            "a",
            Value::Array(Array::String(vec![
                "abcdef".into(),
                "日本語テキスト".into(),
                "é".into(),
            ])),
        ),
        KeyValue::new("i", 1234567),
    ]);
    span.add_event("e", vec![KeyValue::new("m", "message")]);
    drop(span);
    let spans = exported(&cap);
    let s = named(&spans, "long");
    assert_eq!(
        attrs(&s.attributes),
        [
            "s=\"héll\"",
            "short=\"abcd\"",
            "a=[\"abcd\",\"日本語テ\",\"é\"]",
            "i=1234567"
        ]
    );
    assert_eq!(attrs(&s.events[0].attributes), ["m=\"mess\""]);
    assert_eq!(s.dropped_attributes_count, 0, "cutting is not dropping");
}

#[test]
fn a_later_value_of_a_key_replaces_the_earlier_one() {
    let cap = testing::capture();
    let mut span = start("dupes");
    span.set_attributes([KeyValue::new("d", 1), KeyValue::new("d", 2)]);
    span.set_attributes([KeyValue::new("e", 1)]);
    span.set_attributes([KeyValue::new("d", 3), KeyValue::new("f", 1)]);
    drop(span);
    let spans = exported(&cap);
    let s = named(&spans, "dupes");
    assert_eq!(attrs(&s.attributes), ["d=3", "e=1", "f=1"]);
    assert_eq!(s.dropped_attributes_count, 0);
}

#[test]
fn empty_keys_and_names_are_handled_as_the_specification_says() {
    let cap = testing::capture();
    let mut span = start("");
    span.set_attributes([KeyValue::new("", 1), KeyValue::new("k", 2)]);
    span.add_event("", vec![KeyValue::new("", "x"), KeyValue::new("m", "y")]);
    drop(span);
    let spans = exported(&cap);
    let s = named(&spans, "<unspecified span name>");
    assert_eq!(attrs(&s.attributes), ["k=2"]);
    assert_eq!(s.dropped_attributes_count, 1, "an empty key is dropped");
    assert_eq!(s.events[0].name, "<unspecified event name>");
    assert_eq!(attrs(&s.events[0].attributes), ["m=\"y\""]);
    assert_eq!(s.events[0].dropped_attributes_count, 1);
}

/// Run as a child process (see below): does each wrong thing twice.
#[test]
fn warnings_name_what_was_wrong_once() {
    if std::env::var_os("SEMTEL_LIMITS_CHILD").is_some() {
        let _cap = capture_env(&[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1")]);
        for _ in 0..2 {
            let mut span = start("");
            span.set_attributes([
                KeyValue::new("", 1),
                KeyValue::new("a", 1),
                KeyValue::new("b", 1),
            ]);
            span.add_event("", Vec::new());
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "warnings_name_what_was_wrong_once",
            "--nocapture",
        ])
        .env("SEMTEL_LIMITS_CHILD", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("semtel: warning:"))
        .collect();
    for expected in [
        "an attribute with an empty key on a span is left out (counted as dropped)",
        "a span with an empty name (scope limits) is exported as \"<unspecified span name>\"",
        "an event with an empty name on span `<unspecified span name>` is exported as \"<unspecified event name>\"",
        "span `<unspecified span name>` reached the limit of 1 attributes (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT)",
    ] {
        let n = warnings.iter().filter(|w| w.contains(expected)).count();
        assert_eq!(n, 1, "{expected:?} once in {warnings:#?}");
    }
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";

#[test]
fn the_environment_trace_state_is_written_on_spans_and_handed_on() {
    let cap = capture_env(&[("TRACEPARENT", TRACEPARENT), ("TRACESTATE", TRACESTATE)]);
    let mut root = start("root");
    let handed = root.in_scope(|| {
        let mut child = start("child");
        child.in_scope(|| {
            let mut headers = http::HeaderMap::new();
            semtel::propagation::inject(&mut headers);
            (semtel::propagation::env_vars(), headers)
        })
    });
    drop(root);
    let mut fresh = ActiveSpan::start_parts(
        Cow::Borrowed("fresh"),
        SpanKind::Internal,
        "limits",
        Parent::Root,
    );
    let elsewhere = fresh.in_scope(semtel::propagation::env_vars);
    drop(fresh);
    let spans = exported(&cap);
    for name in ["root", "child"] {
        assert_eq!(named(&spans, name).trace_state, TRACESTATE, "{name}");
    }
    assert_eq!(
        named(&spans, "fresh").trace_state,
        "",
        "a new trace has none"
    );
    let (vars, headers) = handed;
    assert!(
        vars.contains(&("TRACESTATE", TRACESTATE.to_string())),
        "{vars:?}"
    );
    assert_eq!(headers["tracestate"], TRACESTATE);
    assert!(
        !elsewhere.iter().any(|(k, _)| *k == "TRACESTATE"),
        "{elsewhere:?}"
    );
}

#[test]
fn a_header_trace_state_follows_the_extracted_parent() {
    let cap = testing::capture();
    let mut incoming = http::HeaderMap::new();
    incoming.insert("traceparent", TRACEPARENT.parse().unwrap());
    incoming.insert("tracestate", "vendor=v1".parse().unwrap());
    let parent = semtel::propagation::extract(&incoming).unwrap();
    let server = ActiveSpan::start_parts(
        Cow::Borrowed("server"),
        SpanKind::Server,
        "limits",
        Parent::Explicit(parent),
    );
    let ctx = server.context();
    // Another thread continues the request from its context alone.
    let (outgoing, headers) = std::thread::spawn(move || {
        ctx.in_scope(|| {
            let mut client = start("client");
            client.in_scope(|| {
                let mut headers = http::HeaderMap::new();
                semtel::propagation::inject(&mut headers);
                (semtel::propagation::env_vars(), headers)
            })
        })
    })
    .join()
    .unwrap();
    drop(server);
    let spans = exported(&cap);
    assert_eq!(named(&spans, "server").trace_state, "vendor=v1");
    assert_eq!(named(&spans, "client").trace_state, "vendor=v1");
    assert_eq!(headers["tracestate"], "vendor=v1");
    assert!(outgoing.contains(&("TRACESTATE", "vendor=v1".to_string())));
    let otel_span = {
        let tracer = opentelemetry::global::tracer("limits-test");
        let cx = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(&incoming))
        });
        let span = tracer.start_with_context("otel.child", &cx);
        let cx = cx.with_span(span);
        cx.span().end();
        cx.span().span_context().trace_state().header()
    };
    assert_eq!(otel_span, "vendor=v1");
    assert_eq!(
        named(&exported(&cap), "otel.child").trace_state,
        "vendor=v1"
    );
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
