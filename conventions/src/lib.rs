//! Typed OpenTelemetry semantic conventions for agent systems.
//!
//! Every attribute of the bundled schema (`schema/*.yaml`) is a constant
//! [`Key`] whose value type is part of its type, every metric a [`MetricDef`]
//! and every span a [`SpanDef`]. The modules follow the dotted names:
//! `gen_ai.agent.name` is [`gen_ai::agent::NAME`].
//!
//! ```
//! use semtel_conventions::gen_ai;
//! let kv = gen_ai::agent::NAME.value("planner");
//! assert_eq!(kv.key.as_str(), "gen_ai.agent.name");
//! ```
//!
//! User crates generate their own conventions with `semtel-codegen`; the
//! generated code uses the types defined here.

mod metric_def;
pub mod prometheus;
mod span_def;
mod typed_key;

pub use metric_def::{
    Counter, Gauge, Histogram, Instrument, InstrumentKind, MetricDef, UpDownCounter,
};
pub use span_def::{Requirement, SpanDef, SpanKind};
pub use typed_key::{AnyValue, AttributeEnum, IntoValue, Key, TemplateKey};

/// The value type the generated code uses for attribute values.
pub use opentelemetry::Value;

include!(concat!(env!("OUT_DIR"), "/semconv.rs"));
