//! The process-wide metric registry: instruments by meter and name, and
//! what a collection of all of them returns.

use super::observable::{self, Observable};
use super::series::{Exemplar, HistogramSnapshot};
use super::state::{Cell, DEFAULT_CARDINALITY_LIMIT, InstrumentState, Series};
use opentelemetry::{InstrumentationScope, KeyValue};
use semtel_conventions::Instrument;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What an instrument is: name, unit, description, kind and bucket boundaries.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
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
    pub buckets: Cow<'static, [f64]>,
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

static REGISTRY: Mutex<Vec<Arc<InstrumentState>>> = Mutex::new(Vec::new());
static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_CARDINALITY_LIMIT);

/// Sets the cardinality limit for instruments created from now on.
pub(crate) fn set_cardinality_limit(limit: usize) {
    LIMIT.store(limit.max(1), Ordering::Relaxed);
}

/// One of semtel's own instruments (see [`register`]).
pub(crate) fn instrument(desc: Descriptor) -> Arc<InstrumentState> {
    register(desc, None, false)
}

/// The instrument named `desc.name` in `scope` (a meter of the OpenTelemetry
/// API; `None` for semtel's own), created on first use; an observable one
/// collects through callbacks. A second registration of the same name as
/// another kind gets a warning and its own, unexported instrument, so the
/// first one's data stays consistent.
pub(crate) fn register(
    desc: Descriptor,
    scope: Option<InstrumentationScope>,
    observable: bool,
) -> Arc<InstrumentState> {
    let mut reg = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    let kind = kind_name(desc.kind, observable);
    let new = |desc| {
        let o = observable.then(Observable::default);
        Arc::new(InstrumentState::new(
            desc,
            scope.clone(),
            o,
            LIMIT.load(Ordering::Relaxed),
        ))
    };
    let same_scope = reg
        .iter()
        .find(|i| i.scope == scope && i.desc.name == desc.name);
    if let Some(i) = same_scope {
        let first = kind_name(i.desc.kind, i.observable.is_some());
        if first != kind {
            crate::warn(format_args!(
                "metric {}{} is already registered as {first}; the {kind} of the same name is not exported (give it another name)",
                desc.name,
                meter(&scope)
            ));
            return new(desc);
        }
        if (i.desc.unit != desc.unit || i.desc.buckets != desc.buckets)
            && !i.warned.swap(true, Ordering::Relaxed)
        {
            crate::warn(format_args!(
                "metric {}{} is registered again with unit `{}` and buckets {:?}; it keeps its first unit `{}` and buckets {:?}",
                desc.name,
                meter(&scope),
                desc.unit,
                desc.buckets,
                i.desc.unit,
                i.desc.buckets
            ));
        }
        return Arc::clone(i);
    }
    if let Some(other) = reg.iter().find(|i| {
        i.desc.name == desc.name && i.desc.unit == desc.unit && !one_family(&i.desc, &desc)
    }) {
        crate::warn(format_args!(
            "metric {}{} ({kind}) and metric {}{} ({}) have one name but differ in kind or buckets; OTLP exports both, the Prometheus endpoint and the console table only the first",
            desc.name,
            meter(&scope),
            other.desc.name,
            meter(&other.scope),
            kind_name(other.desc.kind, other.observable.is_some()),
        ));
    }
    let state = new(desc);
    reg.push(Arc::clone(&state));
    state
}

fn kind_name(kind: Instrument, observable: bool) -> String {
    let k = match kind {
        Instrument::Counter => "counter",
        Instrument::UpDownCounter => "up-down counter",
        Instrument::Histogram => "histogram",
        Instrument::Gauge => "gauge",
    };
    if observable {
        format!("an observable {k}")
    } else if kind == Instrument::UpDownCounter {
        format!("an {k}")
    } else {
        format!("a {k}")
    }
}

fn meter(scope: &Option<InstrumentationScope>) -> String {
    scope
        .as_ref()
        .map(|s| format!(" of meter `{}`", s.name()))
        .unwrap_or_default()
}

