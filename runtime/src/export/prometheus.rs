//! Prometheus exposition of semtel's metrics: OpenMetrics 1.0 text with
//! exemplars (`trace_id`, `span_id`) on histogram buckets and counter
//! samples, or the classic text format (0.0.4) when the scraper asks for it.
//! Names come from [`semtel_conventions::prometheus`], the functions the
//! dashboard and alert generators use too. Besides the program's metrics the
//! endpoint serves `target_info` (the resource, as the OpenTelemetry
//! Prometheus exporter specification asks) and semtel's own counters of
//! lost telemetry: `semtel_spans_dropped_total`, `semtel_spans_unsent_total`,
//! `semtel_span_exports_failed_total`, `semtel_logs_dropped_total`,
//! `semtel_logs_unsent_total` and `semtel_metric_exports_failed_total`.

use crate::metrics::{Descriptor, Exemplar, MetricSnapshot, Point, SeriesSnapshot};
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use semtel_conventions::Instrument;
use semtel_conventions::prometheus::{label_name, metric_name};
use std::fmt::Write;

/// The content types served.
pub(crate) const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub(crate) const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(attrs: &[KeyValue], extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = attrs
        .iter()
        .map(|kv| {
            format!(
                "{}=\"{}\"",
                label_name(kv.key.as_str()),
                escape(&kv.value.as_str())
            )
        })
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn exemplar(e: Option<&Exemplar>) -> String {
    match e {
        Some(e) => format!(
            " # {{trace_id=\"{}\",span_id=\"{}\"}} {} {:.3}",
            e.trace_id,
            e.span_id,
            number(e.value),
            e.time as f64 / 1e9
        ),
        None => String::new(),
    }
}

fn exemplar_at(s: &SeriesSnapshot, index: usize) -> Option<&Exemplar> {
    s.exemplars
        .iter()
        .find(|(i, _)| *i == index)
        .map(|(_, e)| e)
}

/// The resource as the labels of `target_info`, rendered once when the
/// endpoint starts. Attribute keys that map to one label name have their
/// values joined with `;` in key order, as the specification asks.
pub(crate) struct Target {
    labels: String,
}

impl Target {
    pub(crate) fn new(resource: &Resource) -> Target {
        let mut by_label: std::collections::BTreeMap<String, Vec<(String, String)>> =
            Default::default();
        for (k, v) in resource.iter() {
            by_label
                .entry(label_name(k.as_str()))
                .or_default()
                .push((k.to_string(), v.as_str().into_owned()));
        }
        let parts: Vec<String> = by_label
            .into_iter()
            .map(|(label, mut values)| {
                values.sort();
                let joined: Vec<&str> = values.iter().map(|(_, v)| v.as_str()).collect();
                format!("{label}=\"{}\"", escape(&joined.join(";")))
            })
            .collect();
        Target {
            labels: format!("{{{}}}", parts.join(",")),
        }
    }
}

/// semtel's own counters of telemetry it lost, served with the program's metrics.
fn own_counters() -> Vec<MetricSnapshot> {
    let counter =
        |name: &'static str, unit: &'static str, help: &'static str, v: u64| MetricSnapshot {
            descriptor: Descriptor {
                name: name.into(),
                unit: unit.into(),
                description: help.into(),
                kind: Instrument::Counter,
                buckets: std::borrow::Cow::Borrowed(&[]),
            },
            scope: None,
            series: vec![SeriesSnapshot {
                attributes: Vec::new(),
                point: Point::Sum(v as f64),
                start: 0,
                exemplars: Vec::new(),
            }],
        };
    vec![
        counter(
            "semtel.spans.dropped",
            "{span}",
            "Spans dropped because a thread's buffer was full.",
            crate::trace::dropped_spans(),
        ),
        counter(
            "semtel.span_exports.failed",
            "{batch}",
            "Span batches an exporter failed to deliver.",
            crate::trace::failed_exports(),
        ),
        counter(
            "semtel.spans.unsent",
            "{span}",
            "Spans in batches an exporter failed to deliver.",
            crate::trace::unsent_spans(),
        ),
        counter(
            "semtel.logs.dropped",
            "{log_record}",
            "Log records dropped because the export queue was full.",
            crate::logs::dropped_logs(),
        ),
        counter(
            "semtel.logs.unsent",
            "{log_record}",
            "Log records in OTLP requests that could not be delivered.",
            crate::logs::unsent_logs(),
        ),
        counter(
            "semtel.metric_exports.failed",
            "{export}",
            "OTLP metric exports that could not be delivered.",
            crate::metrics::failed_metric_exports(),
        ),
    ]
}

