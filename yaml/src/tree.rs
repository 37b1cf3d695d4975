//! The tree, built from the parser's events without recursion and with
//! bounded depth; and the lenient reading of flow-collection closers.

use crate::syntax::{self, Open};
use crate::{Diagnostic, Location, MAX_DEPTH, Node, Value};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Spaces the lenient reading puts before a flow closer that stands on a
/// line of its own.
const SHIFT: usize = 2;

/// Turns parser positions into locations in the text as written: on lines
/// the lenient reading indented, columns are shifted back.
pub(crate) struct Place<'a> {
    file: &'a Arc<Path>,
    /// Lines (1-based, sorted) indented by [`SHIFT`] spaces.
    shifted: &'a [usize],
}

impl Place<'_> {
    pub(crate) fn loc(&self, m: &Marker) -> Location {
        let mut column = m.col() + 1;
        if column > SHIFT && self.shifted.binary_search(&m.line()).is_ok() {
            column -= SHIFT;
        }
        Location::new(self.file, m.line(), column)
    }
}

/// Why a pass over the text stopped.
pub(crate) enum Failure {
    /// The parser rejected the text; to be explained in plain words.
    Syntax(ScanError),
    /// Well-formed YAML that these files may not hold.
    Invalid(Diagnostic),
}

/// What one pass of the parser produced.
pub(crate) struct Pass {
    pub result: Result<Node, Failure>,
    /// The collections still open when the pass stopped, outermost first.
    pub open: Vec<Open>,
    /// The lines (first, last) of each literal or folded block scalar.
    pub block_scalars: Vec<(usize, usize)>,
}

/// A collection being read.
struct Frame {
    start: Marker,
    /// The anchor (`&name`) the collection carries, 0 for none.
    anchor: usize,
    /// Values and bytes of text it holds so far (for the alias budget).
    weight: usize,
    kind: Kind,
}

enum Kind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Each text key and the line it was given at.
        seen: HashMap<String, usize>,
    },
}

impl Frame {
    fn open(&self) -> Open {
        Open::new(&self.start, matches!(self.kind, Kind::Map { .. }))
    }
}

/// Values (and bytes of text) that aliases may expand to in one file, in
/// all: a few aliases can otherwise be nested to expand exponentially.
const ALIAS_BUDGET: usize = 1_000_000;

fn scalar(s: saphyr::Scalar<'_>) -> Value {
    match s {
        saphyr::Scalar::Null => Value::Null,
        saphyr::Scalar::Boolean(b) => Value::Bool(b),
        saphyr::Scalar::Integer(i) => Value::Int(i),
        saphyr::Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        saphyr::Scalar::String(s) => Value::Str(s.into_owned()),
    }
}

/// The state of one pass: the collections open, the anchors seen.
struct Builder<'p> {
    place: &'p Place<'p>,
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    block_scalars: Vec<(usize, usize)>,
    /// Each anchor's value and weight.
    anchors: HashMap<usize, (Node, usize)>,
    /// Weight added by aliases so far.
    expanded: usize,
}

impl Builder<'_> {
    fn invalid(&self, m: &Marker, msg: impl Into<String>) -> Failure {
        Failure::Invalid(Diagnostic::new(self.place.loc(m), msg))
    }

    /// Handles one event; `Ok(true)` at the end of the stream.
    fn event(&mut self, event: Event<'_>, span: &saphyr_parser::Span) -> Result<bool, Failure> {
        let at = &span.start;
        let (node, anchor, weight) = match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => return Ok(false),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.invalid(
                        at,
                        "a second YAML document starts here; the file must hold exactly one",
                    ));
                }
                return Ok(false);
            }
            Event::Alias(id) => {
                let Some((node, weight)) = self.anchors.get(&id) else {
                    return Err(self.invalid(at, "this alias refers to the value it is part of"));
                };
                self.expanded += weight;
                if self.expanded > ALIAS_BUDGET {
                    return Err(self.invalid(
                        at,
                        format!(
                            "aliases (`*name`) expand to more than {ALIAS_BUDGET} values and \
                             characters in this file; write the values out"
                        ),
                    ));
                }
                let node = Node {
                    value: node.value.clone(),
                    loc: self.place.loc(at),
                };
                (node, 0, *weight)
            }
            Event::Scalar(v, style, anchor, tag) => {
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    self.block_scalars
                        .push((span.start.line(), span.end.line()));
                }
                let weight = 1 + v.len();
                let shown = syntax::excerpt(&v);
                let Some(s) = saphyr::Scalar::parse_from_cow_and_metadata(v, style, tag.as_ref())
                else {
                    let tag = tag.map_or_else(String::new, |t| {
                        if t.is_yaml_core_schema() {
                            format!("!!{}", t.suffix)
                        } else {
                            format!("{}{}", t.handle, t.suffix)
                        }
                    });
                    return Err(self.invalid(
                        at,
                        format!("`{shown}` is not a valid value for its tag `{tag}`"),
                    ));
                };
                let node = Node {
                    value: scalar(s),
                    loc: self.place.loc(at),
                };
                (node, anchor, weight)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.invalid(
                        at,
                        format!(
                            "lists and mappings are nested more than {MAX_DEPTH} levels deep \
                             here; no schema or configuration needs that many"
                        ),
                    ));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map {
                        entries: Vec::new(),
                        key: None,
                        seen: HashMap::new(),
                    }
                };
                self.stack.push(Frame {
                    start: *at,
                    anchor,
                    weight: 1,
                    kind,
                });
                return Ok(false);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(false);
                };
                let value = match frame.kind {
                    Kind::Seq(items) => Value::Seq(items),
                    Kind::Map { entries, .. } => Value::Map(entries),
                };
                let node = Node {
                    value,
                    loc: self.place.loc(&frame.start),
                };
                (node, frame.anchor, frame.weight)
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        self.add(node, weight)
    }

    /// Puts a finished value into the collection it belongs to.
    fn add(&mut self, node: Node, weight: usize) -> Result<bool, Failure> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(false);
        };
        frame.weight = frame.weight.saturating_add(weight);
        match &mut frame.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map { entries, key, seen } => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    if let Value::Str(s) = &node.value {
                        if let Some(first) = seen.insert(s.clone(), node.loc.line) {
                            return Err(Failure::Invalid(Diagnostic::new(
                                node.loc.clone(),
                                format!(
                                    "duplicate key `{}`: it is already given at line {first}",
                                    syntax::excerpt(s)
                                ),
                            )));
                        }
                    }
                    *key = Some(node);
                }
            },
        }
        Ok(false)
    }
}

