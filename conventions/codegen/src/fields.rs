//! Parsers for the fields both file formats share: types, requirement levels,
//! deprecation, examples and annotations.

use crate::error::Sink;
use crate::model::{
    AttrType, Deprecation, Enum, Member, MemberValue, Requirement, Scalar, TypeKind,
};
use crate::raw::Spanned;
use crate::yaml::{Node, Value};

/// Parses a scalar type name (`string`, `int`, `double`, `boolean`).
pub(crate) fn scalar_type(s: &str) -> Option<Scalar> {
    Some(match s {
        "string" => Scalar::String,
        "int" => Scalar::Int,
        "double" => Scalar::Double,
        "boolean" => Scalar::Boolean,
        _ => return None,
    })
}

/// Parses an attribute's `type:` field.
pub(crate) fn attr_type(node: &Node, sink: &mut Sink) -> Option<AttrType> {
    if let Some(text) = node.as_str() {
        let (inner, template) = match text
            .strip_prefix("template[")
            .and_then(|t| t.strip_suffix(']'))
        {
            Some(inner) => (inner, true),
            None => (text, false),
        };
        let kind = match inner.strip_suffix("[]") {
            Some(elem) => scalar_type(elem).map(TypeKind::Array),
            None if inner == "any" => Some(TypeKind::Any),
            None => scalar_type(inner).map(TypeKind::Scalar),
        };
        return match kind {
            Some(kind) => Some(AttrType { kind, template }),
            None => {
                sink.error(
                    &node.loc,
                    format!(
                        "unknown type `{}`; expected string, int, double, boolean, any, \
                         an array (`string[]`), `template[...]` or an enum with `members`",
                        crate::yaml::excerpt(text)
                    ),
                );
                None
            }
        };
    }
    if let Some(members) = node.get("members") {
        return enum_type(members, sink).map(|e| AttrType {
            kind: TypeKind::Enum(e),
            template: false,
        });
    }
    sink.error(
        &node.loc,
        format!(
            "unknown type: expected a type name or a mapping with `members`, found {}",
            node.kind()
        ),
    );
    None
}

fn enum_type(members: &Node, sink: &mut Sink) -> Option<Enum> {
    let Some(items) = members.as_seq() else {
        sink.error(&members.loc, "enum `members` must be a list");
        return None;
    };
    let mut out: Vec<Member> = Vec::new();
    let mut value_type: Option<(Scalar, &Node)> = None;
    let errors_before = sink.diagnostics.len();
    for item in items {
        let Some(id) = required_str(item, "id", sink) else {
            continue;
        };
        let Some(value_node) = item.get("value") else {
            sink.error(
                &item.loc,
                format!("enum member `{}` has no `value`", id.text),
            );
            continue;
        };
        let (value, ty) = match &value_node.value {
            Value::Str(s) => (MemberValue::Str(s.clone()), Scalar::String),
            Value::Int(i) => (MemberValue::Int(*i), Scalar::Int),
            _ => {
                sink.error(
                    &value_node.loc,
                    format!(
                        "enum member `{}` has a value of the wrong type: expected a string or an integer, found {}",
                        id.text,
                        value_node.kind()
                    ),
                );
                continue;
            }
        };
        match value_type {
            None => value_type = Some((ty, value_node)),
            Some((first, first_node)) if first != ty => {
                sink.error(
                    &value_node.loc,
                    format!(
                        "enum member `{}` has a value of the wrong type: {} is {}, but the first member's value ({}) makes this an enum of {}",
                        id.text,
                        value_node.scalar_text().unwrap_or_default(),
                        value_node.kind(),
                        first_node.loc,
                        first.name()
                    ),
                );
                continue;
            }
            Some(_) => {}
        }
        if out.iter().any(|m| m.id == id.text) {
            sink.error(&id.loc, format!("duplicate enum member id `{}`", id.text));
            continue;
        }
        out.push(Member {
            id: id.text,
            value,
            brief: text(item, "brief"),
            note: text(item, "note"),
            stability: text(item, "stability"),
            deprecated: deprecated(item, sink),
        });
    }
    if sink.diagnostics.len() > errors_before {
        return None;
    }
    Some(Enum {
        value_type: value_type.map_or(Scalar::String, |(t, _)| t),
        members: out,
    })
}

