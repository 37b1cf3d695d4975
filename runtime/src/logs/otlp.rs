//! OTLP log export: records queue up (bounded; drops are counted) and a
//! thread of their own sends them, grouped by scope, as `ExportLogsServiceRequest`s.

use crate::config::OtlpSettings;
use crate::export::otlp_client::{BlockingSender, Closer, Signal};
use opentelemetry::InstrumentationScope;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogProcessor, SdkLogRecord};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAX_QUEUE: usize = 2048;
const BATCH: usize = 512;

static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Log records dropped because the export queue was full.
pub fn dropped_logs() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

static UNSENT: AtomicU64 = AtomicU64::new(0);

/// Log records in OTLP requests that could not be delivered.
pub fn unsent_logs() -> u64 {
    UNSENT.load(Ordering::Relaxed)
}

#[derive(Default)]
struct Queue {
    records: Mutex<(VecDeque<(SdkLogRecord, InstrumentationScope)>, bool)>,
    cv: Condvar,
}

/// The SDK log processor that hands records to the export thread.
#[derive(Debug)]
pub(crate) struct QueueProcessor {
    queue: Arc<Queue>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl LogProcessor for QueueProcessor {
    fn emit(&self, data: &mut SdkLogRecord, scope: &InstrumentationScope) {
        let mut q = self
            .queue
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if q.0.len() >= MAX_QUEUE {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        q.0.push_back((data.clone(), scope.clone()));
        if q.0.len() >= BATCH {
            self.queue.cv.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.queue.cv.notify_one();
        Ok(())
    }
}

/// The export thread.
pub(crate) struct Exporter {
    queue: Arc<Queue>,
    closer: Closer,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// Starts the thread; returns it with the processor that feeds it.
    pub fn start(
        s: &OtlpSettings,
        resource: &Resource,
    ) -> Result<(Exporter, QueueProcessor), String> {
        let mut sender = BlockingSender::new(s.clone(), Signal::Logs)
            .map_err(|e| format!("cannot build the OTLP log exporter for {}: {e}", s.endpoint))?;
        let resource = ResourceAttributesWithSchema::from(resource);
        let closer = sender.closer();
        let queue = Arc::new(Queue::default());
        let q = Arc::clone(&queue);
        let thread = std::thread::Builder::new()
            .name("semtel-logs".into())
            .spawn(move || {
                let mut last_warning: Option<Instant> = None;
                loop {
                    let (batch, stop) = {
                        let mut g = q.records.lock().unwrap_or_else(PoisonError::into_inner);
                        if g.0.is_empty() && !g.1 {
                            g =
                                q.cv.wait_timeout(g, Duration::from_secs(1))
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .0;
                        }
                        let n = g.0.len();
                        (g.0.drain(..n).collect::<Vec<_>>(), g.1)
                    };
                    for chunk in batch.chunks(BATCH) {
                        let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
                            chunk.iter().map(|(r, s)| (r, s)).collect();
                        let request = ExportLogsServiceRequest {
                            resource_logs: group_logs_by_resource_and_scope(
                                &LogBatch::new(&refs),
                                &resource,
                            ),
                        };
                        if let Err(e) = sender.send(prost::Message::encode_to_vec(&request)) {
                            UNSENT.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                            if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                                crate::warn(format_args!(
                                    "exporting {} log records over OTLP failed: {e}",
                                    chunk.len()
                                ));
                                last_warning = Some(Instant::now());
                            }
                        }
                    }
                    if stop {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start the log export thread: {e}"))?;
        Ok((
            Exporter {
                queue: Arc::clone(&queue),
                closer,
                thread: Some(thread),
            },
            QueueProcessor { queue },
        ))
    }
}

impl Exporter {
    /// A handle that ends the exporter's requests by a shutdown deadline.
    pub fn closer(&self) -> Closer {
        self.closer.clone()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.closer.close();
        self.queue
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1 = true;
        self.queue.cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
