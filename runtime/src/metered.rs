//! Support for `#[metered]`: call counts, durations and calls in flight per
//! function, bound once per call site so a call costs a few atomics.

use crate::metrics::{self, Descriptor, Series};
use crate::outcome::Failure;
use crate::trace::SpanContext;
use opentelemetry::KeyValue;
use semtel_conventions::{Instrument, InstrumentKind, MetricDef, metrics::function};
use std::sync::{Arc, OnceLock};

/// The metrics a metered function records into.
#[derive(Clone, Copy)]
pub struct MeteredDefs {
    /// Duration histogram, in its declared unit (`s`, `ms`, `us`, `ns`, `min`, `h`).
    pub duration: Option<Descriptor2>,
    /// Counter of every call (attribute `result`, and `error.type` on failure).
    pub calls: Option<Descriptor2>,
    /// Counter of failed calls only (with `error.type`).
    pub errors: Option<Descriptor2>,
    /// Up-down counter of calls in progress.
    pub in_flight: Option<Descriptor2>,
    /// Bound to metrics of the schema: attributes are the call's own (no
    /// `function`, `module` or `result`), `error.type` where a metric allows it.
    pub bound: bool,
}

/// A metric definition reduced to what the registry needs, const-constructible.
#[derive(Clone, Copy)]
pub struct Descriptor2 {
    name: &'static str,
    unit: &'static str,
    description: &'static str,
    kind: Instrument,
    buckets: Option<&'static [f64]>,
    attributes: &'static [&'static str],
}

impl Descriptor2 {
    /// From a definition of the schema.
    pub const fn of<I: InstrumentKind, V>(def: &MetricDef<I, V>) -> Self {
        Descriptor2 {
            name: def.name,
            unit: def.unit,
            description: def.description,
            kind: I::KIND,
            buckets: def.buckets,
            attributes: def.attributes,
        }
    }

    fn descriptor(&self) -> Descriptor {
        let buckets = match (self.kind, self.buckets) {
            (Instrument::Histogram, Some(b)) => b,
            (Instrument::Histogram, None) => metrics::default_buckets(self.unit),
            _ => &[],
        };
        Descriptor {
            name: self.name.into(),
            unit: self.unit.into(),
            description: self.description.into(),
            kind: self.kind,
            buckets: buckets.into(),
        }
    }
}

impl MeteredDefs {
    /// The bundled `function.calls*` metrics.
    pub const DEFAULT: MeteredDefs = MeteredDefs {
        duration: Some(Descriptor2::of(&function::calls::DURATION)),
        calls: Some(Descriptor2::of(&function::CALLS)),
        errors: None,
        in_flight: Some(Descriptor2::of(&function::calls::CONCURRENT)),
        bound: false,
    };
}

/// How many of `unit` make one second: the factor that turns a measured
/// duration into the unit a histogram declares (UCUM codes as the
/// OpenTelemetry conventions write them). Any other unit counts in seconds;
/// `#[metered]` only binds `duration` to histograms of a time unit.
pub fn per_second(unit: &str) -> f64 {
    match unit {
        "ms" => 1e3,
        "us" | "\u{b5}s" => 1e6,
        "ns" => 1e9,
        "min" => 1.0 / 60.0,
        "h" => 1.0 / 3600.0,
        _ => 1.0,
    }
}

/// An instrument with what the site needs to know about it.
struct Inst {
    state: Arc<metrics::InstrumentState>,
    /// Whether measurements may carry `error.type`.
    error_type: bool,
    /// Declared units per second (durations are measured in seconds).
    per_second: f64,
}

struct Instruments {
    duration: Option<Inst>,
    calls: Option<Inst>,
    errors: Option<Inst>,
    in_flight: Option<Inst>,
}

/// Series bound once for calls with the site's fixed attributes.
struct Fixed {
    duration: Option<Arc<Series>>,
    ok: Option<Arc<Series>>,
    in_flight: Option<Arc<Series>>,
}

/// One metered function (a `static` per call site).
pub struct Metered {
    defs: MeteredDefs,
    function: &'static str,
    module: &'static str,
    instruments: OnceLock<Instruments>,
    fixed: OnceLock<Fixed>,
}

impl Metered {
    /// A call site of `function` in `module` recording into `defs`.
    pub const fn new(defs: MeteredDefs, function: &'static str, module: &'static str) -> Self {
        Metered {
            defs,
            function,
            module,
            instruments: OnceLock::new(),
            fixed: OnceLock::new(),
        }
    }

    fn instruments(&self) -> &Instruments {
        self.instruments.get_or_init(|| {
            let bound = self.defs.bound;
            let inst = |d: Option<Descriptor2>| {
                d.map(|d| Inst {
                    state: metrics::instrument(d.descriptor()),
                    error_type: !bound || d.attributes.contains(&"error.type"),
                    per_second: per_second(d.unit),
                })
            };
            Instruments {
                duration: inst(self.defs.duration),
                calls: inst(self.defs.calls),
                errors: inst(self.defs.errors),
                in_flight: inst(self.defs.in_flight),
            }
        })
    }

