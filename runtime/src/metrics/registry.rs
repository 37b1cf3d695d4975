//! The process-wide metric registry: instruments by name, their series by
//! attribute set, bounded by a cardinality limit with an overflow series.

use super::series::{Exemplar, GaugeCell, HistogramCell, HistogramSnapshot, SumCell};
use opentelemetry::{KeyValue, Value};
use semtel_conventions::Instrument;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

/// What an instrument is: name, unit, description, kind and bucket boundaries.
#[derive(Clone, Debug, PartialEq)]
pub struct Descriptor {
    /// The OpenTelemetry metric name (`orchestration.step.duration`).
    pub name: Cow<'static, str>,
    /// The UCUM unit (`s`, `{task}`).
    pub unit: Cow<'static, str>,
    /// What it measures.
    pub description: Cow<'static, str>,
    /// Counter, up-down counter, histogram or gauge.
    pub kind: Instrument,
    /// Histogram bucket upper bounds (empty for other kinds).
    pub buckets: &'static [f64],
}

/// The default histogram boundaries (the OpenTelemetry SDK's, suited to seconds
/// they are not; semtel's duration defaults are in `DEFAULT_SECONDS_BUCKETS`).
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// Default boundaries for durations in seconds: 1 ms to 10 min.
pub const DEFAULT_SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];

/// Attributes sorted by key, compared and hashed by value.
#[derive(Clone, Debug)]
pub(crate) struct AttrSet(pub Vec<KeyValue>);

impl AttrSet {
    pub fn new(mut kvs: Vec<KeyValue>) -> Self {
        kvs.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
        kvs.dedup_by(|later, earlier| {
            let same = later.key == earlier.key;
            if same {
                earlier.value = later.value.clone();
            }
            same
        });
        AttrSet(kvs)
    }
}

fn hash_value<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Bool(b) => b.hash(h),
        Value::I64(i) => i.hash(h),
        Value::F64(f) => f.to_bits().hash(h),
        Value::String(s) => s.as_str().hash(h),
        other => other.to_string().hash(h),
    }
}

impl Hash for AttrSet {
    fn hash<H: Hasher>(&self, h: &mut H) {
        for kv in &self.0 {
            kv.key.as_str().hash(h);
            hash_value(&kv.value, h);
        }
    }
}

impl PartialEq for AttrSet {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for AttrSet {}

/// The value cell of a series.
pub(crate) enum Cell {
    Sum(SumCell),
    Gauge(GaugeCell),
    Histogram(HistogramCell),
}

/// One series: an attribute set and its value.
pub(crate) struct Series {
    pub attributes: Vec<KeyValue>,
    pub cell: Cell,
    pub start: u64,
}

impl Series {
    fn new(desc: &Descriptor, attributes: Vec<KeyValue>) -> Self {
        let cell = match desc.kind {
            Instrument::Counter | Instrument::UpDownCounter => Cell::Sum(SumCell::default()),
            Instrument::Gauge => Cell::Gauge(GaugeCell::default()),
            Instrument::Histogram => Cell::Histogram(HistogramCell::new(desc.buckets)),
        };
        Series {
            attributes,
            cell,
            start: crate::clock::now(),
        }
    }
}

/// The series an instrument may hold before new attribute sets go to the overflow series.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

/// An instrument and its series.
pub(crate) struct InstrumentState {
    pub desc: Descriptor,
    series: RwLock<HashMap<AttrSet, Arc<Series>>>,
    overflow: OnceLock<Arc<Series>>,
    limit: usize,
}

impl InstrumentState {
    /// The series for `attrs`, created on first use; past the cardinality
    /// limit, the overflow series (`otel.metric.overflow=true`).
    pub fn series(&self, attrs: Vec<KeyValue>) -> Arc<Series> {
        let key = AttrSet::new(attrs);
        if let Some(s) = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(s);
        }
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = map.get(&key) {
            return Arc::clone(s);
        }
        if map.len() >= self.limit {
            drop(map);
            return Arc::clone(self.overflow.get_or_init(|| {
                crate::warn(format_args!(
                    "metric {} reached its cardinality limit of {} series; further attribute sets are counted in the overflow series",
                    self.desc.name, self.limit
                ));
                Arc::new(Series::new(&self.desc, vec![KeyValue::new("otel.metric.overflow", true)]))
            }));
        }
        let s = Arc::new(Series::new(&self.desc, key.0.clone()));
        map.insert(key, Arc::clone(&s));
        s
    }

