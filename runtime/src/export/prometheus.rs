//! Prometheus exposition of semtel's metrics: OpenMetrics 1.0 text with
//! exemplars (`trace_id`, `span_id`) on histogram buckets and counter
//! samples, or the classic text format (0.0.4) when the scraper asks for it.
//! Names follow the OpenTelemetry-to-Prometheus rules: dots become
//! underscores, the unit becomes a suffix (`_seconds`) and counters end in
//! `_total`.

use crate::metrics::{Descriptor, Exemplar, MetricSnapshot, Point, SeriesSnapshot};
use opentelemetry::KeyValue;
use semtel_conventions::Instrument;
use std::fmt::Write;

/// The content types served.
pub(crate) const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub(crate) const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

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

/// The metric family name, and the unit word when there is one.
pub(crate) fn family_name(d: &Descriptor) -> (String, Option<String>) {
    let mut name = sanitize(&d.name);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    let suffix = unit_suffix(&d.unit, d.kind);
    if let Some(s) = &suffix {
        if !name.ends_with(&format!("_{s}")) {
            name = format!("{name}_{s}");
        }
    }
    if d.kind == Instrument::Counter {
        if let Some(stripped) = name.strip_suffix("_total") {
            name = stripped.to_string();
        }
    }
    (name, suffix)
}

/// A Prometheus label name for an attribute key.
pub(crate) fn label_name(key: &str) -> String {
    let s = sanitize(key);
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{s}")
    } else {
        s
    }
}

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

/// Renders every metric; `openmetrics` selects OpenMetrics 1.0 (with
/// exemplars and `# EOF`) over the classic text format.
pub(crate) fn render(metrics: &[MetricSnapshot], openmetrics: bool) -> String {
    let mut out = String::new();
    for m in metrics.iter().filter(|m| !m.series.is_empty()) {
        family(&mut out, m, openmetrics);
    }
    if openmetrics {
        out.push_str("# EOF\n");
    }
    out
}

fn family(out: &mut String, m: &MetricSnapshot, om: bool) {
    let d = &m.descriptor;
    let (name, unit) = family_name(d);
    let (ty, sample) = match d.kind {
        Instrument::Counter => ("counter", format!("{name}_total")),
        Instrument::Histogram => ("histogram", name.clone()),
        Instrument::UpDownCounter | Instrument::Gauge => ("gauge", name.clone()),
    };
    // The classic format names a counter's family by its sample name.
    let declared = if om { &name } else { &sample };
    let help = escape(&d.description);
    let _ = writeln!(out, "# HELP {declared} {help}");
    let _ = writeln!(out, "# TYPE {declared} {ty}");
    if om {
        if let Some(u) = unit {
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
    use std::borrow::Cow;

    fn d(name: &'static str, unit: &'static str, kind: Instrument) -> Descriptor {
        Descriptor {
            name: Cow::Borrowed(name),
            unit: Cow::Borrowed(unit),
            description: Cow::Borrowed("d"),
            kind,
            buckets: &[],
        }
    }

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
        ];
        for (n, u, k, want) in cases {
            assert_eq!(family_name(&d(n, u, k)).0, want, "{n}");
        }
        assert_eq!(label_name("gen_ai.agent.name"), "gen_ai_agent_name");
        assert_eq!(label_name("9lives"), "key_9lives");
    }
}
