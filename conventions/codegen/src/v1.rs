//! The `groups:` file format.

use crate::error::Sink;
use crate::fields::{self, text};
use crate::model::{Instrument, Requirement, SpanKind};
use crate::raw::{Entry, GroupKind, RawAttr, RawGroup, RawRef, Spanned};
use crate::yaml::Node;

/// Parses every group of a `groups:` file.
pub(crate) fn parse(root: &Node, sink: &mut Sink) -> Vec<RawGroup> {
    let Some(groups) = root.get("groups").and_then(Node::as_seq) else {
        sink.error(&root.loc, "`groups` must be a list");
        return Vec::new();
    };
    groups.iter().filter_map(|g| group(g, sink)).collect()
}

fn group(node: &Node, sink: &mut Sink) -> Option<RawGroup> {
    let id = fields::required_str(node, "id", sink)?;
    let type_name = node.get("type").and_then(Node::as_str).unwrap_or("span");
    let kind = match type_name {
        "attribute_group" | "metric_group" | "scope" => GroupKind::AttributeGroup,
        "span" => GroupKind::Span {
            kind: span_kind(node, sink),
            name: node.get("name").and_then(|n| {
                n.scalar_text()
                    .or_else(|| n.get("note").and_then(Node::scalar_text))
            }),
        },
        "metric" => metric_kind(node, &id, sink)?,
        "event" => GroupKind::Event {
            name: node
                .get("name")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| id.text.trim_start_matches("event.").to_string()),
        },
        "entity" | "resource" => GroupKind::Entity,
        other => {
            let loc = node.get("type").map_or(&node.loc, |n| &n.loc);
            sink.error(
                loc,
                format!(
                    "unknown group type `{other}`; expected attribute_group, span, metric, event, entity or resource"
                ),
            );
            return None;
        }
    };
    let prefix = node.get("prefix").and_then(Node::as_str).unwrap_or("");
    let entries = node
        .get("attributes")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|a| entry(a, prefix, sink))
        .collect();
    Some(RawGroup {
        id,
        kind,
        brief: text(node, "brief"),
        note: text(node, "note"),
        stability: text(node, "stability"),
        deprecated: fields::deprecated(node, sink),
        extends: fields::spanned(node, "extends"),
        entries,
        loc: node.loc.clone(),
    })
}

fn span_kind(node: &Node, sink: &mut Sink) -> Option<SpanKind> {
    let n = node.get("span_kind")?;
    let parsed = n.as_str().and_then(SpanKind::parse);
    if parsed.is_none() {
        sink.error(
            &n.loc,
            "unknown `span_kind`; expected internal, client, server, producer or consumer",
        );
    }
    parsed
}

fn metric_kind(node: &Node, id: &Spanned, sink: &mut Sink) -> Option<GroupKind> {
    let name = match fields::spanned(node, "metric_name") {
        Some(n) => n,
        None => {
            sink.error(
                &id.loc,
                format!("metric `{}` has no `metric_name`", id.text),
            );
            return None;
        }
    };
    Some(metric_fields(node, name, "instrument", sink))
}

/// The fields a metric has in both formats; `instrument_key` names the field.
pub(crate) fn metric_fields(
    node: &Node,
    name: Spanned,
    instrument_key: &str,
    sink: &mut Sink,
) -> GroupKind {
    let instrument = node.get(instrument_key).and_then(|n| {
        let parsed = n.as_str().and_then(Instrument::parse);
        if parsed.is_none() {
            sink.error(
                &n.loc,
                "unknown instrument; expected counter, updowncounter, histogram or gauge",
            );
        }
        parsed
    });
    let annotations = node.get("annotations");
    let value_type = annotations
        .and_then(|a| a.get("code_generation"))
        .and_then(|c| c.get("metric_value_type"))
        .and_then(Node::as_str)
        .and_then(fields::scalar_type);
    let buckets = annotations
        .and_then(|a| a.get("semtel"))
        .and_then(|s| s.get("buckets"))
        .and_then(|b| fields::numbers(b, sink));
    GroupKind::Metric {
        name,
        instrument,
        unit: node.get("unit").and_then(Node::scalar_text),
        value_type,
        buckets,
        annotations: annotations.cloned(),
    }
}

fn entry(node: &Node, prefix: &str, sink: &mut Sink) -> Option<Entry> {
    if let Some(r) = fields::spanned(node, "ref") {
        return Some(Entry::Ref(reference(node, r, sink)));
    }
    if let Some(g) = fields::spanned(node, "ref_group") {
        return Some(Entry::RefGroup(g));
    }
    let mut id = fields::required_str(node, "id", sink)?;
    if !prefix.is_empty() {
        id.text = format!("{prefix}.{}", id.text);
    }
    attribute(node, id, sink).map(Entry::Define)
}

/// A `ref:` entry and the fields it may override.
pub(crate) fn reference(node: &Node, id: Spanned, sink: &mut Sink) -> RawRef {
    RawRef {
        id,
        requirement: requirement(node, sink),
        brief: node.get("brief").and_then(Node::scalar_text),
        note: node.get("note").and_then(Node::scalar_text),
    }
}

fn requirement(node: &Node, sink: &mut Sink) -> Option<Requirement> {
    node.get("requirement_level")
        .and_then(|r| fields::requirement(r, sink))
}

/// An attribute definition; `id` was read by the caller (`id:` or `key:`).
/// A missing or invalid `type:` is reported here, and the attribute kept
/// without a type.
pub(crate) fn attribute(node: &Node, id: Spanned, sink: &mut Sink) -> Option<RawAttr> {
    let ty = match node.get("type") {
        Some(t) => fields::attr_type(t, sink),
        None => {
            sink.error(&id.loc, format!("attribute `{}` has no `type`", id.text));
            None
        }
    };
    Some(RawAttr {
        ty,
        brief: text(node, "brief"),
        note: text(node, "note"),
        examples: fields::examples(node),
        requirement: requirement(node, sink),
        stability: text(node, "stability"),
        deprecated: fields::deprecated(node, sink),
        high_cardinality: fields::high_cardinality(node),
        id,
    })
}
