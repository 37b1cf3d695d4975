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
//! a second `capture()` waits until the first is dropped. A thread that holds
//! the turn already (with [`without_telemetry`]) may take a capture inside it.

use crate::config::{LogsExporter, MetricsExporter, Settings, TracesExporter};
use crate::metrics::{MetricSnapshot, Point, SeriesSnapshot};
use crate::trace::{Sampler, SpanRecord};
use crate::{Builder, Telemetry, builder};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

/// Whose turn it is: the thread holding it and how many of its guards are alive.
static TURN: Mutex<Option<(ThreadId, usize)>> = Mutex::new(None);
static TURN_FREED: Condvar = Condvar::new();

/// One thread's hold on the process's telemetry; released when dropped.
struct Turn(());

impl Turn {
    /// Waits until no other thread holds the turn (this thread may hold it).
    fn take() -> Turn {
        let me = std::thread::current().id();
        let mut turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &mut *turn {
                None => {
                    *turn = Some((me, 1));
                    return Turn(());
                }
                Some((owner, held)) if *owner == me => {
                    *held += 1;
                    return Turn(());
                }
                Some(_) => {
                    turn = TURN_FREED
                        .wait(turn)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, held)) = &mut *turn {
            *held -= 1;
            if *held == 0 {
                *turn = None;
                TURN_FREED.notify_all();
            }
        }
    }
}

/// Keeps captures of other threads from installing telemetry until dropped:
/// see [`without_telemetry`].
#[must_use = "telemetry stays off only while the guard is alive"]
pub struct NoTelemetry {
    _turn: Turn,
}

impl std::fmt::Debug for NoTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoTelemetry")
    }
}

/// Holds the process's telemetry uninstalled until dropped: for tests of
/// behaviour without telemetry that run beside tests with a [`capture`].
/// The same thread may still take a capture while holding it.
pub fn without_telemetry() -> NoTelemetry {
    NoTelemetry {
        _turn: Turn::take(),
    }
}

/// Installed in-memory telemetry; every span is recorded and kept. Dropping
/// it shuts telemetry down and lets the next capture start.
#[must_use = "spans are captured only while the capture is alive"]
pub struct Capture {
    store: Arc<Mutex<Vec<SpanRecord>>>,
    // Fields drop in order: telemetry shuts down before the turn is released.
    telemetry: Telemetry,
    _turn: Turn,
}

/// Installs telemetry that records every span in memory (and nothing else).
pub fn capture() -> Capture {
    capture_with(builder())
}

/// Installs `builder`'s telemetry with every span also kept in memory, once
/// no other thread's capture is alive. What the builder leaves unset defaults
/// to: no environment (unless one is given with [`Builder::env_source`]), no
/// other exporter, sampling always on, a 50 ms export delay.
///
/// ```
/// let capture = semtel::testing::capture_with(semtel::builder().capture_content(true));
/// assert!(capture.spans().is_empty());
/// ```
pub fn capture_with(builder: Builder) -> Capture {
    let turn = Turn::take();
    let builder = if builder.has_env_source() {
        builder
    } else {
        builder.env_source(|_| None)
    };
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
    let store = Arc::new(Mutex::new(Vec::new()));
    let telemetry = builder
        .defaults(defaults)
        .capture_into(Arc::clone(&store))
        .init()
        .unwrap_or_else(|e| panic!("test telemetry: {e}"));
    Capture {
        store,
        telemetry,
        _turn: turn,
    }
}

impl Capture {
    /// The installed telemetry (its configuration, its Prometheus address).
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Every span finished so far, in the order the pipeline received them.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.telemetry.flush();
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

    /// The OTLP `ExportTraceServiceRequest` (protobuf bytes) the OTLP span
    /// exporter sends for the spans finished so far, encoded by the same
    /// code, under resource `resource`.
    pub fn otlp_request(&self, resource: &[opentelemetry::KeyValue]) -> Vec<u8> {
        crate::export::otlp_encode::traces_request(resource, &self.spans())
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
