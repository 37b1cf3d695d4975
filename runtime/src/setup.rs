//! Installing telemetry: the builder, [`init`], and the guard that flushes
//! and shuts everything down.

use crate::config::{
    self, BatchSettings, Config, EnvSource, MetricsExporter, OtlpSettings, Protocol, TracesExporter,
};
use crate::export::{SpanSink, console::ConsoleSink, memory, otlp::OtlpSink};
use crate::trace::{
    Sampler, SpanContext,
    pipeline::{BatchConfig, Pipeline},
};
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Sets up telemetry from the environment with the OpenTelemetry defaults
/// (OTLP over HTTP/protobuf to `localhost:4318`). Keep the returned guard
/// alive: dropping it flushes and shuts down.
///
/// ```no_run
/// let _telemetry = semtel::init();
/// ```
pub fn init() -> Telemetry {
    Builder::new().init()
}

/// Starts configuring telemetry in code; settings made here win over the environment.
pub fn builder() -> Builder {
    Builder::new()
}

/// Telemetry settings made in code. Unset settings come from the `OTEL_*`
/// environment variables, then from the defaults set here, then from the
/// OpenTelemetry defaults.
#[derive(Default)]
pub struct Builder {
    service_name: Option<String>,
    traces_exporters: Option<Vec<TracesExporter>>,
    default_traces_exporters: Option<Vec<TracesExporter>>,
    metrics_exporters: Option<Vec<MetricsExporter>>,
    default_metrics_exporters: Option<Vec<MetricsExporter>>,
    capture_content: Option<bool>,
    cardinality_limit: Option<usize>,
    endpoint: Option<String>,
    protocol: Option<Protocol>,
    timeout: Option<Duration>,
    sampler: Option<Sampler>,
    batch: Option<BatchSettings>,
    capture: Option<memory::Store>,
    env: Option<config::Lookup<'static>>,
}

