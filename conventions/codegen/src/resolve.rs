//! Turns parsed groups into a [`Registry`]: definitions collected, references
//! and `extends` chains resolved, and every rule a generator relies on checked.

use crate::error::Sink;
use crate::model::{
    AttrUse, Attribute, Entity, Event, Group, Metric, Registry, Requirement, Scalar, Span, SpanKind,
};
use crate::names;
use crate::raw::{Entry, GroupKind, RawGroup, Spanned};
use std::collections::{HashMap, HashSet};

/// Resolves `groups` on top of `base` (whose items are kept, marked
/// imported). `hint_bundled`: a reference to an attribute of the bundled
/// conventions says how to load them.
pub(crate) fn resolve(
    groups: Vec<RawGroup>,
    base: Option<&Registry>,
    hint_bundled: bool,
    sink: &mut Sink,
) -> Registry {
    let mut reg = base.map(imported).unwrap_or_default();
    let invalid = define_attributes(&groups, &mut reg, sink);
    let index = index_groups(&groups, sink);
    let mut resolver = Resolver {
        groups: &index,
        base,
        reg: &reg,
        invalid: &invalid,
        hint_bundled,
        suggest: names::Suggester::new(),
        done: HashMap::new(),
    };
    let mut resolved = Vec::new();
    for g in &groups {
        let uses = resolver.uses(&g.id.text, &mut Vec::new(), sink);
        resolved.push((g, uses));
    }
    for (g, uses) in resolved {
        let inherited = inherited_span_kind(g, &index);
        build_item(g, uses, inherited, &mut reg, sink);
    }
    check_namespaces(&reg, sink);
    reg
}

/// The attribute ids of the bundled conventions, sorted.
fn bundled_ids() -> &'static [String] {
    static IDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        crate::bundled()
            .map(|r| r.attributes.into_keys().collect())
            .unwrap_or_default()
    })
}

/// The kind a span without `span_kind` takes from the span it extends or refines.
fn inherited_span_kind(g: &RawGroup, index: &HashMap<&str, &RawGroup>) -> Option<SpanKind> {
    let mut cur = g;
    for _ in 0..16 {
        match &cur.kind {
            GroupKind::Span { kind: Some(k), .. } => return Some(*k),
            _ => cur = index.get(cur.extends.as_ref()?.text.as_str())?,
        }
    }
    None
}

/// Top-level modules the generator writes itself; no attribute namespace may take their names.
const RESERVED_MODULES: &[&str] = &["metrics", "spans"];

fn check_namespaces(reg: &Registry, sink: &mut Sink) {
    for a in reg.attributes.values().filter(|a| !a.imported) {
        let root = a.id.split('.').next().unwrap_or_default();
        if a.id.contains('.') && RESERVED_MODULES.contains(&root) {
            sink.error(
                &a.location,
                format!("invalid attribute name `{}`: the namespace `{root}` is reserved for generated {root} definitions", a.id),
            );
        }
    }
}

fn imported(base: &Registry) -> Registry {
    let mut reg = base.clone();
    reg.attributes.values_mut().for_each(|a| a.imported = true);
    reg.groups.values_mut().for_each(|g| g.imported = true);
    reg.metrics.values_mut().for_each(|m| m.imported = true);
    reg.spans.values_mut().for_each(|s| s.imported = true);
    reg.events.values_mut().for_each(|e| e.imported = true);
    reg.entities.values_mut().for_each(|e| e.imported = true);
    reg
}

/// Adds every valid definition to `reg`; returns the ids of those whose type
/// was invalid (reported already), so that their uses are not reported again.
fn define_attributes(groups: &[RawGroup], reg: &mut Registry, sink: &mut Sink) -> HashSet<String> {
    let mut invalid = HashSet::new();
    for g in groups {
        for e in &g.entries {
            let Entry::Define(a) = e else { continue };
            if !names::is_valid_id(&a.id.text) {
                sink.error(
                    &a.id.loc,
                    format!(
                        "invalid attribute name `{}`: use dot-separated lowercase segments \
                         of letters, digits and `_`, each starting with a letter",
                        crate::yaml::excerpt(&a.id.text)
                    ),
                );
                continue;
            }
            if let Some(prev) = reg.attributes.get(&a.id.text) {
                sink.error(
                    &a.id.loc,
                    format!(
                        "duplicate attribute id `{}`: already defined at {}",
                        a.id.text, prev.location
                    ),
                );
                continue;
            }
            let Some(ty) = a.ty.clone() else {
                invalid.insert(a.id.text.clone());
                continue;
            };
            let attr = Attribute {
                id: a.id.text.clone(),
                ty,
                brief: a.brief.clone(),
                note: a.note.clone(),
                examples: a.examples.clone(),
                requirement: a
                    .requirement
                    .clone()
                    .unwrap_or(Requirement::Recommended(String::new())),
                stability: a.stability.clone(),
                deprecated: a.deprecated.clone(),
                high_cardinality: a.high_cardinality,
                group: g.id.text.clone(),
                location: a.id.loc.clone(),
                imported: false,
            };
            reg.attributes.insert(attr.id.clone(), attr);
        }
    }
    invalid
}

