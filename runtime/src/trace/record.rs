//! A finished span as semtel records it: raw, cheap to build on the hot path,
//! converted to exporter formats in batches off it.

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, TraceId};
use semtel_conventions::SpanKind;
use std::borrow::Cow;

/// How a span ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Status {
    /// Nothing was said.
    #[default]
    Unset,
    /// Explicitly successful.
    Ok,
    /// Failed, with a description.
    Error(Cow<'static, str>),
}

/// Something that happened at a point in a span's life (an exception, a retry).
#[derive(Clone, Debug, PartialEq)]
pub struct SpanEvent {
    /// The event's name (`exception`).
    pub name: Cow<'static, str>,
    /// When it happened, in nanoseconds since the Unix epoch.
    pub time: u64,
    /// What describes it.
    pub attributes: Vec<KeyValue>,
}

/// A link to another span (a follows-from relation).
#[derive(Clone, Debug, PartialEq)]
pub struct SpanLink {
    /// The linked span's trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// What describes the link.
    pub attributes: Vec<KeyValue>,
}

/// A span: its identity, timing, attributes, events and outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanRecord {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its own id.
    pub span_id: SpanId,
    /// Its parent's id ([`SpanId::INVALID`] for a root).
    pub parent_span_id: SpanId,
    /// Whether the parent lives in another process.
    pub parent_remote: bool,
    /// The span name.
    pub name: Cow<'static, str>,
    /// The span kind.
    pub kind: SpanKind,
    /// Start, in nanoseconds since the Unix epoch.
    pub start: u64,
    /// End, in nanoseconds since the Unix epoch.
    pub end: u64,
    /// Attributes in the order they were set (a later value for a key replaces an earlier one).
    pub attributes: Vec<KeyValue>,
    /// Events in the order they happened.
    pub events: Vec<SpanEvent>,
    /// Links to other spans.
    pub links: Vec<SpanLink>,
    /// The outcome.
    pub status: Status,
    /// The instrumentation scope (the module that made the span).
    pub scope: &'static str,
}

impl SpanRecord {
    /// The value of attribute `key`, if set.
    pub fn attribute(&self, key: &str) -> Option<&opentelemetry::Value> {
        last_value(&self.attributes, key)
    }

    /// How long the span took, in nanoseconds.
    pub fn duration_nanos(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// Attributes held inline for the common case (no allocation up to four).
pub(crate) type Attrs = smallvec::SmallVec<[KeyValue; 4]>;

/// Sets `kv` in `attrs`, replacing an earlier value of the same key.
pub(crate) fn set_attr(attrs: &mut Attrs, kv: KeyValue) {
    match attrs.iter_mut().find(|a| a.key == kv.key) {
        Some(existing) => existing.value = kv.value,
        None => attrs.push(kv),
    }
}

/// A span as the hot path records it: raw timestamps, inline attributes.
/// The export thread turns it into a [`SpanRecord`].
pub(crate) struct RawSpan {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: SpanId,
    pub parent_remote: bool,
    pub kind: SpanKind,
    pub name: Cow<'static, str>,
    pub scope: &'static str,
    pub start: u64,
    pub end: u64,
    pub attributes: Attrs,
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
    pub status: Status,
}

impl RawSpan {
    /// A blank record, to be filled when a span starts.
    pub fn empty() -> RawSpan {
        RawSpan {
            trace_id: TraceId::INVALID,
            span_id: SpanId::INVALID,
            parent_span_id: SpanId::INVALID,
            parent_remote: false,
            kind: SpanKind::Internal,
            name: Cow::Borrowed(""),
            scope: "",
            start: 0,
            end: 0,
            attributes: Attrs::new(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status::Unset,
        }
    }

    /// Moves the content out, leaving this record blank for reuse.
    #[inline]
    pub fn take_content(&mut self) -> RawSpan {
        // SAFETY: every field that owns memory is overwritten right after the
        // bitwise copy, without being dropped, so each owner exists once.
        unsafe {
            let out = std::ptr::read(self);
            std::ptr::write(&mut self.name, Cow::Borrowed(""));
            std::ptr::write(&mut self.attributes, Attrs::new());
            std::ptr::write(&mut self.events, Vec::new());
            std::ptr::write(&mut self.links, Vec::new());
            std::ptr::write(&mut self.status, Status::Unset);
            out
        }
    }

    /// The exported form (wall-clock times).
    pub fn into_record(self, clock: &crate::clock::Converter) -> SpanRecord {
        SpanRecord {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            parent_remote: self.parent_remote,
            name: self.name,
            kind: self.kind,
            start: clock.to_unix(self.start),
            end: clock.to_unix(self.end),
            attributes: self.attributes.into_vec(),
            events: self.events,
            links: self.links,
            status: self.status,
            scope: self.scope,
        }
    }

    /// The value of attribute `key`, if set.
    pub fn attribute(&self, key: &str) -> Option<&opentelemetry::Value> {
        last_value(&self.attributes, key)
    }
}

/// The last value set for `key` among `attributes`.
fn last_value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a opentelemetry::Value> {
    attributes
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}
