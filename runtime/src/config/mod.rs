//! What telemetry to produce and where to send it. Settings come, in order of
//! precedence, from the builder in code, then the file named by
//! `OTEL_CONFIG_FILE`, then the standard `OTEL_*` environment variables, then
//! the defaults a program sets in code, then the OpenTelemetry defaults.

mod env;
pub(crate) mod file;
mod file_reader;
mod resolve;
pub(crate) mod validate;

pub(crate) use env::{EnvSource, Lookup};
pub(crate) use resolve::Settings;
pub(crate) use resolve::resolve;

use crate::propagation::Propagators;
use crate::trace::Sampler;
use std::path::PathBuf;
use std::time::Duration;

/// A user's value as a message shows it: cut to 60 characters, with its
/// full length said.
pub(crate) use semtel_yaml::excerpt as shown;

/// A user's value in quotes as a message shows it: at most 60 characters,
/// with its full length said when cut.
pub(crate) fn quoted(value: &str) -> String {
    match value.char_indices().nth(60) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}... ({} bytes)", &value[..cut], value.len()),
    }
}

/// The most spans a thread may buffer (`OTEL_BSP_MAX_QUEUE_SIZE`), and the
/// largest export batch: about a million spans, far beyond any need, and
/// small enough that no buffer size computed from it can overflow.
pub const MAX_QUEUE_SIZE: usize = 1 << 20;

/// How often metrics are pushed when nothing says otherwise.
pub(crate) const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);

/// Where spans go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TracesExporter {
    /// OTLP to a collector.
    Otlp,
    /// An indented tree per trace on standard output.
    Console,
    /// OTLP JSON Lines in a file (the OpenTelemetry file-exporter format).
    File,
    /// Nowhere.
    None,
}

/// Where metrics go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricsExporter {
    /// OTLP push to a collector, every `OTEL_METRIC_EXPORT_INTERVAL`.
    Otlp,
    /// A pull endpoint serving OpenMetrics (with exemplars) and Prometheus text.
    Prometheus,
    /// A table on standard output at shutdown.
    Console,
    /// Nowhere.
    None,
}

/// Where log records (`tracing` events) go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogsExporter {
    /// OTLP to a collector.
    Otlp,
    /// One JSON object per line on standard output, with `trace_id` and `span_id`.
    Console,
    /// Nowhere.
    None,
}

/// The OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP over gRPC (default port 4317).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (default port 4318).
    HttpProtobuf,
}

impl Protocol {
    /// The `OTEL_EXPORTER_OTLP_PROTOCOL` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// Settings of an OTLP exporter for one signal.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OtlpSettings {
    /// The full endpoint URL (for HTTP including the signal path, `/v1/traces`).
    pub endpoint: String,
    /// The transport.
    pub protocol: Protocol,
    /// How long one export may take.
    pub timeout: Duration,
    /// Headers sent with every export (authentication).
    pub headers: Vec<(String, String)>,
    /// Whether requests are gzip-compressed.
    pub gzip: bool,
    /// A PEM file with the CA certificate that signs the collector's certificate.
    pub certificate: Option<PathBuf>,
}

/// Settings of the span batch worker (`OTEL_BSP_*`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BatchSettings {
    /// How often buffered spans are exported.
    pub schedule_delay: Duration,
    /// Spans buffered per thread before new ones are dropped (and counted),
    /// at most [`MAX_QUEUE_SIZE`].
    pub max_queue_size: usize,
    /// Spans per export call, at most [`MAX_QUEUE_SIZE`].
    pub max_export_batch_size: usize,
    /// How long shutdown waits for the last export.
    pub export_timeout: Duration,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            schedule_delay: Duration::from_millis(5000),
            max_queue_size: 2048,
            max_export_batch_size: 512,
            export_timeout: Duration::from_millis(30_000),
        }
    }
}

/// The OTLP JSON Lines file exporter.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FileSettings {
    /// The file written to; rotated files get `.1`, `.2`, ... appended.
    pub path: PathBuf,
    /// The size at which the file is rotated.
    pub max_bytes: u64,
    /// How many rotated files are kept.
    pub max_files: usize,
}

/// Everything [`crate::Builder::init`] sets up, after precedence is applied.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// No telemetry at all (`OTEL_SDK_DISABLED=true`).
    pub disabled: bool,
    /// `service.name`.
    pub service_name: String,
    /// Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource: Vec<(String, String)>,
    /// Where spans go (several at once are allowed).
    pub traces_exporters: Vec<TracesExporter>,
    /// The OTLP span exporter.
    pub traces_otlp: OtlpSettings,
    /// The file span exporter.
    pub traces_file: FileSettings,
    /// Head sampling.
    pub sampler: Sampler,
    /// The batch worker.
    pub batch: BatchSettings,
    /// Attributes kept per span (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`).
    pub span_attribute_count_limit: usize,
    /// Events kept per span (`OTEL_SPAN_EVENT_COUNT_LIMIT`).
    pub span_event_count_limit: usize,
    /// Links kept per span (`OTEL_SPAN_LINK_COUNT_LIMIT`).
    pub span_link_count_limit: usize,
    /// Attributes kept per span event (`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`).
    pub event_attribute_count_limit: usize,
    /// Attributes kept per span link (`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`).
    pub link_attribute_count_limit: usize,
    /// The longest attribute value kept (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
    pub attribute_value_length_limit: Option<usize>,
    /// Where metrics go (several at once are allowed).
    pub metrics_exporters: Vec<MetricsExporter>,
    /// The OTLP metric exporter.
    pub metrics_otlp: OtlpSettings,
    /// How often metrics are pushed (`OTEL_METRIC_EXPORT_INTERVAL`).
    pub metric_export_interval: Duration,
    /// Where the Prometheus endpoint listens (`OTEL_EXPORTER_PROMETHEUS_HOST`, `_PORT`).
    pub prometheus_host: String,
    /// The Prometheus endpoint's port (0 picks a free one).
    pub prometheus_port: u16,
    /// Series per metric before new attribute sets share the overflow series.
    pub metric_cardinality_limit: usize,
    /// Where logs go.
    pub logs_exporters: Vec<LogsExporter>,
    /// The OTLP log exporter.
    pub logs_otlp: OtlpSettings,
    /// Which context propagators are on (`OTEL_PROPAGATORS`).
    pub propagators: Propagators,
    /// Whether GenAI content (messages, tool arguments) may be recorded where
    /// the code opts in (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`).
    pub capture_content: bool,
}

/// The endpoint OTLP uses when none is configured.
pub(crate) fn default_endpoint(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "http://localhost:4317",
        Protocol::HttpProtobuf => "http://localhost:4318",
    }
}

/// A signal's endpoint from the base endpoint: HTTP appends the signal path.
pub(crate) fn signal_endpoint(base: &str, protocol: Protocol, path: &str) -> String {
    match protocol {
        Protocol::Grpc => base.to_string(),
        Protocol::HttpProtobuf => format!("{}/{path}", base.trim_end_matches('/')),
    }
}

/// `unknown_service:<executable>`, the specification's default service name.
pub(crate) fn default_service_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    match exe {
        Some(e) => format!("unknown_service:{e}"),
        None => "unknown_service".to_string(),
    }
}
