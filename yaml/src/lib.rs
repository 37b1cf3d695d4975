//! A small located YAML tree for semtel's schema files and config files.
//!
//! Every value keeps the line and column it was written at, so that errors
//! can point at the text the user wrote. Reading is hardened for input from
//! anywhere: nesting deeper than [`MAX_DEPTH`] is an error (never a stack
//! overflow), time is linear in the size of the text, and syntax errors name
//! the construct that was left open and where it opened, in plain words.
//!
//! ```
//! use std::{path::Path, sync::Arc};
//! let file: Arc<Path> = Arc::from(Path::new("example.yaml"));
//! let root = semtel_yaml::Node::parse("name: agent\nport: 4318\n", &file).unwrap();
//! assert_eq!(root.get("name").and_then(|n| n.as_str()), Some("agent"));
//! assert_eq!(root.get("port").unwrap().loc.line, 2);
//! ```

mod location;
pub mod suggest;
mod syntax;
mod tree;

pub use location::{Diagnostic, Location};
pub use syntax::excerpt;

use std::path::Path;
use std::sync::Arc;

/// Collections nested deeper than this are an error. Schema and config files
/// need a handful of levels; the bound keeps hostile input from exhausting
/// the stack.
pub const MAX_DEPTH: usize = 64;

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
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// Text (quoted scalars are always text).
    Str(String),
    /// A list.
    Seq(Vec<Node>),
    /// A mapping, in the order written (keys are unique).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Parses one file's text; `file` only labels locations. An empty text
    /// is a null value.
    pub fn parse(text: &str, file: &Arc<Path>) -> Result<Node, Diagnostic> {
        tree::parse(text, file)
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

/// Reads and parses a file, reporting I/O problems against the file itself.
pub fn load_file(path: &Path) -> Result<Node, Diagnostic> {
    let file: Arc<Path> = Arc::from(path);
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(Location::new(&file, 0, 0), format!("cannot read file: {e}"))
    })?;
    Node::parse(&text, &file)
}