impl Builder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// `service.name` (else `OTEL_SERVICE_NAME`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Where spans go, overriding `OTEL_TRACES_EXPORTER`.
    pub fn traces_exporter(mut self, e: TracesExporter) -> Self {
        self.traces_exporters = Some(vec![e]);
        self
    }

    /// Where spans go when `OTEL_TRACES_EXPORTER` is not set (the
    /// OpenTelemetry default is OTLP; a demo may prefer the console).
    pub fn default_traces_exporter(mut self, e: TracesExporter) -> Self {
        self.default_traces_exporters = Some(vec![e]);
        self
    }

    /// Where metrics go, overriding `OTEL_METRICS_EXPORTER`.
    pub fn metrics_exporter(mut self, e: MetricsExporter) -> Self {
        self.metrics_exporters = Some(vec![e]);
        self
    }

    /// Where metrics go when `OTEL_METRICS_EXPORTER` is not set.
    pub fn default_metrics_exporter(mut self, e: MetricsExporter) -> Self {
        self.default_metrics_exporters = Some(vec![e]);
        self
    }

    /// Allows or forbids recording GenAI content where the code opts in,
    /// overriding `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
    pub fn capture_content(mut self, allow: bool) -> Self {
        self.capture_content = Some(allow);
        self
    }

    /// Series per metric before new attribute sets go to the overflow series
    /// (default 2000).
    pub fn metric_cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = Some(limit);
        self
    }

    /// The OTLP endpoint, overriding `OTEL_EXPORTER_OTLP_ENDPOINT`. For HTTP,
    /// the signal path (`/v1/traces`) is appended.
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The OTLP transport, overriding `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn otlp_protocol(mut self, p: Protocol) -> Self {
        self.protocol = Some(p);
        self
    }

    /// How long one OTLP export may take, overriding `OTEL_EXPORTER_OTLP_TIMEOUT`.
    pub fn otlp_timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// The sampler, overriding `OTEL_TRACES_SAMPLER`.
    pub fn sampler(mut self, s: Sampler) -> Self {
        self.sampler = Some(s);
        self
    }

    /// The batch worker's settings, overriding `OTEL_BSP_*`.
    pub fn batch(mut self, b: BatchSettings) -> Self {
        self.batch = Some(b);
        self
    }

    /// Reads configuration variables from `get` instead of the process environment.
    pub fn env_source(mut self, get: impl Fn(&str) -> Option<String> + 'static) -> Self {
        self.env = Some(Box::new(get));
        self
    }

    pub(crate) fn capture_into(mut self, store: memory::Store) -> Self {
        self.capture = Some(store);
        self
    }

    /// The configuration this builder produces, with the warnings for invalid
    /// environment values.
    pub fn resolve(&self) -> (Config, Vec<String>) {
        let mut env = match &self.env {
            Some(get) => EnvSource::new(|k| get(k)),
            None => EnvSource::process(),
        };
        let disabled = env.bool("OTEL_SDK_DISABLED").unwrap_or(false);
        let service_name = self
            .service_name
            .clone()
            .or_else(|| env.raw("OTEL_SERVICE_NAME"))
            .unwrap_or_else(config::default_service_name);
        let resource = env.pairs("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default();
        let env_exporters = env.traces_exporters("OTEL_TRACES_EXPORTER");
        let traces_exporters = self
            .traces_exporters
            .clone()
            .or(env_exporters)
            .or_else(|| self.default_traces_exporters.clone())
            .unwrap_or_else(|| vec![TracesExporter::Otlp]);
        let env_protocol = env
            .protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| env.protocol("OTEL_EXPORTER_OTLP_PROTOCOL"));
        let protocol = self
            .protocol
            .or(env_protocol)
            .unwrap_or(Protocol::HttpProtobuf);
        let endpoint = match (
            &self.endpoint,
            env.raw("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        ) {
            (Some(base), _) => config::signal_endpoint(base, protocol, "v1/traces"),
            (None, Some(full)) => full,
            (None, None) => {
                let base = env
                    .raw("OTEL_EXPORTER_OTLP_ENDPOINT")
                    .unwrap_or_else(|| config::default_endpoint(protocol).to_string());
                config::signal_endpoint(&base, protocol, "v1/traces")
            }
        };
        let env_timeout = env
            .millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .or_else(|| env.millis("OTEL_EXPORTER_OTLP_TIMEOUT"));
        let timeout = self
            .timeout
            .or(env_timeout)
            .unwrap_or(Duration::from_secs(10));
        let env_sampler = env.sampler();
        let sampler = self.sampler.or(env_sampler).unwrap_or_default();
        let batch = self.batch.clone().unwrap_or_else(|| {
            let d = BatchSettings::default();
            BatchSettings {
                schedule_delay: env
                    .millis("OTEL_BSP_SCHEDULE_DELAY")
                    .unwrap_or(d.schedule_delay),
                max_queue_size: env
                    .count("OTEL_BSP_MAX_QUEUE_SIZE")
                    .unwrap_or(d.max_queue_size),
                max_export_batch_size: env
                    .count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
                    .unwrap_or(d.max_export_batch_size),
                export_timeout: env
                    .millis("OTEL_BSP_EXPORT_TIMEOUT")
                    .unwrap_or(d.export_timeout),
            }
        });
        let span_attribute_count_limit = env
            .count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT")
            .or_else(|| env.count("OTEL_ATTRIBUTE_COUNT_LIMIT"))
            .unwrap_or(128);
        let attribute_value_length_limit = env
            .count("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")
            .or_else(|| env.count("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"));
        let env_metrics = env.metrics_exporters("OTEL_METRICS_EXPORTER");
        let metrics_exporters = self
            .metrics_exporters
            .clone()
            .or(env_metrics)
            .or_else(|| self.default_metrics_exporters.clone())
            .unwrap_or_else(|| vec![MetricsExporter::Otlp]);
        let env_capture = env.bool("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT");
        let capture_content = self.capture_content.or(env_capture).unwrap_or(false);
        let cfg = Config {
            disabled,
            service_name,
            resource,
            traces_exporters,
            traces_otlp: OtlpSettings {
                endpoint,
                protocol,
                timeout,
            },
            sampler,
            batch,
            span_attribute_count_limit,
            attribute_value_length_limit,
            metrics_exporters,
            metric_cardinality_limit: self
                .cardinality_limit
                .unwrap_or(crate::metrics::DEFAULT_CARDINALITY_LIMIT),
            capture_content,
        };
        (cfg, env.warnings)
    }

    /// Installs telemetry (replacing any installed before) and returns its guard.
    /// Problems with the environment are reported as warnings; this never panics.
    pub fn init(self) -> Telemetry {
        let (cfg, warnings) = self.resolve();
        for w in &warnings {
            crate::warn(format_args!("{w}"));
        }
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, old)) = active.take() {
            old.shutdown(cfg.batch.export_timeout);
        }
        let generation = next_generation();
        crate::metrics::set_enabled(false);
        if cfg.disabled {
            return Telemetry {
                generation,
                config: cfg,
                warnings,
            };
        }
        crate::content::configure(cfg.capture_content, cfg.attribute_value_length_limit);
        crate::metrics::set_cardinality_limit(cfg.metric_cardinality_limit);
        let metrics_on = self.capture.is_some()
            || cfg
                .metrics_exporters
                .iter()
                .any(|e| *e != MetricsExporter::None);
        crate::metrics::set_enabled(metrics_on);
        let resource = resource(&cfg);
        let mut sinks: Vec<Box<dyn SpanSink>> = Vec::new();
        for e in &cfg.traces_exporters {
            match e {
                TracesExporter::Otlp => match OtlpSink::new(&cfg.traces_otlp, &resource) {
                    Ok(s) => sinks.push(Box::new(s)),
                    Err(e) => crate::warn(format_args!("{e}; spans will not be sent over OTLP")),
                },
                TracesExporter::Console => sinks.push(Box::new(ConsoleSink::stdout())),
                TracesExporter::None => {}
            }
        }
        if let Some(store) = self.capture {
            sinks.push(Box::new(memory::MemorySink { store }));
        }
        if !sinks.is_empty() {
            let pipeline = Pipeline::start(
                sinks,
                BatchConfig {
                    schedule_delay: cfg.batch.schedule_delay,
                    max_queue: cfg.batch.max_queue_size,
                    max_export_batch: cfg.batch.max_export_batch_size,
                },
                cfg.sampler.prepare(),
                SpanContext::NONE,
                cfg.span_attribute_count_limit,
            );
            *active = Some((generation, pipeline));
        }
        Telemetry {
            generation,
            config: cfg,
            warnings,
        }
    }
}

fn resource(cfg: &Config) -> Resource {
    let mut attrs: Vec<KeyValue> = cfg
        .resource
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    attrs.push(KeyValue::new("telemetry.sdk.name", "semtel"));
    attrs.push(KeyValue::new("telemetry.sdk.language", "rust"));
    attrs.push(KeyValue::new(
        "telemetry.sdk.version",
        env!("CARGO_PKG_VERSION"),
    ));
    Resource::builder_empty()
        .with_attributes(attrs)
        .with_service_name(cfg.service_name.clone())
        .build()
}

static ACTIVE: Mutex<Option<(u64, Pipeline)>> = Mutex::new(None);

/// The generation of the telemetry installed last.
static CURRENT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_generation() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let g = NEXT.fetch_add(1, Ordering::Relaxed);
    CURRENT_GENERATION.store(g, Ordering::Relaxed);
    g
}

/// Installed telemetry. Dropping it exports what is buffered and shuts down.
pub struct Telemetry {
    generation: u64,
    config: Config,
    warnings: Vec<String>,
}

impl Telemetry {
    /// The configuration in effect.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The warnings produced while reading the configuration.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Exports everything recorded so far; returns whether it finished in time.
    pub fn flush(&self) -> bool {
        let active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        match active.as_ref() {
            Some((g, p)) if *g == self.generation => p.flush(self.config.batch.export_timeout),
            _ => true,
        }
    }

    /// Flushes and shuts down now (dropping the guard does the same).
    pub fn shutdown(self) {}
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if active.as_ref().is_some_and(|(g, _)| *g == self.generation) {
            if let Some((_, p)) = active.take() {
                p.shutdown(self.config.batch.export_timeout);
            }
        }
        if CURRENT_GENERATION.load(std::sync::atomic::Ordering::Relaxed) == self.generation {
            crate::metrics::set_enabled(false);
            if self
                .config
                .metrics_exporters
                .contains(&MetricsExporter::Console)
            {
                let table = crate::export::console_metrics::render(&crate::metrics::collect());
                use std::io::Write;
                let _ = std::io::stdout().write_all(table.as_bytes());
            }
        }
    }
}
