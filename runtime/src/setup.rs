//! Installing telemetry: the builder, [`init`], and the guard that flushes
//! and shuts everything down.

use crate::config::{
    self, Config, EnvSource, LogsExporter, MetricsExporter, Protocol, Settings, TracesExporter,
};
use crate::error::InitError;
use crate::export::otlp_client::{BlockingSender, Signal};
use crate::export::otlp_metrics::PeriodicExporter;
use crate::export::prometheus_server::PrometheusServer;
use crate::export::{
    SpanSink, console::ConsoleSink, file::FileSink, memory, otlp_traces::OtlpSink,
};
use crate::shutdown::{Installed, Losses, ShutdownReport};
use crate::trace::limits::Limits;
use crate::trace::pipeline::{BatchConfig, Pipeline};
use crate::trace::{Sampler, SpanContext};
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Sets up telemetry from the environment (and `OTEL_CONFIG_FILE`) with the
/// OpenTelemetry defaults. Keep the returned guard alive: dropping it flushes
/// and shuts down. Fails only for a config file that cannot be read or parsed.
///
/// ```no_run
/// let _telemetry = semtel::init().expect("telemetry configuration");
/// ```
#[must_use = "dropping the returned guard shuts telemetry down at once: keep it (`let _telemetry = ...`)"]
pub fn init() -> Result<Telemetry, InitError> {
    Builder::new().init()
}

/// Starts configuring telemetry in code; settings made here win over the
/// config file and the environment.
pub fn builder() -> Builder {
    Builder::new()
}

/// Telemetry settings made in code.
#[derive(Default)]
#[must_use = "a builder does nothing until `init` is called"]
pub struct Builder {
    code: Settings,
    defaults: Settings,
    config_file: Option<PathBuf>,
    capture: Option<memory::Store>,
    custom: Vec<CustomSink>,
    env: Option<config::Lookup<'static>>,
    tracing_subscriber: bool,
    events_to_spans: Option<bool>,
    keep_otel_globals: bool,
    metrics_in_program: bool,
}

/// Makes a sink for a program's own span exporter, once the resource is known.
type CustomSink = Box<dyn FnOnce(&Resource) -> Result<Box<dyn SpanSink>, String>>;

