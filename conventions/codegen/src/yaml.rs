//! A small located YAML tree: the only file that talks to the YAML parser.
//! Public so that other semtel crates (the runtime's config-file reader) read
//! YAML the same way.
//!
//! The rest of the loader works on [`Node`], which keeps the line and column of
//! every value so that schema errors can point at the text the user wrote.

use crate::error::{Diagnostic, Location};
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use std::path::Path;
use std::sync::Arc;

/// A YAML value with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it starts.
    pub loc: Location,
}

/// The shapes a YAML value can take.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Parses one file's text; `file` only labels locations.
    pub fn parse(text: &str, file: &Arc<Path>) -> Result<Node, Diagnostic> {
        let mut text = std::borrow::Cow::Borrowed(text);
        let docs = loop {
            match MarkedYaml::load_from_str(&text) {
                Ok(docs) => break docs,
                Err(e) => match indent_flow_closer(&text, e.marker().line(), e.info()) {
                    Some(fixed) => text = std::borrow::Cow::Owned(fixed),
                    None => {
                        let loc = Location::new(file, e.marker().line(), e.marker().col() + 1);
                        return Err(Diagnostic::new(loc, format!("YAML syntax: {}", e.info())));
                    }
                },
            }
        };
        match docs.into_iter().next() {
            Some(doc) => convert(&doc, file),
            None => Ok(Node {
                value: Value::Null,
                loc: Location::new(file, 1, 1),
            }),
        }
    }

    /// The text of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short word for the node's shape, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar as text (numbers and booleans rendered), for examples and notes.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// Common YAML writers (libyaml, Go) accept a flow collection's closing `]`
/// or `}` on a line of its own at the enclosing block's indentation; the YAML
/// 1.2 parser rejects it. Whitespace inside a flow collection carries no
/// meaning, so indenting that line by two spaces reads the same document.
/// Returns the text so fixed, when the error is of that kind.
fn indent_flow_closer(text: &str, line: usize, info: &str) -> Option<String> {
    if info != "invalid indentation" || line == 0 {
        return None;
    }
    let target = text.lines().nth(line - 1)?;
    if !matches!(target.trim_start().chars().next(), Some(']' | '}')) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 2);
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            out.push_str("  ");
        }
        out.push_str(l);
    }
    Some(out)
}

fn convert(y: &MarkedYaml<'_>, file: &Arc<Path>) -> Result<Node, Diagnostic> {
    let loc = Location::new(file, y.span.start.line(), y.span.start.col() + 1);
    let value = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(text, _, _) => Value::Str(text.to_string()),
        YamlData::Sequence(items) => Value::Seq(
            items
                .iter()
                .map(|i| convert(i, file))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Ok((convert(k, file)?, convert(v, file)?)))
                .collect::<Result<_, Diagnostic>>()?,
        ),
        YamlData::Tagged(_, inner) => return convert(inner, file),
        YamlData::Alias(_) => {
            return Err(Diagnostic::new(loc, "YAML aliases are not supported"));
        }
        YamlData::BadValue => return Err(Diagnostic::new(loc, "unreadable YAML value")),
    };
    Ok(Node { value, loc })
}

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Int(*i),
        Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}

/// Reads and parses a file, reporting I/O problems against the file itself.
pub fn load_file(path: &Path) -> Result<Node, Diagnostic> {
    let file: Arc<Path> = Arc::from(path);
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(Location::new(&file, 0, 0), format!("cannot read file: {e}"))
    })?;
    Node::parse(&text, &file)
}
