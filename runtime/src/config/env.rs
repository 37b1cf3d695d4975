//! The standard `OTEL_*` environment variables. An invalid value gets one
//! warning naming the variable, the value (cut if long) and the setting that
//! applies instead.

use super::{
    BatchSettings, LogsExporter, MAX_QUEUE_SIZE, MetricsExporter, Protocol, TracesExporter, quoted,
};
use crate::propagation::Propagators;
use crate::trace::{Root, Sampler};
use std::time::Duration;

/// Looks up one variable.
pub type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Reads variables from a source (the process environment, or a map in tests)
/// and collects a warning for each invalid value.
pub struct EnvSource<'a> {
    get: Lookup<'a>,
    /// One line per invalid value.
    pub warnings: Vec<String>,
}

impl<'a> EnvSource<'a> {
    /// The process environment. A value that is not valid UTF-8 is read
    /// with its invalid bytes replaced, so that it is reported as invalid
    /// rather than taken as unset.
    pub fn process() -> EnvSource<'static> {
        EnvSource::new(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Any lookup function.
    pub fn new(get: impl Fn(&str) -> Option<String> + 'a) -> Self {
        EnvSource {
            get: Box::new(get),
            warnings: Vec::new(),
        }
    }

    /// The raw value of `var`, if set and not blank.
    pub fn raw(&self, var: &str) -> Option<String> {
        (self.get)(var).filter(|v| !v.trim().is_empty())
    }

    fn invalid(&mut self, var: &str, value: &str, expected: &str) {
        let utf8 = if value.contains(char::REPLACEMENT_CHARACTER) {
            ", and it is not valid UTF-8"
        } else {
            ""
        };
        self.warnings.push(format!(
            "{var}={} is not valid (expected {expected}{utf8}); {}",
            quoted(value),
            fallback(var)
        ));
    }

    /// Parses `var` with `parse`; warns and returns `None` when it fails.
    pub fn parse<T>(
        &mut self,
        var: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = self.raw(var)?;
        let parsed = parse(value.trim());
        if parsed.is_none() {
            self.invalid(var, &value, expected);
        }
        parsed
    }

    /// A boolean (`true`/`false`, any case).
    pub fn bool(&mut self, var: &str) -> Option<bool> {
        self.parse(var, "true or false", |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }
        })
    }

    /// A duration in milliseconds.
    pub fn millis(&mut self, var: &str) -> Option<Duration> {
        self.parse(var, "a whole number of milliseconds", |v| {
            v.parse::<u64>().ok().map(Duration::from_millis)
        })
    }

    /// A duration in milliseconds, more than zero.
    pub fn interval(&mut self, var: &str) -> Option<Duration> {
        self.parse(var, "a whole number of milliseconds, more than 0", |v| {
            v.parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
        })
    }

    /// A non-negative count.
    pub fn count(&mut self, var: &str) -> Option<usize> {
        self.parse(var, "a whole number", |v| v.parse::<usize>().ok())
    }

    /// A count of spans from 1 to [`MAX_QUEUE_SIZE`].
    pub fn spans(&mut self, var: &str) -> Option<usize> {
        let expected = format!("a whole number from 1 to {MAX_QUEUE_SIZE}");
        self.parse(var, &expected, |v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_QUEUE_SIZE).contains(n))
        })
    }

    /// OTLP headers (`key=value` pairs); a header that cannot be sent is
    /// warned about and left out.
    pub fn headers(&mut self, var: &str) -> Option<Vec<(String, String)>> {
        let mut pairs = self.pairs(var)?;
        pairs.retain(|(k, v)| match super::validate::header(k, v) {
            Ok(()) => true,
            Err(why) => {
                self.warnings
                    .push(format!("{var}: {why}; the header is not sent"));
                false
            }
        });
        Some(pairs)
    }

    /// An OTLP endpoint URL (`http://` or `https://`).
    pub fn endpoint(&mut self, var: &str) -> Option<String> {
        let value = self.raw(var)?;
        match super::validate::endpoint(&value) {
            Ok(()) => Some(value.trim().to_string()),
            Err(why) => {
                self.warnings.push(format!(
                    "{var}={} is not valid ({why}); {}",
                    quoted(&value),
                    fallback(var)
                ));
                None
            }
        }
    }

    /// `grpc` or `http/protobuf`.
    pub fn protocol(&mut self, var: &str) -> Option<Protocol> {
        self.parse(var, "grpc or http/protobuf", |v| match v {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" => Some(Protocol::HttpProtobuf),
            _ => None,
        })
    }

    /// `OTEL_TRACES_EXPORTER`: a comma-separated list of otlp, console, none.
    pub fn traces_exporters(&mut self, var: &str) -> Option<Vec<TracesExporter>> {
        self.parse(
            var,
            "a comma-separated list of otlp, console, otlp_file, none",
            |v| {
                v.split(',')
                    .map(|x| match x.trim() {
                        "otlp" => Some(TracesExporter::Otlp),
                        "console" | "logging" => Some(TracesExporter::Console),
                        "otlp_file" | "file" => Some(TracesExporter::File),
                        "none" => Some(TracesExporter::None),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
            },
        )
    }

    /// `OTEL_METRICS_EXPORTER`: a comma-separated list of otlp, prometheus, console, none.
    pub fn metrics_exporters(&mut self, var: &str) -> Option<Vec<MetricsExporter>> {
        self.parse(
            var,
            "a comma-separated list of otlp, prometheus, console, none",
            |v| {
                v.split(',')
                    .map(|x| match x.trim() {
                        "otlp" => Some(MetricsExporter::Otlp),
                        "prometheus" => Some(MetricsExporter::Prometheus),
                        "console" | "logging" => Some(MetricsExporter::Console),
                        "none" => Some(MetricsExporter::None),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
            },
        )
    }

    /// `OTEL_LOGS_EXPORTER`: a comma-separated list of otlp, console, none.
    pub fn logs_exporters(&mut self, var: &str) -> Option<Vec<LogsExporter>> {
        self.parse(var, "a comma-separated list of otlp, console, none", |v| {
            v.split(',')
                .map(|x| match x.trim() {
                    "otlp" => Some(LogsExporter::Otlp),
                    "console" | "logging" => Some(LogsExporter::Console),
                    "none" => Some(LogsExporter::None),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        })
    }

    /// `OTEL_PROPAGATORS`: tracecontext, baggage or none (others are not supported).
    pub fn propagators(&mut self, var: &str) -> Option<Propagators> {
        self.parse(
            var,
            "a comma-separated list of tracecontext, baggage, none",
            |v| {
                let mut p = Propagators {
                    tracecontext: false,
                    baggage: false,
                };
                for x in v.split(',') {
                    match x.trim() {
                        "tracecontext" => p.tracecontext = true,
                        "baggage" => p.baggage = true,
                        "none" => {}
                        _ => return None,
                    }
                }
                Some(p)
            },
        )
    }

    /// `OTEL_TRACES_SAMPLER` with `OTEL_TRACES_SAMPLER_ARG`.
    pub fn sampler(&mut self) -> Option<Sampler> {
        let ratio = |env: &mut Self| {
            env.parse("OTEL_TRACES_SAMPLER_ARG", "a number from 0 to 1", |v| {
                v.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r))
            })
            .unwrap_or(1.0)
        };
        let name = self.raw("OTEL_TRACES_SAMPLER")?;
        Some(match name.trim() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(ratio(self)),
            "parentbased_always_on" => Sampler::ParentBased(Root::AlwaysOn),
            "parentbased_always_off" => Sampler::ParentBased(Root::AlwaysOff),
            "parentbased_traceidratio" => Sampler::ParentBased(Root::TraceIdRatio(ratio(self))),
            _ => {
                self.invalid(
                    "OTEL_TRACES_SAMPLER",
                    &name,
                    "always_on, always_off, traceidratio, parentbased_always_on, \
                     parentbased_always_off or parentbased_traceidratio",
                );
                return None;
            }
        })
    }

    /// `key=value` pairs separated by commas, values percent-decoded
    /// (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`).
    pub fn pairs(&mut self, var: &str) -> Option<Vec<(String, String)>> {
        self.parse(var, "comma-separated key=value pairs", parse_pairs)
    }
}

/// Parses `key=value` pairs separated by commas, values percent-decoded;
/// `None` when one of them has no `=` or no key.
pub(crate) fn parse_pairs(v: &str) -> Option<Vec<(String, String)>> {
    v.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, val) = p.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| {
                (
                    k.to_string(),
                    crate::propagation::percent_decode(val.trim()),
                )
            })
        })
        .collect()
}