/// Renders `target_info`, every metric and semtel's own counters;
/// `openmetrics` selects OpenMetrics 1.0 (with exemplars and `# EOF`) over
/// the classic text format.
pub(crate) fn render(metrics: &[MetricSnapshot], openmetrics: bool, target: &Target) -> String {
    let mut out = String::new();
    let declared = if openmetrics { "target" } else { "target_info" };
    let ty = if openmetrics { "info" } else { "gauge" };
    let _ = writeln!(out, "# HELP {declared} Target metadata");
    let _ = writeln!(out, "# TYPE {declared} {ty}");
    let _ = writeln!(out, "target_info{} 1", target.labels);
    let own = own_counters();
    for m in metrics.iter().chain(&own).filter(|m| !m.series.is_empty()) {
        family(&mut out, m, openmetrics);
    }
    if openmetrics {
        out.push_str("# EOF\n");
    }
    out
}

fn family(out: &mut String, m: &MetricSnapshot, om: bool) {
    let d = &m.descriptor;
    let names = metric_name(&d.name, &d.unit, d.kind);
    let name = names.family();
    let sample = names.sample();
    let ty = match d.kind {
        Instrument::Counter => "counter",
        Instrument::Histogram => "histogram",
        Instrument::UpDownCounter | Instrument::Gauge => "gauge",
    };
    // The classic format names a counter's family by its sample name.
    let declared = if om { name } else { &sample };
    let help = escape(&d.description);
    let _ = writeln!(out, "# HELP {declared} {help}");
    let _ = writeln!(out, "# TYPE {declared} {ty}");
    if om {
        if let Some(u) = names.unit() {
            let _ = writeln!(out, "# UNIT {name} {u}");
        }
    }
    for s in &m.series {
        let l = labels(&s.attributes, None);
        match &s.point {
            Point::Sum(v) | Point::Gauge(v) => {
                let ex = if om && d.kind == Instrument::Counter {
                    exemplar(exemplar_at(s, 0))
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{sample}{l} {}{ex}", number(*v));
            }
            Point::Histogram(h) => {
                let mut cumulative = 0u64;
                for (i, c) in h.counts.iter().enumerate() {
                    cumulative += c;
                    let le = d
                        .buckets
                        .get(i)
                        .map_or_else(|| "+Inf".to_string(), |b| number(*b));
                    let le = if om && !le.contains('.') && le != "+Inf" {
                        format!("{le}.0")
                    } else {
                        le
                    };
                    let bl = labels(&s.attributes, Some(("le", le)));
                    let ex = if om {
                        exemplar(exemplar_at(s, i))
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "{name}_bucket{bl} {cumulative}{ex}");
                }
                let _ = writeln!(out, "{name}_sum{l} {}", number(h.sum));
                let _ = writeln!(out, "{name}_count{l} {}", h.count);
            }
        }
    }
}

/// Whether an `Accept` header asks for OpenMetrics.
pub(crate) fn wants_openmetrics(accept: &str) -> bool {
    accept.contains("application/openmetrics-text")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::new(
            &Resource::builder_empty()
                .with_attributes([
                    KeyValue::new("service.name", "agent-service"),
                    KeyValue::new("deployment.environment", "prod \"eu\""),
                    KeyValue::new("a.b", "1"),
                    KeyValue::new("a_b", "2"),
                ])
                .build(),
        )
    }

    #[test]
    fn target_info_carries_the_resource_in_both_formats() {
        let om = render(&[], true, &target());
        assert!(om.starts_with("# HELP target Target metadata\n# TYPE target info\n"));
        assert!(
            om.contains(
                "target_info{a_b=\"1;2\",deployment_environment=\"prod \\\"eu\\\"\",service_name=\"agent-service\"} 1\n"
            ),
            "{om}"
        );
        let text = render(&[], false, &target());
        assert!(
            text.contains("# TYPE target_info gauge\ntarget_info{"),
            "{text}"
        );
    }

    #[test]
    fn semtels_own_counters_are_served() {
        let om = render(&[], true, &target());
        for family in [
            "semtel_spans_dropped",
            "semtel_spans_unsent",
            "semtel_span_exports_failed",
            "semtel_logs_dropped",
            "semtel_logs_unsent",
            "semtel_metric_exports_failed",
        ] {
            assert!(om.contains(&format!("# TYPE {family} counter\n")), "{om}");
            assert!(om.contains(&format!("\n{family}_total ")), "{om}");
        }
        assert!(om.ends_with("# EOF\n"));
    }
}
