//! The seed's `NewProvider`, on semtel: the resource (`service.name`,
//! `service.version`, `deployment.environment`), a parent-based 10% sampler,
//! W3C trace context and baggage, metrics for the service's own `/metrics`
//! route, and JSON log lines with `trace_id`/`span_id` (the seed's zap
//! logger). `OTEL_*` variables still choose the exporters and endpoints, and
//! `OTEL_TRACES_SAMPLER` overrides the sampler.

use semtel::trace::{Root, Sampler};
use semtel::{LogsExporter, MetricsExporter, Telemetry};

/// The service's settings, read from its environment as the seed does.
pub struct Config {
    /// `service.name`.
    pub service_name: String,
    /// `deployment.environment` (`ENVIRONMENT`).
    pub environment: String,
    /// The Phoenix project the LLM spans land in (`openinference.project.name`).
    pub project: String,
}

impl Config {
    /// From `ENVIRONMENT` and `AGENTSTACK_PHOENIX_PROJECT`.
    pub fn from_env() -> Config {
        Config {
            service_name: "agentstack-api".into(),
            environment: std::env::var("ENVIRONMENT").unwrap_or_else(|_| "development".into()),
            project: std::env::var("AGENTSTACK_PHOENIX_PROJECT")
                .unwrap_or_else(|_| "agentstack".into()),
        }
    }
}

/// Installs telemetry; the guard serves `/metrics` and flushes on drop.
pub fn init(cfg: &Config) -> Result<Telemetry, semtel::InitError> {
    semtel::builder()
        .service_name(cfg.service_name.clone())
        .resource_attribute("service.version", env!("CARGO_PKG_VERSION"))
        .resource_attribute("deployment.environment", cfg.environment.clone())
        .resource_attribute("openinference.project.name", cfg.project.clone())
        .default_sampler(Sampler::ParentBased(Root::TraceIdRatio(0.1)))
        .default_metrics_exporter(MetricsExporter::None)
        .default_logs_exporter(LogsExporter::Console)
        .metrics_endpoint_in_program(true)
        .tracing_subscriber(true)
        .init()
}
