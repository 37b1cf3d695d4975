//! Instruments of the OpenTelemetry metrics API (`opentelemetry::global::meter`)
//! after `init`: what semtel's registry collects from each kind, under the
//! cardinality limit, with exemplars, across meters and across re-inits.

use opentelemetry::metrics::Meter;
use opentelemetry::{InstrumentationScope, KeyValue, global};
use semtel::metrics::{MetricSnapshot, Point, SeriesSnapshot};
use semtel::testing::{self, Capture};
use semtel::traced_task;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The metric `name` of meter `meter`, as collected now.
fn metric(cap: &Capture, meter: &str, name: &str) -> MetricSnapshot {
    let found: Vec<MetricSnapshot> = cap
        .metrics()
        .into_iter()
        .filter(|m| m.descriptor.name == name && m.scope.as_ref().map(|s| s.name()) == Some(meter))
        .collect();
    assert_eq!(found.len(), 1, "one metric {name} of meter {meter}");
    found.into_iter().next().unwrap()
}

/// The one series of `m` whose attributes include `attrs`.
fn series<'a>(m: &'a MetricSnapshot, attrs: &[(&str, &str)]) -> &'a SeriesSnapshot {
    let found: Vec<&SeriesSnapshot> = m
        .series
        .iter()
        .filter(|s| {
            attrs.iter().all(|(k, v)| {
                s.attributes
                    .iter()
                    .any(|kv| kv.key.as_str() == *k && kv.value.as_str() == *v)
            })
        })
        .collect();
    assert_eq!(found.len(), 1, "one series {attrs:?} in {m:?}");
    found[0]
}

fn sum(s: &SeriesSnapshot) -> f64 {
    match s.point {
        Point::Sum(v) => v,
        ref p => panic!("not a sum: {p:?}"),
    }
}

fn gauge(s: &SeriesSnapshot) -> f64 {
    match s.point {
        Point::Gauge(v) => v,
        ref p => panic!("not a gauge: {p:?}"),
    }
}

fn meter(name: &'static str) -> Meter {
    global::meter(name)
}

#[test]
fn counters_and_up_down_counters_add_up_per_attribute_set() {
    let cap = testing::capture();
    let m = meter("lib-sums");
    let requests = m
        .u64_counter("lib.requests")
        .with_unit("{request}")
        .with_description("Requests handled")
        .build();
    requests.add(
        2,
        &[KeyValue::new("route", "/a"), KeyValue::new("ok", true)],
    );
    // The same set in another order is the same series.
    requests.add(
        3,
        &[KeyValue::new("ok", true), KeyValue::new("route", "/a")],
    );
    requests.add(
        1,
        &[KeyValue::new("route", "/b"), KeyValue::new("ok", true)],
    );
    let bytes = m.f64_counter("lib.bytes").with_unit("By").build();
    bytes.add(0.5, &[]);
    bytes.add(1.25, &[]);
    bytes.add(-4.0, &[]); // a counter only goes up: ignored
    let queue = m.i64_up_down_counter("lib.queue").build();
    queue.add(5, &[KeyValue::new("q", "x")]);
    queue.add(-7, &[KeyValue::new("q", "x")]);
    let load = m.f64_up_down_counter("lib.load").build();
    load.add(1.5, &[]);
    load.add(-0.25, &[]);

    let r = metric(&cap, "lib-sums", "lib.requests");
    assert_eq!(r.descriptor.kind, semtel::conventions::Instrument::Counter);
    assert_eq!(r.descriptor.unit, "{request}");
    assert_eq!(r.descriptor.description, "Requests handled");
    assert_eq!(r.series.len(), 2);
    assert_eq!(sum(series(&r, &[("route", "/a")])), 5.0);
    assert_eq!(sum(series(&r, &[("route", "/b")])), 1.0);
    assert_eq!(
        series(&r, &[("route", "/a")]).attributes,
        vec![KeyValue::new("ok", true), KeyValue::new("route", "/a")]
    );
    assert_eq!(sum(&metric(&cap, "lib-sums", "lib.bytes").series[0]), 1.75);
    let q = metric(&cap, "lib-sums", "lib.queue");
    assert_eq!(
        q.descriptor.kind,
        semtel::conventions::Instrument::UpDownCounter
    );
    assert_eq!(sum(series(&q, &[("q", "x")])), -2.0);
    assert_eq!(sum(&metric(&cap, "lib-sums", "lib.load").series[0]), 1.25);
}

