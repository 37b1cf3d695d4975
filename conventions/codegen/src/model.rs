//! The resolved schema: what the generators read. Every reference is resolved
//! and every item knows where it was defined.

use crate::error::Location;
use std::collections::BTreeMap;
use std::fmt;

/// A whole resolved schema (one or more directories loaded together).
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Attribute definitions by id (`gen_ai.agent.name`).
    pub attributes: BTreeMap<String, Attribute>,
    /// Attribute groups by id, for documentation.
    pub groups: BTreeMap<String, Group>,
    /// Metric definitions by metric name (`gen_ai.client.token.usage`).
    pub metrics: BTreeMap<String, Metric>,
    /// Span definitions by id (without any `span.` prefix).
    pub spans: BTreeMap<String, Span>,
    /// Event definitions by event name.
    pub events: BTreeMap<String, Event>,
    /// Entity (resource) definitions by id.
    pub entities: BTreeMap<String, Entity>,
}

/// The scalar value types of attributes and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    /// UTF-8 text.
    String,
    /// A signed 64-bit integer.
    Int,
    /// A 64-bit float.
    Double,
    /// A boolean.
    Boolean,
}

impl Scalar {
    /// The schema's spelling of the type.
    pub fn name(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Int => "int",
            Scalar::Double => "double",
            Scalar::Boolean => "boolean",
        }
    }
}

/// The type of an attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// One scalar.
    Scalar(Scalar),
    /// A homogeneous array of scalars.
    Array(Scalar),
    /// A closed set of values.
    Enum(Enum),
    /// Any scalar or array (`any` in the schema).
    Any,
}

/// An attribute's full type: a kind, possibly as a template whose key takes a suffix.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrType {
    /// The value's shape.
    pub kind: TypeKind,
    /// `template[...]`: the attribute id is a prefix completed by a suffix at run time.
    pub template: bool,
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = match &self.kind {
            TypeKind::Scalar(s) => s.name().to_string(),
            TypeKind::Array(s) => format!("{}[]", s.name()),
            TypeKind::Enum(e) => format!("enum of {}", e.value_type.name()),
            TypeKind::Any => "any".to_string(),
        };
        if self.template {
            write!(f, "template[{inner}]")
        } else {
            f.write_str(&inner)
        }
    }
}

/// An enumerated type: its members and the wire type of their values.
#[derive(Clone, Debug, PartialEq)]
pub struct Enum {
    /// `String` or `Int`.
    pub value_type: Scalar,
    /// The members in schema order.
    pub members: Vec<Member>,
}

/// One enum member.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The member id (`invoke_agent`).
    pub id: String,
    /// The wire value.
    pub value: MemberValue,
    /// One-line description.
    pub brief: String,
    /// Longer description.
    pub note: String,
    /// Stability level.
    pub stability: String,
    /// Deprecation, if any.
    pub deprecated: Option<Deprecation>,
}

/// The wire value of an enum member.
#[derive(Clone, Debug, PartialEq)]
pub enum MemberValue {
    /// A string value.
    Str(String),
    /// An integer value.
    Int(i64),
}

impl fmt::Display for MemberValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberValue::Str(s) => f.write_str(s),
            MemberValue::Int(i) => write!(f, "{i}"),
        }
    }
}

/// How strongly an attribute is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Must be present.
    Required,
    /// Must be present when the condition holds.
    ConditionallyRequired(String),
    /// Should be present.
    Recommended(String),
    /// Only when the user asks for it.
    OptIn,
}

impl Requirement {
    /// The schema's spelling.
    pub fn name(&self) -> &'static str {
        match self {
            Requirement::Required => "required",
            Requirement::ConditionallyRequired(_) => "conditionally_required",
            Requirement::Recommended(_) => "recommended",
            Requirement::OptIn => "opt_in",
        }
    }
}

/// Why and how an item is deprecated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deprecation {
    /// Renamed; use the new id.
    Renamed {
        /// The replacement id.
        to: String,
        /// Extra explanation.
        note: String,
    },
    /// Removed without replacement.
    Obsoleted {
        /// Explanation.
        note: String,
    },
    /// Deprecated for another reason.
    Uncategorized {
        /// Explanation.
        note: String,
    },
}

impl Deprecation {
    /// A sentence for `#[deprecated(note = ...)]` and docs.
    pub fn message(&self) -> String {
        let (head, note) = match self {
            Deprecation::Renamed { to, note } => (format!("renamed to `{to}`"), note),
            Deprecation::Obsoleted { note } => ("obsoleted".to_string(), note),
            Deprecation::Uncategorized { note } => ("deprecated".to_string(), note),
        };
        let note = note.trim();
        if note.is_empty() || matches!(self, Deprecation::Renamed { .. }) && note.contains('`') {
            head
        } else {
            format!("{head}: {}", one_line(note))
        }
    }
}

/// Joins a multi-line text into one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An attribute definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The dotted id (`gen_ai.agent.name`).
    pub id: String,
    /// Value type.
    pub ty: AttrType,
    /// One-line description.
    pub brief: String,
    /// Longer description.
    pub note: String,
    /// Example values, rendered as text.
    pub examples: Vec<String>,
    /// Default requirement level where the attribute is defined.
    pub requirement: Requirement,
    /// Stability level (`stable`, `development`, ...).
    pub stability: String,
    /// Deprecation, if any.
    pub deprecated: Option<Deprecation>,
    /// Declared high-cardinality: never allowed as a metric attribute.
    pub high_cardinality: bool,
    /// The group that defines it.
    pub group: String,
    /// Where it was defined.
    pub location: Location,
    /// Taken from a base schema (not generated again here).
    pub imported: bool,
}

