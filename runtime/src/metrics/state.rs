//! One instrument and its series: a series is found by its attribute list
//! without allocating once that list has been seen, and the number of series
//! is bounded by a cardinality limit with an overflow series.

use super::Number;
use super::observable::Observable;
use super::registry::Descriptor;
use super::series::{GaugeCell, HistogramCell, SumCell};
use crate::trace::SpanContext;
use opentelemetry::{InstrumentationScope, KeyValue};
use semtel_conventions::Instrument;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard};

/// The value cell of a series.
pub(crate) enum Cell {
    Sum(SumCell),
    Gauge(GaugeCell),
    Histogram(HistogramCell),
}

/// One series: an attribute set and its value.
pub(crate) struct Series {
    /// Sorted by key, one value per key.
    pub attributes: Vec<KeyValue>,
    pub cell: Cell,
    pub start: u64,
    /// Whether this is the instrument's overflow series.
    pub overflow: bool,
    /// For observable instruments: the collection that last observed it.
    pub seen: AtomicU64,
}

impl Series {
    fn new(kind: Instrument, bounds: &Arc<[f64]>, attributes: Vec<KeyValue>) -> Self {
        let cell = match kind {
            Instrument::Counter | Instrument::UpDownCounter => Cell::Sum(SumCell::default()),
            Instrument::Gauge => Cell::Gauge(GaugeCell::default()),
            Instrument::Histogram => Cell::Histogram(HistogramCell::new(Arc::clone(bounds))),
        };
        Series {
            attributes,
            cell,
            start: crate::clock::now(),
            overflow: false,
            seen: AtomicU64::new(0),
        }
    }

