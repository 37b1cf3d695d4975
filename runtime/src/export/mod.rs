//! Where finished spans go. The batch worker hands each batch to every sink.

pub(crate) mod console;
pub(crate) mod console_metrics;
pub(crate) mod file;
pub(crate) mod memory;
pub(crate) mod otlp;
pub(crate) mod otlp_client;
pub(crate) mod otlp_encode;
pub(crate) mod otlp_metrics;
pub(crate) mod otlp_traces;
pub(crate) mod prometheus;
pub(crate) mod prometheus_server;
pub(crate) mod tls;

use crate::trace::SpanRecord;

/// A destination for finished spans, driven by the batch worker thread.
pub(crate) trait SpanSink: Send {
    /// A short name for warnings (`otlp`, `console`).
    fn name(&self) -> &str;
    /// Delivers one batch; an error is counted and reported, never raised.
    /// The sink may take the records out of `spans` (draining it keeps its
    /// memory for the next batch); what it leaves is dropped after.
    fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String>;
    /// Delivers anything held back (and waits for deliveries under way).
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// Releases resources; called once, last.
    fn shutdown(&mut self) {}
}
