//! The OpenTelemetry API served by semtel. `init` installs these as the
//! API's global tracer provider, meter provider and text-map propagator
//! (unless the builder says [`keep_otel_globals`](crate::Builder::keep_otel_globals)),
//! so that libraries written against the `opentelemetry` crate join semtel's
//! traces, and their metrics are exported with semtel's (see [`MeterProvider`]):
//!
//! ```
//! use opentelemetry::trace::{Tracer, TracerProvider as _};
//!
//! // What `init` does; a program that manages the globals itself does it so.
//! opentelemetry::global::set_tracer_provider(semtel::otel::TracerProvider::new());
//! opentelemetry::global::set_text_map_propagator(semtel::otel::Propagator::new());
//!
//! let tracer = opentelemetry::global::tracer("a-library");
//! tracer.in_span("library.call", |_cx| {
//!     // a child of the semtel span this runs in, exported by semtel
//! });
//! ```

pub use crate::bridge::otel_metrics::MeterProvider;
pub use crate::bridge::otel_propagator::Propagator;
pub use crate::bridge::otel_trace::{Span, Tracer, TracerProvider};