#[test]
fn histograms_use_the_bucket_advice_or_the_defaults() {
    let cap = testing::capture();
    let m = meter("lib-histograms");
    let latency = m
        .f64_histogram("lib.latency")
        .with_unit("s")
        .with_boundaries(vec![0.1, 0.5, 2.0])
        .build();
    for v in [0.05, 0.1, 0.3, 1.0, 9.0] {
        latency.record(v, &[KeyValue::new("route", "/a")]);
    }
    let sizes = m.u64_histogram("lib.sizes").with_unit("By").build();
    sizes.record(7, &[]);
    let bad = m
        .f64_histogram("lib.bad_advice")
        .with_unit("s")
        .with_boundaries(vec![1.0, 0.5])
        .build();
    bad.record(0.2, &[]);

    let l = metric(&cap, "lib-histograms", "lib.latency");
    assert_eq!(&*l.descriptor.buckets, &[0.1, 0.5, 2.0]);
    let Point::Histogram(h) = &series(&l, &[("route", "/a")]).point else {
        panic!("a histogram")
    };
    assert_eq!(h.counts, vec![2, 1, 1, 1]);
    assert_eq!((h.count, h.min, h.max), (5, 0.05, 9.0));
    assert!((h.sum - 10.45).abs() < 1e-9);

    let s = metric(&cap, "lib-histograms", "lib.sizes");
    assert_eq!(&*s.descriptor.buckets, semtel::metrics::DEFAULT_BUCKETS);
    // Advice that is not increasing is replaced by the defaults for its unit.
    let b = metric(&cap, "lib-histograms", "lib.bad_advice");
    assert_eq!(
        &*b.descriptor.buckets,
        semtel::metrics::DEFAULT_SECONDS_BUCKETS
    );
    let Point::Histogram(h) = &b.series[0].point else {
        panic!("a histogram")
    };
    assert_eq!(h.count, 1);
}

#[test]
fn gauges_keep_the_last_value() {
    let cap = testing::capture();
    let m = meter("lib-gauges");
    let u = m.u64_gauge("lib.connections").build();
    u.record(3, &[]);
    u.record(4, &[]);
    let i = m.i64_gauge("lib.offset").build();
    i.record(-12, &[KeyValue::new("shard", 1)]);
    let f = m.f64_gauge("lib.temperature").with_unit("Cel").build();
    f.record(21.5, &[]);
    assert_eq!(
        gauge(&metric(&cap, "lib-gauges", "lib.connections").series[0]),
        4.0
    );
    let off = metric(&cap, "lib-gauges", "lib.offset");
    assert_eq!(off.descriptor.kind, semtel::conventions::Instrument::Gauge);
    assert_eq!(gauge(&off.series[0]), -12.0);
    assert_eq!(off.series[0].attributes, vec![KeyValue::new("shard", 1)]);
    assert_eq!(
        gauge(&metric(&cap, "lib-gauges", "lib.temperature").series[0]),
        21.5
    );
}

