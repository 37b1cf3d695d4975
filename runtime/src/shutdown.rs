//! Shutting down: traces, logs and metrics flush at once, in parallel, under
//! one deadline, and what could not be sent is reported in one line.

use crate::config::{Config, LogsExporter, MetricsExporter, TracesExporter};
use crate::export::otlp_client::Closer;
use crate::export::otlp_metrics::PeriodicExporter;
use crate::export::prometheus_server::PrometheusServer;
use crate::trace::pipeline::Pipeline;
use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long shutdown may take: `OTEL_BSP_EXPORT_TIMEOUT`, and no longer
/// than the longest OTLP export timeout in use (one last request per
/// signal, all sent at once).
pub(crate) fn deadline(cfg: &Config) -> Duration {
    let otlp = [
        cfg.traces_exporters
            .contains(&TracesExporter::Otlp)
            .then_some(cfg.traces_otlp.timeout),
        cfg.metrics_exporters
            .contains(&MetricsExporter::Otlp)
            .then_some(cfg.metrics_otlp.timeout),
        cfg.logs_exporters
            .contains(&LogsExporter::Otlp)
            .then_some(cfg.logs_otlp.timeout),
    ];
    match otlp.into_iter().flatten().max() {
        Some(t) => cfg.batch.export_timeout.min(t),
        None => cfg.batch.export_timeout,
    }
}

/// What was lost: counts of the process's loss counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Losses {
    spans_dropped: u64,
    spans_unsent: u64,
    logs_dropped: u64,
    logs_unsent: u64,
    metric_exports_failed: u64,
}

impl Losses {
    /// The counters now.
    pub fn now() -> Losses {
        Losses {
            spans_dropped: crate::trace::dropped_spans(),
            spans_unsent: crate::trace::unsent_spans(),
            logs_dropped: crate::logs::dropped_logs(),
            logs_unsent: crate::logs::unsent_logs(),
            metric_exports_failed: crate::metrics::failed_metric_exports(),
        }
    }

    fn since(self, before: Losses) -> Losses {
        Losses {
            spans_dropped: self.spans_dropped.saturating_sub(before.spans_dropped),
            spans_unsent: self.spans_unsent.saturating_sub(before.spans_unsent),
            logs_dropped: self.logs_dropped.saturating_sub(before.logs_dropped),
            logs_unsent: self.logs_unsent.saturating_sub(before.logs_unsent),
            metric_exports_failed: self
                .metric_exports_failed
                .saturating_sub(before.metric_exports_failed),
        }
    }
}

/// What one installation of telemetry lost, from `init` to the end of its
/// shutdown. Printed as one warning line at shutdown when anything was lost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Spans lost: dropped with a full buffer, or in batches that could not
    /// be delivered.
    pub spans_lost: u64,
    /// Log records lost: dropped with a full queue, or in requests that
    /// could not be delivered.
    pub logs_lost: u64,
    /// Metric exports (OTLP pushes) that could not be delivered.
    pub metric_exports_failed: u64,
    /// The signals (`traces`, `logs`, `metrics`) whose shutdown had not
    /// finished by the deadline: what they still held is lost too, uncounted.
    pub unfinished: Vec<&'static str>,
    /// How long shutdown took.
    pub took: Duration,
}

impl ShutdownReport {
    /// Whether anything was lost.
    pub fn lost_anything(&self) -> bool {
        self.spans_lost + self.logs_lost + self.metric_exports_failed > 0
            || !self.unfinished.is_empty()
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "telemetry lost since start: {} spans, {} log records, {} metric exports",
            self.spans_lost, self.logs_lost, self.metric_exports_failed
        )?;
        if !self.unfinished.is_empty() {
            write!(
                f,
                "; not finished by the shutdown deadline: {}",
                self.unfinished.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Everything one `init` started.
pub(crate) struct Installed {
    pub generation: u64,
    pub pipeline: Option<Pipeline>,
    pub periodic: Option<PeriodicExporter>,
    pub prometheus: Option<PrometheusServer>,
    pub console_metrics: bool,
    /// The resource's `target_info`, when the program serves `/metrics` itself.
    pub scrape: Option<crate::export::prometheus::Target>,
    pub logs: Option<crate::logs::Installed>,
    /// End the span exporters' requests by the deadline.
    pub closers: Vec<Closer>,
    /// How long shutdown may take.
    pub deadline: Duration,
    /// The loss counters when it was installed.
    pub losses_at_start: Losses,
}

/// How long past the deadline a signal may take to count what it could not
/// send (its requests look at the deadline every 50 ms).
const GRACE: Duration = Duration::from_millis(250);

impl Installed {
    /// Stops recording, then flushes and stops every exporter, the signals
    /// in parallel, within the deadline; reports what was lost (and prints
    /// that, when anything was).
    pub fn shutdown(self) -> ShutdownReport {
        let started = Instant::now();
        let deadline = started + self.deadline;
        crate::metrics::set_enabled(false);
        let mut closers = self.closers;
        closers.extend(self.periodic.as_ref().map(PeriodicExporter::closer));
        closers.extend(self.logs.as_ref().and_then(crate::logs::Installed::closer));
        for c in &closers {
            c.close_by(deadline);
        }
        let (done, finished) = mpsc::channel::<&'static str>();
        let mut running = Vec::new();
        let mut spawn = |name: &'static str, stop: Box<dyn FnOnce() + Send>| {
            let done = done.clone();
            let started = std::thread::Builder::new()
                .name(format!("semtel-stop-{name}"))
                .spawn(move || {
                    stop();
                    let _ = done.send(name);
                });
            // Without a thread to spare, what it held is dropped unflushed.
            if started.is_ok() {
                running.push(name);
            }
        };
        if let Some(l) = self.logs {
            spawn("logs", Box::new(move || l.shutdown()));
        }
        if let Some(p) = self.pipeline {
            spawn(
                "traces",
                Box::new(move || {
                    p.shutdown(deadline + GRACE);
                }),
            );
        }
        if let Some(m) = self.periodic {
            spawn("metrics", Box::new(move || drop(m)));
        }
        drop(done);
        drop(self.prometheus);
        let until = deadline + GRACE;
        while !running.is_empty() {
            let left = until.saturating_duration_since(Instant::now());
            match finished.recv_timeout(left) {
                Ok(name) => running.retain(|n| *n != name),
                Err(_) => break,
            }
        }
        if self.console_metrics {
            let table = crate::export::console_metrics::render(&crate::metrics::collect());
            use std::io::Write;
            let _ = std::io::stdout().write_all(table.as_bytes());
        }
        let lost = Losses::now().since(self.losses_at_start);
        let report = ShutdownReport {
            spans_lost: lost.spans_dropped + lost.spans_unsent,
            logs_lost: lost.logs_dropped + lost.logs_unsent,
            metric_exports_failed: lost.metric_exports_failed,
            unfinished: running,
            took: started.elapsed(),
        };
        if report.lost_anything() {
            crate::warn(format_args!("{report}"));
        }
        report
    }
}
