//! The OpenTelemetry API's text-map propagator served by semtel: W3C
//! `traceparent`, `tracestate` and `baggage`, as `OTEL_PROPAGATORS` says.
//! Injecting writes the context of the span a context holds — or, when it
//! holds none (or an older one), semtel's current span — so that
//! `global::get_text_map_propagator(|p| p.inject(..))` inside a semtel span
//! hands that span on. Extracting gives a context whose remote span is the
//! parent of spans started in it, semtel's included.

use super::otel_trace::{self, to_otel};
use crate::propagation::{self, format_baggage, parse_baggage, parse_traceparent};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceState};
use opentelemetry::{Context, KeyValue};
use std::str::FromStr;
use std::sync::OnceLock;

/// semtel as the OpenTelemetry API's text-map propagator.
#[derive(Clone, Copy, Debug, Default)]
pub struct Propagator {
    _private: (),
}

impl Propagator {
    /// The propagator `init` installs as the global one.
    pub fn new() -> Self {
        Propagator::default()
    }
}

fn fields() -> &'static [String] {
    static FIELDS: OnceLock<[String; 3]> = OnceLock::new();
    FIELDS.get_or_init(|| ["traceparent", "tracestate", "baggage"].map(String::from))
}

impl TextMapPropagator for Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let on = propagation::propagators();
        let ctx = otel_trace::parent_for(cx);
        let given = otel_trace::span_of(cx).is_some_and(|g| g.span_id == ctx.span_id);
        let Some((ctx, inherited_state, mut baggage)) = propagation::outgoing_from(ctx) else {
            return;
        };
        if on.tracecontext && ctx.is_valid() {
            injector.set("traceparent", ctx.traceparent());
            let state = if given {
                cx.span().span_context().trace_state().header()
            } else {
                inherited_state
            };
            if !state.is_empty() {
                injector.set("tracestate", state);
            }
        }
        if on.baggage {
            for (k, v) in cx.baggage() {
                let v = v.0.as_str().to_string();
                match baggage.iter_mut().find(|(bk, _)| bk == k.as_str()) {
                    Some(entry) => entry.1 = v,
                    None => baggage.push((k.to_string(), v)),
                }
            }
            if !baggage.is_empty() {
                injector.set("baggage", format_baggage(&baggage));
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        otel_trace::mark_used();
        let on = propagation::propagators();
        let mut out = cx.clone();
        if on.tracecontext {
            let parent = extractor
                .get("traceparent")
                .and_then(|v| parse_traceparent(v).ok());
            if let Some(p) = parent {
                let header = extractor.get("tracestate").unwrap_or_default();
                propagation::adopt_tracestate(p, header);
                let state = TraceState::from_str(header).unwrap_or_default();
                out = out.with_remote_span_context(to_otel(p, state));
            }
        }
        if on.baggage {
            if let Some(b) = extractor.get("baggage") {
                let items: Vec<KeyValue> = parse_baggage(b)
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect();
                if !items.is_empty() {
                    out = out.with_baggage(items);
                }
            }
        }
        out
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(fields())
    }
}
