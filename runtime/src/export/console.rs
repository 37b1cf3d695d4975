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

    fn export(&mut self, spans: Vec<SpanRecord>) -> Result<(), String> {
        let mut complete = Vec::new();
        for s in spans {
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
            .filter(|_| !s.parent_remote);
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by_key(|&i| (spans[i].start, i));
    }
    let mut out = String::new();
    let first = &spans[children[&None][0]];
    let _ = write!(out, "trace {}", first.trace_id);
    if first.parent_remote {
        let _ = write!(out, " (continues remote parent {})", first.parent_span_id);
    }
    out.push('\n');
    let roots = children.get(&None).cloned().unwrap_or_default();
    for (n, &r) in roots.iter().enumerate() {
        line(
            &mut out,
            spans,
            &children,
            r,
            "",
            n + 1 == roots.len(),
            true,
            color,
        );
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn line(
    out: &mut String,
    spans: &[SpanRecord],
    children: &HashMap<Option<usize>, Vec<usize>>,
    i: usize,
    prefix: &str,
    last: bool,
    top: bool,
    color: bool,
) {
    let s = &spans[i];
    let (branch, next) = match (top, last) {
        (true, _) => ("", String::new()),
        (false, true) => ("└── ", format!("{prefix}    ")),
        (false, false) => ("├── ", format!("{prefix}│   ")),
    };
    let _ = write!(
        out,
        "{prefix}{branch}{}  {}",
        s.name,
        duration(s.duration_nanos())
    );
    match &s.status {
        Status::Error(msg) => {
            let (on, off) = if color {
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
    out.push('\n');
    for e in &s.events {
        let cont = if top { "    " } else { &next };
        let _ = write!(out, "{cont}  • event {}", e.name);
        for kv in &e.attributes {
            let _ = write!(out, "  {}={}", kv.key, value(&kv.value));
        }
        out.push('\n');
    }
    let kids = children.get(&Some(i)).cloned().unwrap_or_default();
    let child_prefix = if top { String::new() } else { next };
    for (n, &c) in kids.iter().enumerate() {
        line(
            out,
            spans,
            children,
            c,
            &child_prefix,
            n + 1 == kids.len(),
            false,
            color,
        );
    }
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
            parent_remote: false,
            name: name.into(),
            kind: Default::default(),
            start,
            end: start + 1_500_000,
            attributes: vec![KeyValue::new("k", "v")],
            events: Vec::new(),
            links: Vec::new(),
            status,
            scope: "test",
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
}