/// A use of an attribute inside a group, span, metric or event.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrUse {
    /// The attribute id.
    pub id: String,
    /// Requirement level in this use.
    pub requirement: Requirement,
    /// Brief overriding the definition's, if given.
    pub brief: Option<String>,
    /// Note overriding the definition's, if given.
    pub note: Option<String>,
}

/// A named set of attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The group id.
    pub id: String,
    /// One-line description.
    pub brief: String,
    /// The attributes it defines or references.
    pub attributes: Vec<AttrUse>,
    /// Where it was defined.
    pub location: Location,
    /// Taken from a base schema (not generated again here).
    pub imported: bool,
}

/// The kinds of metric instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Instrument {
    /// A monotonic sum.
    Counter,
    /// A sum that goes up and down.
    UpDownCounter,
    /// A distribution.
    Histogram,
    /// A last value.
    Gauge,
}

impl Instrument {
    /// The schema's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Instrument::Counter => "counter",
            Instrument::UpDownCounter => "updowncounter",
            Instrument::Histogram => "histogram",
            Instrument::Gauge => "gauge",
        }
    }

    /// Parses the schema's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "counter" => Instrument::Counter,
            "updowncounter" => Instrument::UpDownCounter,
            "histogram" => Instrument::Histogram,
            "gauge" => Instrument::Gauge,
            _ => return None,
        })
    }
}

/// A metric definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// The group id that defined it.
    pub id: String,
    /// The metric name (`gen_ai.client.token.usage`).
    pub name: String,
    /// Instrument kind.
    pub instrument: Instrument,
    /// UCUM unit (`s`, `{token}`).
    pub unit: String,
    /// One-line description.
    pub brief: String,
    /// Longer description.
    pub note: String,
    /// `Int` or `Double`.
    pub value_type: Scalar,
    /// Explicit bucket boundaries advised for histograms.
    pub buckets: Option<Vec<f64>>,
    /// The metric's `annotations` block as written, for tools that read
    /// keys of their own (`semtel alerts` reads `semtel.alerts`).
    pub annotations: Option<crate::yaml::Node>,
    /// The attributes allowed on its measurements.
    pub attributes: Vec<AttrUse>,
    /// Stability level.
    pub stability: String,
    /// Deprecation, if any.
    pub deprecated: Option<Deprecation>,
    /// Where it was defined.
    pub location: Location,
    /// Taken from a base schema (not generated again here).
    pub imported: bool,
}

/// The kinds of span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanKind {
    /// In-process work.
    Internal,
    /// An outgoing request.
    Client,
    /// Handling an incoming request.
    Server,
    /// Sending a message.
    Producer,
    /// Receiving a message.
    Consumer,
}

impl SpanKind {
    /// The schema's spelling.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Client => "client",
            SpanKind::Server => "server",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }

    /// Parses the schema's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "internal" => SpanKind::Internal,
            "client" => SpanKind::Client,
            "server" => SpanKind::Server,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            _ => return None,
        })
    }
}

/// A span definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// The id (`gen_ai.invoke_agent.client`, without a `span.` prefix).
    pub id: String,
    /// The span name, or a pattern such as `invoke_agent {gen_ai.agent.name}`.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// One-line description.
    pub brief: String,
    /// Longer description.
    pub note: String,
    /// Attributes and their requirement levels.
    pub attributes: Vec<AttrUse>,
    /// Stability level.
    pub stability: String,
    /// Deprecation, if any.
    pub deprecated: Option<Deprecation>,
    /// Where it was defined.
    pub location: Location,
    /// Taken from a base schema (not generated again here).
    pub imported: bool,
}

/// An event definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The group id.
    pub id: String,
    /// The event name.
    pub name: String,
    /// One-line description.
    pub brief: String,
    /// Attributes and their requirement levels.
    pub attributes: Vec<AttrUse>,
    /// Deprecation, if any.
    pub deprecated: Option<Deprecation>,
    /// Where it was defined.
    pub location: Location,
    /// Taken from a base schema (not generated again here).
    pub imported: bool,
}

/// An entity (resource) definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    /// The id (`service`).
    pub id: String,
    /// One-line description.
    pub brief: String,
    /// Attributes and their requirement levels.
    pub attributes: Vec<AttrUse>,
    /// Where it was defined.
    pub location: Location,
    /// Taken from a base schema (not generated again here).
    pub imported: bool,
}

impl Registry {
    /// Summary counts, in the order `semtel schema check` prints them.
    pub fn counts(&self) -> Counts {
        let attrs = || self.attributes.values().filter(|a| !a.imported);
        let metrics = || self.metrics.values().filter(|m| !m.imported);
        Counts {
            attributes: attrs().count(),
            enums: attrs()
                .filter(|a| matches!(a.ty.kind, TypeKind::Enum(_)))
                .count(),
            metrics: metrics().count(),
            spans: self.spans.values().filter(|s| !s.imported).count(),
            events: self.events.values().filter(|e| !e.imported).count(),
            deprecated: attrs().filter(|a| a.deprecated.is_some()).count()
                + metrics().filter(|m| m.deprecated.is_some()).count(),
        }
    }
}

/// How many items of each kind a registry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Attribute definitions.
    pub attributes: usize,
    /// Attributes of enum type.
    pub enums: usize,
    /// Metric definitions.
    pub metrics: usize,
    /// Span definitions.
    pub spans: usize,
    /// Event definitions.
    pub events: usize,
    /// Deprecated attributes and metrics.
    pub deprecated: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attributes={} enums={} metrics={} spans={} events={} deprecated={}",
            self.attributes, self.enums, self.metrics, self.spans, self.events, self.deprecated
        )
    }
}