    /// The attributes every measurement carries, before the call's own.
    fn base(&self, own: &[KeyValue]) -> Vec<KeyValue> {
        let mut a = Vec::with_capacity(own.len() + 3);
        if !self.defs.bound {
            a.push(KeyValue::new("function", self.function));
            a.push(KeyValue::new("module", self.module));
        }
        a.extend_from_slice(own);
        a
    }

    fn result(&self, a: &mut Vec<KeyValue>, value: &'static str) {
        if !self.defs.bound {
            a.push(KeyValue::new("result", value));
        }
    }

    fn fixed(&self) -> &Fixed {
        self.fixed.get_or_init(|| {
            let i = self.instruments();
            let bind = |inst: &Option<Inst>, result: Option<&'static str>| {
                inst.as_ref().map(|inst| {
                    let mut a = self.base(&[]);
                    if let Some(r) = result {
                        self.result(&mut a, r);
                    }
                    inst.state.series(&a)
                })
            };
            Fixed {
                duration: bind(&i.duration, None),
                ok: bind(&i.calls, Some("ok")),
                in_flight: bind(&i.in_flight, None),
            }
        })
    }

    /// Starts measuring a call with the site's fixed attributes; `None` (no
    /// cost beyond the check) when metrics are off.
    #[inline]
    pub fn start(&'static self) -> Option<Call> {
        if !metrics::enabled() {
            return None;
        }
        if let Some(b) = &self.fixed().in_flight {
            b.add(1i64, SpanContext::NONE);
        }
        Some(Call {
            site: self,
            start: crate::clock::ticks(),
            attributes: None,
            done: false,
        })
    }

    /// Starts measuring a call whose attributes are computed per call.
    pub fn start_with(&'static self, attributes: impl FnOnce() -> Vec<KeyValue>) -> Option<Call> {
        if !metrics::enabled() {
            return None;
        }
        let attributes = attributes();
        if let Some(i) = &self.instruments().in_flight {
            i.state
                .series(&self.base(&attributes))
                .add(1i64, SpanContext::NONE);
        }
        Some(Call {
            site: self,
            start: crate::clock::ticks(),
            attributes: Some(attributes),
            done: false,
        })
    }
}

/// A call being measured. Dropped without [`Call::finish`] (a panic), it
/// counts as a failure of type `panic`.
pub struct Call {
    site: &'static Metered,
    start: u64,
    attributes: Option<Vec<KeyValue>>,
    done: bool,
}

impl Call {
    /// Records the call's outcome; `ctx`, when sampled, becomes the exemplar.
    #[inline]
    pub fn finish(mut self, failure: Option<&Failure<'_>>, ctx: SpanContext) {
        self.done = true;
        self.record(failure, ctx);
    }

    /// Runs `f` on the series for this call: the site's fixed series when the
    /// call has no attributes of its own, else the one its attributes select.
    #[inline]
    fn with_series(
        &self,
        inst: &Option<Inst>,
        fixed: Option<&Arc<Series>>,
        extra: &[KeyValue],
        f: impl FnOnce(&Series),
    ) {
        match (&self.attributes, fixed) {
            (None, Some(b)) if extra.is_empty() => f(b),
            _ => {
                if let Some(i) = inst {
                    let mut a = self.site.base(self.attributes.as_deref().unwrap_or(&[]));
                    a.extend(
                        extra
                            .iter()
                            .filter(|kv| i.error_type || kv.key.as_str() != "error.type")
                            .cloned(),
                    );
                    i.state.with_series(&a, f);
                }
            }
        }
    }

    fn record(&self, failure: Option<&Failure<'_>>, ctx: SpanContext) {
        let site = self.site;
        let i = site.instruments();
        let fixed = (self.attributes.is_none()).then(|| site.fixed());
        let secs = crate::clock::between(self.start, crate::clock::ticks()).as_secs_f64();
        let duration = secs * i.duration.as_ref().map_or(1.0, |d| d.per_second);
        self.with_series(
            &i.in_flight,
            fixed.and_then(|f| f.in_flight.as_ref()),
            &[],
            |b| b.add(-1i64, SpanContext::NONE),
        );
        self.with_series(
            &i.duration,
            fixed.and_then(|f| f.duration.as_ref()),
            &[],
            |b| b.record(duration, ctx),
        );
        match failure {
            None => {
                let mut extra = Vec::new();
                if self.attributes.is_some() {
                    site.result(&mut extra, "ok");
                }
                self.with_series(&i.calls, fixed.and_then(|f| f.ok.as_ref()), &extra, |b| {
                    b.add(1i64, ctx)
                });
            }
            Some(f) => {
                let error_type = KeyValue::new("error.type", f.error_type.to_string());
                let mut extra = vec![error_type.clone()];
                site.result(&mut extra, "error");
                self.with_series(&i.calls, None, &extra, |b| b.add(1i64, ctx));
                self.with_series(&i.errors, None, &[error_type], |b| b.add(1i64, ctx));
            }
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.done {
            self.record(Some(&Failure::panic()), crate::trace::current_context());
        }
    }
}