fn index_groups<'a>(groups: &'a [RawGroup], sink: &mut Sink) -> HashMap<&'a str, &'a RawGroup> {
    let mut index: HashMap<&str, &RawGroup> = HashMap::new();
    for g in groups {
        if let Some(prev) = index.insert(&g.id.text, g) {
            sink.error(
                &g.id.loc,
                format!(
                    "duplicate group id `{}`: already defined at {}",
                    g.id.text, prev.id.loc
                ),
            );
        }
    }
    index
}

/// The longest chain of `extends` and `ref_group` links followed (the
/// bound keeps recursion shallow whatever the input).
const MAX_CHAIN: usize = 64;

struct Resolver<'a> {
    groups: &'a HashMap<&'a str, &'a RawGroup>,
    base: Option<&'a Registry>,
    reg: &'a Registry,
    /// Attributes defined with an invalid type: kept out of the registry,
    /// their uses not reported again.
    invalid: &'a HashSet<String>,
    hint_bundled: bool,
    suggest: names::Suggester,
    done: HashMap<String, Vec<AttrUse>>,
}

impl Resolver<'_> {
    /// The attribute uses of group `id`, following `extends` and `ref_group`.
    fn uses(&mut self, id: &str, stack: &mut Vec<String>, sink: &mut Sink) -> Vec<AttrUse> {
        if let Some(done) = self.done.get(id) {
            return done.clone();
        }
        let Some(group) = self.groups.get(id).copied() else {
            return self.base_group(id).unwrap_or_default();
        };
        stack.push(id.to_string());
        let mut out: Vec<AttrUse> = Vec::new();
        if let Some(parent) = &group.extends {
            out = self.follow(parent, "extends", stack, sink);
        }
        // Where each attribute is in `out`, so that a later use replaces it.
        let mut at: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        for e in &group.entries {
            let new = match e {
                Entry::Define(a) if self.invalid.contains(&a.id.text) => continue,
                Entry::Ref(r) if self.invalid.contains(&r.id.text) => continue,
                Entry::Define(a) => vec![AttrUse {
                    id: a.id.text.clone(),
                    requirement: a
                        .requirement
                        .clone()
                        .unwrap_or(Requirement::Recommended(String::new())),
                    brief: None,
                    note: None,
                }],
                Entry::Ref(r) => {
                    if !self.reg.attributes.contains_key(&r.id.text) {
                        let message = self.dangling(&r.id.text);
                        sink.error(&r.id.loc, message);
                        continue;
                    }
                    let def = &self.reg.attributes[&r.id.text];
                    vec![AttrUse {
                        id: r.id.text.clone(),
                        requirement: r
                            .requirement
                            .clone()
                            .unwrap_or_else(|| def.requirement.clone()),
                        brief: r.brief.clone(),
                        note: r.note.clone(),
                    }]
                }
                Entry::RefGroup(g) => self.follow(g, "ref_group", stack, sink),
            };
            for u in new {
                match at.get(&u.id) {
                    Some(&i) => out[i] = u,
                    None => {
                        at.insert(u.id.clone(), out.len());
                        out.push(u);
                    }
                }
            }
        }
        stack.pop();
        self.done.insert(id.to_string(), out.clone());
        out
    }

    fn follow(
        &mut self,
        target: &Spanned,
        what: &str,
        stack: &mut Vec<String>,
        sink: &mut Sink,
    ) -> Vec<AttrUse> {
        if stack.len() >= MAX_CHAIN {
            sink.error(
                &target.loc,
                format!(
                    "`{what}` links more than {MAX_CHAIN} groups in a chain here (from `{}`); \
                     no schema needs that many",
                    crate::yaml::excerpt(&stack[0])
                ),
            );
            return Vec::new();
        }
        if let Some(pos) = stack.iter().position(|s| *s == target.text) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(target.text.clone());
            sink.error(
                &target.loc,
                format!("cycle in `{what}`: {}", cycle.join(" -> ")),
            );
            return Vec::new();
        }
        if self.groups.contains_key(target.text.as_str()) {
            return self.uses(&target.text, stack, sink);
        }
        if let Some(uses) = self.base_group(&target.text) {
            return uses;
        }
        sink.error(
            &target.loc,
            format!(
                "`{what}` names unknown group `{}`{}",
                target.text,
                self.suggest
                    .did_you_mean(&target.text, self.groups.keys().copied())
            ),
        );
        Vec::new()
    }

    /// What is wrong with a reference to the undefined attribute `id`, with
    /// the likely intended one; for an attribute of the bundled conventions
    /// loaded without them, how to load them.
    fn dangling(&mut self, id: &str) -> String {
        let defined = self.reg.attributes.keys().map(String::as_str);
        let bundled = self.hint_bundled.then(bundled_ids).unwrap_or(&[]);
        if bundled.binary_search_by(|b| b.as_str().cmp(id)).is_ok() {
            return format!(
                "dangling `ref`: `{id}` belongs to the bundled conventions, which are not \
                 loaded here; load them with the schema (`semtel schema check --bundled`; \
                 `Generator::new()` always does)"
            );
        }
        let hint = self
            .suggest
            .did_you_mean(id, defined.chain(bundled.iter().map(String::as_str)));
        let namespace = id.split('.').next().unwrap_or_default();
        let bundled_namespace = bundled
            .iter()
            .any(|b| b.split('.').next() == Some(namespace));
        let more = if bundled_namespace {
            format!(
                " (`{namespace}.*` attributes come with the bundled conventions: add `--bundled`)"
            )
        } else {
            String::new()
        };
        format!(
            "dangling `ref`: no attribute `{}` is defined{hint}{more}",
            crate::yaml::excerpt(id)
        )
    }

    fn base_group(&self, id: &str) -> Option<Vec<AttrUse>> {
        let base = self.base?;
        base.groups
            .get(id)
            .map(|g| g.attributes.clone())
            .or_else(|| base.spans.get(id).map(|s| s.attributes.clone()))
    }
}

