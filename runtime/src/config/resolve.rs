//! Precedence: settings in code, then the config file, then `OTEL_*`
//! variables, then the program's defaults, then the OpenTelemetry defaults.

use super::env::EnvSource;
use super::{
    BatchSettings, Config, DEFAULT_METRIC_EXPORT_INTERVAL, FileSettings, LogsExporter,
    MAX_QUEUE_SIZE, MetricsExporter, OtlpSettings, Protocol, TracesExporter, default_endpoint,
    default_service_name, signal_endpoint,
};
use crate::propagation::Propagators;
use crate::trace::Sampler;
use std::path::PathBuf;
use std::time::Duration;

/// OTLP settings of one signal, each optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OtlpOverrides {
    /// Base endpoint (the signal path is appended for HTTP).
    pub endpoint: Option<String>,
    /// Full endpoint for this signal, used as is.
    pub signal_endpoint: Option<String>,
    /// Transport.
    pub protocol: Option<Protocol>,
    /// Export timeout.
    pub timeout: Option<Duration>,
    /// Headers.
    pub headers: Option<Vec<(String, String)>>,
    /// gzip compression.
    pub gzip: Option<bool>,
    /// CA certificate file.
    pub certificate: Option<PathBuf>,
}

impl OtlpOverrides {
    fn or(self, lower: OtlpOverrides) -> OtlpOverrides {
        OtlpOverrides {
            endpoint: self.endpoint.or(lower.endpoint),
            signal_endpoint: self.signal_endpoint.or(lower.signal_endpoint),
            protocol: self.protocol.or(lower.protocol),
            timeout: self.timeout.or(lower.timeout),
            headers: self.headers.or(lower.headers),
            gzip: self.gzip.or(lower.gzip),
            certificate: self.certificate.or(lower.certificate),
        }
    }
}

/// Settings given in code or in the config file; each set field wins over
/// the environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// No telemetry.
    pub disabled: Option<bool>,
    /// `service.name`.
    pub service_name: Option<String>,
    /// Resource attributes.
    pub resource: Option<Vec<(String, String)>>,
    /// Span exporters.
    pub traces_exporters: Option<Vec<TracesExporter>>,
    /// Metric exporters.
    pub metrics_exporters: Option<Vec<MetricsExporter>>,
    /// Log exporters.
    pub logs_exporters: Option<Vec<LogsExporter>>,
    /// OTLP for all signals (each signal's own settings win).
    pub otlp: OtlpOverrides,
    /// OTLP for spans.
    pub traces_otlp: OtlpOverrides,
    /// OTLP for metrics.
    pub metrics_otlp: OtlpOverrides,
    /// OTLP for logs.
    pub logs_otlp: OtlpOverrides,
    /// The span file exporter.
    pub traces_file: Option<FileSettings>,
    /// Sampler.
    pub sampler: Option<Sampler>,
    /// Batch worker delay.
    pub schedule_delay: Option<Duration>,
    /// Batch worker queue size.
    pub max_queue_size: Option<usize>,
    /// Batch worker batch size.
    pub max_export_batch_size: Option<usize>,
    /// Batch worker shutdown deadline.
    pub export_timeout: Option<Duration>,
    /// Metric push interval.
    pub metric_export_interval: Option<Duration>,
    /// Prometheus host.
    pub prometheus_host: Option<String>,
    /// Prometheus port.
    pub prometheus_port: Option<u16>,
    /// Propagators.
    pub propagators: Option<Propagators>,
    /// Attribute count limit.
    pub attribute_count_limit: Option<usize>,
    /// Attribute value length limit.
    pub attribute_value_length_limit: Option<usize>,
    /// Events per span.
    pub span_event_count_limit: Option<usize>,
    /// Links per span.
    pub span_link_count_limit: Option<usize>,
    /// Attributes per span event.
    pub event_attribute_count_limit: Option<usize>,
    /// Attributes per span link.
    pub link_attribute_count_limit: Option<usize>,
    /// Metric cardinality limit.
    pub metric_cardinality_limit: Option<usize>,
    /// Content capture.
    pub capture_content: Option<bool>,
}

