//! The span limits of the OpenTelemetry specification: how many attributes,
//! events and links a span keeps, how many attributes each event and link
//! keeps, and how long a string attribute value may be.
//!
//! What a limit leaves out is counted in the exported `dropped_*_count`
//! fields, and the first time each kind of drop happens in the process it is
//! reported once on standard error. Counts that must hold while a span runs
//! (its attributes, events and links) are applied as they are set; what
//! depends on a whole record (value lengths, the attributes of events and
//! links, empty names) is applied on the export thread.

use super::record::SpanRecord;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

/// The limits spans are recorded under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Attributes per span (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`).
    pub attributes: usize,
    /// Events per span (`OTEL_SPAN_EVENT_COUNT_LIMIT`).
    pub events: usize,
    /// Links per span (`OTEL_SPAN_LINK_COUNT_LIMIT`).
    pub links: usize,
    /// Attributes per event (`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`).
    pub event_attributes: usize,
    /// Attributes per link (`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`).
    pub link_attributes: usize,
    /// The most characters of a string value (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
    pub value_length: Option<usize>,
}

impl Limits {
    /// The specification's defaults: 128 of each, no value length limit.
    pub const DEFAULT: Limits = Limits {
        attributes: 128,
        events: 128,
        links: 128,
        event_attributes: 128,
        link_attributes: 128,
        value_length: None,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The limits in effect (the defaults while telemetry is off).
#[inline]
pub(crate) fn current() -> Limits {
    super::pipeline::hot().map_or(Limits::DEFAULT, |h| h.limits)
}

/// Whether `attrs` needs no fixing: at most `limit`, no empty key, no key twice.
#[inline]
pub(crate) fn well_formed(attrs: &[KeyValue], limit: usize) -> bool {
    attrs.len() <= limit
        && attrs
            .iter()
            .enumerate()
            .all(|(i, a)| !a.key.as_str().is_empty() && attrs[..i].iter().all(|b| b.key != a.key))
}

/// Applies the attribute count `limit` to an event's or link's attributes
/// given all at once: a later value of a key replaces the earlier one, an
/// empty key is left out, and keys beyond the limit are left out. Returns
/// how many attributes were left out.
pub(crate) fn cap_attributes(attrs: &mut Vec<KeyValue>, limit: usize, what: &str) -> u32 {
    if well_formed(attrs, limit) {
        return 0;
    }
    let mut kept: Vec<KeyValue> = Vec::with_capacity(attrs.len().min(limit));
    let mut dropped = 0u32;
    for kv in attrs.drain(..) {
        if let Some(existing) = kept.iter_mut().find(|a| a.key == kv.key) {
            existing.value = kv.value;
        } else if kv.key.as_str().is_empty() {
            warn_empty_key(what, "");
            dropped = dropped.saturating_add(1);
        } else if kept.len() < limit {
            kept.push(kv);
        } else {
            dropped = dropped.saturating_add(1);
        }
    }
    *attrs = kept;
    dropped
}

/// `s` cut to at most `limit` characters (Unicode scalar values), or `None`
/// when it is within the limit.
pub(crate) fn truncated(s: &str, limit: usize) -> Option<&str> {
    // At most one byte per character: a string this short is within the limit.
    if s.len() <= limit {
        return None;
    }
    s.char_indices().nth(limit).map(|(end, _)| &s[..end])
}

/// Cuts string values and each string of string arrays to `limit` characters.
pub(crate) fn truncate_values(attrs: &mut [KeyValue], limit: usize) {
    let cut =
        |s: &StringValue| truncated(s.as_str(), limit).map(|t| StringValue::from(t.to_string()));
    for kv in attrs {
        match &mut kv.value {
            Value::String(s) => {
                if let Some(t) = cut(s) {
                    *s = t;
                }
            }
            Value::Array(Array::String(items)) => {
                for s in items {
                    if let Some(t) = cut(s) {
                        *s = t;
                    }
                }
            }
            _ => {}
        }
    }
}

/// What a span's name becomes when it is empty (a span must have a name).
pub(crate) const UNNAMED_SPAN: &str = "<unspecified span name>";
/// What an event's name becomes when it is empty.
pub(crate) const UNNAMED_EVENT: &str = "<unspecified event name>";

/// Applies the limits that concern the whole record, on the export thread,
/// and reports the first drop of each kind.
pub(crate) fn finish(r: &mut SpanRecord, limits: &Limits) {
    if r.name.is_empty() {
        once(&WARNED_SPAN_NAME, || {
            format!(
                "a span with an empty name (scope {}) is exported as {UNNAMED_SPAN:?}; give every span a name",
                if r.scope.is_empty() {
                    "unknown"
                } else {
                    r.scope
                }
            )
        });
        r.name = Cow::Borrowed(UNNAMED_SPAN);
    }
    if r.dropped_attributes_count > 0 && r.attributes.len() >= limits.attributes {
        report_limit(
            &WARNED_ATTRIBUTES,
            "attributes",
            &r.name,
            limits.attributes,
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        );
    }
    if r.dropped_events_count > 0 {
        report_limit(
            &WARNED_EVENTS,
            "events",
            &r.name,
            limits.events,
            "OTEL_SPAN_EVENT_COUNT_LIMIT",
        );
    }
    if r.dropped_links_count > 0 {
        report_limit(
            &WARNED_LINKS,
            "links",
            &r.name,
            limits.links,
            "OTEL_SPAN_LINK_COUNT_LIMIT",
        );
    }
    for e in &mut r.events {
        if e.name.is_empty() {
            once(&WARNED_EVENT_NAME, || {
                format!(
                    "an event with an empty name on span `{}` is exported as {UNNAMED_EVENT:?}; give every event a name",
                    r.name
                )
            });
            e.name = Cow::Borrowed(UNNAMED_EVENT);
        }
        let n = cap_attributes(&mut e.attributes, limits.event_attributes, "event");
        if n > 0 && e.attributes.len() >= limits.event_attributes {
            report_limit(
                &WARNED_EVENT_ATTRIBUTES,
                "attributes on one event",
                &r.name,
                limits.event_attributes,
                "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
            );
        }
        e.dropped_attributes_count = e.dropped_attributes_count.saturating_add(n);
    }
    for l in &mut r.links {
        let n = cap_attributes(&mut l.attributes, limits.link_attributes, "link");
        if n > 0 && l.attributes.len() >= limits.link_attributes {
            report_limit(
                &WARNED_LINK_ATTRIBUTES,
                "attributes on one link",
                &r.name,
                limits.link_attributes,
                "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
            );
        }
        l.dropped_attributes_count = l.dropped_attributes_count.saturating_add(n);
    }
    if let Some(max) = limits.value_length {
        truncate_values(&mut r.attributes, max);
        for e in &mut r.events {
            truncate_values(&mut e.attributes, max);
        }
        for l in &mut r.links {
            truncate_values(&mut l.attributes, max);
        }
    }
}

static WARNED_SPAN_NAME: AtomicBool = AtomicBool::new(false);
static WARNED_EVENT_NAME: AtomicBool = AtomicBool::new(false);
static WARNED_EMPTY_KEY: AtomicBool = AtomicBool::new(false);
static WARNED_ATTRIBUTES: AtomicBool = AtomicBool::new(false);
static WARNED_EVENTS: AtomicBool = AtomicBool::new(false);
static WARNED_LINKS: AtomicBool = AtomicBool::new(false);
static WARNED_EVENT_ATTRIBUTES: AtomicBool = AtomicBool::new(false);
static WARNED_LINK_ATTRIBUTES: AtomicBool = AtomicBool::new(false);

/// Prints the warning `message` makes, the first time `flag` is raised.
fn once(flag: &AtomicBool, message: impl FnOnce() -> String) {
    if !flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::Relaxed) {
        crate::warn(format_args!("{}", message()));
    }
}

fn report_limit(flag: &AtomicBool, what: &str, span: &str, limit: usize, var: &str) {
    once(flag, || {
        format!(
            "span `{span}` reached the limit of {limit} {what} ({var}); what goes beyond a limit is left out and counted in the span's dropped counts (reported once)"
        )
    });
}

/// Reports (once) an attribute with an empty key, which is left out.
#[cold]
pub(crate) fn warn_empty_key(on: &str, name: &str) {
    once(&WARNED_EMPTY_KEY, || {
        if name.is_empty() {
            format!(
                "an attribute with an empty key on a {on} is left out (counted as dropped); attribute keys must not be empty"
            )
        } else {
            format!(
                "an attribute with an empty key on {on} `{name}` is left out (counted as dropped); attribute keys must not be empty"
            )
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_cut_at_characters() {
        assert_eq!(truncated("abc", 3), None);
        assert_eq!(truncated("abcd", 3), Some("abc"));
        assert_eq!(truncated("héllo", 2), Some("hé"));
        assert_eq!(truncated("ééé", 3), None, "three characters in six bytes");
        assert_eq!(truncated("日本語テキスト", 0), Some(""));
    }

    #[test]
    fn later_values_win_and_the_limit_counts_distinct_keys() {
        let mut attrs = vec![
            KeyValue::new("d", 1),
            KeyValue::new("d", 2),
            KeyValue::new("", 3),
            KeyValue::new("e", 4),
            KeyValue::new("f", 5),
        ];
        assert_eq!(cap_attributes(&mut attrs, 2, "event"), 2);
        assert_eq!(attrs, vec![KeyValue::new("d", 2), KeyValue::new("e", 4)]);
    }
}
