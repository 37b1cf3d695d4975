//! Capturing spans in memory, for tests of instrumented code.
//!
//! ```
//! use semtel::traced_task;
//!
//! #[traced_task(attrs(gen_ai.agent.name = "planner"))]
//! fn plan() -> Result<u32, String> { Ok(3) }
//!
//! let capture = semtel::testing::capture();
//! plan().unwrap();
//! let spans = capture.spans();
//! assert_eq!(spans[0].name, "plan");
//! assert_eq!(spans[0].attribute("gen_ai.agent.name").unwrap().as_str(), "planner");
//! ```
//!
//! Telemetry is global to the process, so captures are taken one at a time:
//! a second `capture()` waits until the first is dropped.

use crate::config::{LogsExporter, MetricsExporter, Settings, TracesExporter};
use crate::metrics::{MetricSnapshot, Point, SeriesSnapshot};
use crate::trace::{Sampler, SpanRecord};
use crate::{Builder, Telemetry, builder};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Holds the process's telemetry uninstalled until dropped: for tests of
/// behaviour without telemetry that run beside tests with a [`capture`].
pub fn without_telemetry() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installed in-memory telemetry; every span is recorded and kept.
pub struct Capture {
    store: Arc<Mutex<Vec<SpanRecord>>>,
    telemetry: Option<Telemetry>,
    _turn: MutexGuard<'static, ()>,
}

/// Installs telemetry that records every span in memory (and nothing else).
pub fn capture() -> Capture {
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let store = Arc::new(Mutex::new(Vec::new()));
    let telemetry = capture_with(builder(), Arc::clone(&store));
    Capture {
        store,
        telemetry: Some(telemetry),
        _turn: turn,
    }
}

/// Installs `builder`'s telemetry with every span also kept in `store`. What
/// the builder leaves unset defaults to: no environment (unless the builder
/// has an [`Builder::env_source`]), no other exporter,
/// sampling always on, a 50 ms export delay. The caller serializes tests (see
/// [`without_telemetry`]).
pub fn capture_with(builder: Builder, store: Arc<Mutex<Vec<SpanRecord>>>) -> Telemetry {
    let defaults = Settings {
        service_name: Some("semtel-test".into()),
        traces_exporters: Some(vec![TracesExporter::None]),
        metrics_exporters: Some(vec![MetricsExporter::None]),
        logs_exporters: Some(vec![LogsExporter::None]),
        sampler: Some(Sampler::AlwaysOn),
        schedule_delay: Some(Duration::from_millis(50)),
        max_queue_size: Some(65_536),
        max_export_batch_size: Some(4096),
        export_timeout: Some(Duration::from_secs(10)),
        ..Settings::default()
    };
    builder
        .without_process_env()
        .defaults(defaults)
        .capture_into(store)
        .init()
        .unwrap_or_else(|e| panic!("test telemetry: {e}"))
}

impl Capture {
    /// Every span finished so far, in the order the pipeline received them.
    pub fn spans(&self) -> Vec<SpanRecord> {
        if let Some(t) = &self.telemetry {
            t.flush();
        }
        self.store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The one finished span named `name`; panics if there is none or several.
    pub fn span(&self, name: &str) -> SpanRecord {
        let mut found: Vec<SpanRecord> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one span named {name:?}, found {}",
            found.len()
        );
        found.remove(0)
    }

    /// Every metric recorded in this process so far (metrics are cumulative
    /// and process-wide: compare values before and after, or use distinct attributes).
    pub fn metrics(&self) -> Vec<MetricSnapshot> {
        crate::metrics::collect()
    }

    /// The series of metric `name` whose attributes include every pair in `attrs`.
    pub fn series(&self, name: &str, attrs: &[(&str, &str)]) -> Vec<SeriesSnapshot> {
        self.metrics()
            .into_iter()
            .filter(|m| m.descriptor.name == name)
            .flat_map(|m| m.series)
            .filter(|s| {
                attrs.iter().all(|(k, v)| {
                    s.attributes
                        .iter()
                        .any(|kv| kv.key.as_str() == *k && kv.value.as_str() == *v)
                })
            })
            .collect()
    }

    /// The sum (counter), last value (gauge) or count (histogram) of the one
    /// series of `name` matching `attrs`; 0 when there is none.
    pub fn metric_value(&self, name: &str, attrs: &[(&str, &str)]) -> f64 {
        self.series(name, attrs)
            .iter()
            .map(|s| match &s.point {
                Point::Sum(v) | Point::Gauge(v) => *v,
                Point::Histogram(h) => h.count as f64,
            })
            .sum()
    }

    /// Forgets the spans captured so far.
    pub fn clear(&self) {
        self.spans();
        self.store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // Shut down while still holding the turn.
        self.telemetry.take();
    }
}
