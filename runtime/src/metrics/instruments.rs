//! semtel's typed instruments, made from the conventions' metric definitions,
//! and their bound series: a bound counter only adds, a bound histogram only
//! records, a bound gauge only sets.

use super::state::{InstrumentState, Series};
use super::{Number, descriptor, enabled, instrument};
use crate::trace::{SpanContext, current_context};
use opentelemetry::KeyValue;
use semtel_conventions::{self as conv, MetricDef};
use std::marker::PhantomData;
use std::sync::Arc;

macro_rules! bound_type {
    ($(#[$m:meta])* $name:ident, $method:ident, $method_in:ident, $verb:literal) => {
        $(#[$m])*
        pub struct $name<V> {
            series: Arc<Series>,
            _value: PhantomData<fn(V)>,
        }

        impl<V> Clone for $name<V> {
            fn clone(&self) -> Self {
                $name {
                    series: Arc::clone(&self.series),
                    _value: PhantomData,
                }
            }
        }

        impl<V: Number> $name<V> {
            #[doc = $verb]
            /// The current span, when sampled, becomes the exemplar.
            #[inline]
            pub fn $method(&self, value: V) {
                if enabled() {
                    self.series.$method(value, current_context());
                }
            }

            #[doc = $verb]
            /// The span of `ctx`, when sampled, becomes the exemplar.
            #[inline]
            pub fn $method_in(&self, value: V, ctx: SpanContext) {
                if enabled() {
                    self.series.$method(value, ctx);
                }
            }
        }
    };
}

bound_type!(
    /// A [`Counter`] bound to fixed attributes: the fastest way to count.
    BoundCounter, add, add_in, "Adds `value` (not negative)."
);
bound_type!(
    /// An [`UpDownCounter`] bound to fixed attributes.
    BoundUpDownCounter, add, add_in, "Adds `value` (may be negative)."
);
bound_type!(
    /// A [`Histogram`] bound to fixed attributes.
    BoundHistogram, record, record_in, "Records `value`."
);

/// A [`Gauge`] bound to fixed attributes.
pub struct BoundGauge<V> {
    series: Arc<Series>,
    _value: PhantomData<fn(V)>,
}

impl<V> Clone for BoundGauge<V> {
    fn clone(&self) -> Self {
        BoundGauge {
            series: Arc::clone(&self.series),
            _value: PhantomData,
        }
    }
}

impl<V: Number> BoundGauge<V> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: V) {
        if enabled() {
            self.series.set(value);
        }
    }
}

macro_rules! instrument_type {
    ($(#[$m:meta])* $name:ident, $kind:ident, $bound:ident, $method:ident, $verb:literal) => {
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
            pub fn bind(&self, attributes: Vec<KeyValue>) -> $bound<V> {
                $bound {
                    series: self.state.series(&attributes),
                    _value: PhantomData,
                }
            }

            #[doc = $verb]
            pub fn $method(&self, value: V, attributes: Vec<KeyValue>) {
                if enabled() {
                    self.state
                        .with_series(&attributes, |s| s.measure(value, current_context()));
                }
            }
        }
    };
}

instrument_type!(
    /// A monotonic sum (`counter` in the schema).
    Counter, Counter, BoundCounter, add,
    "Adds `value` (not negative) for `attributes`; the current span, when sampled, becomes the exemplar."
);
instrument_type!(
    /// A sum that goes up and down (`updowncounter`).
    UpDownCounter, UpDownCounter, BoundUpDownCounter, add,
    "Adds `value` (may be negative) for `attributes`; the current span, when sampled, becomes the exemplar."
);
instrument_type!(
    /// A distribution of values (`histogram`).
    Histogram, Histogram, BoundHistogram, record,
    "Records `value` for `attributes`; the current span, when sampled, becomes the exemplar."
);
instrument_type!(
    /// The last value of something (`gauge`).
    Gauge, Gauge, BoundGauge, set,
    "Sets the value for `attributes`."
);