/// One pass of the parser over `text`, building the tree.
pub(crate) fn build(text: &str, place: &Place<'_>) -> Pass {
    build_until(text, place, usize::MAX)
}

/// Like [`build`], but stops at the first event at or after character
/// `stop` (or the first error), leaving the collections open there in
/// [`Pass::open`].
fn build_until(text: &str, place: &Place<'_>, stop: usize) -> Pass {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        place,
        stack: Vec::new(),
        root: None,
        documents: 0,
        block_scalars: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
    };
    let failure = loop {
        let (event, span) = match parser.next_event() {
            None => break None,
            Some(Ok(e)) => e,
            Some(Err(e)) => break Some(Failure::Syntax(e)),
        };
        if span.start.index() >= stop {
            break Some(b.invalid(&span.start, ""));
        }
        match b.event(event, &span) {
            Ok(false) => {}
            Ok(true) => break None,
            Err(f) => break Some(f),
        }
    };
    let result = match failure {
        Some(f) => Err(f),
        None => Ok(b.root.take().unwrap_or_else(|| Node {
            value: Value::Null,
            loc: Location::new(place.file, 1, 1),
        })),
    };
    Pass {
        open: if result.is_err() {
            b.stack.iter().map(Frame::open).collect()
        } else {
            Vec::new()
        },
        result,
        block_scalars: b.block_scalars,
    }
}

/// Parses `text`. Common YAML writers (libyaml, Go) accept a flow
/// collection's closing `]` or `}` on a line of its own at the enclosing
/// block's indentation, which the YAML 1.2 parser rejects; when that is the
/// error, such lines are read indented by two spaces (whitespace inside a flow
/// collection carries no meaning), except inside block scalars, where it
/// would change the text. At most three passes: time stays linear.
pub(crate) fn parse(text: &str, file: &Arc<Path>) -> Result<Node, Diagnostic> {
    let exact = Place { file, shifted: &[] };
    let first = build(text, &exact);
    match first.result {
        Ok(node) => return Ok(node),
        Err(Failure::Syntax(e)) if is_flow_closer(text, &e) => {}
        Err(f) => return Err(explain(text, &exact, f)),
    }
    let closers = closer_lines(text);
    let shifted_text = shift(text, &closers);
    let place = Place {
        file,
        shifted: &closers,
    };
    let pass = build(&shifted_text, &place);
    let in_block: Vec<usize> = closers
        .iter()
        .copied()
        .filter(|l| pass.block_scalars.iter().any(|(a, b)| a <= l && l <= b))
        .collect();
    if in_block.is_empty() {
        return pass.result.map_err(|f| explain(&shifted_text, &place, f));
    }
    let kept: Vec<usize> = closers
        .into_iter()
        .filter(|l| in_block.binary_search(l).is_err())
        .collect();
    let text2 = shift(text, &kept);
    let place = Place {
        file,
        shifted: &kept,
    };
    build(&text2, &place)
        .result
        .map_err(|f| explain(&text2, &place, f))
}

/// Whether the parser stopped at a flow closer that begins its line.
fn is_flow_closer(text: &str, e: &ScanError) -> bool {
    e.info() == "invalid indentation"
        && text
            .lines()
            .nth(e.marker().line().wrapping_sub(1))
            .is_some_and(|l| matches!(l.trim_start().chars().next(), Some(']' | '}')))
}

/// The lines (1-based) whose first non-blank character closes a flow collection.
fn closer_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| matches!(l.trim_start().chars().next(), Some(']' | '}')))
        .map(|(i, _)| i + 1)
        .collect()
}

/// `text` with each of `lines` (1-based, sorted) indented by [`SHIFT`] spaces.
fn shift(text: &str, lines: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + SHIFT * lines.len());
    let mut next = lines.iter().peekable();
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if next.peek() == Some(&&(i + 1)) {
            next.next();
            out.push_str(&" ".repeat(SHIFT));
        }
        out.push_str(l);
    }
    out
}

/// The diagnostic for a failed pass: syntax errors explained with the
/// collections open where the parser stopped.
fn explain(text: &str, place: &Place<'_>, f: Failure) -> Diagnostic {
    match f {
        Failure::Invalid(d) => d,
        Failure::Syntax(e) => {
            // What was open just before the error: a pass over the text up
            // to it (the parser reports collections only once it has read
            // past their first line).
            let stop = e.marker().index();
            let end = text.char_indices().nth(stop).map_or(text.len(), |(i, _)| i);
            let open = build_until(&text[..end], place, stop).open;
            syntax::explain(text, place, &e, &open)
        }
    }
}
