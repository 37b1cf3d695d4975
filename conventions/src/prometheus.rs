//! How semtel names metrics and labels for Prometheus.
//!
//! The exporter that serves `/metrics` and the generators of dashboards and
//! alert rules (`semtel dashboards`, `semtel alerts`) call these functions,
//! so a query written from the schema names exactly the series the program
//! exposes. The rules are the OpenTelemetry-to-Prometheus ones: characters
//! other than `[a-zA-Z0-9_:]` become `_` (runs of them one `_`), the UCUM unit
//! becomes a suffix (`s` → `_seconds`, `By/s` → `_bytes_per_second`, `1` on
//! a gauge → `_ratio`, annotations such as `{token}` none), and a counter's
//! samples end in `_total`.
//!
//! ```
//! use semtel_conventions::Instrument;
//! use semtel_conventions::prometheus::{label_name, metric_name};
//!
//! let d = metric_name("orchestration.step.duration", "s", Instrument::Histogram);
//! assert_eq!(d.family(), "orchestration_step_duration_seconds");
//! assert_eq!(d.bucket(), "orchestration_step_duration_seconds_bucket");
//! let c = metric_name("function.calls", "{call}", Instrument::Counter);
//! assert_eq!(c.sample(), "function_calls_total");
//! assert_eq!(label_name("gen_ai.agent.name"), "gen_ai_agent_name");
//! ```

use crate::Instrument;

/// The Prometheus names of one metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricName {
    family: String,
    unit: Option<String>,
    kind: Instrument,
}

impl MetricName {
    /// The metric family name (`# TYPE` in OpenMetrics): without `_total`.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The unit word that was appended (`seconds`), if any.
    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }

    /// The instrument the names are for.
    pub fn kind(&self) -> Instrument {
        self.kind
    }

    /// The name of the value samples: `<family>_total` for a counter, the
    /// family for gauges and up-down counters. A histogram has no such
    /// sample; this is its family name, the stem of
    /// [`bucket`](Self::bucket), [`sum`](Self::sum) and [`count`](Self::count).
    pub fn sample(&self) -> String {
        match self.kind {
            Instrument::Counter => format!("{}_total", self.family),
            _ => self.family.clone(),
        }
    }

    /// A histogram's bucket series (`<family>_bucket`, with `le`).
    pub fn bucket(&self) -> String {
        format!("{}_bucket", self.family)
    }

    /// A histogram's sum series.
    pub fn sum(&self) -> String {
        format!("{}_sum", self.family)
    }

    /// A histogram's count series.
    pub fn count(&self) -> String {
        format!("{}_count", self.family)
    }
}

/// The Prometheus names of the metric `name` with UCUM `unit` recorded with `kind`.
pub fn metric_name(name: &str, unit: &str, kind: Instrument) -> MetricName {
    let mut family = sanitize(name);
    if family.starts_with(|c: char| c.is_ascii_digit()) {
        family.insert(0, '_');
    }
    let unit = unit_suffix(unit, kind);
    if let Some(s) = &unit {
        if !family.ends_with(&format!("_{s}")) {
            family = format!("{family}_{s}");
        }
    }
    if kind == Instrument::Counter {
        if let Some(stripped) = family.strip_suffix("_total") {
            family = stripped.to_string();
        }
    }
    MetricName { family, unit, kind }
}

/// The Prometheus label name of an attribute key (`gen_ai.agent.name` →
/// `gen_ai_agent_name`; a leading digit gets a `key_` prefix).
pub fn label_name(key: &str) -> String {
    let s = sanitize(key);
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{s}")
    } else {
        s
    }
}

fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_underscore = false;
    for c in name.chars() {
        let ok = c.is_ascii_alphanumeric() || c == '_' || c == ':';
        let c = if ok { c } else { '_' };
        if c == '_' && last_underscore {
            continue;
        }
        last_underscore = c == '_';
        out.push(c);
    }
    out
}

fn unit_word(u: &str) -> Option<&'static str> {
    Some(match u {
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "min" => "minutes",
        "h" => "hours",
        "d" => "days",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => return None,
    })
}

fn per_word(u: &str) -> Option<&'static str> {
    Some(match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// The unit suffix of a UCUM unit (`s` → `seconds`, `By/s` → `bytes_per_second`);
/// annotations in braces (`{token}`) have none.
fn unit_suffix(unit: &str, kind: Instrument) -> Option<String> {
    let unit = unit.trim();
    if unit.is_empty() || (unit.starts_with('{') && !unit.contains('/')) {
        return None;
    }
    if unit == "1" {
        return (kind == Instrument::Gauge).then(|| "ratio".to_string());
    }
    match unit.split_once('/') {
        Some((a, b)) => {
            let a = if a.starts_with('{') {
                None
            } else {
                unit_word(a).map(String::from).or_else(|| Some(sanitize(a)))
            };
            let b = per_word(b).map(String::from).unwrap_or_else(|| sanitize(b));
            Some(match a {
                Some(a) => format!("{a}_per_{b}"),
                None => format!("per_{b}"),
            })
        }
        None => Some(
            unit_word(unit)
                .map(String::from)
                .unwrap_or_else(|| sanitize(unit)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_rules() {
        let cases = [
            (
                "function.calls",
                "{call}",
                Instrument::Counter,
                "function_calls",
            ),
            (
                "function.calls.duration",
                "s",
                Instrument::Histogram,
                "function_calls_duration_seconds",
            ),
            (
                "drover.task.duration",
                "ms",
                Instrument::Histogram,
                "drover_task_duration_milliseconds",
            ),
            (
                "orchestration.context_window.utilization",
                "1",
                Instrument::Gauge,
                "orchestration_context_window_utilization_ratio",
            ),
            (
                "net.io",
                "By/s",
                Instrument::Counter,
                "net_io_bytes_per_second",
            ),
            ("requests_total", "", Instrument::Counter, "requests"),
            (
                "error_rate",
                "{error}/s",
                Instrument::Gauge,
                "error_rate_per_second",
            ),
            ("9lives", "", Instrument::Gauge, "_9lives"),
            (
                "latency_seconds",
                "s",
                Instrument::Histogram,
                "latency_seconds",
            ),
        ];
        for (n, u, k, want) in cases {
            assert_eq!(metric_name(n, u, k).family(), want, "{n}");
        }
        assert_eq!(label_name("gen_ai.agent.name"), "gen_ai_agent_name");
        assert_eq!(label_name("9lives"), "key_9lives");
        assert_eq!(label_name("a..b"), "a_b");
    }

    #[test]
    fn sample_names_by_instrument() {
        let c = metric_name("tasks.done", "{task}", Instrument::Counter);
        assert_eq!(c.sample(), "tasks_done_total");
        assert_eq!(c.unit(), None);
        let h = metric_name("step.duration", "s", Instrument::Histogram);
        assert_eq!(h.unit(), Some("seconds"));
        assert_eq!(
            [h.bucket(), h.sum(), h.count()],
            [
                "step_duration_seconds_bucket",
                "step_duration_seconds_sum",
                "step_duration_seconds_count"
            ]
        );
        let u = metric_name("queue.size", "{task}", Instrument::UpDownCounter);
        assert_eq!(u.sample(), "queue_size");
    }
}