impl Settings {
    /// Each field of `self`, else of `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            disabled: self.disabled.or(lower.disabled),
            service_name: self.service_name.or(lower.service_name),
            resource: self.resource.or(lower.resource),
            traces_exporters: self.traces_exporters.or(lower.traces_exporters),
            metrics_exporters: self.metrics_exporters.or(lower.metrics_exporters),
            logs_exporters: self.logs_exporters.or(lower.logs_exporters),
            otlp: self.otlp.or(lower.otlp),
            traces_otlp: self.traces_otlp.or(lower.traces_otlp),
            metrics_otlp: self.metrics_otlp.or(lower.metrics_otlp),
            logs_otlp: self.logs_otlp.or(lower.logs_otlp),
            traces_file: self.traces_file.or(lower.traces_file),
            sampler: self.sampler.or(lower.sampler),
            schedule_delay: self.schedule_delay.or(lower.schedule_delay),
            max_queue_size: self.max_queue_size.or(lower.max_queue_size),
            max_export_batch_size: self.max_export_batch_size.or(lower.max_export_batch_size),
            export_timeout: self.export_timeout.or(lower.export_timeout),
            metric_export_interval: self.metric_export_interval.or(lower.metric_export_interval),
            prometheus_host: self.prometheus_host.or(lower.prometheus_host),
            prometheus_port: self.prometheus_port.or(lower.prometheus_port),
            propagators: self.propagators.or(lower.propagators),
            attribute_count_limit: self.attribute_count_limit.or(lower.attribute_count_limit),
            attribute_value_length_limit: self
                .attribute_value_length_limit
                .or(lower.attribute_value_length_limit),
            span_event_count_limit: self.span_event_count_limit.or(lower.span_event_count_limit),
            span_link_count_limit: self.span_link_count_limit.or(lower.span_link_count_limit),
            event_attribute_count_limit: self
                .event_attribute_count_limit
                .or(lower.event_attribute_count_limit),
            link_attribute_count_limit: self
                .link_attribute_count_limit
                .or(lower.link_attribute_count_limit),
            metric_cardinality_limit: self
                .metric_cardinality_limit
                .or(lower.metric_cardinality_limit),
            capture_content: self.capture_content.or(lower.capture_content),
        }
    }
}

/// The OTLP settings of one signal from the environment.
fn env_otlp(env: &mut EnvSource<'_>, signal: Option<&str>) -> OtlpOverrides {
    let var = |name: &str| match signal {
        Some(s) => format!("OTEL_EXPORTER_OTLP_{s}_{name}"),
        None => format!("OTEL_EXPORTER_OTLP_{name}"),
    };
    let endpoint = env.endpoint(&var("ENDPOINT"));
    let (endpoint, signal_endpoint) = if signal.is_some() {
        (None, endpoint)
    } else {
        (endpoint, None)
    };
    OtlpOverrides {
        endpoint,
        signal_endpoint,
        protocol: env.protocol(&var("PROTOCOL")),
        timeout: env.millis(&var("TIMEOUT")),
        headers: env.headers(&var("HEADERS")),
        gzip: env.parse(&var("COMPRESSION"), "gzip or none", |v| match v {
            "gzip" => Some(true),
            "none" => Some(false),
            _ => None,
        }),
        certificate: env.raw(&var("CERTIFICATE")).map(PathBuf::from),
    }
}

