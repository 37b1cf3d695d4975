//! The console metrics exporter: a table of every series, printed at shutdown.

use crate::metrics::{MetricSnapshot, Point};
use std::fmt::Write;

fn attrs(kvs: &[opentelemetry::KeyValue]) -> String {
    let inner: Vec<String> = kvs
        .iter()
        .map(|kv| format!("{}={}", kv.key, kv.value.as_str()))
        .collect();
    if inner.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", inner.join(", "))
    }
}

/// The table: one line per series.
pub(crate) fn render(metrics: &[MetricSnapshot]) -> String {
    let mut out = String::from("metrics\n");
    for m in metrics.iter().filter(|m| !m.series.is_empty()) {
        let d = &m.descriptor;
        let meter = m
            .scope
            .as_ref()
            .map(|s| format!(" from meter {}", s.name()))
            .unwrap_or_default();
        let _ = writeln!(out, "{} ({:?}, {}){meter}", d.name, d.kind, d.unit);
        for s in &m.series {
            let value = match &s.point {
                Point::Sum(v) => format!("{v}"),
                Point::Gauge(v) => format!("last {v}"),
                Point::Histogram(h) => {
                    let mean = if h.count > 0 {
                        h.sum / h.count as f64
                    } else {
                        0.0
                    };
                    format!(
                        "count {} sum {:.6} mean {:.6} min {:.6} max {:.6}",
                        h.count, h.sum, mean, h.min, h.max
                    )
                }
            };
            let exemplar = s
                .exemplars
                .last()
                .map(|(_, e)| format!("  exemplar trace {}", e.trace_id))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}  {value}{exemplar}", attrs(&s.attributes));
        }
    }
    out
}
