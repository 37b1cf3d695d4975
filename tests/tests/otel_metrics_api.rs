//! A library that knows only the OpenTelemetry metrics API records inside a
//! semtel span. A real Prometheus scrapes semtel's endpoint and stores the
//! library's series under Prometheus names, the histogram with the buckets the
//! library advised, and exemplars naming the semtel span's trace; a real
//! collector receives them over OTLP under the library's scope.

use semtel::{MetricsExporter, metered, traced_task};
use semtel_tests::collector::{Rotel, parse_scoped_metric_names};
use semtel_tests::poll;
use semtel_tests::prometheus::{Prometheus, encode};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// A chat client library: `opentelemetry` only, no semtel.
mod chat_library {
    use opentelemetry::metrics::{Counter, Histogram};
    use opentelemetry::{InstrumentationScope, KeyValue, global};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    pub struct Client {
        requests: Counter<u64>,
        latency: Histogram<f64>,
        open: Arc<AtomicI64>,
        model: &'static str,
    }

    impl Client {
        /// A client of `model`.
        pub fn new(model: &'static str) -> Client {
            let meter = global::meter_with_scope(
                InstrumentationScope::builder("chat-lib")
                    .with_version("0.3.1")
                    .build(),
            );
            let open = Arc::new(AtomicI64::new(0));
            let observed = Arc::clone(&open);
            meter
                .i64_observable_up_down_counter("chat.sessions")
                .with_unit("{session}")
                .with_callback(move |o| {
                    o.observe(
                        observed.load(Ordering::Relaxed),
                        &[KeyValue::new("model", model)],
                    )
                })
                .build();
            Client {
                requests: meter
                    .u64_counter("chat.requests")
                    .with_unit("{request}")
                    .with_description("Chat requests sent")
                    .build(),
                latency: meter
                    .f64_histogram("chat.latency")
                    .with_unit("s")
                    .with_boundaries(vec![0.05, 0.2, 1.0])
                    .build(),
                open,
                model,
            }
        }

        pub fn chat(&self, seconds: f64) {
            self.open.fetch_add(1, Ordering::Relaxed);
            let attrs = [KeyValue::new("model", self.model)];
            self.requests.add(1, &attrs);
            self.latency.record(seconds, &attrs);
        }
    }

    /// Another library with a counter of the same name.
    pub fn other_library_request(model: &'static str) {
        global::meter("other-lib")
            .u64_counter("chat.requests")
            .with_unit("{request}")
            .build()
            .add(7, &[KeyValue::new("model", model)]);
    }
}

#[traced_task(name = "agent.turn")]
fn turn(client: &chat_library::Client, seconds: f64) {
    client.chat(seconds);
}

/// The trace ids of the `agent.turn` spans `capture` holds.
fn turn_traces(capture: &semtel::testing::Capture) -> BTreeSet<String> {
    capture
        .spans()
        .iter()
        .filter(|s| s.name == "agent.turn")
        .map(|s| s.trace_id.to_string())
        .collect()
}