    fn all_series(&self) -> Vec<Arc<Series>> {
        let map = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<Arc<Series>> = map.values().cloned().collect();
        v.extend(self.overflow.get().cloned());
        v
    }
}

static REGISTRY: Mutex<Vec<Arc<InstrumentState>>> = Mutex::new(Vec::new());
static LIMIT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_CARDINALITY_LIMIT);

/// Sets the cardinality limit for instruments created from now on.
pub(crate) fn set_cardinality_limit(limit: usize) {
    LIMIT.store(limit.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// The instrument named `desc.name`, created on first use. A second
/// registration under the same name with another kind gets a warning and its
/// own, unexported instrument, so the first one's data stays consistent.
pub(crate) fn instrument(desc: Descriptor) -> Arc<InstrumentState> {
    let mut reg = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(i) = reg.iter().find(|i| i.desc.name == desc.name) {
        if i.desc.kind == desc.kind {
            return Arc::clone(i);
        }
        crate::warn(format_args!(
            "metric {} is already registered as a {:?}; the {:?} of the same name is not exported",
            desc.name, i.desc.kind, desc.kind
        ));
        return Arc::new(new_state(desc));
    }
    let state = Arc::new(new_state(desc));
    reg.push(Arc::clone(&state));
    state
}

fn new_state(desc: Descriptor) -> InstrumentState {
    InstrumentState {
        desc,
        series: RwLock::new(HashMap::new()),
        overflow: OnceLock::new(),
        limit: LIMIT.load(std::sync::atomic::Ordering::Relaxed),
    }
}

/// A series' value at collection time.
#[derive(Clone, Debug, PartialEq)]
pub enum Point {
    /// A sum (counter or up-down counter).
    Sum(f64),
    /// A last value.
    Gauge(f64),
    /// A histogram.
    Histogram(HistogramSnapshot),
}

/// One series at collection time.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSnapshot {
    /// Its attributes, sorted by key.
    pub attributes: Vec<KeyValue>,
    /// Its value.
    pub point: Point,
    /// When the series started, in nanoseconds since the Unix epoch.
    pub start: u64,
    /// Exemplars: one per histogram bucket (by bucket index), or one for a sum (index 0).
    pub exemplars: Vec<(usize, Exemplar)>,
}

/// One instrument at collection time.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSnapshot {
    /// What it is.
    pub descriptor: Descriptor,
    /// Its series.
    pub series: Vec<SeriesSnapshot>,
}

/// Every registered instrument's current values (cumulative).
pub fn collect() -> Vec<MetricSnapshot> {
    let instruments: Vec<Arc<InstrumentState>> = REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    instruments
        .iter()
        .map(|i| MetricSnapshot {
            descriptor: i.desc.clone(),
            series: i.all_series().iter().filter_map(|s| snapshot(s)).collect(),
        })
        .collect()
}

fn snapshot(s: &Series) -> Option<SeriesSnapshot> {
    let (point, exemplars) = match &s.cell {
        Cell::Sum(c) => (
            Point::Sum(c.value()),
            c.exemplar.load().map(|e| vec![(0, e)]).unwrap_or_default(),
        ),
        Cell::Gauge(g) => (Point::Gauge(g.value()?), Vec::new()),
        Cell::Histogram(h) => (
            Point::Histogram(h.snapshot()),
            h.exemplars
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.load().map(|e| (i, e)))
                .collect(),
        ),
    };
    let mut attributes = s.attributes.clone();
    attributes.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    Some(SeriesSnapshot {
        attributes,
        point,
        start: s.start,
        exemplars,
    })
}
