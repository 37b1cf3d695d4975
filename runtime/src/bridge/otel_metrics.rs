//! The OpenTelemetry metrics API, recorded by semtel: instruments of
//! `opentelemetry::global::meter(..)` go into semtel's metric registry and
//! are exported by its readers (the Prometheus endpoint, OTLP, the console
//! table) exactly like semtel's own, under the same cardinality limit and with
//! the current sampled span as exemplar. [`init`](crate::init) installs
//! [`MeterProvider`] as the global meter provider.
//!
//! ```
//! use opentelemetry::KeyValue;
//! use opentelemetry::metrics::MeterProvider as _;
//!
//! // What `opentelemetry::global::meter("my-library")` returns after `semtel::init()`.
//! let meter = semtel::otel::MeterProvider::new().meter("my-library");
//! let requests = meter.u64_counter("my_library.requests").with_unit("{request}").build();
//! let latency = meter
//!     .f64_histogram("my_library.latency")
//!     .with_unit("s")
//!     .with_boundaries(vec![0.01, 0.1, 1.0])
//!     .build();
//! requests.add(1, &[KeyValue::new("route", "/chat")]);
//! latency.record(0.042, &[KeyValue::new("route", "/chat")]);
//! ```
//!
//! Each meter is an instrumentation scope: OTLP exports it as the metrics'
//! scope; Prometheus and the console label the series with
//! `otel_scope_name` (and `otel_scope_version`). Observable instruments run
//! their callbacks whenever a reader collects. Instruments stay valid across
//! a shutdown and a new `init`; they record while metrics are enabled.
//!
//! As in the OpenTelemetry SDK, an instrument with an invalid name or unit
//! records nothing (with a warning), counters ignore negative values, and
//! values that are not finite are ignored; histogram bucket advice that is
//! not strictly increasing and finite is replaced by the default buckets.

use crate::metrics::observable::Observer;
use crate::metrics::{self, Descriptor, InstrumentState, Number};
use opentelemetry::metrics::{
    AsyncInstrument, AsyncInstrumentBuilder, Callback, Counter, Gauge, Histogram, HistogramBuilder,
    InstrumentBuilder, InstrumentProvider, Meter, ObservableCounter, ObservableGauge,
    ObservableUpDownCounter, SyncInstrument, UpDownCounter,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use semtel_conventions::Instrument;
use std::borrow::Cow;
use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// semtel as an OpenTelemetry meter provider. Every instance records into
/// the same process-wide registry, so it is cheap to create and to clone.
#[derive(Clone, Debug, Default)]
pub struct MeterProvider {
    _private: (),
}

impl MeterProvider {
    /// The provider (what `init` installs as the global one).
    pub fn new() -> Self {
        MeterProvider::default()
    }
}

impl opentelemetry::metrics::MeterProvider for MeterProvider {
    fn meter_with_scope(&self, scope: InstrumentationScope) -> Meter {
        Meter::new(Arc::new(ScopeInstruments { scope }))
    }
}

/// The instruments of one meter.
struct ScopeInstruments {
    scope: InstrumentationScope,
}

/// What an instrument builder says about the instrument.
struct Spec {
    kind: Instrument,
    name: Cow<'static, str>,
    description: Option<Cow<'static, str>>,
    unit: Option<Cow<'static, str>>,
    boundaries: Option<Vec<f64>>,
}

/// Why an instrument name is invalid, by the OpenTelemetry API's rules.
fn name_problem(name: &str) -> Option<&'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-/".contains(c);
    if name.is_empty() {
        Some("the name is empty")
    } else if name.len() > 255 {
        Some("the name is longer than 255 characters")
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("the name does not start with a letter")
    } else if !name.chars().all(allowed) {
        Some("the name has characters other than letters, digits, `_`, `.`, `-` and `/`")
    } else {
        None
    }
}

/// Why histogram bucket boundaries are invalid.
fn boundaries_problem(b: &[f64]) -> Option<&'static str> {
    if b.iter().any(|x| !x.is_finite()) {
        Some("they include NaN or an infinity")
    } else if b.windows(2).any(|w| w[1] <= w[0]) {
        Some("they are not strictly increasing")
    } else {
        None
    }
}

/// Warns about `key` once (up to a bound on how many keys are remembered).
fn warn_once(key: String, message: std::fmt::Arguments<'_>) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.len() < 1024 && seen.insert(key) {
        crate::warn(message);
    }
}

