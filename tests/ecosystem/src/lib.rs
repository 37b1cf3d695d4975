//! Support for the ecosystem tests: a fake OpenAI-compatible model server on
//! loopback, the two ways a program sets up `tracing` with semtel, and
//! questions about the shape of captured traces.

pub mod fake_llm;
pub mod setup;

pub use fake_llm::FakeLlm;
pub use setup::{Mode, Session};

use semtel::trace::SpanRecord;

/// The one span named `name`; panics listing every span when there is none
/// or several.
pub fn one<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    let found: Vec<&SpanRecord> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one span named {name:?}; spans: {:?}",
        names(spans)
    );
    found[0]
}

/// The names of `spans`, each with its span and parent id, for messages.
pub fn names(spans: &[SpanRecord]) -> Vec<String> {
    spans
        .iter()
        .map(|s| format!("{} ({} <- {})", s.name, s.span_id, s.parent_span_id))
        .collect()
}

/// Asserts that `child` is a child of `parent`, in its trace.
pub fn assert_child(child: &SpanRecord, parent: &SpanRecord) {
    assert_eq!(
        child.trace_id, parent.trace_id,
        "{:?} is in another trace than {:?}",
        child.name, parent.name
    );
    assert_eq!(
        child.parent_span_id, parent.span_id,
        "{:?} is not a child of {:?}",
        child.name, parent.name
    );
}

/// The string value of attribute `key` of `span` (its text form for other
/// types); panics naming the span when it is missing.
pub fn attr(span: &SpanRecord, key: &str) -> String {
    span.attribute(key)
        .unwrap_or_else(|| {
            panic!(
                "span {:?} has no attribute {key:?}; it has {:?}",
                span.name, span.attributes
            )
        })
        .as_str()
        .into_owned()
}
