//! The console sink: prints each finished trace as an indented tree with
//! durations, status and attributes.

use super::SpanSink;
use crate::trace::{SpanRecord, Status};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{Array, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

/// Spans held while waiting for their trace's root, at most.
const MAX_PENDING: usize = 10_000;

pub(crate) struct ConsoleSink {
    out: Box<dyn Write + Send>,
    color: bool,
    pending: HashMap<TraceId, Vec<SpanRecord>>,
    order: Vec<TraceId>,
    held: usize,
}

impl ConsoleSink {
    /// A sink printing to standard output (in color when it is a terminal).
    pub fn stdout() -> Self {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self::new(Box::new(std::io::stdout()), color)
    }

    pub fn new(out: Box<dyn Write + Send>, color: bool) -> Self {
        ConsoleSink {
            out,
            color,
            pending: HashMap::new(),
            order: Vec::new(),
            held: 0,
        }
    }

    fn print_trace(&mut self, trace: TraceId) {
        let Some(spans) = self.pending.remove(&trace) else {
            return;
        };
        self.order.retain(|t| *t != trace);
        self.held -= spans.len();
        let text = render(&spans, self.color);
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

fn is_local_root(s: &SpanRecord) -> bool {
    s.parent_span_id == SpanId::INVALID || s.parent_remote
}

impl SpanSink for ConsoleSink {
    fn name(&self) -> &str {
        "console"
    }

    fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String> {
        let mut complete = Vec::new();
        for s in spans.drain(..) {
            if !self.pending.contains_key(&s.trace_id) {
                self.order.push(s.trace_id);
            }
            if is_local_root(&s) {
                complete.push(s.trace_id);
            }
            self.pending.entry(s.trace_id).or_default().push(s);
            self.held += 1;
        }
        for t in complete {
            self.print_trace(t);
        }
        while self.held > MAX_PENDING {
            let oldest = self.order[0];
            self.print_trace(oldest);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        for t in self.order.clone() {
            self.print_trace(t);
        }
        Ok(())
    }
}

/// Renders the spans of one trace as the console exporter prints it: a
/// `trace <id>` header, then one line per span (name, duration, status,
/// attributes) indented under its parent, children in start order, each
/// span's events on lines of their own between it and its children.
///
/// Spans whose parent is not among `spans` are shown as roots. `color`
/// marks failures in red (ANSI escapes). Never panics, whatever the input.
///
/// ```
/// use semtel::trace::{SpanRecord, Status};
/// use opentelemetry::trace::{SpanId, TraceId};
///
/// let mut span = SpanRecord::default();
/// span.trace_id = TraceId::from(7u128);
/// span.span_id = SpanId::from(1u64);
/// span.name = "workflow".into();
/// span.end = 1_500_000;
/// span.status = Status::Unset;
/// span.scope = "example";
/// let text = semtel::render_trace(&[span], false);
/// assert_eq!(text, "trace 00000000000000000000000000000007\nworkflow  1.50 ms\n");
/// ```
pub fn render_trace(spans: &[SpanRecord], color: bool) -> String {
    render(spans, color)
}

/// Renders one trace's spans as a tree, children in start order.
pub(crate) fn render(spans: &[SpanRecord], color: bool) -> String {
    let ids: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let parent = ids
            .get(&s.parent_span_id)
            .copied()
            .filter(|&p| !s.parent_remote && p != i);
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| (spans[i].start, i));
    }
    let mut roots = children.get(&None).cloned().unwrap_or_default();
    if roots.is_empty() {
        // Every span names another as its parent (a cycle): start anywhere.
        roots.extend((0..spans.len()).min_by_key(|&i| (spans[i].start, i)));
    }
    let mut tree = Tree {
        spans,
        children,
        color,
        out: String::new(),
        shown: vec![false; spans.len()],
    };
    let Some(&first) = roots.first() else {
        return tree.out;
    };
    let first = &spans[first];
    let _ = write!(tree.out, "trace {}", first.trace_id);
    if first.parent_remote {
        let _ = write!(
            tree.out,
            " (continues remote parent {})",
            first.parent_span_id
        );
    }
    if let Some(state) = &first.trace_state {
        let _ = write!(tree.out, "  tracestate={state}");
    }
    tree.out.push('\n');
    for (n, &r) in roots.iter().enumerate() {
        tree.line(r, "", n + 1 == roots.len(), true);
    }
    tree.out
}

struct Tree<'a> {
    spans: &'a [SpanRecord],
    children: HashMap<Option<usize>, Vec<usize>>,
    color: bool,
    out: String,
    shown: Vec<bool>,
}

impl Tree<'_> {
    fn line(&mut self, i: usize, prefix: &str, last: bool, top: bool) {
        if std::mem::replace(&mut self.shown[i], true) {
            return;
        }
        let s = &self.spans[i];
        let (branch, child_prefix) = match (top, last) {
            (true, _) => ("", String::new()),
            (false, true) => ("└── ", format!("{prefix}    ")),
            (false, false) => ("├── ", format!("{prefix}│   ")),
        };
        let out = &mut self.out;
        let _ = write!(
            out,
            "{prefix}{branch}{}  {}",
            s.name,
            format_duration(s.duration_nanos())
        );
        match &s.status {
            Status::Error(msg) => {
                let (on, off) = if self.color {
                    ("\x1b[1;31m", "\x1b[0m")
                } else {
                    ("", "")
                };
                let _ = write!(out, "  {on}✗ ERROR: {msg}{off}");
            }
            Status::Ok => out.push_str("  ✓ ok"),
            Status::Unset => {}
        }
        for kv in &s.attributes {
            let _ = write!(out, "  {}={}", kv.key, value(&kv.value));
        }
        let dropped = [
            (s.dropped_attributes_count, "attributes"),
            (s.dropped_events_count, "events"),
            (s.dropped_links_count, "links"),
        ];
        for (n, what) in dropped {
            if n > 0 {
                let _ = write!(out, "  (+{n} {what} dropped)");
            }
        }
        out.push('\n');
        let kids = self.children.get(&Some(i)).cloned().unwrap_or_default();
        // Events sit at the children's depth; the tree's line runs on past
        // them when children follow.
        let bar = if kids.is_empty() { "  " } else { "│ " };
        for e in &s.events {
            let _ = write!(out, "{child_prefix}{bar}• event {}", e.name);
            for kv in &e.attributes {
                let _ = write!(out, "  {}={}", kv.key, value(&kv.value));
            }
            if e.dropped_attributes_count > 0 {
                let _ = write!(
                    out,
                    "  (+{} attributes dropped)",
                    e.dropped_attributes_count
                );
            }
            out.push('\n');
        }
        for (n, &c) in kids.iter().enumerate() {
            self.line(c, &child_prefix, n + 1 == kids.len(), false);
        }
    }
}

