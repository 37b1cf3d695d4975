//! Function metrics (call counter, duration histogram, calls in flight) by
//! hand with prometheus-client and with the OpenTelemetry metrics API; and
//! the OpenTelemetry metrics API served by semtel or by the SDK.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _, UpDownCounter};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use prometheus_client::metrics::counter::Counter as PCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge as PGauge;
use prometheus_client::metrics::histogram::{Histogram as PHistogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::hint::black_box;
use std::time::Instant;

type Labels3 = [(&'static str, &'static str); 3];
type Labels2 = [(&'static str, &'static str); 2];

/// autometrics-style metrics with prometheus-client.
pub struct Prom {
    calls: Family<Labels3, PCounter>,
    duration: Family<Labels2, PHistogram>,
    in_flight: Family<Labels2, PGauge>,
    _registry: Registry,
}

impl Prom {
    /// Registers the three metrics.
    pub fn new() -> Prom {
        let mut registry = Registry::default();
        let calls = Family::<Labels3, PCounter>::default();
        let duration = Family::<Labels2, PHistogram>::new_with_constructor(|| {
            PHistogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let in_flight = Family::<Labels2, PGauge>::default();
        registry.register("function_calls", "calls", calls.clone());
        registry.register(
            "function_calls_duration_seconds",
            "duration",
            duration.clone(),
        );
        registry.register("function_calls_concurrent", "in flight", in_flight.clone());
        Prom {
            calls,
            duration,
            in_flight,
            _registry: registry,
        }
    }

    /// One metered call.
    #[inline(never)]
    pub fn call(&self, x: u64) -> u64 {
        let f: Labels2 = [("function", "call"), ("module", "bench")];
        self.in_flight.get_or_create(&f).inc();
        let start = Instant::now();
        let r = black_box(x) + 1;
        self.duration
            .get_or_create(&f)
            .observe(start.elapsed().as_secs_f64());
        self.calls
            .get_or_create(&[("function", "call"), ("module", "bench"), ("result", "ok")])
            .inc();
        self.in_flight.get_or_create(&f).dec();
        r
    }
}

impl Default for Prom {
    fn default() -> Self {
        Self::new()
    }
}

/// A metric exporter that drops everything.
struct NoopMetrics;

impl PushMetricExporter for NoopMetrics {
    async fn export(&self, _metrics: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// The same three metrics through the OpenTelemetry metrics API and SDK.
pub struct Otel {
    calls: Counter<u64>,
    duration: Histogram<f64>,
    in_flight: UpDownCounter<i64>,
    provider: SdkMeterProvider,
}

impl Otel {
    /// A meter provider whose reader exports (to nowhere) once an hour.
    pub fn new() -> Otel {
        let reader = PeriodicReader::builder(NoopMetrics)
            .with_interval(std::time::Duration::from_secs(3600))
            .build();
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        let meter = provider.meter("bench");
        Otel {
            calls: meter.u64_counter("function.calls").build(),
            duration: meter
                .f64_histogram("function.calls.duration")
                .with_unit("s")
                .build(),
            in_flight: meter
                .i64_up_down_counter("function.calls.concurrent")
                .build(),
            provider,
        }
    }

    /// One metered call.
    #[inline(never)]
    pub fn call(&self, x: u64) -> u64 {
        let f = [
            KeyValue::new("function", "call"),
            KeyValue::new("module", "bench"),
        ];
        self.in_flight.add(1, &f);
        let start = Instant::now();
        let r = black_box(x) + 1;
        self.duration.record(start.elapsed().as_secs_f64(), &f);
        self.calls.add(
            1,
            &[
                KeyValue::new("function", "call"),
                KeyValue::new("module", "bench"),
                KeyValue::new("result", "ok"),
            ],
        );
        self.in_flight.add(-1, &f);
        r
    }
}

impl Default for Otel {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Otel {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// A counter and a histogram a library takes from `opentelemetry::global::meter`.
pub struct Api {
    counter: Counter<u64>,
    histogram: Histogram<f64>,
    _keep: Box<dyn std::any::Any>,
}

impl Api {
    fn from_global(keep: Box<dyn std::any::Any>) -> Api {
        let meter = opentelemetry::global::meter("bench-library");
        Api {
            counter: meter.u64_counter("library.requests").build(),
            histogram: meter
                .f64_histogram("library.latency")
                .with_unit("s")
                .with_boundaries(vec![0.005, 0.01, 0.05, 0.1, 0.5, 1.0])
                .build(),
            _keep: keep,
        }
    }

    /// semtel installed (Prometheus endpoint on), serving the global meter provider.
    pub fn semtel() -> Api {
        let telemetry =
            crate::contender_semtel::install(crate::exporter::CountingExporter::default(), 1.0);
        Api::from_global(Box::new(telemetry))
    }

    /// The SDK's meter provider (a reader exporting hourly) as the global one.
    pub fn sdk() -> Api {
        let otel = Otel::new();
        opentelemetry::global::set_meter_provider(otel.provider.clone());
        Api::from_global(Box::new(otel))
    }

    /// Adds 1 to the counter, with two attributes.
    #[inline(never)]
    pub fn add(&self, x: u64) -> u64 {
        self.counter.add(
            1,
            &[
                KeyValue::new("route", "/chat"),
                KeyValue::new("model", "small"),
            ],
        );
        black_box(x) + 1
    }

    /// Records into the histogram, with two attributes.
    #[inline(never)]
    pub fn record(&self, x: u64) -> u64 {
        self.histogram.record(
            (x % 100) as f64 * 0.001,
            &[
                KeyValue::new("route", "/chat"),
                KeyValue::new("model", "small"),
            ],
        );
        black_box(x) + 1
    }
}