impl ScopeInstruments {
    /// The descriptor, or `None` (with a warning) for an invalid instrument.
    fn descriptor(&self, spec: Spec) -> Option<Descriptor> {
        let meter = self.scope.name();
        let name = &spec.name;
        let unit = spec.unit.unwrap_or_default();
        let problem = match name_problem(name) {
            Some(p) => Some(format!(
                "{p} (names start with a letter and use letters, digits, `_`, `.`, `-`, `/`, at most 255 characters)"
            )),
            None if unit.len() > 63 || !unit.is_ascii() => Some(format!(
                "its unit {unit:?} is not ASCII of at most 63 characters (UCUM: `us` for microseconds)"
            )),
            None => None,
        };
        if let Some(problem) = problem {
            warn_once(
                format!("{meter}\0{name}"),
                format_args!(
                    "OpenTelemetry instrument {name:?} of meter `{meter}` records nothing: {problem}"
                ),
            );
            return None;
        }
        let buckets: Cow<'static, [f64]> = match (spec.kind, spec.boundaries) {
            (Instrument::Histogram, Some(b)) => match boundaries_problem(&b) {
                None => b.into(),
                Some(problem) => {
                    warn_once(
                        format!("{meter}\0{name}\0buckets"),
                        format_args!(
                            "the bucket boundaries {b:?} of histogram {name} (meter `{meter}`) are ignored: \
                             {problem}; it uses the default buckets"
                        ),
                    );
                    metrics::default_buckets(&unit).into()
                }
            },
            (Instrument::Histogram, None) => metrics::default_buckets(&unit).into(),
            _ => Cow::Borrowed(&[]),
        };
        Some(Descriptor {
            name: spec.name,
            unit,
            description: spec.description.unwrap_or_default(),
            kind: spec.kind,
            buckets,
        })
    }

    fn sync<T: Number>(&self, spec: Spec) -> Arc<dyn SyncInstrument<T> + Send + Sync> {
        match self.descriptor(spec) {
            Some(d) => Arc::new(Recorder {
                state: metrics::register(d, Some(self.scope.clone()), false),
                warned: AtomicBool::new(false),
            }),
            None => Arc::new(Ignored),
        }
    }

    fn observable<T: Number>(&self, spec: Spec, callbacks: Vec<Callback<T>>) {
        let Some(d) = self.descriptor(spec) else {
            return;
        };
        let state = metrics::register(d, Some(self.scope.clone()), true);
        if let Some(o) = &state.observable {
            for callback in callbacks {
                o.register(Box::new(move |observer: &Observer<'_>| {
                    callback(&Observe {
                        observer,
                        _value: PhantomData,
                    })
                }));
            }
        }
    }
}

/// A synchronous instrument recording into semtel's registry.
struct Recorder {
    state: Arc<InstrumentState>,
    /// Whether an ignored value was reported.
    warned: AtomicBool,
}

impl<T: Number> SyncInstrument<T> for Recorder {
    #[inline]
    fn measure(&self, value: T, attributes: &[KeyValue]) {
        if !metrics::enabled() {
            return;
        }
        let f = value.to_f64();
        if !f.is_finite() || (f < 0.0 && self.state.desc.kind == Instrument::Counter) {
            if !self.warned.swap(true, Ordering::Relaxed) {
                let rule = if self.state.desc.kind == Instrument::Counter {
                    "a counter only adds finite values of at least 0"
                } else {
                    "values must be finite"
                };
                crate::warn(format_args!(
                    "metric {} ignores the value {f}: {rule}",
                    self.state.desc.name
                ));
            }
            return;
        }
        let ctx = crate::trace::current_context();
        self.state
            .with_series(attributes, |s| s.measure(value, ctx));
    }
}

/// The instrument returned for an invalid one: measurements are dropped.
struct Ignored;

impl<T> SyncInstrument<T> for Ignored {
    fn measure(&self, _value: T, _attributes: &[KeyValue]) {}
}

/// What an observable instrument's callback reports through.
struct Observe<'a, 'b, T> {
    observer: &'a Observer<'b>,
    _value: PhantomData<fn(T)>,
}

impl<T: Number> AsyncInstrument<T> for Observe<'_, '_, T> {
    fn observe(&self, value: T, attributes: &[KeyValue]) {
        self.observer.observe(value, attributes);
    }
}

macro_rules! sync_instruments {
    ($($method:ident: $inst:ident<$t:ty> = $kind:ident;)*) => {$(
        fn $method(&self, b: InstrumentBuilder<'_, $inst<$t>>) -> $inst<$t> {
            $inst::new(self.sync(Spec {
                kind: Instrument::$kind,
                name: b.name,
                description: b.description,
                unit: b.unit,
                boundaries: None,
            }))
        }
    )*};
}

macro_rules! histograms {
    ($($method:ident: $t:ty;)*) => {$(
        fn $method(&self, b: HistogramBuilder<'_, Histogram<$t>>) -> Histogram<$t> {
            Histogram::new(self.sync(Spec {
                kind: Instrument::Histogram,
                name: b.name,
                description: b.description,
                unit: b.unit,
                boundaries: b.boundaries,
            }))
        }
    )*};
}

macro_rules! observable_instruments {
    ($($method:ident: $inst:ident<$t:ty> = $kind:ident;)*) => {$(
        fn $method(&self, b: AsyncInstrumentBuilder<'_, $inst<$t>, $t>) -> $inst<$t> {
            let spec = Spec {
                kind: Instrument::$kind,
                name: b.name,
                description: b.description,
                unit: b.unit,
                boundaries: None,
            };
            self.observable(spec, b.callbacks);
            $inst::new()
        }
    )*};
}

impl InstrumentProvider for ScopeInstruments {
    sync_instruments! {
        u64_counter: Counter<u64> = Counter;
        f64_counter: Counter<f64> = Counter;
        i64_up_down_counter: UpDownCounter<i64> = UpDownCounter;
        f64_up_down_counter: UpDownCounter<f64> = UpDownCounter;
        u64_gauge: Gauge<u64> = Gauge;
        i64_gauge: Gauge<i64> = Gauge;
        f64_gauge: Gauge<f64> = Gauge;
    }
    histograms! {
        u64_histogram: u64;
        f64_histogram: f64;
    }
    observable_instruments! {
        u64_observable_counter: ObservableCounter<u64> = Counter;
        f64_observable_counter: ObservableCounter<f64> = Counter;
        i64_observable_up_down_counter: ObservableUpDownCounter<i64> = UpDownCounter;
        f64_observable_up_down_counter: ObservableUpDownCounter<f64> = UpDownCounter;
        u64_observable_gauge: ObservableGauge<u64> = Gauge;
        i64_observable_gauge: ObservableGauge<i64> = Gauge;
        f64_observable_gauge: ObservableGauge<f64> = Gauge;
    }
}
