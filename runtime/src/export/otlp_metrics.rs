//! OTLP metrics: semtel's metric snapshots encoded as OTLP (cumulative, with
//! exemplars) and pushed over gRPC or HTTP/protobuf on an interval by a
//! thread of their own.

use super::otlp_client::{BlockingSender, Closer};
use crate::metrics::{Exemplar, MetricSnapshot, Point};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::transform::common::tonic::{Attributes, ResourceAttributesWithSchema};
use semtel_conventions::Instrument;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn exemplars(list: &[(usize, Exemplar)]) -> Vec<pm::Exemplar> {
    list.iter()
        .map(|(_, e)| pm::Exemplar {
            time_unix_nano: e.time,
            span_id: e.span_id.to_bytes().to_vec(),
            trace_id: e.trace_id.to_bytes().to_vec(),
            value: Some(pm::exemplar::Value::AsDouble(e.value)),
            ..Default::default()
        })
        .collect()
}

/// The export request for `metrics` at time `now` (nanoseconds since the epoch).
pub(crate) fn request(
    metrics: &[MetricSnapshot],
    resource: &opentelemetry_sdk::Resource,
    now: u64,
) -> ExportMetricsServiceRequest {
    let cumulative = pm::AggregationTemporality::Cumulative as i32;
    // One ScopeMetrics per meter; semtel's own instruments under `semtel`.
    let mut scopes: Vec<(
        Option<&opentelemetry::InstrumentationScope>,
        Vec<pm::Metric>,
    )> = Vec::new();
    for m in metrics.iter().filter(|m| !m.series.is_empty()) {
        let metric = {
            let d = &m.descriptor;
            let number = |s: &crate::metrics::SeriesSnapshot, v: f64| pm::NumberDataPoint {
                attributes: Attributes::from(s.attributes.clone()).0,
                start_time_unix_nano: s.start,
                time_unix_nano: now,
                exemplars: exemplars(&s.exemplars),
                value: Some(pm::number_data_point::Value::AsDouble(v)),
                ..Default::default()
            };
            let data = match d.kind {
                Instrument::Counter | Instrument::UpDownCounter => pm::metric::Data::Sum(pm::Sum {
                    data_points: m
                        .series
                        .iter()
                        .filter_map(|s| match s.point {
                            Point::Sum(v) => Some(number(s, v)),
                            _ => None,
                        })
                        .collect(),
                    aggregation_temporality: cumulative,
                    is_monotonic: d.kind == Instrument::Counter,
                }),
                Instrument::Gauge => pm::metric::Data::Gauge(pm::Gauge {
                    data_points: m
                        .series
                        .iter()
                        .filter_map(|s| match s.point {
                            Point::Gauge(v) => Some(number(s, v)),
                            _ => None,
                        })
                        .collect(),
                }),
                Instrument::Histogram => pm::metric::Data::Histogram(pm::Histogram {
                    data_points: m
                        .series
                        .iter()
                        .filter_map(|s| match &s.point {
                            Point::Histogram(h) => Some(pm::HistogramDataPoint {
                                attributes: Attributes::from(s.attributes.clone()).0,
                                start_time_unix_nano: s.start,
                                time_unix_nano: now,
                                count: h.count,
                                sum: Some(h.sum),
                                bucket_counts: h.counts.clone(),
                                explicit_bounds: d.buckets.to_vec(),
                                exemplars: exemplars(&s.exemplars),
                                min: (h.count > 0).then_some(h.min),
                                max: (h.count > 0).then_some(h.max),
                                ..Default::default()
                            }),
                            _ => None,
                        })
                        .collect(),
                    aggregation_temporality: cumulative,
                }),
            };
            pm::Metric {
                name: d.name.to_string(),
                description: d.description.to_string(),
                unit: d.unit.to_string(),
                data: Some(data),
                ..Default::default()
            }
        };
        match scopes.iter_mut().find(|(s, _)| *s == m.scope.as_ref()) {
            Some((_, list)) => list.push(metric),
            None => scopes.push((m.scope.as_ref(), vec![metric])),
        }
    }
    let res = ResourceAttributesWithSchema::from(resource);
    ExportMetricsServiceRequest {
        resource_metrics: vec![pm::ResourceMetrics {
            resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: res.attributes.0,
                ..Default::default()
            }),
            scope_metrics: scopes
                .into_iter()
                .map(|(scope, metrics)| pm::ScopeMetrics {
                    scope: Some(match scope {
                        Some(s) => InstrumentationScope::from((s, None)),
                        None => InstrumentationScope {
                            name: "semtel".into(),
                            version: env!("CARGO_PKG_VERSION").into(),
                            ..Default::default()
                        },
                    }),
                    schema_url: scope
                        .and_then(|s| s.schema_url())
                        .unwrap_or_default()
                        .to_string(),
                    metrics,
                })
                .collect(),
            ..Default::default()
        }],
    }
}

static FAILED: AtomicU64 = AtomicU64::new(0);

/// OTLP metric exports that could not be delivered (since the process started).
pub fn failed_metric_exports() -> u64 {
    FAILED.load(Ordering::Relaxed)
}

/// A thread that exports all metrics every `interval`, and once more at shutdown.
pub(crate) struct PeriodicExporter {
    shared: Arc<(Mutex<bool>, Condvar)>,
    closer: Closer,
    thread: Option<JoinHandle<()>>,
}

impl PeriodicExporter {
    pub fn start(
        mut sender: BlockingSender,
        resource: opentelemetry_sdk::Resource,
        interval: Duration,
    ) -> std::io::Result<Self> {
        let closer = sender.closer();
        let shared = Arc::new((Mutex::new(false), Condvar::new()));
        let s2 = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("semtel-metrics".into())
            .spawn(move || {
                let mut last_warning: Option<Instant> = None;
                loop {
                    let stop = {
                        let (lock, cv) = &*s2;
                        let g = lock.lock().unwrap_or_else(PoisonError::into_inner);
                        let (g, _) = cv
                            .wait_timeout(g, interval)
                            .unwrap_or_else(PoisonError::into_inner);
                        *g
                    };
                    let req = request(&crate::metrics::collect(), &resource, crate::clock::now());
                    if let Err(e) = sender.send(prost::Message::encode_to_vec(&req)) {
                        FAILED.fetch_add(1, Ordering::Relaxed);
                        if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                            crate::warn(format_args!("exporting metrics over OTLP failed: {e}"));
                            last_warning = Some(Instant::now());
                        }
                    }
                    if stop {
                        return;
                    }
                }
            })?;
        Ok(PeriodicExporter {
            shared,
            closer,
            thread: Some(thread),
        })
    }
}

impl PeriodicExporter {
    /// A handle that ends the exporter's requests by a shutdown deadline.
    pub fn closer(&self) -> Closer {
        self.closer.clone()
    }
}

impl Drop for PeriodicExporter {
    fn drop(&mut self) {
        self.closer.close();
        let (lock, cv) = &*self.shared;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