    /// Adds to a sum; the exemplar comes from `ctx` when it is sampled.
    #[inline]
    pub fn add<V: Number>(&self, v: V, ctx: SpanContext) {
        if let Cell::Sum(c) = &self.cell {
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
        if let Cell::Histogram(h) = &self.cell {
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
        if let Cell::Gauge(g) = &self.cell {
            g.set(v.to_f64());
        }
    }

    /// Adds, records or sets, whichever the instrument does.
    #[inline]
    pub fn measure<V: Number>(&self, v: V, ctx: SpanContext) {
        match &self.cell {
            Cell::Sum(_) => self.add(v, ctx),
            Cell::Histogram(_) => self.record(v, ctx),
            Cell::Gauge(_) => self.set(v),
        }
    }
}

/// The series of an instrument by attribute list: each sorted set, and the
/// other orders (or repetitions) it was given in, as aliases.
#[derive(Default)]
struct SeriesMap {
    /// Hashed with a fast seeded hash; the map's size is bounded by the limit.
    by_attrs: HashMap<Vec<KeyValue>, Arc<Series>, foldhash::fast::RandomState>,
    /// Distinct series (entries that are not aliases).
    distinct: usize,
}

impl SeriesMap {
    fn distinct_series(&self) -> impl Iterator<Item = &Arc<Series>> {
        self.by_attrs
            .iter()
            .filter(|(k, s)| **k == s.attributes)
            .map(|(_, s)| s)
    }
}

/// Sorted by key; of repeated keys the last value wins.
fn sort_and_dedup(attrs: &[KeyValue]) -> Vec<KeyValue> {
    let mut kvs = attrs.to_vec();
    kvs.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    kvs.dedup_by(|later, earlier| {
        let same = later.key == earlier.key;
        if same {
            earlier.value = later.value.clone();
        }
        same
    });
    kvs
}

/// The series an instrument may hold before new attribute sets go to the overflow series.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

/// An instrument and its series.
pub(crate) struct InstrumentState {
    pub desc: Descriptor,
    /// The meter of an OpenTelemetry API instrument; `None` for semtel's own.
    pub scope: Option<InstrumentationScope>,
    /// The callbacks of an observable instrument.
    pub observable: Option<Observable>,
    /// Whether a conflicting registration was already reported.
    pub warned: AtomicBool,
    bounds: Arc<[f64]>,
    series: RwLock<SeriesMap>,
    overflow: OnceLock<Arc<Series>>,
    limit: usize,
}

impl InstrumentState {
    pub fn new(
        desc: Descriptor,
        scope: Option<InstrumentationScope>,
        observable: Option<Observable>,
        limit: usize,
    ) -> Self {
        InstrumentState {
            bounds: Arc::from(&*desc.buckets),
            desc,
            scope,
            observable,
            warned: AtomicBool::new(false),
            series: RwLock::new(SeriesMap::default()),
            overflow: OnceLock::new(),
            limit,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, SeriesMap> {
        self.series.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the series for `attrs`: without allocating or touching a
    /// reference count when that attribute list was seen before.
    #[inline]
    pub fn with_series<R>(&self, attrs: &[KeyValue], f: impl FnOnce(&Series) -> R) -> R {
        if let Some(s) = self.read().by_attrs.get(attrs) {
            return f(s);
        }
        f(&self.series(attrs))
    }

    /// The series for `attrs`, created on first use; past the cardinality
    /// limit, the overflow series (`otel.metric.overflow=true`).
    pub fn series(&self, attrs: &[KeyValue]) -> Arc<Series> {
        let sorted = {
            let map = self.read();
            if let Some(s) = map.by_attrs.get(attrs) {
                return Arc::clone(s);
            }
            let sorted = sort_and_dedup(attrs);
            if !map.by_attrs.contains_key(&sorted) && map.distinct >= self.limit {
                return self.overflow();
            }
            sorted
        };
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let s = match map.by_attrs.get(&sorted) {
            Some(s) => Arc::clone(s),
            None if map.distinct >= self.limit => return self.overflow(),
            None => {
                let s = Arc::new(Series::new(self.desc.kind, &self.bounds, sorted.clone()));
                map.by_attrs.insert(sorted.clone(), Arc::clone(&s));
                map.distinct += 1;
                s
            }
        };
        // Remember the order the caller uses, so its next lookup is direct;
        // aliases are bounded like series.
        if attrs != sorted.as_slice() && map.by_attrs.len() < 2 * self.limit {
            map.by_attrs.insert(attrs.to_vec(), Arc::clone(&s));
        }
        s
    }

    fn overflow(&self) -> Arc<Series> {
        Arc::clone(self.overflow.get_or_init(|| {
            crate::warn(format_args!(
                "metric {} reached its cardinality limit of {} series; further attribute sets are counted in the overflow series",
                self.desc.name, self.limit
            ));
            let attrs = vec![KeyValue::new("otel.metric.overflow", true)];
            let mut s = Series::new(self.desc.kind, &self.bounds, attrs);
            s.overflow = true;
            Arc::new(s)
        }))
    }

    /// Every series (and the overflow series when used); with `seen`, only
    /// those observed in that collection.
    pub fn all_series(&self, seen: Option<u64>) -> Vec<Arc<Series>> {
        let map = self.read();
        map.distinct_series()
            .chain(self.overflow.get())
            .filter(|s| seen.is_none_or(|e| s.seen.load(Ordering::Relaxed) == e))
            .cloned()
            .collect()
    }

    /// Forgets the series not observed in collection `epoch`, so an
    /// observable instrument's cardinality is that of its latest observations.
    pub fn retain_seen(&self, epoch: u64) {
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        map.by_attrs
            .retain(|_, s| s.seen.load(Ordering::Relaxed) == epoch);
        map.distinct = map.distinct_series().count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn counter(limit: usize) -> InstrumentState {
        let desc = Descriptor {
            name: Cow::Borrowed("t"),
            unit: Cow::Borrowed(""),
            description: Cow::Borrowed(""),
            kind: Instrument::Counter,
            buckets: Cow::Borrowed(&[]),
        };
        InstrumentState::new(desc, None, None, limit)
    }

    #[test]
    fn attribute_order_and_repeated_keys_select_one_series() {
        let s = counter(10);
        let a = s.series(&[KeyValue::new("b", 1), KeyValue::new("a", "x")]);
        let b = s.series(&[KeyValue::new("a", "x"), KeyValue::new("b", 1)]);
        let c = s.series(&[
            KeyValue::new("a", "y"),
            KeyValue::new("b", 1),
            KeyValue::new("a", "x"),
        ]);
        assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&a, &c));
        assert_eq!(
            a.attributes,
            vec![KeyValue::new("a", "x"), KeyValue::new("b", 1)]
        );
        assert_eq!(s.all_series(None).len(), 1);
    }

    #[test]
    fn past_the_limit_sets_share_the_overflow_series() {
        let s = counter(2);
        for i in 0..5 {
            s.with_series(&[KeyValue::new("i", i)], |s| s.add(1i64, SpanContext::NONE));
        }
        let all = s.all_series(None);
        assert_eq!(all.len(), 3);
        let overflow: Vec<_> = all.iter().filter(|s| s.overflow).collect();
        assert_eq!(overflow.len(), 1);
        let Cell::Sum(c) = &overflow[0].cell else {
            panic!("a counter's series is a sum")
        };
        assert_eq!(c.value(), 3.0);
        assert_eq!(
            overflow[0].attributes,
            vec![KeyValue::new("otel.metric.overflow", true)]
        );
    }
}