/// Whether metrics of one name (and unit) from different meters can share
/// one unscoped family: same kind, and for histograms the same buckets.
fn one_family(a: &Descriptor, b: &Descriptor) -> bool {
    a.kind == b.kind && (a.kind != Instrument::Histogram || a.buckets == b.buckets)
}

/// A series' value at collection time.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
pub struct MetricSnapshot {
    /// What it is.
    pub descriptor: Descriptor,
    /// The meter of an instrument made through the OpenTelemetry metrics
    /// API (`opentelemetry::global::meter`); `None` for semtel's own.
    pub scope: Option<InstrumentationScope>,
    /// Its series.
    pub series: Vec<SeriesSnapshot>,
}

/// Every registered instrument's current values (cumulative), after running
/// the callbacks of the observable ones.
pub fn collect() -> Vec<MetricSnapshot> {
    let instruments: Vec<Arc<InstrumentState>> = REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    instruments
        .iter()
        .map(|i| {
            let series = match &i.observable {
                Some(o) => observable::collect(i, o),
                None => i.all_series(None),
            };
            MetricSnapshot {
                descriptor: i.desc.clone(),
                scope: i.scope.clone(),
                series: series.iter().filter_map(|s| snapshot(s)).collect(),
            }
        })
        .collect()
}

/// [`collect`] for exporters without instrumentation scopes (Prometheus, the
/// console): one metric per name and unit, the series of other meters'
/// metrics of that name merged into it and labelled with their meter
/// (`otel.scope.name`, `otel.scope.version`). A metric that cannot share the
/// family (another kind, other buckets) is left out; its registration warned.
pub(crate) fn collect_unscoped() -> Vec<MetricSnapshot> {
    let mut out: Vec<MetricSnapshot> = Vec::new();
    for mut m in collect() {
        if let Some(scope) = m.scope.take() {
            let mut labels = vec![KeyValue::new("otel.scope.name", scope.name().to_string())];
            if let Some(v) = scope.version() {
                labels.push(KeyValue::new("otel.scope.version", v.to_string()));
            }
            for s in &mut m.series {
                s.attributes.extend(labels.iter().cloned());
                s.attributes
                    .sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
            }
        }
        let d = &m.descriptor;
        match out
            .iter_mut()
            .find(|o| o.descriptor.name == d.name && o.descriptor.unit == d.unit)
        {
            Some(o) if one_family(&o.descriptor, d) => o.series.append(&mut m.series),
            Some(_) => {}
            None => out.push(m),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::SpanContext;

    #[test]
    fn the_unscoped_view_merges_meters_and_leaves_out_another_kind() {
        let scope = |n: &'static str| Some(InstrumentationScope::builder(n).build());
        let d = |kind| Descriptor {
            name: "unscoped.test".into(),
            unit: "s".into(),
            description: "".into(),
            kind,
            buckets: Cow::Borrowed(&[]),
        };
        let a = register(d(Instrument::Counter), scope("a"), false);
        let b = register(d(Instrument::Counter), scope("b"), false);
        let c = register(d(Instrument::Gauge), scope("c"), false);
        a.series(&[]).add(1i64, SpanContext::NONE);
        b.series(&[]).add(2i64, SpanContext::NONE);
        c.series(&[]).set(5i64);
        let scoped: Vec<MetricSnapshot> = collect()
            .into_iter()
            .filter(|m| m.descriptor.name == "unscoped.test")
            .collect();
        assert_eq!(scoped.len(), 3);
        let view: Vec<MetricSnapshot> = collect_unscoped()
            .into_iter()
            .filter(|m| m.descriptor.name == "unscoped.test")
            .collect();
        assert_eq!(view.len(), 1);
        assert_eq!(view[0].descriptor.kind, Instrument::Counter);
        let series: Vec<(Vec<KeyValue>, Point)> = view[0]
            .series
            .iter()
            .map(|s| (s.attributes.clone(), s.point.clone()))
            .collect();
        assert_eq!(
            series,
            vec![
                (vec![KeyValue::new("otel.scope.name", "a")], Point::Sum(1.0)),
                (vec![KeyValue::new("otel.scope.name", "b")], Point::Sum(2.0)),
            ]
        );
    }
}
