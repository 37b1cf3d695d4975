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
//! definition cannot make a counter. Nothing is recorded until telemetry with
//! a metrics exporter is installed.

mod registry;
pub(crate) mod series;

pub use registry::{
    DEFAULT_BUCKETS, DEFAULT_CARDINALITY_LIMIT, DEFAULT_SECONDS_BUCKETS, Descriptor,
    MetricSnapshot, Point, SeriesSnapshot, collect,
};
pub use series::{Exemplar, HistogramSnapshot};

pub(crate) use registry::{Cell, InstrumentState, Series, instrument, set_cardinality_limit};

use crate::trace::SpanContext;
use opentelemetry::KeyValue;
use semtel_conventions::{self as conv, Instrument, MetricDef};
use std::marker::PhantomData;
use std::sync::Arc;
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

/// A value type of a metric: `i64` or `f64`.
pub trait Number: Copy {
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
        (Instrument::Histogram, None) if def.unit == "s" => DEFAULT_SECONDS_BUCKETS,
        (Instrument::Histogram, None) => DEFAULT_BUCKETS,
        _ => &[],
    };
    Descriptor {
        name: def.name.into(),
        unit: def.unit.into(),
        description: def.description.into(),
        kind: I::KIND,
        buckets,
    }
}

/// A series bound to fixed attributes: the fastest way to record.
#[derive(Clone)]
pub struct Bound {
    series: Arc<Series>,
}

impl Bound {
    pub(crate) fn new(series: Arc<Series>) -> Self {
        Bound { series }
    }

    /// Adds to a sum; the exemplar comes from `ctx` when it is sampled.
    #[inline]
    pub fn add<V: Number>(&self, v: V, ctx: SpanContext) {
        if let Cell::Sum(c) = &self.series.cell {
            match v.as_i64() {
                Some(i) => c.add_i64(i),
                None => c.add_f64(v.to_f64()),
            }
            if ctx.sampled {
                c.exemplar
                    .store(v.to_f64(), crate::clock::now(), ctx.trace_id, ctx.span_id);
            }
        }
    }

    /// Records into a histogram; the exemplar comes from `ctx` when it is sampled.
    #[inline]
    pub fn record<V: Number>(&self, v: V, ctx: SpanContext) {
        if let Cell::Histogram(h) = &self.series.cell {
            let f = v.to_f64();
            let bucket = h.record(f);
            if ctx.sampled {
                h.exemplars[bucket].store(f, crate::clock::now(), ctx.trace_id, ctx.span_id);
            }
        }
    }

    /// Sets a gauge.
    #[inline]
    pub fn set<V: Number>(&self, v: V) {
        if let Cell::Gauge(g) = &self.series.cell {
            g.set(v.to_f64());
        }
    }
}

macro_rules! instrument_type {
    ($(#[$m:meta])* $name:ident, $kind:ident, $method:ident, $verb:literal) => {
        $(#[$m])*
        pub struct $name<V> {
            state: Arc<InstrumentState>,
            _value: PhantomData<fn(V)>,
        }

        impl<V: Number> $name<V> {
            /// The instrument for a metric definition of the schema.
            pub fn new(def: &MetricDef<conv::$kind, V>) -> Self {
                $name {
                    state: instrument(descriptor(def)),
                    _value: PhantomData,
                }
            }

            /// The series for `attributes`, to record into repeatedly.
            pub fn bind(&self, attributes: Vec<KeyValue>) -> Bound {
                Bound::new(self.state.series(attributes))
            }

            #[doc = $verb]
            /// The current span, when sampled, becomes the exemplar.
            pub fn $method(&self, value: V, attributes: Vec<KeyValue>) {
                if enabled() {
                    self.bind(attributes).$method(value, crate::trace::current_context());
                }
            }
        }
    };
}

instrument_type!(
    /// A monotonic sum (`counter` in the schema).
    Counter, Counter, add, "Adds `value` (not negative) for `attributes`."
);
instrument_type!(
    /// A sum that goes up and down (`updowncounter`).
    UpDownCounter, UpDownCounter, add, "Adds `value` (may be negative) for `attributes`."
);
instrument_type!(
    /// A distribution of values (`histogram`).
    Histogram, Histogram, record, "Records `value` for `attributes`."
);

/// The last value of something (`gauge`).
pub struct Gauge<V> {
    state: Arc<InstrumentState>,
    _value: PhantomData<fn(V)>,
}

impl<V: Number> Gauge<V> {
    /// The instrument for a metric definition of the schema.
    pub fn new(def: &MetricDef<conv::Gauge, V>) -> Self {
        Gauge {
            state: instrument(descriptor(def)),
            _value: PhantomData,
        }
    }

    /// Sets the value for `attributes`.
    pub fn set(&self, value: V, attributes: Vec<KeyValue>) {
        if enabled() {
            Bound::new(self.state.series(attributes)).set(value);
        }
    }
}
