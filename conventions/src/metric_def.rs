//! Metric definitions: name, instrument, unit and the attributes allowed on them.

use std::fmt;
use std::marker::PhantomData;

/// The kinds of instrument a metric can be recorded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Instrument {
    /// A monotonic sum.
    Counter,
    /// A sum that goes up and down.
    UpDownCounter,
    /// A distribution of values.
    Histogram,
    /// The last value seen.
    Gauge,
}

/// A type-level instrument kind, so a histogram cannot be used as a counter.
pub trait InstrumentKind {
    /// The kind as a value.
    const KIND: Instrument;
}

macro_rules! kinds {
    ($($(#[$m:meta])* $name:ident),*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;

        impl InstrumentKind for $name {
            const KIND: Instrument = Instrument::$name;
        }
    )*};
}

kinds!(
    /// Marks a counter metric.
    Counter,
    /// Marks an up-down counter metric.
    UpDownCounter,
    /// Marks a histogram metric.
    Histogram,
    /// Marks a gauge metric.
    Gauge
);

/// A metric definition from the schema. `I` is the instrument kind and `V`
/// the value type (`i64` or `f64`).
pub struct MetricDef<I, V> {
    /// The metric name as exported (`gen_ai.client.token.usage`).
    pub name: &'static str,
    /// The UCUM unit (`s`, `{token}`).
    pub unit: &'static str,
    /// What it measures.
    pub description: &'static str,
    /// Advised explicit bucket boundaries (histograms).
    pub buckets: Option<&'static [f64]>,
    /// The attributes its measurements may carry.
    pub attributes: &'static [&'static str],
    _kind: PhantomData<fn() -> (I, V)>,
}

impl<I: InstrumentKind, V> MetricDef<I, V> {
    /// A definition (used by generated code).
    pub const fn new(
        name: &'static str,
        unit: &'static str,
        description: &'static str,
        buckets: Option<&'static [f64]>,
        attributes: &'static [&'static str],
    ) -> Self {
        MetricDef {
            name,
            unit,
            description,
            buckets,
            attributes,
            _kind: PhantomData,
        }
    }

    /// The instrument kind.
    pub const fn instrument(&self) -> Instrument {
        I::KIND
    }
}

impl<I, V> Clone for MetricDef<I, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, V> Copy for MetricDef<I, V> {}

impl<I, V> fmt::Debug for MetricDef<I, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricDef")
            .field("name", &self.name)
            .field("unit", &self.unit)
            .finish_non_exhaustive()
    }
}
