//! Checks the arguments of `#[metered]`: the metrics it binds to and the
//! attributes they allow.

use crate::attr::{Args, At, DottedName};
use crate::check::{Cx, Errors, MeteredPlan, lookup};
use crate::value;
use proc_macro2::TokenStream;
use quote::quote;
use semtel_codegen::model::{Instrument, Metric};
use semtel_codegen::names;

const ROLES: [(&str, Instrument); 4] = [
    ("duration", Instrument::Histogram),
    ("calls", Instrument::Counter),
    ("errors", Instrument::Counter),
    ("in_flight", Instrument::UpDownCounter),
];

/// The units a `duration` histogram may have (`#[metered]` converts the
/// measured time into the declared one).
const TIME_UNITS: [&str; 7] = ["s", "ms", "us", "\u{b5}s", "ns", "min", "h"];

const DEFAULTS: [&str; 3] = [
    "function.calls",
    "function.calls.duration",
    "function.calls.concurrent",
];

/// A role bound to a metric of the schema.
struct Bound<'s> {
    role: &'static str,
    metric: &'s Metric,
    name: &'s DottedName,
}

pub fn metered(cx: &Cx, args: &Args, errors: &mut Errors) -> Option<MeteredPlan> {
    let schema = cx.schema;
    let given = [&args.duration, &args.calls, &args.errors, &args.in_flight];
    let mut bound: Vec<Bound> = Vec::new();
    for ((role, want), given) in ROLES.iter().zip(given) {
        let Some(name) = given else { continue };
        let text = name.text();
        match schema.registry.metrics.get(&text) {
            None => {
                let hint =
                    names::did_you_mean(&text, schema.registry.metrics.keys().map(String::as_str));
                errors.at(name, format!("unknown metric `{text}`{hint}"));
            }
            Some(m) if m.instrument != *want => errors.at(
                name,
                format!(
                    "metric `{text}` is a {}, but `{role}` records into a {}",
                    m.instrument.name(),
                    want.name()
                ),
            ),
            Some(m) if *role == "duration" && !TIME_UNITS.contains(&m.unit.as_str()) => errors.at(
                name,
                format!(
                    "metric `{text}` has unit `{}`, but `duration` records a time: its unit must be one of {}",
                    m.unit,
                    TIME_UNITS.map(|u| format!("`{u}`")).join(", ")
                ),
            ),
            Some(m) => bound.push(Bound {
                role,
                metric: m,
                name,
            }),
        }
    }
    // Attributes are checked against the metrics named (only the valid ones:
    // a mistaken name is its own error), or the defaults when none is named.
    let any_named = given.iter().any(|g| g.is_some());
    let checked: Vec<&Metric> = if any_named {
        bound.iter().map(|b| b.metric).collect()
    } else {
        DEFAULTS
            .iter()
            .filter_map(|n| schema.registry.metrics.get(*n))
            .collect()
    };
    let mut attrs = Vec::new();
    for a in &args.attrs {
        let Some(def) = lookup(schema, &a.name, errors) else {
            continue;
        };
        if def.high_cardinality {
            errors.at(
                &a.name,
                format!(
                    "attribute `{}` is high-cardinality (so marked in the schema) and cannot be a metric attribute",
                    def.id
                ),
            );
            continue;
        }
        if let Some(m) = checked
            .iter()
            .find(|m| !m.attributes.iter().any(|u| u.id == def.id))
        {
            let allowed: Vec<String> = m.attributes.iter().map(|u| format!("`{}`", u.id)).collect();
            errors.at(
                &a.name,
                format!(
                    "attribute `{}` is not allowed on metric `{}`; its attributes are {}",
                    def.id,
                    m.name,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            );
            continue;
        }
        attrs.extend(value::key_value(cx, a, def, errors));
    }
    let krate = cx.krate;
    let defs = if any_named {
        let field = |role: &str| -> TokenStream {
            match bound.iter().find(|b| b.role == role) {
                Some(b) => {
                    let path = schema.metric_path(b.metric, krate, At::of(b.name));
                    quote!(::core::option::Option::Some(#krate::__private::Descriptor2::of(&#path)))
                }
                None => quote!(::core::option::Option::None),
            }
        };
        let (d, c, e, f) = (
            field("duration"),
            field("calls"),
            field("errors"),
            field("in_flight"),
        );
        quote!(#krate::__private::MeteredDefs { duration: #d, calls: #c, errors: #e, in_flight: #f, bound: true })
    } else {
        quote!(#krate::__private::MeteredDefs::DEFAULT)
    };
    Some(MeteredPlan { defs, attrs })
}
