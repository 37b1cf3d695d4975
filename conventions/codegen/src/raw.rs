//! The schema as written, before references are resolved. Both file formats
//! (`groups:` and `file_format: definition/2`) parse into these types.

use crate::error::Location;
use crate::model::{AttrType, Deprecation, Instrument, Requirement, SpanKind};

/// A string with the place it was written.
#[derive(Clone, Debug)]
pub(crate) struct Spanned {
    pub text: String,
    pub loc: Location,
}

/// What kind of group this is, with the fields only that kind has.
#[derive(Clone, Debug)]
pub(crate) enum GroupKind {
    AttributeGroup,
    Span {
        kind: Option<SpanKind>,
        name: Option<String>,
    },
    Metric {
        name: Spanned,
        instrument: Option<Instrument>,
        unit: Option<String>,
        value_type: Option<crate::model::Scalar>,
        buckets: Option<Vec<f64>>,
        annotations: Option<crate::yaml::Node>,
    },
    Event {
        name: String,
    },
    Entity,
    /// A refinement of a metric (v2 `metric_refinements`): its references are
    /// checked, it defines nothing new.
    Refinement,
}

/// A group of any kind.
#[derive(Clone, Debug)]
pub(crate) struct RawGroup {
    pub id: Spanned,
    pub kind: GroupKind,
    pub brief: String,
    pub note: String,
    pub stability: String,
    pub deprecated: Option<Deprecation>,
    pub extends: Option<Spanned>,
    pub entries: Vec<Entry>,
    pub loc: Location,
}

/// One entry of a group's `attributes:` list.
#[derive(Clone, Debug)]
pub(crate) enum Entry {
    /// Defines a new attribute.
    Define(RawAttr),
    /// Uses an attribute defined elsewhere, possibly overriding how it is described.
    Ref(RawRef),
    /// Pulls in every attribute of another group.
    RefGroup(Spanned),
}

/// An attribute definition.
#[derive(Clone, Debug)]
pub(crate) struct RawAttr {
    pub id: Spanned,
    /// `None` when the `type:` is missing or invalid (already reported): the
    /// attribute is kept, so that uses of it are not reported again.
    pub ty: Option<AttrType>,
    pub brief: String,
    pub note: String,
    pub examples: Vec<String>,
    pub requirement: Option<Requirement>,
    pub stability: String,
    pub deprecated: Option<Deprecation>,
    pub high_cardinality: bool,
}

/// A reference to an attribute.
#[derive(Clone, Debug)]
pub(crate) struct RawRef {
    pub id: Spanned,
    pub requirement: Option<Requirement>,
    pub brief: Option<String>,
    pub note: Option<String>,
}
