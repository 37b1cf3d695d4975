//! Metrics: instruments defined by the conventions' metric definitions,
//! recorded with atomics, with exemplars that link a measurement to the
//! sampled span that made it.
//!
//! ```
//! use semtel::conventions::metrics::orchestration;
//! use semtel::metrics::Counter;
//!
//! let claimed = Counter::new(&orchestration::tasks::CLAIMED);
//! claimed.add(1, vec![semtel::conventions::orchestration::queue::NAME.value("urgent")]);
//! ```
//!
//! The instrument kind and value type come from the definition: a histogram
//! definition cannot make a counter, and a bound counter cannot record into
//! a histogram. Nothing is recorded until telemetry with a metrics exporter
//! is installed.
//!
//! Instruments made through the OpenTelemetry metrics API
//! (`opentelemetry::global::meter`) record into the same registry once
//! [`init`](crate::init) has run, and are exported alongside.

pub use crate::export::otlp_metrics::failed_metric_exports;
mod instruments;
pub(crate) mod observable;
mod registry;
pub(crate) mod series;
mod state;

pub use instruments::{
    BoundCounter, BoundGauge, BoundHistogram, BoundUpDownCounter, Counter, Gauge, Histogram,
    UpDownCounter,
};
pub use registry::{
    DEFAULT_BUCKETS, DEFAULT_SECONDS_BUCKETS, Descriptor, MetricSnapshot, Point, SeriesSnapshot,
    collect,
};
pub use series::{Exemplar, HistogramSnapshot};
pub use state::DEFAULT_CARDINALITY_LIMIT;

pub(crate) use registry::{collect_unscoped, instrument, register, set_cardinality_limit};
pub(crate) use state::{InstrumentState, Series};

use semtel_conventions::{self as conv, Instrument, MetricDef};
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// Whether metrics are being recorded (a metrics exporter is installed).
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

pub(crate) fn set_enabled(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

/// A value type of a metric: `i64`, `f64` (or `u64`, for the OpenTelemetry API).
pub trait Number: Copy + Send + Sync + 'static {
    /// As a float.
    fn to_f64(self) -> f64;
    /// As an exact integer, when it is one.
    fn as_i64(self) -> Option<i64>;
}

impl Number for i64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn as_i64(self) -> Option<i64> {
        Some(self)
    }
}

impl Number for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn as_i64(self) -> Option<i64> {
        i64::try_from(self).ok()
    }
}

impl Number for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn as_i64(self) -> Option<i64> {
        None
    }
}

/// The descriptor of a conventions metric definition.
pub(crate) fn descriptor<I: conv::InstrumentKind, V>(def: &MetricDef<I, V>) -> Descriptor {
    let buckets = match (I::KIND, def.buckets) {
        (Instrument::Histogram, Some(b)) => b,
        (Instrument::Histogram, None) => default_buckets(def.unit),
        _ => &[],
    };
    Descriptor {
        name: def.name.into(),
        unit: def.unit.into(),
        description: def.description.into(),
        kind: I::KIND,
        buckets: buckets.into(),
    }
}

/// The boundaries of a histogram that names none: seconds get semtel's
/// duration buckets, other units the OpenTelemetry defaults.
pub(crate) fn default_buckets(unit: &str) -> &'static [f64] {
    if unit == "s" {
        DEFAULT_SECONDS_BUCKETS
    } else {
        DEFAULT_BUCKETS
    }
}