fn build_item(
    g: &RawGroup,
    attributes: Vec<AttrUse>,
    inherited_kind: Option<SpanKind>,
    reg: &mut Registry,
    sink: &mut Sink,
) {
    let id = g.id.text.clone();
    let location = g.loc.clone();
    match &g.kind {
        GroupKind::AttributeGroup => {
            reg.groups.insert(
                id.clone(),
                Group {
                    id,
                    brief: g.brief.clone(),
                    attributes,
                    location,
                    imported: false,
                },
            );
        }
        GroupKind::Span { kind, name } => {
            let short = id.strip_prefix("span.").unwrap_or(&id).to_string();
            if let Some(prev) = reg.spans.get(&short).filter(|s| !s.imported) {
                sink.error(
                    &g.id.loc,
                    format!(
                        "duplicate span `{short}`: already defined at {}",
                        prev.location
                    ),
                );
                return;
            }
            let span = Span {
                name: name
                    .clone()
                    .map_or_else(|| short.clone(), |n| crate::model::one_line(&n)),
                id: short.clone(),
                kind: kind.or(inherited_kind).unwrap_or(SpanKind::Internal),
                brief: g.brief.clone(),
                note: g.note.clone(),
                attributes,
                stability: g.stability.clone(),
                deprecated: g.deprecated.clone(),
                location,
                imported: false,
            };
            reg.spans.insert(short, span);
        }
        GroupKind::Metric {
            name,
            instrument,
            unit,
            value_type,
            buckets,
            annotations,
        } => {
            let Some(instrument) = *instrument else {
                sink.error(
                    &name.loc,
                    format!("metric `{}` has no `instrument`", name.text),
                );
                return;
            };
            let Some(unit) = unit.clone() else {
                sink.error(&name.loc, format!("metric `{}` has no `unit`", name.text));
                return;
            };
            if let Some(prev) = reg.metrics.get(&name.text).filter(|m| !m.imported) {
                sink.error(
                    &name.loc,
                    format!(
                        "duplicate metric `{}`: already defined at {}",
                        name.text, prev.location
                    ),
                );
                return;
            }
            let value_type = value_type.unwrap_or(match (instrument, unit.as_str()) {
                (crate::model::Instrument::Histogram, _) | (_, "s" | "ms") => Scalar::Double,
                _ => Scalar::Int,
            });
            reg.metrics.insert(
                name.text.clone(),
                Metric {
                    id,
                    name: name.text.clone(),
                    instrument,
                    unit,
                    brief: g.brief.clone(),
                    note: g.note.clone(),
                    value_type,
                    buckets: buckets.clone(),
                    annotations: annotations.clone(),
                    attributes,
                    stability: g.stability.clone(),
                    deprecated: g.deprecated.clone(),
                    location,
                    imported: false,
                },
            );
        }
        GroupKind::Event { name } => {
            reg.events.insert(
                name.clone(),
                Event {
                    id,
                    name: name.clone(),
                    brief: g.brief.clone(),
                    attributes,
                    deprecated: g.deprecated.clone(),
                    location,
                    imported: false,
                },
            );
        }
        GroupKind::Refinement => {}
        GroupKind::Entity => {
            reg.entities.insert(
                id.clone(),
                Entity {
                    id,
                    brief: g.brief.clone(),
                    attributes,
                    location,
                    imported: false,
                },
            );
        }
    }
}
