//! The `file_format: definition/2` file format: top-level `attributes`,
//! `attribute_groups`, `metrics`, `spans`, `events`, `entities`, refinements
//! and `imports`.

use crate::error::{Location, Sink};
use crate::fields::{self, text};
use crate::model::{Registry, SpanKind};
use crate::raw::{Entry, GroupKind, RawGroup, Spanned};
use crate::v1;
use crate::yaml::Node;

const SECTIONS: &[&str] = &[
    "file_format",
    "attributes",
    "attribute_groups",
    "metrics",
    "metric_refinements",
    "spans",
    "span_refinements",
    "events",
    "entities",
    "imports",
];

/// Parses every definition of a v2 file.
pub(crate) fn parse(root: &Node, sink: &mut Sink) -> Vec<RawGroup> {
    let mut out = Vec::new();
    for (k, _) in root.as_map().unwrap_or(&[]) {
        if let Some(key) = k.as_str().filter(|key| !SECTIONS.contains(key)) {
            sink.error(
                &k.loc,
                format!(
                    "unknown section `{key}`; expected one of {}",
                    SECTIONS[1..].join(", ")
                ),
            );
        }
    }
    if let Some(items) = section(root, "attributes", sink) {
        let entries = items
            .iter()
            .filter_map(|a| {
                let id = fields::required_str(a, "key", sink)?;
                v1::attribute(a, id, sink).map(Entry::Define)
            })
            .collect();
        out.push(RawGroup {
            id: Spanned {
                text: file_group_id(&root.loc),
                loc: root.loc.clone(),
            },
            kind: GroupKind::AttributeGroup,
            brief: String::new(),
            note: String::new(),
            stability: String::new(),
            deprecated: None,
            extends: None,
            entries,
            loc: root.loc.clone(),
        });
    }
    for (name, id_key, make) in KINDS {
        if let Some(items) = section(root, name, sink) {
            for item in items {
                if let Some(id) = fields::required_str(item, id_key, sink) {
                    let kind = make(item, &id, sink);
                    out.push(group(item, id, kind, sink));
                }
            }
        }
    }
    out
}

type Make = fn(&Node, &Spanned, &mut Sink) -> GroupKind;

/// Each definition section: its name, the key naming an entry, and its kind.
const KINDS: &[(&str, &str, Make)] = &[
    ("attribute_groups", "id", |_, _, _| {
        GroupKind::AttributeGroup
    }),
    ("metrics", "name", |n, id, sink| {
        v1::metric_fields(n, id.clone(), "instrument", sink)
    }),
    ("metric_refinements", "id", |_, _, _| GroupKind::Refinement),
    ("spans", "type", span_kind),
    ("span_refinements", "id", span_kind),
    ("events", "name", |_, id, _| GroupKind::Event {
        name: id.text.clone(),
    }),
    ("entities", "type", |_, _, _| GroupKind::Entity),
];

fn span_kind(n: &Node, _id: &Spanned, sink: &mut Sink) -> GroupKind {
    let kind = n.get("kind").and_then(|k| {
        let parsed = k.as_str().and_then(SpanKind::parse);
        if parsed.is_none() {
            sink.error(
                &k.loc,
                "unknown span `kind`; expected internal, client, server, producer or consumer",
            );
        }
        parsed
    });
    GroupKind::Span { kind, name: None }
}

fn section<'a>(root: &'a Node, name: &str, sink: &mut Sink) -> Option<&'a [Node]> {
    let node = root.get(name)?;
    match node.as_seq() {
        Some(items) => Some(items),
        None => {
            sink.error(&node.loc, format!("`{name}` must be a list"));
            None
        }
    }
}

fn group(item: &Node, id: Spanned, kind: GroupKind, sink: &mut Sink) -> RawGroup {
    // Refinements name what they refine with `ref`; treat it like `extends`.
    let extends = match kind {
        GroupKind::Span { .. } | GroupKind::Refinement => fields::spanned(item, "ref"),
        _ => None,
    };
    let entries = item
        .get("attributes")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|a| entry(a, sink))
        .collect();
    let entries = match item.get("identity") {
        // Entities list identifying and descriptive attributes separately.
        Some(_) => ["identity", "description"]
            .iter()
            .flat_map(|k| item.get(k).and_then(Node::as_seq).unwrap_or(&[]))
            .filter_map(|a| entry(a, sink))
            .collect(),
        None => entries,
    };
    RawGroup {
        id,
        kind,
        brief: text(item, "brief"),
        note: text(item, "note"),
        stability: text(item, "stability"),
        deprecated: fields::deprecated(item, sink),
        extends,
        entries,
        loc: item.loc.clone(),
    }
}

fn entry(node: &Node, sink: &mut Sink) -> Option<Entry> {
    if let Some(r) = fields::spanned(node, "ref") {
        return Some(Entry::Ref(v1::reference(node, r, sink)));
    }
    if let Some(g) = fields::spanned(node, "ref_group") {
        return Some(Entry::RefGroup(g));
    }
    sink.error(
        &node.loc,
        "an attribute entry needs `ref` or `ref_group` here",
    );
    None
}

/// The id of the group holding a file's top-level attributes: its last two path components.
fn file_group_id(loc: &Location) -> String {
    let comps: Vec<String> = loc
        .file
        .components()
        .rev()
        .take(2)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut comps = comps;
    comps.reverse();
    format!("attributes:{}", comps.join("/"))
}

/// Checks a file's `imports` against the base registry: every named metric,
/// event or entity (or `prefix.*` pattern) must exist there.
pub(crate) fn check_imports(root: &Node, base: Option<&Registry>, sink: &mut Sink) {
    let Some(imports) = root.get("imports") else {
        return;
    };
    for (k, list) in imports.as_map().unwrap_or(&[]) {
        let Some(kind) = k.as_str() else { continue };
        for item in list.as_seq().unwrap_or(&[]) {
            let Some(pattern) = item.as_str() else {
                continue;
            };
            let names: Vec<&str> = match (kind, base) {
                ("metrics", Some(b)) => b.metrics.keys().map(String::as_str).collect(),
                ("events", Some(b)) => b.events.keys().map(String::as_str).collect(),
                ("entities", Some(b)) => b.entities.keys().map(String::as_str).collect(),
                (_, None) => Vec::new(),
                (other, _) => {
                    sink.error(
                        &k.loc,
                        format!("cannot import `{other}`; expected metrics, events or entities"),
                    );
                    break;
                }
            };
            let found = match pattern.strip_suffix('*') {
                Some(prefix) => names.iter().any(|n| n.starts_with(prefix)),
                None => names.contains(&pattern),
            };
            if !found {
                sink.error(
                    &item.loc,
                    format!("import `{pattern}` matches no {kind} of the base schema"),
                );
            }
        }
    }
}