#[test]
fn observable_instruments_report_what_their_callbacks_observe_at_each_collection() {
    let cap = testing::capture();
    let m = meter("lib-observable");
    let ticks = Arc::new(AtomicU64::new(0));
    let t = Arc::clone(&ticks);
    let _c = m
        .u64_observable_counter("lib.cpu_ticks")
        .with_callback(move |o| {
            let n = t.fetch_add(10, Ordering::Relaxed) + 10;
            o.observe(n, &[KeyValue::new("cpu", 0)]);
        })
        .build();
    let _f = m
        .f64_observable_counter("lib.seconds")
        .with_unit("s")
        .with_callback(|o| o.observe(1.5, &[]))
        .build();
    // The attribute sets reported come and go: each collection exports its own.
    let round = Arc::new(AtomicU64::new(0));
    let r = Arc::clone(&round);
    let _u = m
        .i64_observable_up_down_counter("lib.jobs")
        .with_callback(move |o| {
            let n = r.fetch_add(1, Ordering::Relaxed);
            o.observe(3, &[KeyValue::new("state", "running")]);
            if n == 0 {
                o.observe(-1, &[KeyValue::new("state", "debt")]);
            }
        })
        .build();
    let _fu = m
        .f64_observable_up_down_counter("lib.balance")
        .with_callback(|o| o.observe(-2.5, &[]))
        .build();
    let _gu = m
        .u64_observable_gauge("lib.memory")
        .with_unit("By")
        .with_callback(|o| o.observe(4096, &[]))
        .build();
    let _gi = m
        .i64_observable_gauge("lib.skew")
        .with_callback(|o| o.observe(-3, &[]))
        .build();
    let _gf = m
        .f64_observable_gauge("lib.ratio")
        .with_unit("1")
        .with_callback(|o| o.observe(0.75, &[]))
        .with_callback(|o| o.observe(0.5, &[KeyValue::new("second", true)]))
        .build();
    // A panicking callback loses its own values, nothing else.
    let _p = m
        .u64_observable_gauge("lib.broken")
        .with_callback(|_| panic!("broken callback"))
        .build();

    let first = metric(&cap, "lib-observable", "lib.cpu_ticks");
    assert_eq!(sum(&first.series[0]), 10.0);
    let jobs = metric(&cap, "lib-observable", "lib.jobs");
    assert_eq!(jobs.series.len(), 1, "{jobs:?}");
    // Each collection ran the callbacks again: the cumulative value replaces the last.
    let second = metric(&cap, "lib-observable", "lib.cpu_ticks");
    assert_eq!(sum(&second.series[0]), 30.0);
    assert_eq!(first.series[0].start, second.series[0].start);
    assert_eq!(
        sum(&metric(&cap, "lib-observable", "lib.seconds").series[0]),
        1.5
    );
    let jobs = metric(&cap, "lib-observable", "lib.jobs");
    assert_eq!(sum(series(&jobs, &[("state", "running")])), 3.0);
    assert_eq!(jobs.series.len(), 1, "the set not observed again is gone");
    assert_eq!(
        sum(&metric(&cap, "lib-observable", "lib.balance").series[0]),
        -2.5
    );
    assert_eq!(
        gauge(&metric(&cap, "lib-observable", "lib.memory").series[0]),
        4096.0
    );
    assert_eq!(
        gauge(&metric(&cap, "lib-observable", "lib.skew").series[0]),
        -3.0
    );
    let ratio = metric(&cap, "lib-observable", "lib.ratio");
    assert_eq!(ratio.series.len(), 2);
    assert_eq!(gauge(series(&ratio, &[("second", "true")])), 0.5);
    assert!(
        metric(&cap, "lib-observable", "lib.broken")
            .series
            .is_empty()
    );
}

#[traced_task(name = "lib.call")]
fn in_a_span(work: impl FnOnce()) -> semtel::SpanContext {
    work();
    semtel::current_context()
}

#[test]
fn measurements_inside_a_sampled_span_carry_it_as_exemplar() {
    let cap = testing::capture();
    let m = meter("lib-exemplars");
    let calls = m.u64_counter("lib.ex.calls").build();
    let latency = m
        .f64_histogram("lib.ex.latency")
        .with_boundaries(vec![1.0, 10.0])
        .build();
    let span = in_a_span(|| {
        calls.add(1, &[KeyValue::new("in", "span")]);
        latency.record(5.0, &[KeyValue::new("in", "span")]);
    });
    calls.add(1, &[KeyValue::new("in", "none")]);
    latency.record(5.0, &[KeyValue::new("in", "none")]);
    let recorded = cap.span("lib.call");
    assert_eq!(
        (recorded.trace_id, recorded.span_id),
        (span.trace_id, span.span_id)
    );

    let c = metric(&cap, "lib-exemplars", "lib.ex.calls");
    let ex = &series(&c, &[("in", "span")]).exemplars;
    assert_eq!(ex.len(), 1);
    assert_eq!(
        (ex[0].1.trace_id, ex[0].1.span_id),
        (span.trace_id, span.span_id)
    );
    assert_eq!(ex[0].1.value, 1.0);
    assert!(series(&c, &[("in", "none")]).exemplars.is_empty());
    let h = metric(&cap, "lib-exemplars", "lib.ex.latency");
    let ex = &series(&h, &[("in", "span")]).exemplars;
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].0, 1, "the exemplar of the bucket (1, 10]");
    assert_eq!(ex[0].1.trace_id, span.trace_id);
    assert!(series(&h, &[("in", "none")]).exemplars.is_empty());
}

