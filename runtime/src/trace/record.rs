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
    /// Whether `start` and `end` are nanoseconds since the Unix epoch
    /// (times given by the program) rather than raw clock ticks.
    pub unix_times: bool,
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
            unix_times: false,
            attributes: Attrs::new(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status::Unset,
        }
    }

    /// Moves the content out, leaving this record blank for reuse.
    #[inline]
    pub fn take_content(&mut self) -> RawSpan {
        use std::mem::take;
        RawSpan {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            parent_remote: self.parent_remote,
            kind: self.kind,
            name: std::mem::replace(&mut self.name, Cow::Borrowed("")),
            scope: self.scope,
            start: self.start,
            end: self.end,
            unix_times: std::mem::replace(&mut self.unix_times, false),
            attributes: take(&mut self.attributes),
            events: take(&mut self.events),
            links: take(&mut self.links),
            status: take(&mut self.status),
        }
    }

    /// The exported form (wall-clock times).
    pub fn into_record(self) -> SpanRecord {
        SpanRecord {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            parent_remote: self.parent_remote,
            name: self.name,
            kind: self.kind,
            start: if self.unix_times {
                self.start
            } else {
                crate::clock::to_unix(self.start)
            },
            end: if self.unix_times {
                self.end
            } else {
                crate::clock::to_unix(self.end)
            },
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

    /// Sets attributes, later values of a key replacing earlier ones, keeping
    /// at most `limit`.
    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>, limit: usize) {
        for kv in attributes {
            set_attr(&mut self.attributes, kv);
        }
        self.attributes.truncate(limit);
    }

    /// Links the span to `ctx` (a follows-from relation).
    pub fn add_link(&mut self, ctx: super::SpanContext) {
        if ctx.is_valid() {
            self.links.push(SpanLink {
                trace_id: ctx.trace_id,
                span_id: ctx.span_id,
                attributes: Vec::new(),
            });
        }
    }

    /// The name and target of the `tracing` span that mirrors this span: its
    /// name when it is fixed in code, and its scope.
    pub fn label(&self) -> crate::bridge::tracing::mirror::Label {
        match self.name {
            Cow::Borrowed(name) => (name, self.scope),
            Cow::Owned(_) => (crate::bridge::tracing::mirror::GENERIC.0, self.scope),
        }
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
