//! Observable instruments: callbacks that report values when a reader
//! collects (a Prometheus scrape, an OTLP push, the console table), exported
//! like any other series. Each collection exports exactly what the callbacks
//! observed in it.

use super::Number;
use super::state::{Cell, InstrumentState, Series};
use opentelemetry::KeyValue;
use semtel_conventions::Instrument;
use std::cell::Cell as ThreadFlag;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Reports an observable instrument's current values.
pub(crate) type Callback = Box<dyn Fn(&Observer<'_>) + Send + Sync>;

/// The callbacks of an observable instrument.
#[derive(Default)]
pub(crate) struct Observable {
    /// Held for a whole collection, so collections of one instrument take turns.
    callbacks: Mutex<Vec<Callback>>,
    epoch: AtomicU64,
    panicked: AtomicBool,
}

impl Observable {
    /// One more callback, run from the next collection on.
    pub fn register(&self, callback: Callback) {
        self.callbacks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(callback);
    }
}

/// What a callback reports through: values of one instrument in one collection.
pub(crate) struct Observer<'a> {
    state: &'a InstrumentState,
    epoch: u64,
}

impl Observer<'_> {
    /// The instrument's value for `attributes` (cumulative for sums). Values
    /// that are not finite, and negative ones for a monotonic sum, are ignored.
    pub fn observe<V: Number>(&self, v: V, attributes: &[KeyValue]) {
        let f = v.to_f64();
        if !f.is_finite() || (f < 0.0 && self.state.desc.kind == Instrument::Counter) {
            return;
        }
        self.state.with_series(attributes, |s| {
            let first = s.seen.swap(self.epoch, Ordering::Relaxed) != self.epoch;
            match &s.cell {
                // Attribute sets past the cardinality limit add up in the overflow series.
                Cell::Sum(c) if s.overflow && !first => match v.as_i64() {
                    Some(i) => c.add_i64(i),
                    None => c.add_f64(f),
                },
                Cell::Sum(c) => c.set(v.as_i64(), f),
                Cell::Gauge(g) => g.set(f),
                Cell::Histogram(_) => {}
            }
        });
    }
}

thread_local! {
    /// Set while this thread runs callbacks: a callback that collects again
    /// gets no observable values instead of a deadlock.
    static COLLECTING: ThreadFlag<bool> = const { ThreadFlag::new(false) };
}

/// Runs the callbacks of `state`; returns the series they observed (none
/// when called from a callback).
pub(crate) fn collect(state: &InstrumentState, observable: &Observable) -> Vec<Arc<Series>> {
    if COLLECTING.with(ThreadFlag::get) {
        return Vec::new();
    }
    let callbacks = observable
        .callbacks
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let epoch = observable.epoch.fetch_add(1, Ordering::Relaxed) + 1;
    let observer = Observer { state, epoch };
    COLLECTING.with(|c| c.set(true));
    for callback in callbacks.iter() {
        if catch_unwind(AssertUnwindSafe(|| callback(&observer))).is_err()
            && !observable.panicked.swap(true, Ordering::Relaxed)
        {
            crate::warn(format_args!(
                "a callback of observable metric {} panicked; its values are missing from this collection",
                state.desc.name
            ));
        }
    }
    COLLECTING.with(|c| c.set(false));
    state.retain_seen(epoch);
    state.all_series(Some(epoch))
}
