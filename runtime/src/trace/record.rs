//! A finished span as semtel records it: raw, cheap to build on the hot path,
//! converted to exporter formats in batches off it.

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, TraceId};
use semtel_conventions::SpanKind;
use std::borrow::Cow;
use std::sync::Arc;

use super::limits::{self, Limits};

/// How a span ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct SpanEvent {
    /// The event's name (`exception`).
    pub name: Cow<'static, str>,
    /// When it happened, in nanoseconds since the Unix epoch.
    pub time: u64,
    /// What describes it.
    pub attributes: Vec<KeyValue>,
    /// Attributes left out by the event attribute limits (or for an empty key).
    pub dropped_attributes_count: u32,
}

impl SpanEvent {
    /// An event with nothing dropped.
    pub fn new(name: impl Into<Cow<'static, str>>, time: u64, attributes: Vec<KeyValue>) -> Self {
        SpanEvent {
            name: name.into(),
            time,
            attributes,
            dropped_attributes_count: 0,
        }
    }
}

/// A link to another span (a follows-from relation).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SpanLink {
    /// The linked span's trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// What describes the link.
    pub attributes: Vec<KeyValue>,
    /// Attributes left out by the link attribute limits (or for an empty key).
    pub dropped_attributes_count: u32,
}

impl SpanLink {
    /// A link with nothing dropped.
    pub fn new(trace_id: TraceId, span_id: SpanId, attributes: Vec<KeyValue>) -> Self {
        SpanLink {
            trace_id,
            span_id,
            attributes,
            dropped_attributes_count: 0,
        }
    }
}

/// A span: its identity, timing, attributes, events and outcome.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SpanRecord {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its own id.
    pub span_id: SpanId,
    /// Its parent's id ([`SpanId::INVALID`] for a root).
    pub parent_span_id: SpanId,
    /// Whether the parent lives in another process.
    pub parent_remote: bool,
    /// The W3C `tracestate` of the trace as this span received it from its
    /// parent (`None` when empty).
    pub trace_state: Option<Arc<str>>,
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
    /// Attributes left out by the attribute count limit (or for an empty key).
    pub dropped_attributes_count: u32,
    /// Events in the order they happened.
    pub events: Vec<SpanEvent>,
    /// Events left out by the event count limit.
    pub dropped_events_count: u32,
    /// Links to other spans.
    pub links: Vec<SpanLink>,
    /// Links left out by the link count limit.
    pub dropped_links_count: u32,
    /// The outcome.
    pub status: Status,
    /// The instrumentation scope (the module that made the span).
    pub scope: &'static str,
}

impl Default for SpanRecord {
    /// An empty internal span with invalid ids, at time zero.
    fn default() -> Self {
        SpanRecord {
            trace_id: TraceId::INVALID,
            span_id: SpanId::INVALID,
            parent_span_id: SpanId::INVALID,
            parent_remote: false,
            trace_state: None,
            name: Cow::Borrowed(""),
            kind: SpanKind::Internal,
            start: 0,
            end: 0,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: Status::Unset,
            scope: "",
        }
    }
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

/// A span as the hot path records it: raw timestamps, inline attributes.
/// The export thread turns it into a [`SpanRecord`].
pub(crate) struct RawSpan {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: SpanId,
    pub parent_remote: bool,
    pub trace_state: Option<Arc<str>>,
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
    /// What the limits left out: attributes, events, links.
    pub dropped: Dropped,
}

/// Counts of what a span's limits left out while it ran.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Dropped {
    pub attributes: u32,
    pub events: u32,
    pub links: u32,
}

impl RawSpan {
    /// A blank record, to be filled when a span starts.
    pub fn empty() -> RawSpan {
        RawSpan {
            trace_id: TraceId::INVALID,
            span_id: SpanId::INVALID,
            parent_span_id: SpanId::INVALID,
            parent_remote: false,
            trace_state: None,
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
            dropped: Dropped::default(),
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
            trace_state: self.trace_state.take(),
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
            dropped: take(&mut self.dropped),
        }
    }

    /// The exported form (wall-clock times), with the limits that apply to
    /// a whole record (value lengths, event and link attributes) applied;
    /// the attributes are moved into `attributes` (an emptied list kept for
    /// reuse).
    pub fn into_record_in(mut self, mut attributes: Vec<KeyValue>, limits: &Limits) -> SpanRecord {
        attributes.extend(self.attributes.drain(..));
        let mut record = SpanRecord {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            parent_remote: self.parent_remote,
            trace_state: self.trace_state,
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
            attributes,
            dropped_attributes_count: self.dropped.attributes,
            events: self.events,
            dropped_events_count: self.dropped.events,
            links: self.links,
            dropped_links_count: self.dropped.links,
            status: self.status,
            scope: self.scope,
        };
        limits::finish(&mut record, limits);
        record
    }

    /// The value of attribute `key`, if set.
    pub fn attribute(&self, key: &str) -> Option<&opentelemetry::Value> {
        last_value(&self.attributes, key)
    }

    /// Sets attribute `kv`: a later value of a key replaces the earlier one
    /// (where it stands); a new key beyond `limit` attributes, or an empty
    /// key, is left out and counted.
    #[inline]
    pub fn set_attribute(&mut self, kv: KeyValue, limit: usize) {
        if let Some(existing) = self.attributes.iter_mut().find(|a| a.key == kv.key) {
            existing.value = kv.value;
        } else if self.attributes.len() < limit && !kv.key.as_str().is_empty() {
            self.attributes.push(kv);
        } else {
            self.drop_attribute(&kv);
        }
    }

    #[cold]
    fn drop_attribute(&mut self, kv: &KeyValue) {
        self.dropped.attributes = self.dropped.attributes.saturating_add(1);
        if kv.key.as_str().is_empty() {
            limits::warn_empty_key("span", &self.name);
        }
    }

    /// Sets attributes in order, as [`RawSpan::set_attribute`] each.
    #[inline]
    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>, limit: usize) {
        if self.attributes.is_empty() {
            // The common case: the first attributes, distinct and few.
            self.attributes.extend(attributes);
            if !limits::well_formed(&self.attributes, limit) {
                for kv in std::mem::take(&mut self.attributes) {
                    self.set_attribute(kv, limit);
                }
            }
        } else {
            for kv in attributes {
                self.set_attribute(kv, limit);
            }
        }
    }

    /// Adds an event, unless the span has `limits.events` already (then it
    /// is counted).
    pub fn add_event(&mut self, event: SpanEvent, limits: &Limits) {
        if self.events.len() < limits.events {
            self.events.push(event);
        } else {
            self.dropped.events = self.dropped.events.saturating_add(1);
        }
    }

    /// Links the span to `ctx` (a follows-from relation), unless the span
    /// has `limits.links` already (then it is counted); an invalid context
    /// is ignored.
    pub fn add_link(
        &mut self,
        ctx: super::SpanContext,
        attributes: Vec<KeyValue>,
        limits: &Limits,
    ) {
        if !ctx.is_valid() {
            return;
        }
        if self.links.len() < limits.links {
            self.links
                .push(SpanLink::new(ctx.trace_id, ctx.span_id, attributes));
        } else {
            self.dropped.links = self.dropped.links.saturating_add(1);
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