/// A duration in nanoseconds as the console exporter prints it: `850 ns`,
/// `12.5 µs`, `1.50 ms`, `2.25 s`.
///
/// ```
/// assert_eq!(semtel::format_duration(1_500_000), "1.50 ms");
/// ```
pub fn format_duration(nanos: u64) -> String {
    duration(nanos)
}

fn duration(nanos: u64) -> String {
    match nanos {
        n if n < 1_000 => format!("{n} ns"),
        n if n < 1_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        n if n < 1_000_000_000 => format!("{:.2} ms", n as f64 / 1e6),
        n => format!("{:.2} s", n as f64 / 1e9),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s.as_str()),
        Value::Array(Array::String(items)) => format!(
            "[{}]",
            items
                .iter()
                .map(|s| format!("{:?}", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::SpanRecord;
    use opentelemetry::KeyValue;

    fn span(id: u64, parent: u64, name: &'static str, start: u64, status: Status) -> SpanRecord {
        SpanRecord {
            trace_id: TraceId::from(7u128),
            span_id: SpanId::from(id),
            parent_span_id: SpanId::from(parent),
            name: name.into(),
            start,
            end: start + 1_500_000,
            attributes: vec![KeyValue::new("k", "v")],
            status,
            scope: "test",
            ..SpanRecord::default()
        }
    }

    #[test]
    fn renders_a_tree_with_the_failure_marked() {
        let spans = vec![
            span(3, 1, "task b", 30, Status::Error("boom".into())),
            span(2, 1, "task a", 20, Status::Unset),
            span(4, 2, "step", 25, Status::Unset),
            span(1, 0, "workflow", 10, Status::Unset),
        ];
        let text = render(&spans, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "trace 00000000000000000000000000000007");
        assert_eq!(lines[1], "workflow  1.50 ms  k=\"v\"");
        assert_eq!(lines[2], "├── task a  1.50 ms  k=\"v\"");
        assert_eq!(lines[3], "│   └── step  1.50 ms  k=\"v\"");
        assert_eq!(lines[4], "└── task b  1.50 ms  ✗ ERROR: boom  k=\"v\"");
    }

    #[test]
    fn event_lines_sit_at_the_depth_of_the_children() {
        let event = |name: &'static str| {
            crate::trace::SpanEvent::new(name, 0, vec![KeyValue::new("exception.type", "E")])
        };
        let mut root = span(1, 0, "workflow", 10, Status::Error("boom".into()));
        root.events.push(event("exception"));
        let mut leaf = span(3, 2, "step", 30, Status::Error("boom".into()));
        leaf.events.push(event("exception"));
        let spans = vec![root, span(2, 1, "task", 20, Status::Unset), leaf];
        let text = render(&spans, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "workflow  1.50 ms  ✗ ERROR: boom  k=\"v\"");
        assert_eq!(lines[2], "│ • event exception  exception.type=\"E\"");
        assert_eq!(lines[3], "└── task  1.50 ms  k=\"v\"");
        assert_eq!(lines[4], "    └── step  1.50 ms  ✗ ERROR: boom  k=\"v\"");
        assert_eq!(
            lines[5],
            "          • event exception  exception.type=\"E\""
        );
    }

    #[test]
    fn trace_state_and_dropped_counts_are_shown() {
        let mut root = span(1, 0, "workflow", 10, Status::Unset);
        root.trace_state = Some("rojo=00f067aa0ba902b7".into());
        root.dropped_attributes_count = 3;
        root.dropped_events_count = 1;
        let text = render(&[root], false);
        assert_eq!(
            text,
            "trace 00000000000000000000000000000007  tracestate=rojo=00f067aa0ba902b7\n\
             workflow  1.50 ms  k=\"v\"  (+3 attributes dropped)  (+1 events dropped)\n"
        );
    }

    #[test]
    fn odd_input_renders_without_panicking() {
        assert_eq!(render(&[], false), "");
        // Two spans naming each other as parent.
        let spans = vec![
            span(1, 2, "a", 10, Status::Unset),
            span(2, 1, "b", 20, Status::Unset),
        ];
        let text = render(&spans, false);
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
