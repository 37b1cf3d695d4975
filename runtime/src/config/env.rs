//! The standard `OTEL_*` environment variables. An invalid value gets one
//! warning naming the variable and the value, and the default applies.

use super::{LogsExporter, MetricsExporter, Protocol, TracesExporter};
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
    /// The process environment.
    pub fn process() -> EnvSource<'static> {
        EnvSource::new(|k| std::env::var(k).ok())
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

    /// The first of `vars` that is set.
    pub fn first(&self, vars: &[&str]) -> Option<(String, String)> {
        vars.iter()
            .find_map(|v| self.raw(v).map(|x| (v.to_string(), x)))
    }

    fn invalid(&mut self, var: &str, value: &str, expected: &str) {
        self.warnings.push(format!(
            "{var}={value:?} is not valid (expected {expected}); using the default"
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

    /// A non-negative count.
    pub fn count(&mut self, var: &str) -> Option<usize> {
        self.parse(var, "a whole number", |v| v.parse::<usize>().ok())
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
        self.parse(var, "comma-separated key=value pairs", |v| {
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
        })
    }
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