macro_rules! setters {
    ($($(#[$m:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident = $value:expr;)*) => {$(
        $(#[$m])*
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.code.$field = Some($value);
            self
        }
    )*};
}

impl Builder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// `service.name` (else `OTEL_SERVICE_NAME`).
        service_name(name: impl Into<String>) => service_name = name.into();
        /// Where spans go, overriding `OTEL_TRACES_EXPORTER`.
        traces_exporter(e: TracesExporter) => traces_exporters = vec![e];
        /// Where metrics go, overriding `OTEL_METRICS_EXPORTER`.
        metrics_exporter(e: MetricsExporter) => metrics_exporters = vec![e];
        /// Several span exporters at once (`OTEL_TRACES_EXPORTER=otlp,otlp_file`).
        traces_exporters(e: impl IntoIterator<Item = TracesExporter>) => traces_exporters = e.into_iter().collect();
        /// Several metric exporters at once (`OTEL_METRICS_EXPORTER=otlp,prometheus`).
        metrics_exporters(e: impl IntoIterator<Item = MetricsExporter>) => metrics_exporters = e.into_iter().collect();
        /// Where logs go, overriding `OTEL_LOGS_EXPORTER`.
        logs_exporter(e: LogsExporter) => logs_exporters = vec![e];
        /// The sampler, overriding `OTEL_TRACES_SAMPLER`.
        sampler(s: Sampler) => sampler = s;
        /// How often buffered spans are exported (`OTEL_BSP_SCHEDULE_DELAY`).
        schedule_delay(d: Duration) => schedule_delay = d;
        /// Spans buffered per thread (`OTEL_BSP_MAX_QUEUE_SIZE`).
        max_queue_size(n: usize) => max_queue_size = n;
        /// Spans per export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
        max_export_batch_size(n: usize) => max_export_batch_size = n;
        /// How long shutdown waits for the last export (`OTEL_BSP_EXPORT_TIMEOUT`).
        export_timeout(d: Duration) => export_timeout = d;
        /// How often metrics are pushed over OTLP (`OTEL_METRIC_EXPORT_INTERVAL`).
        metric_export_interval(d: Duration) => metric_export_interval = d;
        /// The Prometheus endpoint's host (`OTEL_EXPORTER_PROMETHEUS_HOST`).
        prometheus_host(h: impl Into<String>) => prometheus_host = h.into();
        /// The Prometheus endpoint's port; 0 picks a free one (`OTEL_EXPORTER_PROMETHEUS_PORT`).
        prometheus_port(p: u16) => prometheus_port = p;
        /// Allows or forbids recording GenAI content where the code opts in.
        capture_content(allow: bool) => capture_content = allow;
        /// Series per metric before new attribute sets go to the overflow series.
        metric_cardinality_limit(n: usize) => metric_cardinality_limit = n;
    }

    /// A resource attribute (`deployment.environment`, `service.version`);
    /// attributes set in code replace those of `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.code
            .resource
            .get_or_insert_with(Vec::new)
            .push((key.into(), value.into()));
        self
    }

    /// The OTLP base endpoint for all signals (`OTEL_EXPORTER_OTLP_ENDPOINT`);
    /// for HTTP the signal path (`/v1/traces`) is appended.
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.code.otlp.endpoint = Some(url.into());
        self
    }

    /// The OTLP transport for all signals (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    pub fn otlp_protocol(mut self, p: Protocol) -> Self {
        self.code.otlp.protocol = Some(p);
        self
    }

    /// How long one OTLP export may take (`OTEL_EXPORTER_OTLP_TIMEOUT`).
    pub fn otlp_timeout(mut self, t: Duration) -> Self {
        self.code.otlp.timeout = Some(t);
        self
    }

    /// A header sent with every OTLP export (`OTEL_EXPORTER_OTLP_HEADERS`).
    pub fn otlp_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.code
            .otlp
            .headers
            .get_or_insert_with(Vec::new)
            .push((name.into(), value.into()));
        self
    }

    /// Compresses OTLP requests with gzip (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`).
    pub fn otlp_gzip(mut self, on: bool) -> Self {
        self.code.otlp.gzip = Some(on);
        self
    }

    /// The CA certificate (PEM) that verifies an `https` OTLP endpoint, in
    /// place of the system's roots (`OTEL_EXPORTER_OTLP_CERTIFICATE`).
    pub fn otlp_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.code.otlp.certificate = Some(path.into());
        self
    }

    /// Spans go to `path` as OTLP JSON Lines, rotated at `max_bytes`, keeping `max_files`.
    pub fn traces_file(
        mut self,
        path: impl Into<PathBuf>,
        max_bytes: u64,
        max_files: usize,
    ) -> Self {
        self.code.traces_file = Some(config::FileSettings {
            path: path.into(),
            max_bytes,
            max_files,
            rotate_interval: None,
        });
        self
    }

    /// Also rotates the span file (see [`Builder::traces_file`]) once it is
    /// `every` old, at the next export after that; the number of files kept
    /// stays `max_files`. Call after `traces_file`.
    pub fn traces_file_rotate_interval(mut self, every: Duration) -> Self {
        if let Some(f) = &mut self.code.traces_file {
            f.rotate_interval = Some(every);
        } else {
            crate::warn(format_args!(
                "traces_file_rotate_interval({every:?}) without traces_file(...) first is ignored"
            ));
        }
        self
    }

    /// Where spans go when nothing else says (the OpenTelemetry default is
    /// OTLP; a demo may prefer the console).
    pub fn default_traces_exporter(mut self, e: TracesExporter) -> Self {
        self.defaults.traces_exporters = Some(vec![e]);
        self
    }

    /// Where metrics go when nothing else says.
    pub fn default_metrics_exporter(mut self, e: MetricsExporter) -> Self {
        self.defaults.metrics_exporters = Some(vec![e]);
        self
    }

    /// The sampler when nothing else says (`OTEL_TRACES_SAMPLER` and the
    /// config file win over it).
    pub fn default_sampler(mut self, s: Sampler) -> Self {
        self.defaults.sampler = Some(s);
        self
    }

    /// Where logs go when nothing else says.
    pub fn default_logs_exporter(mut self, e: LogsExporter) -> Self {
        self.defaults.logs_exporters = Some(vec![e]);
        self
    }

    /// A resource attribute (`service.version`, `deployment.environment.name`)
    /// for when nothing else says: the config file's resource or
    /// `OTEL_RESOURCE_ATTRIBUTES`, when given, replace these.
    pub fn default_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.defaults
            .resource
            .get_or_insert_with(Vec::new)
            .push((key.into(), value.into()));
        self
    }

    /// Reads settings from this declarative configuration file (instead of `OTEL_CONFIG_FILE`).
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Reads configuration variables from `get` instead of the process environment.
    pub fn env_source(mut self, get: impl Fn(&str) -> Option<String> + 'static) -> Self {
        self.env = Some(Box::new(get));
        self
    }

    /// Whether an environment was given with [`Builder::env_source`].
    pub(crate) fn has_env_source(&self) -> bool {
        self.env.is_some()
    }

    /// Settings used where neither the code, the config file nor the
    /// environment say anything (below the environment in precedence).
    pub(crate) fn defaults(mut self, defaults: Settings) -> Self {
        self.defaults = defaults.or(self.defaults);
        self
    }

    /// Also sends spans to `exporter`, any OpenTelemetry SDK span exporter
    /// (in batches, from semtel's export thread).
    pub fn span_exporter<E: opentelemetry_sdk::trace::SpanExporter + 'static>(
        mut self,
        exporter: E,
    ) -> Self {
        self.custom.push(Box::new(move |resource: &Resource| {
            crate::export::otlp::SdkSink::custom(exporter, resource)
                .map(|s| Box::new(s) as Box<dyn SpanSink>)
        }));
        self
    }

    /// Installs semtel's `tracing` subscriber as the program's global one
    /// (off by default: a library never takes the global subscriber
    /// unasked). With it, `tracing` spans and events of every library
    /// become semtel spans and logs, filtered by `RUST_LOG` (default
    /// `info`), and `tracing::Span::current()` inside a semtel span refers
    /// to it. A program with a subscriber of its own adds
    /// [`crate::tracing_layer`] to it instead.
    pub fn tracing_subscriber(mut self, install: bool) -> Self {
        self.tracing_subscriber = install;
        self
    }

    /// Leaves the OpenTelemetry API's global tracer provider, meter provider
    /// and text-map propagator as they are. By default `init` makes semtel
    /// serve them (see [`crate::otel`]), so that libraries using the API join
    /// semtel's traces and metrics.
    pub fn keep_otel_globals(mut self) -> Self {
        self.keep_otel_globals = true;
        self
    }

    /// Whether `tracing` events are also recorded as events of the span they
    /// happen in (default: yes; they are logs either way).
    pub fn tracing_events_as_span_events(mut self, on: bool) -> Self {
        self.events_to_spans = Some(on);
        self
    }

    /// Records metrics for an endpoint the program serves itself (a
    /// `/metrics` route of its own HTTP server) with
    /// [`Telemetry::prometheus_scrape`], even when no metrics exporter is
    /// configured. Exporters configured as well work as usual.
    pub fn metrics_endpoint_in_program(mut self, on: bool) -> Self {
        self.metrics_in_program = on;
        self
    }

    pub(crate) fn capture_into(mut self, store: memory::Store) -> Self {
        self.capture = Some(store);
        self
    }

    fn lookup(&self) -> EnvSource<'_> {
        match &self.env {
            Some(get) => EnvSource::new(|k| get(k)),
            None => EnvSource::process(),
        }
    }

    /// The configuration this builder produces, with the warnings for invalid
    /// values; fails only for an unreadable or invalid config file.
    pub fn resolve(&self) -> Result<(Config, Vec<String>), InitError> {
        let mut env = self.lookup();
        let file_path = self
            .config_file
            .clone()
            .or_else(|| env.raw("OTEL_CONFIG_FILE").map(PathBuf::from));
        let file = match &file_path {
            Some(p) => config::file::load(p, &mut env)?,
            None => Settings::default(),
        };
        let cfg = config::resolve(self.code.clone(), file, &mut env, self.defaults.clone());
        Ok((cfg, env.warnings))
    }

    /// Installs telemetry (replacing any installed before) and returns its
    /// guard. Problems in the environment are warnings; an unreadable or
    /// invalid config file is an error. Never panics.
    #[must_use = "dropping the returned guard shuts telemetry down at once: keep it (`let _telemetry = ...`)"]
    pub fn init(self) -> Result<Telemetry, InitError> {
        let (cfg, mut warnings) = self.resolve()?;
        let (inherited, filter) = {
            let env = self.lookup();
            let inherited = crate::propagation::from_env(&|k| env.raw(k), &mut warnings);
            let filter = self
                .tracing_subscriber
                .then(|| crate::SemtelFilter::from_env(&|k| env.raw(k), &mut |w| warnings.push(w)));
            (inherited, filter)
        };
        for w in &warnings {
            crate::warn(format_args!("{w}"));
        }
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = active.take() {
            old.shutdown();
        }
        let generation = next_generation();
        crate::metrics::set_enabled(false);
        let telemetry = Telemetry {
            generation,
            config: cfg.clone(),
            warnings,
        };
        if cfg.disabled {
            return Ok(telemetry);
        }
        crate::clock::warm_up();
        crate::content::configure(cfg.capture_content, cfg.attribute_value_length_limit);
        crate::metrics::set_cardinality_limit(cfg.metric_cardinality_limit);
        let (process_parent, process_trace_state) = if cfg.propagators.tracecontext {
            (
                inherited.parent.unwrap_or(SpanContext::NONE),
                crate::trace::trace_state::state(&inherited.tracestate),
            )
        } else {
            (SpanContext::NONE, None)
        };
        crate::propagation::install(inherited, cfg.propagators);
        let resource = resource(&cfg);
        let mut installed = Installed {
            generation,
            pipeline: None,
            periodic: None,
            prometheus: None,
            console_metrics: cfg.metrics_exporters.contains(&MetricsExporter::Console),
            scrape: self
                .metrics_in_program
                .then(|| crate::export::prometheus::Target::new(&resource)),
            logs: None,
            closers: Vec::new(),
            deadline: crate::shutdown::deadline(&cfg),
            losses_at_start: Losses::now(),
        };
        let mut sinks: Vec<Box<dyn SpanSink>> = Vec::new();
        for e in &cfg.traces_exporters {
            let sink: Result<Box<dyn SpanSink>, String> = match e {
                TracesExporter::Otlp => OtlpSink::new(&cfg.traces_otlp, &resource).map(|s| {
                    installed.closers.push(s.closer());
                    Box::new(s) as _
                }),
                TracesExporter::Console => Ok(Box::new(ConsoleSink::stdout())),
                TracesExporter::File => {
                    FileSink::new(&cfg.traces_file, &resource).map(|s| Box::new(s) as _)
                }
                TracesExporter::None => continue,
            };
            match sink {
                Ok(s) => sinks.push(s),
                Err(e) => crate::warn(format_args!("{e}; spans will not be sent there")),
            }
        }
        for make in self.custom {
            match make(&resource) {
                Ok(s) => sinks.push(s),
                Err(e) => crate::warn(format_args!(
                    "{e}; spans will not be sent to the program's exporter"
                )),
            }
        }
        let capturing = self.capture.is_some();
        if let Some(store) = self.capture {
            sinks.push(Box::new(memory::MemorySink { store }));
        }
        if !sinks.is_empty() {
            installed.pipeline = Some(Pipeline::start(
                sinks,
                BatchConfig {
                    schedule_delay: cfg.batch.schedule_delay,
                    max_queue: cfg.batch.max_queue_size,
                    max_export_batch: cfg.batch.max_export_batch_size,
                    limits: Limits {
                        attributes: cfg.span_attribute_count_limit,
                        events: cfg.span_event_count_limit,
                        links: cfg.span_link_count_limit,
                        event_attributes: cfg.event_attribute_count_limit,
                        link_attributes: cfg.link_attribute_count_limit,
                        value_length: cfg.attribute_value_length_limit,
                    },
                },
                cfg.sampler.prepare(),
                (process_parent, process_trace_state),
            ));
        }
        for e in &cfg.metrics_exporters {
            match e {
                MetricsExporter::Otlp => {
                    let started = BlockingSender::new(cfg.metrics_otlp.clone(), Signal::Metrics)
                        .and_then(|s| {
                            PeriodicExporter::start(s, resource.clone(), cfg.metric_export_interval)
                                .map_err(|e| e.to_string())
                        });
                    match started {
                        Ok(p) => installed.periodic = Some(p),
                        Err(e) => {
                            crate::warn(format_args!("{e}; metrics will not be sent over OTLP"))
                        }
                    }
                }
                MetricsExporter::Prometheus => {
                    match PrometheusServer::start(
                        &cfg.prometheus_host,
                        cfg.prometheus_port,
                        &resource,
                    ) {
                        Ok(s) => installed.prometheus = Some(s),
                        Err(e) => crate::warn(format_args!(
                            "cannot serve Prometheus metrics on {}:{}: {e}",
                            cfg.prometheus_host, cfg.prometheus_port
                        )),
                    }
                }
                MetricsExporter::Console | MetricsExporter::None => {}
            }
        }
        installed.logs = crate::logs::install(&cfg, &resource);
        crate::bridge::tracing::set_events_to_spans(self.events_to_spans.unwrap_or(true));
        if !self.keep_otel_globals {
            crate::bridge::install_otel_globals();
        }
        if let Some(filter) = filter {
            if let Err(e) = crate::bridge::tracing::install(filter) {
                if !e.is_empty() {
                    crate::warn(format_args!("{e}"));
                }
            }
        }
        let metrics_on = capturing
            || self.metrics_in_program
            || cfg
                .metrics_exporters
                .iter()
                .any(|e| *e != MetricsExporter::None);
        crate::metrics::set_enabled(metrics_on);
        *active = Some(installed);
        Ok(telemetry)
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

static ACTIVE: Mutex<Option<Installed>> = Mutex::new(None);

fn next_generation() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Installed telemetry. Dropping it exports what is buffered and shuts down.
#[must_use = "dropping the guard shuts telemetry down at once: keep it (`let _telemetry = ...`)"]
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

    fn with_installed<T>(&self, f: impl FnOnce(&Installed) -> T) -> Option<T> {
        let active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        active
            .as_ref()
            .filter(|i| i.generation == self.generation)
            .map(f)
    }

    /// Where the Prometheus endpoint listens, when it runs.
    pub fn prometheus_addr(&self) -> Option<SocketAddr> {
        self.with_installed(|i| i.prometheus.as_ref().map(PrometheusServer::addr))
            .flatten()
    }

    /// The metrics as a Prometheus scrape answers them, for a `/metrics`
    /// route the program serves itself (see
    /// [`Builder::metrics_endpoint_in_program`]): the content type and the
    /// body for the scraper's `Accept` header (OpenMetrics with exemplars
    /// when it asks for it, else the classic text format). `None` when the
    /// builder did not ask for it or this telemetry was replaced.
    ///
    /// ```no_run
    /// let telemetry = semtel::builder().metrics_endpoint_in_program(true).init().unwrap();
    /// let (content_type, body) = telemetry
    ///     .prometheus_scrape("application/openmetrics-text; version=1.0.0")
    ///     .unwrap();
    /// assert!(body.ends_with("# EOF\n") && content_type.starts_with("application/openmetrics-text"));
    /// ```
    pub fn prometheus_scrape(&self, accept: &str) -> Option<(&'static str, String)> {
        use crate::export::prometheus::{OPENMETRICS, TEXT, render, wants_openmetrics};
        // Rendered with the lock released: a scrape never holds up `init`.
        let target = self.with_installed(|i| i.scrape.clone()).flatten()?;
        let om = wants_openmetrics(accept);
        let body = render(&crate::metrics::collect_unscoped(), om, &target);
        Some((if om { OPENMETRICS } else { TEXT }, body))
    }

    /// Exports every span recorded so far; returns whether it finished in time.
    pub fn flush(&self) -> bool {
        self.with_installed(|i| {
            i.pipeline
                .as_ref()
                .is_none_or(|p| p.flush(self.config.batch.export_timeout))
        })
        .unwrap_or(true)
    }

    /// Flushes and shuts down now (dropping the guard does the same), and
    /// reports what was lost. Traces, logs and metrics flush in parallel
    /// under one deadline: `OTEL_BSP_EXPORT_TIMEOUT`, and at most the
    /// longest OTLP export timeout in use.
    pub fn shutdown(self) -> ShutdownReport {
        self.stop().unwrap_or_default()
    }

    /// Shuts down what this guard installed, if it is still installed.
    fn stop(&self) -> Option<ShutdownReport> {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if active
            .as_ref()
            .is_some_and(|i| i.generation == self.generation)
        {
            return active.take().map(Installed::shutdown);
        }
        None
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.stop();
    }
}