#[test]
fn the_cardinality_limit_sends_further_sets_to_the_overflow_series() {
    let _t = testing::capture_with(semtel::builder().metric_cardinality_limit(3));
    let m = meter("lib-cardinality");
    let users = m.u64_counter("lib.per_user").build();
    for user in 0..10 {
        users.add(1, &[KeyValue::new("user", user)]);
    }
    let _o = m
        .u64_observable_gauge("lib.per_user_bytes")
        .with_callback(|o| {
            for user in 0..10 {
                o.observe(100, &[KeyValue::new("user", user)]);
            }
        })
        .build();
    let all = semtel::metrics::collect();
    let find = |name: &str| {
        all.iter()
            .find(|m| m.descriptor.name == name)
            .unwrap_or_else(|| panic!("{name} collected"))
    };
    let c = find("lib.per_user");
    assert_eq!(c.series.len(), 4, "three sets and the overflow series");
    let overflow = series(c, &[("otel.metric.overflow", "true")]);
    assert_eq!(sum(overflow), 7.0);
    assert_eq!(
        c.series.iter().map(sum).sum::<f64>(),
        10.0,
        "nothing is lost"
    );
    let g = find("lib.per_user_bytes");
    assert_eq!(g.series.len(), 4);
    assert_eq!(gauge(series(g, &[("otel.metric.overflow", "true")])), 100.0);
}

#[test]
fn meters_keep_their_metrics_apart() {
    let cap = testing::capture();
    let a = global::meter_with_scope(
        InstrumentationScope::builder("lib-one")
            .with_version("1.0.0")
            .build(),
    );
    let b = meter("lib-two");
    a.u64_counter("shared.name").build().add(1, &[]);
    b.u64_counter("shared.name").build().add(5, &[]);
    // Creating the instrument again gives the same one.
    b.u64_counter("shared.name").build().add(5, &[]);
    let one = metric(&cap, "lib-one", "shared.name");
    assert_eq!(one.scope.as_ref().unwrap().version(), Some("1.0.0"));
    assert_eq!(sum(&one.series[0]), 1.0);
    assert_eq!(sum(&metric(&cap, "lib-two", "shared.name").series[0]), 10.0);
}

#[test]
fn invalid_instruments_record_nothing_and_do_not_panic() {
    let cap = testing::capture();
    let m = meter("lib-invalid");
    m.u64_counter("9starts.with.a.digit").build().add(1, &[]);
    m.f64_histogram("has space").build().record(1.0, &[]);
    m.u64_counter("lib.bad_unit")
        .with_unit("µs")
        .build()
        .add(1, &[]);
    m.f64_gauge("lib.nan").build().record(f64::NAN, &[]);
    let names: Vec<String> = cap
        .metrics()
        .into_iter()
        .filter(|m| m.scope.as_ref().map(|s| s.name()) == Some("lib-invalid"))
        .filter(|m| !m.series.is_empty())
        .map(|m| m.descriptor.name.to_string())
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn instruments_outlive_shutdown_and_keep_recording_after_a_new_init() {
    let (m, early) = {
        let cap = testing::capture();
        let m = meter("lib-reinit");
        let early = m.u64_counter("lib.reinit").build();
        early.add(1, &[]);
        assert_eq!(
            sum(&metric(&cap, "lib-reinit", "lib.reinit").series[0]),
            1.0
        );
        (m, early)
    };
    // Telemetry is shut down: nothing is recorded.
    {
        let _off = testing::without_telemetry();
        early.add(100, &[]);
        assert!(!semtel::metrics::enabled());
    }
    let cap = testing::capture();
    early.add(2, &[]);
    // A meter taken before this init, and the global provider after it, work too.
    m.u64_counter("lib.reinit").build().add(3, &[]);
    global::meter("lib-reinit")
        .u64_counter("lib.reinit")
        .build()
        .add(4, &[]);
    assert_eq!(
        sum(&metric(&cap, "lib-reinit", "lib.reinit").series[0]),
        10.0
    );
}

#[test]
fn keep_otel_globals_leaves_the_global_meter_provider_alone() {
    use opentelemetry::metrics::MeterProvider as _;
    let _turn = testing::without_telemetry();
    global::set_meter_provider(opentelemetry::metrics::NoopMeterProvider::new());
    let _t = testing::capture_with(semtel::builder().keep_otel_globals());
    global::meter("lib-kept")
        .u64_counter("lib.kept")
        .build()
        .add(1, &[]);
    let kept = || {
        semtel::metrics::collect()
            .into_iter()
            .filter(|m| m.descriptor.name == "lib.kept")
            .flat_map(|m| m.series)
            .map(|s| sum(&s))
            .sum::<f64>()
    };
    assert_eq!(
        kept(),
        0.0,
        "the program's own provider got the measurement"
    );
    // semtel's provider, handed over explicitly, still records.
    semtel::otel::MeterProvider::new()
        .meter("lib-kept")
        .u64_counter("lib.kept")
        .build()
        .add(2, &[]);
    assert_eq!(kept(), 2.0);
}
