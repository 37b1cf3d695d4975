//! An in-memory sink: finished spans kept for tests to inspect.

use super::SpanSink;
use crate::trace::SpanRecord;
use std::sync::{Arc, Mutex, PoisonError};

/// Shared storage the memory sink appends to.
pub(crate) type Store = Arc<Mutex<Vec<SpanRecord>>>;

pub(crate) struct MemorySink {
    pub store: Store,
}

impl SpanSink for MemorySink {
    fn name(&self) -> &str {
        "memory"
    }

    fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String> {
        self.store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(spans.drain(..));
        Ok(())
    }
}