fn env_settings(env: &mut EnvSource<'_>) -> Settings {
    let u16_port =
        |env: &mut EnvSource<'_>, v: &str| env.parse(v, "a port number", |x| x.parse::<u16>().ok());
    // The general attribute count limit applies where no specific one is set.
    let attribute_count_limit = env.count("OTEL_ATTRIBUTE_COUNT_LIMIT");
    Settings {
        disabled: env.bool("OTEL_SDK_DISABLED"),
        service_name: env.raw("OTEL_SERVICE_NAME"),
        resource: env.pairs("OTEL_RESOURCE_ATTRIBUTES"),
        traces_exporters: env.traces_exporters("OTEL_TRACES_EXPORTER"),
        metrics_exporters: env.metrics_exporters("OTEL_METRICS_EXPORTER"),
        logs_exporters: env.logs_exporters("OTEL_LOGS_EXPORTER"),
        otlp: env_otlp(env, None),
        traces_otlp: env_otlp(env, Some("TRACES")),
        metrics_otlp: env_otlp(env, Some("METRICS")),
        logs_otlp: env_otlp(env, Some("LOGS")),
        traces_file: env.raw("SEMTEL_EXPORTER_FILE_PATH").map(|p| FileSettings {
            path: p.into(),
            max_bytes: 64 << 20,
            max_files: 4,
        }),
        sampler: env.sampler(),
        schedule_delay: env.millis("OTEL_BSP_SCHEDULE_DELAY"),
        max_queue_size: env.spans("OTEL_BSP_MAX_QUEUE_SIZE"),
        max_export_batch_size: env.spans("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
        export_timeout: env.millis("OTEL_BSP_EXPORT_TIMEOUT"),
        metric_export_interval: env.interval("OTEL_METRIC_EXPORT_INTERVAL"),
        prometheus_host: env.raw("OTEL_EXPORTER_PROMETHEUS_HOST"),
        prometheus_port: u16_port(env, "OTEL_EXPORTER_PROMETHEUS_PORT"),
        propagators: env.propagators("OTEL_PROPAGATORS"),
        attribute_count_limit: env
            .count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT")
            .or(attribute_count_limit),
        attribute_value_length_limit: env
            .count("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")
            .or_else(|| env.count("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")),
        span_event_count_limit: env.count("OTEL_SPAN_EVENT_COUNT_LIMIT"),
        span_link_count_limit: env.count("OTEL_SPAN_LINK_COUNT_LIMIT"),
        event_attribute_count_limit: env
            .count("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT")
            .or(attribute_count_limit),
        link_attribute_count_limit: env
            .count("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT")
            .or(attribute_count_limit),
        metric_cardinality_limit: None,
        capture_content: env.bool("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
    }
}

/// Keeps settings made in code within what works: an endpoint that is not a
/// URL, a queue so large that buffer sizes overflow, a zero interval are
/// replaced by the default with a warning. (The config file and the
/// variables are checked where they are read.)
fn check_program(s: &mut Settings, warnings: &mut Vec<String>) {
    if let Some(headers) = &mut s.otlp.headers {
        headers.retain(|(k, v)| match super::validate::header(k, v) {
            Ok(()) => true,
            Err(why) => {
                warnings.push(format!("OTLP header set in code: {why}; it is not sent"));
                false
            }
        });
    }
    let mut otlp = |o: &mut OtlpOverrides, what: &str| {
        for url in [&mut o.endpoint, &mut o.signal_endpoint] {
            if let Some(u) = url.as_ref() {
                if let Err(why) = super::validate::endpoint(u) {
                    warnings.push(format!(
                        "the {what}OTLP endpoint {} set in code is not valid ({why}); \
                         it is ignored",
                        super::quoted(u)
                    ));
                    *url = None;
                }
            }
        }
    };
    otlp(&mut s.otlp, "");
    otlp(&mut s.traces_otlp, "traces ");
    otlp(&mut s.metrics_otlp, "metrics ");
    otlp(&mut s.logs_otlp, "logs ");
    for (name, value) in [
        ("max_queue_size", &mut s.max_queue_size),
        ("max_export_batch_size", &mut s.max_export_batch_size),
    ] {
        if let Some(n) = value.filter(|n| !(1..=MAX_QUEUE_SIZE).contains(n)) {
            let bounded = n.clamp(1, MAX_QUEUE_SIZE);
            warnings.push(format!(
                "{name} {n} set in code is outside 1 to {MAX_QUEUE_SIZE}; using {bounded}"
            ));
            *value = Some(bounded);
        }
    }
    if s.metric_export_interval.is_some_and(|d| d.is_zero()) {
        warnings.push(format!(
            "a metric export interval of 0 set in code would export without pause; using \
             the default {} ms",
            DEFAULT_METRIC_EXPORT_INTERVAL.as_millis()
        ));
        s.metric_export_interval = None;
    }
}

fn otlp(all: &OtlpOverrides, signal: &OtlpOverrides, path: &str) -> OtlpSettings {
    let o = signal.clone().or(all.clone());
    let protocol = o.protocol.unwrap_or(Protocol::HttpProtobuf);
    let endpoint = match (&signal.signal_endpoint, &signal.endpoint, &all.endpoint) {
        (Some(full), _, _) => full.clone(),
        (None, Some(base), _) | (None, None, Some(base)) => signal_endpoint(base, protocol, path),
        (None, None, None) => signal_endpoint(default_endpoint(protocol), protocol, path),
    };
    OtlpSettings {
        endpoint,
        protocol,
        timeout: o.timeout.unwrap_or(Duration::from_secs(10)),
        headers: o.headers.unwrap_or_default(),
        gzip: o.gzip.unwrap_or(false),
        certificate: o.certificate,
    }
}

/// The configuration from `code` (builder), `file` (config file), the
/// environment and `defaults` (the program's), in that order.
pub(crate) fn resolve(
    code: Settings,
    file: Settings,
    env: &mut EnvSource<'_>,
    defaults: Settings,
) -> Config {
    let (mut code, mut defaults) = (code, defaults);
    check_program(&mut code, &mut env.warnings);
    check_program(&mut defaults, &mut env.warnings);
    let s = code.or(file).or(env_settings(env)).or(defaults);
    let batch = BatchSettings::default();
    Config {
        disabled: s.disabled.unwrap_or(false),
        service_name: s.service_name.unwrap_or_else(default_service_name),
        resource: s.resource.unwrap_or_default(),
        traces_exporters: s
            .traces_exporters
            .unwrap_or_else(|| vec![TracesExporter::Otlp]),
        traces_otlp: otlp(&s.otlp, &s.traces_otlp, "v1/traces"),
        traces_file: s.traces_file.unwrap_or(FileSettings {
            path: "semtel-traces.jsonl".into(),
            max_bytes: 64 << 20,
            max_files: 4,
        }),
        sampler: s.sampler.unwrap_or_default(),
        batch: BatchSettings {
            schedule_delay: s.schedule_delay.unwrap_or(batch.schedule_delay),
            max_queue_size: s.max_queue_size.unwrap_or(batch.max_queue_size),
            max_export_batch_size: s
                .max_export_batch_size
                .unwrap_or(batch.max_export_batch_size),
            export_timeout: s.export_timeout.unwrap_or(batch.export_timeout),
        },
        span_attribute_count_limit: s.attribute_count_limit.unwrap_or(128),
        span_event_count_limit: s.span_event_count_limit.unwrap_or(128),
        span_link_count_limit: s.span_link_count_limit.unwrap_or(128),
        event_attribute_count_limit: s.event_attribute_count_limit.unwrap_or(128),
        link_attribute_count_limit: s.link_attribute_count_limit.unwrap_or(128),
        attribute_value_length_limit: s.attribute_value_length_limit,
        metrics_exporters: s
            .metrics_exporters
            .unwrap_or_else(|| vec![MetricsExporter::Otlp]),
        metrics_otlp: otlp(&s.otlp, &s.metrics_otlp, "v1/metrics"),
        metric_export_interval: s
            .metric_export_interval
            .unwrap_or(DEFAULT_METRIC_EXPORT_INTERVAL),
        prometheus_host: s.prometheus_host.unwrap_or_else(|| "localhost".into()),
        prometheus_port: s.prometheus_port.unwrap_or(9464),
        metric_cardinality_limit: s
            .metric_cardinality_limit
            .unwrap_or(crate::metrics::DEFAULT_CARDINALITY_LIMIT),
        logs_exporters: s.logs_exporters.unwrap_or_else(|| vec![LogsExporter::Otlp]),
        logs_otlp: otlp(&s.otlp, &s.logs_otlp, "v1/logs"),
        propagators: s.propagators.unwrap_or_default(),
        capture_content: s.capture_content.unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::tests::env;

    #[test]
    fn code_beats_file_beats_env_beats_defaults() {
        let m = env(&[
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://metrics:9999/v1/metrics",
            ),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t"),
        ]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        let code = Settings {
            service_name: Some("from-code".into()),
            ..Default::default()
        };
        let file = Settings {
            service_name: Some("from-file".into()),
            metrics_exporters: Some(vec![MetricsExporter::Prometheus]),
            traces_exporters: Some(vec![TracesExporter::None]),
            ..Default::default()
        };
        let defaults = Settings {
            traces_exporters: Some(vec![TracesExporter::Otlp]),
            logs_exporters: Some(vec![LogsExporter::Console]),
            ..Default::default()
        };
        let c = resolve(code, file, &mut e, defaults);
        assert_eq!(c.service_name, "from-code");
        assert_eq!(c.metrics_exporters, vec![MetricsExporter::Prometheus]);
        assert_eq!(
            c.traces_exporters,
            vec![TracesExporter::None],
            "file beats env"
        );
        assert_eq!(
            c.logs_exporters,
            vec![LogsExporter::Console],
            "program default when env is silent"
        );
        assert_eq!(c.traces_otlp.endpoint, "http://collector:4317");
        assert_eq!(c.traces_otlp.protocol, Protocol::Grpc);
        assert_eq!(
            c.metrics_otlp.endpoint, "http://metrics:9999/v1/metrics",
            "per-signal endpoint used as is"
        );
        assert_eq!(
            c.logs_otlp.headers,
            vec![("authorization".to_string(), "Bearer t".to_string())]
        );
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn http_endpoints_get_the_signal_path() {
        let m = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]);
        let mut e = EnvSource::new(|k| m.get(k).cloned());
        let c = resolve(
            Settings::default(),
            Settings::default(),
            &mut e,
            Settings::default(),
        );
        assert_eq!(c.traces_otlp.endpoint, "http://c:4318/v1/traces");
        assert_eq!(c.metrics_otlp.endpoint, "http://c:4318/v1/metrics");
        assert_eq!(c.logs_otlp.endpoint, "http://c:4318/v1/logs");
    }
}
