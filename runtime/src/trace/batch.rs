//! The export worker's batch: raw records become span records straight into
//! the batch being filled, which goes to the sinks when full (or when due).
//! Its memory is reused from batch to batch: the batch itself and the
//! attribute lists of exported records, so converting a span allocates
//! nothing once the worker is warm.

use super::limits::Limits;
use super::pipeline::count_export_failure;
use super::record::{RawSpan, SpanRecord};
use crate::export::SpanSink;
use opentelemetry::KeyValue;

/// Emptied attribute lists kept for reuse are at most this long (longer ones
/// are freed, so the kept memory stays small).
const KEPT_ATTRIBUTES: usize = 16;

/// The batch being filled, and what it reuses.
pub(crate) struct Batcher {
    max_batch: usize,
    current: Vec<SpanRecord>,
    attributes: Vec<Vec<KeyValue>>,
}

impl Batcher {
    /// A batcher sending batches of at most `max_batch` spans.
    pub fn new(max_batch: usize) -> Batcher {
        let max_batch = max_batch.max(1);
        Batcher {
            max_batch,
            current: Vec::with_capacity(max_batch.min(4096)),
            attributes: Vec::new(),
        }
    }

    /// Whether spans are waiting in the batch.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    /// Adds `raw` (under the record `limits`); sends the batch when it is
    /// full. Whether it sent one.
    #[inline]
    pub fn push(
        &mut self,
        raw: RawSpan,
        limits: &Limits,
        sinks: &mut [Box<dyn SpanSink>],
        failed: &mut impl FnMut(&str, &str),
    ) -> bool {
        let attributes = self.attributes.pop().unwrap_or_default();
        self.current.push(raw.into_record_in(attributes, limits));
        if self.current.len() < self.max_batch {
            return false;
        }
        self.send(sinks, failed);
        true
    }

    /// Sends the batch, full or not, to every sink (the last one takes it,
    /// the others get copies); `failed` hears of each failure.
    pub fn send(&mut self, sinks: &mut [Box<dyn SpanSink>], failed: &mut impl FnMut(&str, &str)) {
        if self.current.is_empty() {
            return;
        }
        let last = sinks.len().saturating_sub(1);
        for (i, sink) in sinks.iter_mut().enumerate() {
            let result = if i == last {
                sink.export(&mut self.current)
            } else {
                sink.export(&mut self.current.clone())
            };
            if let Err(e) = result {
                count_export_failure();
                failed(sink.name(), &e);
            }
        }
        // What the sinks left is dropped; short attribute lists are kept.
        for record in self.current.drain(..) {
            let mut a = record.attributes;
            if a.capacity() <= KEPT_ATTRIBUTES && self.attributes.len() < self.max_batch {
                a.clear();
                self.attributes.push(a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::record::Attrs;
    use std::sync::{Arc, Mutex};

    /// Keeps a copy of every batch it is given, and leaves the records.
    struct Keep(Arc<Mutex<Vec<Vec<SpanRecord>>>>);

    impl SpanSink for Keep {
        fn name(&self) -> &str {
            "keep"
        }
        fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String> {
            self.0.lock().unwrap().push(spans.clone());
            Ok(())
        }
    }

    fn raw(i: i64, attributes: usize) -> RawSpan {
        let mut r = RawSpan::empty();
        r.name = format!("s{i}").into();
        r.attributes = (0..attributes)
            .map(|a| KeyValue::new(format!("k{a}"), i))
            .collect::<Attrs>();
        r
    }

    #[test]
    fn full_batches_go_out_in_order_with_their_own_attributes() {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let mut sinks: Vec<Box<dyn SpanSink>> = vec![Box::new(Keep(Arc::clone(&kept)))];
        let limits = Limits::default();
        let mut failures = Vec::new();
        let mut failed = |s: &str, e: &str| failures.push(format!("{s}: {e}"));
        let mut batch = Batcher::new(3);
        // Attribute lists of the first batch are reused for the second:
        // each record must still carry its own, and only its own, values.
        let sent: Vec<bool> = (0..7)
            .map(|i| {
                batch.push(
                    raw(i, 1 + (i as usize % 3) * 4),
                    &limits,
                    &mut sinks,
                    &mut failed,
                )
            })
            .collect();
        assert_eq!(sent, [false, false, true, false, false, true, false]);
        batch.send(&mut sinks, &mut failed);
        assert!(batch.is_empty());
        let kept = kept.lock().unwrap();
        let sizes: Vec<usize> = kept.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 1]);
        for (i, r) in kept.iter().flatten().enumerate() {
            assert_eq!(r.name, format!("s{i}"));
            assert_eq!(r.attributes.len(), 1 + (i % 3) * 4, "span {i}");
            assert!(
                r.attributes
                    .iter()
                    .all(|kv| kv.value == opentelemetry::Value::I64(i as i64)),
                "span {i}: {:?}",
                r.attributes
            );
        }
        assert!(failures.is_empty());
    }
}
