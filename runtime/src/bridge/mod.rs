//! Bridges to the APIs other instrumentation uses, so that one trace spans
//! semtel's spans and theirs: `tracing` (spans, events, the current span)
//! and the OpenTelemetry API (tracer provider, meter provider, text-map
//! propagator).

pub(crate) mod otel_metrics;
pub(crate) mod otel_propagator;
pub(crate) mod otel_trace;
#[cfg(feature = "reqwest-middleware")]
pub(crate) mod reqwest;
pub(crate) mod tracing;

/// Installs semtel as the OpenTelemetry API's global tracer provider, meter
/// provider and text-map propagator.
pub(crate) fn install_otel_globals() {
    opentelemetry::global::set_tracer_provider(otel_trace::TracerProvider::new());
    opentelemetry::global::set_meter_provider(otel_metrics::MeterProvider::new());
    opentelemetry::global::set_text_map_propagator(otel_propagator::Propagator::new());
}
