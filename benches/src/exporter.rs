//! The one span exporter every contender exports into: it counts and drops.

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the spans it receives and drops them.
#[derive(Clone, Debug, Default)]
pub struct CountingExporter {
    count: Arc<AtomicU64>,
}

impl CountingExporter {
    /// Spans received so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl SpanExporter for CountingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.count.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}
