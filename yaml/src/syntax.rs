//! YAML syntax errors in plain words: what was left open and where it
//! opened, which indentation was expected, instead of parser jargon.

use crate::tree::Place;
use crate::{Diagnostic, Location};
use saphyr_parser::{Marker, ScanError};

/// A collection that was still open where the parser stopped.
pub(crate) struct Open {
    start: Marker,
    map: bool,
}

impl Open {
    pub(crate) fn new(start: &Marker, map: bool) -> Self {
        Open { start: *start, map }
    }
}

/// At most this many characters of a value are shown in a message.
const SHOWN: usize = 60;

/// `text` as a message shows it: cut to 60 characters, with the full length
/// said, so that a message never repeats a huge value.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()),
    }
}

/// The text's lines, for looking up the character at a position.
struct Lines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            lines: text.lines().collect(),
        }
    }

    /// The column (0-based) of the first non-blank character of `line` (1-based).
    fn indentation(&self, line: usize) -> Option<usize> {
        let l = self.lines.get(line.checked_sub(1)?)?;
        l.chars().position(|c| c != ' ' && c != '\t')
    }

    fn char_at(&self, m: &Marker) -> Option<char> {
        self.lines
            .get(m.line().checked_sub(1)?)?
            .chars()
            .nth(m.col())
    }
}

/// The flow opener (`[` or `{`) at which a collection starts, if it is one.
fn flow_opener(lines: &Lines<'_>, o: &Open) -> Option<char> {
    lines.char_at(&o.start).filter(|c| matches!(c, '[' | '{'))
}

/// A diagnostic for the parser error `e`, given the collections open just
/// before it (outermost first).
pub(crate) fn explain(text: &str, place: &Place<'_>, e: &ScanError, open: &[Open]) -> Diagnostic {
    let lines = Lines::new(text);
    let m = e.marker();
    let at = place.loc(m);
    let info = e.info();
    let at_end =
        m.index() >= text.chars().count() || info.contains("end of stream") || info.contains("eof");
    let flow = open
        .iter()
        .rev()
        .find_map(|o| flow_opener(&lines, o).map(|c| (o, c)));
    let line_start = lines.indentation(m.line());
    let (loc, message): (Location, String) = if info.starts_with("while scanning a quoted scalar")
        || info == "invalid indentation in quoted scalar"
    {
        let q = lines.char_at(m).unwrap_or('"');
        (
            at,
            format!("the string opened by `{q}` here is never closed; add the closing `{q}`"),
        )
    } else if info == "recursion limit exceeded" {
        (
            at,
            format!(
                "lists and mappings are nested more than {} levels deep here; no schema or \
                 configuration needs that many",
                crate::MAX_DEPTH
            ),
        )
    } else if let Some((o, c)) =
        flow.filter(|(o, _)| at_end || m.line() > o.start.line() || in_flow_error(info))
    {
        let (what, close, items) = if c == '[' {
            ("list", ']', "items")
        } else {
            ("mapping", '}', "entries")
        };
        let opened = place.loc(&o.start);
        if at_end {
            (
                opened,
                format!("this `{c}` is never closed; add `{close}` where the {what} ends"),
            )
        } else if m.line() > o.start.line() {
            (
                opened,
                format!(
                    "this `{c}` is still open at line {}, column {}, where reading fails: \
                     close the {what} with `{close}` before that point (its {items} are \
                     separated by `,`)",
                    at.line, at.column
                ),
            )
        } else {
            (
                at,
                format!(
                    "expected `,` or `{close}` here, in the {what} opened by `{c}` at column {}",
                    opened.column
                ),
            )
        }
    } else if info == "misplaced bracket" {
        (
            at,
            "this closing bracket has no opening `[` or `{` before it".to_string(),
        )
    } else if (info.contains("did not find expected key")
        || info.contains("did not find expected '-' indicator"))
        && line_start.is_some_and(|first| m.col() > first)
    {
        (
            at,
            "unexpected text after the end of the value; quote the whole value if it is text"
                .to_string(),
        )
    } else if info.contains("did not find expected key")
        || info.contains("did not find expected '-' indicator")
    {
        let blocks: Vec<&Open> = open
            .iter()
            .filter(|o| flow_opener(&lines, o).is_none())
            .collect();
        let list = blocks
            .iter()
            .rev()
            .find(|o| !o.map && o.start.col() == m.col());
        let message = match list {
            Some(l) if info.contains("'-'") => format!(
                "this line is aligned with the items of the list that starts at line {}, but \
                 does not start with `- `; add `- `, or indent it under the item above",
                l.start.line()
            ),
            _ => {
                let mut places: Vec<String> = Vec::new();
                for o in &blocks {
                    let what = if o.map { "keys" } else { "list items" };
                    let place = format!(
                        "{what} at column {} (line {})",
                        place.loc(&o.start).column,
                        o.start.line()
                    );
                    if !places.contains(&place) {
                        places.push(place);
                    }
                }
                format!(
                    "this line (column {}) does not line up with the lines above it: {}; \
                     indent it like one of them, or under a key that ends with `:`",
                    at.column,
                    places.join(", ")
                )
            }
        };
        (at, message)
    } else if info == "mapping values are not allowed in this context"
        && m.col() > 1024 + line_start.unwrap_or(0)
    {
        (
            at,
            "a key may be at most 1024 characters long (this `:` follows a longer one)".to_string(),
        )
    } else if info == "mapping values are not allowed in this context" {
        (
            at,
            "`: ` here would start a key, but no key can start at this point: quote a value \
             that contains `: `, or put a nested mapping on lines of its own, indented under \
             its key"
                .to_string(),
        )
    } else if info.starts_with("simple key expect") {
        (
            at,
            "a plain value stands where `key: value` is expected (a line at a mapping's \
             indentation must be a key followed by `:`)"
                .to_string(),
        )
    } else if info.contains("expected <document start>") {
        (
            at,
            "this line is indented differently from the document's first line; give all \
             top-level keys the same indentation"
                .to_string(),
        )
    } else if info.starts_with("invalid indentation") {
        (
            at,
            "this line is indented less than the block it belongs to".to_string(),
        )
    } else if info.contains("tab") {
        (
            at,
            "a tab is used where YAML allows only spaces (indent with spaces)".to_string(),
        )
    } else {
        (at, excerpt(info))
    };
    Diagnostic::new(loc, format!("YAML syntax: {message}"))
}

/// Errors that, inside an unclosed flow collection, mean it was left open.
fn in_flow_error(info: &str) -> bool {
    info.starts_with("invalid indentation")
        || info.starts_with("while parsing a flow")
        || info.contains("did not find expected node content")
        || info.contains("end of stream")
        || info.contains("eof")
        || info.contains("simple key")
        || info.contains("did not find expected key")
        || info.contains("did not find expected '-' indicator")
        || info.contains("only valid inside a block")
        || info.contains("not allowed in this context")
}
