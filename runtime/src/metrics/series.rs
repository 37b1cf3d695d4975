//! One time series of one instrument: lock-free atomics on the recording
//! path, with the latest exemplar kept per histogram bucket (and per counter).

use opentelemetry::trace::{SpanId, TraceId};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A measurement linked to the sampled span that made it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Exemplar {
    /// The measured value.
    pub value: f64,
    /// When, in nanoseconds since the Unix epoch.
    pub time: u64,
    /// The span's trace.
    pub trace_id: TraceId,
    /// The span.
    pub span_id: SpanId,
}

/// The latest exemplar, written without locks: a writer that finds another
/// writer busy gives up (an exemplar is a sample; losing one is fine).
#[derive(Default)]
pub(crate) struct ExemplarSlot {
    seq: AtomicU64,
    value: AtomicU64,
    time: AtomicU64,
    trace_hi: AtomicU64,
    trace_lo: AtomicU64,
    span: AtomicU64,
}

impl ExemplarSlot {
    #[inline]
    pub fn store(&self, value: f64, time: u64, trace_id: TraceId, span_id: SpanId) {
        let s = self.seq.load(Ordering::Relaxed);
        if s & 1 == 1
            || self
                .seq
                .compare_exchange(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let t = u128::from_be_bytes(trace_id.to_bytes());
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.time.store(time, Ordering::Relaxed);
        self.trace_hi.store((t >> 64) as u64, Ordering::Relaxed);
        self.trace_lo.store(t as u64, Ordering::Relaxed);
        self.span
            .store(u64::from_be_bytes(span_id.to_bytes()), Ordering::Relaxed);
        self.seq.store(s + 2, Ordering::Release);
    }

    pub fn load(&self) -> Option<Exemplar> {
        for _ in 0..8 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 == 0 {
                return None;
            }
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let e = Exemplar {
                value: f64::from_bits(self.value.load(Ordering::Relaxed)),
                time: self.time.load(Ordering::Relaxed),
                trace_id: TraceId::from(
                    (u128::from(self.trace_hi.load(Ordering::Relaxed)) << 64)
                        | u128::from(self.trace_lo.load(Ordering::Relaxed)),
                ),
                span_id: SpanId::from(self.span.load(Ordering::Relaxed)),
            };
            std::sync::atomic::fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return Some(e);
            }
        }
        None
    }
}

/// Adds to an `f64` stored as bits.
#[inline]
fn add_f64(cell: &AtomicU64, v: f64) {
    let mut cur = cell.load(Ordering::Relaxed);
    loop {
        let new = (f64::from_bits(cur) + v).to_bits();
        match cell.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(x) => cur = x,
        }
    }
}

/// A monotonic sum.
#[derive(Default)]
pub(crate) struct SumCell {
    /// Integer part (counts), kept exactly.
    int: AtomicI64,
    /// Fractional contributions, as `f64` bits.
    float: AtomicU64,
    pub exemplar: ExemplarSlot,
}

impl SumCell {
    #[inline]
    pub fn add_i64(&self, v: i64) {
        self.int.fetch_add(v, Ordering::Relaxed);
    }

    #[inline]
    pub fn add_f64(&self, v: f64) {
        add_f64(&self.float, v);
    }

    /// Replaces the sum (an observed cumulative value); `int` when it is exact.
    pub fn set(&self, int: Option<i64>, v: f64) {
        let (i, f) = int.map_or((0, v), |i| (i, 0.0));
        self.int.store(i, Ordering::Relaxed);
        self.float.store(f.to_bits(), Ordering::Relaxed);
    }

    pub fn value(&self) -> f64 {
        self.int.load(Ordering::Relaxed) as f64 + f64::from_bits(self.float.load(Ordering::Relaxed))
    }
}

/// A last value.
#[derive(Default)]
pub(crate) struct GaugeCell {
    bits: AtomicU64,
    set: std::sync::atomic::AtomicBool,
}

impl GaugeCell {
    #[inline]
    pub fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Ordering::Relaxed);
        self.set.store(true, Ordering::Release);
    }

    pub fn value(&self) -> Option<f64> {
        self.set
            .load(Ordering::Acquire)
            .then(|| f64::from_bits(self.bits.load(Ordering::Relaxed)))
    }
}

/// An explicit-bucket histogram.
pub(crate) struct HistogramCell {
    pub bounds: Arc<[f64]>,
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
    pub exemplars: Box<[ExemplarSlot]>,
}

impl HistogramCell {
    pub fn new(bounds: Arc<[f64]>) -> Self {
        HistogramCell {
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            min: AtomicU64::new(f64::INFINITY.to_bits()),
            max: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
            exemplars: (0..=bounds.len())
                .map(|_| ExemplarSlot::default())
                .collect(),
            bounds,
        }
    }

    /// Records `v`; returns its bucket index.
    #[inline]
    pub fn record(&self, v: f64) -> usize {
        // Buckets are upper-inclusive: (b[i-1], b[i]].
        let i = self.bounds.partition_point(|b| *b < v);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum, v);
        fetch_min(&self.min, v);
        fetch_max(&self.max, v);
        i
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        HistogramSnapshot {
            count: counts.iter().sum(),
            counts,
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
            min: f64::from_bits(self.min.load(Ordering::Relaxed)),
            max: f64::from_bits(self.max.load(Ordering::Relaxed)),
        }
    }
}

/// A histogram's values at one moment.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct HistogramSnapshot {
    /// Per bucket (not cumulative), one more than the bounds.
    pub counts: Vec<u64>,
    /// Measurements.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// The smallest (infinite when empty).
    pub min: f64,
    /// The largest (negative infinite when empty).
    pub max: f64,
}

#[inline]
fn fetch_min(cell: &AtomicU64, v: f64) {
    let mut cur = cell.load(Ordering::Relaxed);
    while v < f64::from_bits(cur) {
        match cell.compare_exchange_weak(cur, v.to_bits(), Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(x) => cur = x,
        }
    }
}

#[inline]
fn fetch_max(cell: &AtomicU64, v: f64) {
    let mut cur = cell.load(Ordering::Relaxed);
    while v > f64::from_bits(cur) {
        match cell.compare_exchange_weak(cur, v.to_bits(), Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(x) => cur = x,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_upper_inclusive() {
        let h = HistogramCell::new(Arc::from([1.0, 2.0, 5.0]));
        for v in [0.5, 1.0, 1.5, 2.0, 7.0] {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(s.counts, vec![2, 2, 0, 1]);
        assert_eq!(s.count, 5);
        assert_eq!(s.sum, 12.0);
        assert_eq!((s.min, s.max), (0.5, 7.0));
    }

    #[test]
    fn exemplar_round_trips() {
        let slot = ExemplarSlot::default();
        assert_eq!(slot.load(), None);
        slot.store(0.25, 42, TraceId::from(7u128), SpanId::from(9u64));
        let e = slot.load().unwrap();
        assert_eq!(
            (e.value, e.time, e.trace_id, e.span_id),
            (0.25, 42, TraceId::from(7u128), SpanId::from(9u64))
        );
    }
}