/// Parses `requirement_level:` in its string and single-key mapping forms.
pub(crate) fn requirement(node: &Node, sink: &mut Sink) -> Option<Requirement> {
    let simple = |s: &str| match s {
        "required" => Some(Requirement::Required),
        "recommended" => Some(Requirement::Recommended(String::new())),
        "opt_in" => Some(Requirement::OptIn),
        "conditionally_required" => Some(Requirement::ConditionallyRequired(String::new())),
        _ => None,
    };
    let parsed = match &node.value {
        Value::Str(s) => simple(s),
        Value::Map(entries) if entries.len() == 1 => {
            let (k, v) = &entries[0];
            let note = v.scalar_text().unwrap_or_default();
            match k.as_str() {
                Some("conditionally_required") => Some(Requirement::ConditionallyRequired(note)),
                Some("recommended") => Some(Requirement::Recommended(note)),
                Some(other) => simple(other),
                None => None,
            }
        }
        _ => None,
    };
    if parsed.is_none() {
        sink.error(
            &node.loc,
            "invalid `requirement_level`: expected required, recommended, opt_in or \
             `conditionally_required: <condition>`",
        );
    }
    parsed
}

/// Parses `deprecated:` in its text and `{reason: ...}` forms.
pub(crate) fn deprecated(parent: &Node, sink: &mut Sink) -> Option<Deprecation> {
    let node = parent.get("deprecated")?;
    match &node.value {
        Value::Str(s) => Some(Deprecation::Uncategorized { note: s.clone() }),
        Value::Map(_) => {
            let note = text(node, "note");
            let reason = node.get("reason").and_then(Node::as_str).unwrap_or("");
            match reason {
                "renamed" => match node.get("renamed_to").and_then(Node::scalar_text) {
                    Some(to) => Some(Deprecation::Renamed { to, note }),
                    None => {
                        sink.error(&node.loc, "`reason: renamed` needs `renamed_to`");
                        None
                    }
                },
                "obsoleted" => Some(Deprecation::Obsoleted { note }),
                "uncategorized" => Some(Deprecation::Uncategorized { note }),
                other => {
                    sink.error(
                        &node.loc,
                        format!(
                            "unknown deprecation reason `{other}`; expected renamed, obsoleted or uncategorized"
                        ),
                    );
                    None
                }
            }
        }
        Value::Bool(false) | Value::Null => None,
        _ => Some(Deprecation::Uncategorized {
            note: node.scalar_text().unwrap_or_default(),
        }),
    }
}

/// Renders `examples:` (a scalar, a list, or a list of lists) as text items.
pub(crate) fn examples(parent: &Node) -> Vec<String> {
    fn render(n: &Node) -> String {
        match &n.value {
            Value::Seq(items) => {
                let inner: Vec<String> = items.iter().map(render).collect();
                format!("[{}]", inner.join(", "))
            }
            Value::Str(s) => format!("{s:?}"),
            _ => n.scalar_text().unwrap_or_default(),
        }
    }
    match parent.get("examples") {
        None => Vec::new(),
        Some(n) => match &n.value {
            Value::Seq(items) => items.iter().map(render).collect(),
            _ => vec![render(n)],
        },
    }
}

/// Whether `annotations: {semtel: {cardinality: high}}` marks the attribute.
pub(crate) fn high_cardinality(parent: &Node) -> bool {
    parent
        .get("annotations")
        .and_then(|a| a.get("semtel"))
        .and_then(|s| s.get("cardinality"))
        .and_then(Node::as_str)
        == Some("high")
}

/// A text field, or empty.
pub(crate) fn text(parent: &Node, key: &str) -> String {
    parent
        .get(key)
        .and_then(Node::scalar_text)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A string field that must be present.
pub(crate) fn required_str(parent: &Node, key: &str, sink: &mut Sink) -> Option<Spanned> {
    match parent.get(key) {
        Some(n) => match n.scalar_text() {
            Some(text) => Some(Spanned {
                text,
                loc: n.loc.clone(),
            }),
            None => {
                sink.error(&n.loc, format!("`{key}` must be text, found {}", n.kind()));
                None
            }
        },
        None => {
            sink.error(&parent.loc, format!("missing `{key}`"));
            None
        }
    }
}

/// An optional string field with its location.
pub(crate) fn spanned(parent: &Node, key: &str) -> Option<Spanned> {
    parent.get(key).and_then(|n| {
        n.scalar_text().map(|text| Spanned {
            text,
            loc: n.loc.clone(),
        })
    })
}

/// Reads a list of numbers (bucket boundaries).
pub(crate) fn numbers(node: &Node, sink: &mut Sink) -> Option<Vec<f64>> {
    let items = node.as_seq()?;
    let mut out = Vec::with_capacity(items.len());
    for n in items {
        match n.value {
            Value::Int(i) => out.push(i as f64),
            Value::Float(f) => out.push(f),
            _ => {
                sink.error(
                    &n.loc,
                    format!("bucket boundary must be a number, found {}", n.kind()),
                );
                return None;
            }
        }
    }
    if out.windows(2).any(|w| w[0] >= w[1]) {
        sink.error(&node.loc, "bucket boundaries must be strictly increasing");
        return None;
    }
    Some(out)
}
