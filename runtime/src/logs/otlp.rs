//! OTLP log export: records queue up (bounded; drops are counted) and a
//! thread of their own sends them with `opentelemetry-otlp`.

use crate::config::{OtlpSettings, Protocol};
use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::LogExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, LogProcessor, SdkLogRecord};
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
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// Starts the thread; returns it with the processor that feeds it.
    pub fn start(
        s: &OtlpSettings,
        resource: &Resource,
    ) -> Result<(Exporter, QueueProcessor), String> {
        let rt = crate::export::otlp::runtime()?;
        let mut exporter = {
            let _g = rt.enter();
            match s.protocol {
                Protocol::Grpc => {
                    crate::export::otlp::grpc(LogExporter::builder().with_tonic(), s).build()
                }
                Protocol::HttpProtobuf => {
                    crate::export::otlp::http(LogExporter::builder().with_http(), s).build()
                }
            }
            .map_err(|e| format!("cannot build the OTLP log exporter for {}: {e}", s.endpoint))?
        };
        exporter.set_resource(resource);
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
                        if let Err(e) = rt.block_on(exporter.export(LogBatch::new(&refs))) {
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
                        let _g = rt.enter();
                        let _ = exporter.shutdown_with_timeout(Duration::from_secs(5));
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start the log export thread: {e}"))?;
        Ok((
            Exporter {
                queue: Arc::clone(&queue),
                thread: Some(thread),
            },
            QueueProcessor { queue },
        ))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
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