/// The label values of `label` over the series an instant query returns.
fn label_values(prom: &Prometheus, query: &str, label: &str) -> BTreeSet<String> {
    let v = prom.api(&format!("query?query={}", encode(query)));
    v["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["metric"][label].as_str().map(String::from))
        .collect()
}

#[test]
fn prometheus_stores_a_library_s_opentelemetry_metrics_with_semtel_exemplars() {
    let capture = semtel::testing::capture_with(
        semtel::builder()
            .metrics_exporter(MetricsExporter::Prometheus)
            .prometheus_host("127.0.0.1")
            .prometheus_port(0),
    );
    let telemetry = capture.telemetry();
    let addr = telemetry
        .prometheus_addr()
        .expect("the endpoint runs")
        .to_string();
    // Metrics are process-wide: this test's series are those of model "small".
    let client = chat_library::Client::new("small");
    for seconds in [0.01, 0.1, 0.1, 0.5, 3.0] {
        turn(&client, seconds);
    }
    chat_library::other_library_request("small");
    assert!(telemetry.flush());
    let traces = turn_traces(&capture);
    assert_eq!(traces.len(), 5);

    let prom = Prometheus::start(&addr);
    let scope = r#"model="small",otel_scope_name="chat-lib",otel_scope_version="0.3.1""#;
    let requests = poll(Duration::from_secs(30), || {
        prom.query_value(&format!("chat_requests_total{{{scope}}}"))
    });
    assert_eq!(
        requests,
        Some(5.0),
        "target: {}\n{}",
        prom.target_health(),
        prom.log()
    );
    // The other library's counter of the same name is its own series.
    assert_eq!(
        prom.query_value(r#"chat_requests_total{model="small",otel_scope_name="other-lib"}"#),
        Some(7.0)
    );
    // The buckets are the library's advice.
    let le = label_values(
        &prom,
        &format!("chat_latency_seconds_bucket{{{scope}}}"),
        "le",
    );
    let want: BTreeSet<String> = ["0.05", "0.2", "1.0", "+Inf"].map(String::from).into();
    assert_eq!(le, want);
    assert_eq!(
        prom.query_value(&format!(
            r#"chat_latency_seconds_bucket{{le="0.2",{scope}}}"#
        )),
        Some(3.0)
    );
    assert_eq!(
        prom.query_value(&format!(r#"chat_latency_seconds_count{{{scope}}}"#)),
        Some(5.0)
    );
    let total = prom
        .query_value(&format!(r#"chat_latency_seconds_sum{{{scope}}}"#))
        .expect("the sum");
    assert!((total - 3.71).abs() < 1e-9, "{total}");
    // The observable instrument's callback ran at the scrape.
    assert_eq!(
        prom.query_value(&format!("chat_sessions{{{scope}}}")),
        Some(5.0)
    );
    assert_eq!(
        label_values(&prom, r#"{__name__=~"chat_.*"}"#, "__name__"),
        [
            "chat_latency_seconds_bucket",
            "chat_latency_seconds_count",
            "chat_latency_seconds_sum",
            "chat_requests_total",
            "chat_sessions"
        ]
        .map(String::from)
        .into()
    );

    // Exemplars name the traces of the semtel spans the library ran in.
    for selector in [
        format!("chat_latency_seconds_bucket{{{scope}}}"),
        format!("chat_requests_total{{{scope}}}"),
    ] {
        let ids = poll(Duration::from_secs(30), || {
            let ids = prom.exemplar_trace_ids(&selector);
            (!ids.is_empty()).then_some(ids)
        })
        .unwrap_or_else(|| panic!("exemplars of {selector} stored by prometheus"));
        assert!(
            ids.iter().all(|id| traces.contains(id)),
            "{selector}: exemplar traces {ids:?} are semtel spans' {traces:?}"
        );
    }
    let metric_json: Value = prom.api(&format!("metadata?metric={}", encode("chat_requests")));
    assert_eq!(
        metric_json["data"]["chat_requests"][0]["help"].as_str(),
        Some("Chat requests sent"),
        "{metric_json}"
    );
    drop(capture);
}

#[metered]
fn own_metric() {}

#[test]
fn otlp_carries_each_meter_as_its_instrumentation_scope() {
    let rotel = Rotel::start();
    let capture = semtel::testing::capture_with(
        semtel::builder()
            .metrics_exporter(MetricsExporter::Otlp)
            .otlp_protocol(semtel::Protocol::Grpc)
            .otlp_endpoint(rotel.grpc_endpoint())
            .metric_export_interval(Duration::from_millis(200)),
    );
    let telemetry = capture.telemetry();
    let client = chat_library::Client::new("large");
    turn(&client, 0.1);
    chat_library::other_library_request("large");
    own_metric();
    assert!(telemetry.flush());
    let traces = turn_traces(&capture);
    let wanted = [
        ("chat-lib 0.3.1", "chat.requests"),
        ("chat-lib 0.3.1", "chat.latency"),
        ("chat-lib 0.3.1", "chat.sessions"),
        ("other-lib", "chat.requests"),
        ("semtel 0.1.0", "function.calls"),
    ];
    let has_all = |out: &str| {
        let got = parse_scoped_metric_names(out);
        wanted
            .iter()
            .all(|(s, n)| got.iter().any(|(gs, gn)| gs == s && gn == n))
    };
    rotel.wait_until("metrics of every scope", Duration::from_secs(20), has_all);
    let out = rotel.output();
    // The library's measurements carry the semtel span as exemplar.
    let trace = traces.iter().next().expect("one turn");
    assert!(out.contains(&format!("-> Trace ID: {trace}")), "{out}");
    drop(capture);
}
