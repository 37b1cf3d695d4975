//! Golden Armada's telemetry configuration (its own JSON format, with the
//! `prometheus`, `json` and `opentelemetry` sections) mapped onto semtel's
//! builder: a program keeps its settings and hands them over.

use semtel::{Builder, LogsExporter, MetricsExporter, Protocol, TracesExporter};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The seed's defaults: Prometheus on 9090, hourly JSON files (24 kept),
/// OTLP/HTTP to a local collector.
const DEFAULT: &str = r#"{
  "prometheus": {"enabled": true, "port": 9090, "path": "/metrics"},
  "json": {"enabled": true, "outputDir": "telemetry/exports", "rotateInterval": 3600000, "maxFiles": 24},
  "opentelemetry": {"enabled": true, "endpoint": "http://localhost:4318/v1/metrics", "protocol": "http"}
}"#;

/// Reads the file named by `GOLDEN_ARMADA_TELEMETRY`, else the defaults.
pub fn load() -> Value {
    let text = match std::env::var_os("GOLDEN_ARMADA_TELEMETRY") {
        Some(p) => std::fs::read_to_string(&p).unwrap_or_else(|e| {
            eprintln!(
                "golden_armada: cannot read {}: {e}; using the defaults",
                Path::new(&p).display()
            );
            DEFAULT.to_string()
        }),
        None => DEFAULT.to_string(),
    };
    serde_json::from_str(&text).unwrap_or_else(|e| {
        eprintln!(
            "golden_armada: the telemetry configuration is not JSON ({e}); using the defaults"
        );
        serde_json::from_str(DEFAULT).expect("the defaults are JSON")
    })
}

fn on(section: &Value) -> bool {
    section["enabled"].as_bool().unwrap_or(false)
}

/// The builder for one process: `role` names its span file
/// (`<outputDir>/<role>.jsonl`, one writer per file); only the coordinator
/// (`serve_metrics`) serves the Prometheus endpoint.
pub fn builder(cfg: &Value, role: &str, serve_metrics: bool) -> Builder {
    let mut b = semtel::builder()
        .service_name("golden-armada")
        .resource_attribute("service.instance.id", role)
        .logs_exporter(LogsExporter::None);
    let mut traces = Vec::new();
    let mut metrics = Vec::new();
    let json = &cfg["json"];
    if on(json) {
        let dir = PathBuf::from(json["outputDir"].as_str().unwrap_or("telemetry/exports"));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("golden_armada: cannot create {}: {e}", dir.display());
        }
        let max_files = json["maxFiles"].as_u64().unwrap_or(24) as usize;
        b = b.traces_file(dir.join(format!("{role}.jsonl")), 64 << 20, max_files);
        if let Some(ms) = json["rotateInterval"].as_u64() {
            b = b.traces_file_rotate_interval(Duration::from_millis(ms));
        }
        traces.push(TracesExporter::File);
    }
    let otel = &cfg["opentelemetry"];
    if on(otel) {
        // The seed names the metrics URL; semtel takes the base and appends
        // each signal's path, so spans go to the same collector.
        let url = otel["endpoint"].as_str().unwrap_or("http://localhost:4318");
        let base = url
            .trim_end_matches("/v1/metrics")
            .trim_end_matches("/v1/traces");
        b = b
            .otlp_endpoint(base)
            .otlp_protocol(match otel["protocol"].as_str() {
                Some("grpc") => Protocol::Grpc,
                _ => Protocol::HttpProtobuf,
            });
        if let Some(headers) = otel["headers"].as_object() {
            for (k, v) in headers {
                b = b.otlp_header(k.to_ascii_lowercase(), v.as_str().unwrap_or_default());
            }
        }
        traces.push(TracesExporter::Otlp);
        metrics.push(MetricsExporter::Otlp);
    }
    let prom = &cfg["prometheus"];
    if serve_metrics && on(prom) {
        if prom["path"].as_str().is_some_and(|p| p != "/metrics") {
            eprintln!("golden_armada: the Prometheus endpoint is served at /metrics");
        }
        let port = prom["port"].as_u64().and_then(|p| u16::try_from(p).ok());
        b = b
            .prometheus_host("127.0.0.1")
            .prometheus_port(port.unwrap_or(9090));
        metrics.push(MetricsExporter::Prometheus);
    }
    if traces.is_empty() {
        traces.push(TracesExporter::None);
    }
    if metrics.is_empty() {
        metrics.push(MetricsExporter::None);
    }
    b.traces_exporters(traces).metrics_exporters(metrics)
}