/// What applies when `var` is invalid: "using the default 2048", or the
/// general variable a per-signal one falls back to.
fn fallback(var: &str) -> String {
    for signal in ["TRACES", "METRICS", "LOGS"] {
        if let Some(setting) = var.strip_prefix(&format!("OTEL_EXPORTER_OTLP_{signal}_")) {
            return format!("using OTEL_EXPORTER_OTLP_{setting} or its default");
        }
    }
    let batch = BatchSettings::default();
    let default = match var {
        "OTEL_SDK_DISABLED" | "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" => {
            "false".to_string()
        }
        "OTEL_TRACES_EXPORTER" | "OTEL_METRICS_EXPORTER" | "OTEL_LOGS_EXPORTER" => "otlp".into(),
        "OTEL_EXPORTER_OTLP_ENDPOINT" => format!(
            "{} ({} for grpc)",
            super::default_endpoint(Protocol::HttpProtobuf),
            super::default_endpoint(Protocol::Grpc)
        ),
        "OTEL_EXPORTER_OTLP_PROTOCOL" => "http/protobuf".into(),
        "OTEL_EXPORTER_OTLP_TIMEOUT" => "10000 ms".into(),
        "OTEL_EXPORTER_OTLP_COMPRESSION" => "none".into(),
        "OTEL_TRACES_SAMPLER" => "parentbased_always_on".into(),
        "OTEL_TRACES_SAMPLER_ARG" => "1.0".into(),
        "OTEL_BSP_SCHEDULE_DELAY" => format!("{} ms", batch.schedule_delay.as_millis()),
        "OTEL_BSP_MAX_QUEUE_SIZE" => batch.max_queue_size.to_string(),
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE" => batch.max_export_batch_size.to_string(),
        "OTEL_BSP_EXPORT_TIMEOUT" => format!("{} ms", batch.export_timeout.as_millis()),
        "OTEL_METRIC_EXPORT_INTERVAL" => {
            format!("{} ms", super::DEFAULT_METRIC_EXPORT_INTERVAL.as_millis())
        }
        "OTEL_EXPORTER_PROMETHEUS_PORT" => "9464".into(),
        "OTEL_PROPAGATORS" => "tracecontext,baggage".into(),
        "OTEL_ATTRIBUTE_COUNT_LIMIT" => "128".into(),
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" => {
            return "using OTEL_ATTRIBUTE_COUNT_LIMIT or its default 128".into();
        }
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT" => {
            return "using OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT or no limit".into();
        }
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT" => return "values are not truncated".into(),
        "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT" | "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT" => {
            return "using OTEL_ATTRIBUTE_COUNT_LIMIT or its default 128".into();
        }
        "OTEL_SPAN_EVENT_COUNT_LIMIT" | "OTEL_SPAN_LINK_COUNT_LIMIT" => "128".into(),
        _ => return "it is ignored".into(),
    };
    format!("using the default {default}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment made of `pairs`.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn invalid_values_warn_once_and_name_the_variable() {
        let m = env(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
        ]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        assert_eq!(e.count("OTEL_BSP_MAX_QUEUE_SIZE"), None);
        assert_eq!(e.sampler(), None);
        assert_eq!(e.warnings.len(), 2);
        assert!(
            e.warnings[0].starts_with("OTEL_BSP_MAX_QUEUE_SIZE=\"lots\" is not valid"),
            "{}",
            e.warnings[0]
        );
        assert!(e.warnings[1].contains("OTEL_TRACES_SAMPLER=\"sometimes\""));
    }

    #[test]
    fn pairs_are_percent_decoded() {
        let m = env(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1, b=x%20y ,c=%3D")]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        let p = e.pairs("OTEL_RESOURCE_ATTRIBUTES").unwrap();
        assert_eq!(
            p,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "=".into())
            ]
        );
    }

    #[test]
    fn a_percent_sign_before_a_wide_character_is_kept() {
        let m = env(&[("OTEL_RESOURCE_ATTRIBUTES", "k=%aé,x=%e2%82%ac,y=%zz%")]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        assert_eq!(
            e.pairs("OTEL_RESOURCE_ATTRIBUTES").unwrap(),
            vec![
                ("k".into(), "%aé".into()),
                ("x".into(), "€".into()),
                ("y".into(), "%zz%".into())
            ]
        );
    }

    #[test]
    fn warnings_name_the_default_that_applies() {
        let m = env(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4611686018427387904"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "soon"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1"),
        ]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        assert_eq!(e.spans("OTEL_BSP_MAX_QUEUE_SIZE"), None);
        assert_eq!(e.interval("OTEL_METRIC_EXPORT_INTERVAL"), None);
        assert_eq!(e.millis("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"), None);
        assert_eq!(e.count("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"), None);
        let tails: Vec<&str> = e
            .warnings
            .iter()
            .map(|w| w.rsplit("; ").next().unwrap())
            .collect();
        assert_eq!(
            tails,
            [
                "using the default 2048",
                "using the default 60000 ms",
                "using OTEL_EXPORTER_OTLP_TIMEOUT or its default",
                "values are not truncated"
            ]
        );
    }

    #[test]
    fn long_values_are_quoted_cut_short() {
        let long = "x".repeat(10_000);
        let m = env(&[("OTEL_SDK_DISABLED", long.as_str())]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        assert_eq!(e.bool("OTEL_SDK_DISABLED"), None);
        assert!(e.warnings[0].len() < 200, "{}", e.warnings[0]);
        assert!(e.warnings[0].contains("... (10000 bytes) is not valid"));
    }

    #[test]
    fn sampler_ratio_out_of_range_warns() {
        let m = env(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "2"),
        ]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        assert_eq!(e.sampler(), Some(Sampler::TraceIdRatio(1.0)));
        assert_eq!(e.warnings.len(), 1);
    }
}
