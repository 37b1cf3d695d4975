//! The OpenTelemetry declarative configuration file (`OTEL_CONFIG_FILE`,
//! `file_format: "1.0"`), the documented subset: `disabled`, `resource`,
//! `propagator`, `attribute_limits`, `tracer_provider` (batch and simple
//! processors; OTLP gRPC/HTTP, console and file exporters; samplers),
//! `meter_provider` (periodic and pull readers; OTLP and Prometheus
//! exporters) and `logger_provider`. `${VAR}` and `${VAR:-default}` are
//! replaced from the environment before parsing. A value of the wrong type or
//! out of range is an error with file, line and column; an unknown key is a
//! warning naming the likely intended key.

use super::EnvSource;
use super::file_reader::Reader;
use super::resolve::{OtlpOverrides, Settings};
use super::{
    FileSettings, LogsExporter, MAX_QUEUE_SIZE, MetricsExporter, Protocol, TracesExporter,
};
use crate::error::InitError;
use crate::propagation::Propagators;
use crate::trace::{Root, Sampler};
use semtel_yaml::{Location, Node};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Replaces `${VAR}` and `${VAR:-default}`; an unset variable without a
/// default becomes empty.
fn substitute(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &rest[start + 2..start + end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let value = env(name.trim())
            .filter(|v| !v.is_empty())
            .or(default.map(String::from));
        out.push_str(&value.unwrap_or_default());
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The keys of the file's top level.
const TOP: &[&str] = &[
    "file_format",
    "disabled",
    "resource",
    "propagator",
    "attribute_limits",
    "tracer_provider",
    "meter_provider",
    "logger_provider",
];

/// The keys of an OTLP exporter.
const OTLP: &[&str] = &[
    "endpoint",
    "headers",
    "compression",
    "timeout",
    "certificate_file",
    "certificate",
];

/// The keys of the span batch processor.
const BATCH: &[&str] = &[
    "schedule_delay",
    "export_timeout",
    "max_queue_size",
    "max_export_batch_size",
    "exporter",
];

const SPAN_EXPORTERS: &[&str] = &[
    "otlp_http",
    "otlp_grpc",
    "console",
    "otlp_file",
    "otlp_file/development",
];
const SAMPLERS: &[&str] = &[
    "always_on",
    "always_off",
    "trace_id_ratio_based",
    "parent_based",
];
const ROOT_SAMPLERS: &[&str] = &["always_on", "always_off", "trace_id_ratio_based"];

impl Reader {
    fn otlp(&mut self, n: &Node, protocol: Protocol) -> OtlpOverrides {
        self.mapping(n, "the OTLP exporter", OTLP);
        let endpoint = self.text(n, "endpoint");
        if let (Some(url), Some(node)) = (&endpoint, n.get("endpoint")) {
            if let Err(why) = super::validate::endpoint(url) {
                self.err(
                    &node.loc,
                    format!("invalid `endpoint` {}: {why}", super::quoted(url)),
                );
            }
        }
        let headers = n.get("headers").map(|h| {
            let pairs = self.pairs(n, "headers");
            for (k, v) in &pairs {
                if let Err(why) = super::validate::header(k, v) {
                    self.err(&h.loc, format!("invalid header: {why}"));
                }
            }
            pairs
        });
        let gzip = self.text(n, "compression").and_then(|c| match c.as_str() {
            "gzip" => Some(true),
            "none" => Some(false),
            _ => {
                let loc = n.get("compression").map(|c| c.loc.clone());
                if let Some(loc) = loc {
                    self.err(&loc, "`compression` must be gzip or none");
                }
                None
            }
        });
        OtlpOverrides {
            endpoint: None,
            signal_endpoint: endpoint,
            protocol: Some(protocol),
            timeout: self.millis(n, "timeout", 0),
            headers,
            gzip,
            certificate: self
                .text(n, "certificate_file")
                .or_else(|| self.text(n, "certificate"))
                .map(PathBuf::from),
        }
    }

    fn sampler(&mut self, n: &Node) -> Option<Sampler> {
        let (kind, body) = self.choice(n, "sampler", SAMPLERS)?;
        let known: &[&str] = match kind {
            "trace_id_ratio_based" => &["ratio"],
            "parent_based" => &["root"],
            _ => &[],
        };
        self.mapping(body, &format!("`{kind}`"), known)?;
        Some(match kind {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "trace_id_ratio_based" => {
                Sampler::TraceIdRatio(self.ratio(body, "ratio").unwrap_or(1.0))
            }
            _ => Sampler::ParentBased(match body.get("root") {
                None => Root::AlwaysOn,
                Some(r) => match self.choice(r, "root sampler", ROOT_SAMPLERS)? {
                    ("always_off", _) => Root::AlwaysOff,
                    ("trace_id_ratio_based", b) => {
                        self.mapping(b, "`trace_id_ratio_based`", &["ratio"])?;
                        Root::TraceIdRatio(self.ratio(b, "ratio").unwrap_or(1.0))
                    }
                    _ => Root::AlwaysOn,
                },
            }),
        })
    }

    fn tracer(&mut self, n: &Node, s: &mut Settings) {
        let mut exporters = Vec::new();
        for p in self.list(n, "processors") {
            let Some((kind, body)) = self.choice(p, "span processor", &["batch", "simple"]) else {
                continue;
            };
            let known = if kind == "batch" {
                BATCH
            } else {
                &["exporter"]
            };
            if self
                .mapping(body, &format!("the {kind} processor"), known)
                .is_none()
            {
                continue;
            }
            if kind == "batch" {
                s.schedule_delay = self.millis(body, "schedule_delay", 0);
                s.export_timeout = self.millis(body, "export_timeout", 0);
                s.max_queue_size = self.count(body, "max_queue_size", 1, MAX_QUEUE_SIZE);
                s.max_export_batch_size =
                    self.count(body, "max_export_batch_size", 1, MAX_QUEUE_SIZE);
            }
            let Some(exp) = body.get("exporter") else {
                self.err(&body.loc, "a processor needs an `exporter`");
                continue;
            };
            let Some((ek, eb)) = self.choice(exp, "span exporter", SPAN_EXPORTERS) else {
                continue;
            };
            match ek {
                "otlp_http" | "otlp_grpc" => {
                    s.traces_otlp = self.otlp(eb, protocol(ek));
                    exporters.push(TracesExporter::Otlp);
                }
                "console" => {
                    self.mapping(eb, "`console`", &[]);
                    exporters.push(TracesExporter::Console);
                }
                _ => {
                    let known = ["output_stream", "path", "max_bytes", "max_files"];
                    self.mapping(eb, &format!("`{ek}`"), &known);
                    let path = self
                        .text(eb, "output_stream")
                        .or_else(|| self.text(eb, "path"));
                    let max_bytes = self.int(eb, "max_bytes", 1, i64::MAX);
                    let max_files = self.count(eb, "max_files", 0, usize::MAX);
                    s.traces_file = path.map(|p| FileSettings {
                        path: p.trim_start_matches("file://").into(),
                        max_bytes: max_bytes.map_or(64 << 20, i64::unsigned_abs),
                        max_files: max_files.unwrap_or(4),
                    });
                    exporters.push(TracesExporter::File);
                }
            }
        }
        s.traces_exporters = Some(if exporters.is_empty() {
            vec![TracesExporter::None]
        } else {
            exporters
        });
        if let Some(smp) = n.get("sampler") {
            s.sampler = self.sampler(smp);
        }
        if let Some(l) = self.section(n, "limits", SPAN_LIMITS) {
            self.limits(l, s);
            self.span_limits(l, s);
        }
    }

    fn limits(&mut self, l: &Node, s: &mut Settings) {
        if let Some(v) = self.count(l, "attribute_value_length_limit", 0, usize::MAX) {
            s.attribute_value_length_limit = Some(v);
        }
        if let Some(c) = self.count(l, "attribute_count_limit", 0, usize::MAX) {
            s.attribute_count_limit = Some(c);
            // The general limit applies to events and links too, unless a
            // tracer provider's limits say otherwise.
            s.event_attribute_count_limit = Some(c);
            s.link_attribute_count_limit = Some(c);
        }
    }

    fn span_limits(&mut self, l: &Node, s: &mut Settings) {
        let fields = [
            ("event_count_limit", &mut s.span_event_count_limit),
            ("link_count_limit", &mut s.span_link_count_limit),
            (
                "event_attribute_count_limit",
                &mut s.event_attribute_count_limit,
            ),
            (
                "link_attribute_count_limit",
                &mut s.link_attribute_count_limit,
            ),
        ];
        for (key, field) in fields {
            if let Some(c) = self.count(l, key, 0, usize::MAX) {
                *field = Some(c);
            }
        }
    }

    fn meter(&mut self, n: &Node, s: &mut Settings) {
        let mut exporters = Vec::new();
        for r in self.list(n, "readers") {
            let Some((kind, body)) = self.choice(r, "metric reader", &["periodic", "pull"]) else {
                continue;
            };
            let known: &[&str] = if kind == "periodic" {
                &["interval", "exporter"]
            } else {
                &["exporter"]
            };
            if self
                .mapping(body, &format!("the {kind} reader"), known)
                .is_none()
            {
                continue;
            }
            let Some(exp) = body.get("exporter") else {
                self.err(&body.loc, "a reader needs an `exporter`");
                continue;
            };
            let kinds: &[&str] = if kind == "periodic" {
                &["otlp_http", "otlp_grpc", "console"]
            } else {
                &["prometheus", "prometheus/development"]
            };
            let what = format!("metric exporter for a {kind} reader");
            let Some((ek, eb)) = self.choice(exp, &what, kinds) else {
                continue;
            };
            match ek {
                "otlp_http" | "otlp_grpc" => {
                    s.metrics_otlp = self.otlp(eb, protocol(ek));
                    s.metric_export_interval = self.millis(body, "interval", 1);
                    exporters.push(MetricsExporter::Otlp);
                }
                "console" => {
                    self.mapping(eb, "`console`", &[]);
                    exporters.push(MetricsExporter::Console);
                }
                _ => {
                    self.mapping(eb, &format!("`{ek}`"), &["host", "port"]);
                    s.prometheus_host = self.text(eb, "host");
                    s.prometheus_port = self.int(eb, "port", 0, 65535).map(|p| p as u16);
                    exporters.push(MetricsExporter::Prometheus);
                }
            }
        }
        s.metrics_exporters = Some(if exporters.is_empty() {
            vec![MetricsExporter::None]
        } else {
            exporters
        });
    }

    fn logger(&mut self, n: &Node, s: &mut Settings) {
        let mut exporters = Vec::new();
        for p in self.list(n, "processors") {
            let Some((kind, body)) = self.choice(p, "log processor", &["batch", "simple"]) else {
                continue;
            };
            if self
                .mapping(body, &format!("the {kind} log processor"), &["exporter"])
                .is_none()
            {
                continue;
            }
            let Some(exp) = body.get("exporter") else {
                self.err(&body.loc, "a processor needs an `exporter`");
                continue;
            };
            let kinds = &["otlp_http", "otlp_grpc", "console"];
            let Some((ek, eb)) = self.choice(exp, "log exporter", kinds) else {
                continue;
            };
            if ek == "console" {
                self.mapping(eb, "`console`", &[]);
                exporters.push(LogsExporter::Console);
            } else {
                s.logs_otlp = self.otlp(eb, protocol(ek));
                exporters.push(LogsExporter::Otlp);
            }
        }
        s.logs_exporters = Some(if exporters.is_empty() {
            vec![LogsExporter::None]
        } else {
            exporters
        });
    }

    fn propagators(&mut self, p: &Node) -> Propagators {
        let mut props = Propagators {
            tracecontext: false,
            baggage: false,
        };
        let mut names: Vec<(String, Location)> = Vec::new();
        for item in self.list(p, "composite") {
            match item.as_map() {
                Some([(k, _)]) => names.push((k.scalar_text().unwrap_or_default(), k.loc.clone())),
                _ => self.err(
                    &item.loc,
                    "an entry of `composite` must be a mapping with one key (`tracecontext:`)",
                ),
            }
        }
        if let Some(list) = self.text(p, "composite_list") {
            let loc = p
                .get("composite_list")
                .map_or(p.loc.clone(), |n| n.loc.clone());
            names.extend(list.split(',').map(|x| (x.trim().to_string(), loc.clone())));
        }
        for (name, loc) in names {
            match name.as_str() {
                "tracecontext" => props.tracecontext = true,
                "baggage" => props.baggage = true,
                "none" => {}
                other => self.err(
                    &loc,
                    format!(
                        "unsupported propagator `{}`; expected tracecontext, baggage or none",
                        super::shown(other)
                    ),
                ),
            }
        }
        props
    }

    fn settings(&mut self, root: &Node) -> Settings {
        let mut s = Settings::default();
        if self.mapping(root, "the file's top level", TOP).is_none() {
            return s;
        }
        match root.get("file_format") {
            Some(f) if f.scalar_text().is_some_and(|v| v.starts_with('1')) => {}
            Some(f) => self.err(&f.loc, "unsupported `file_format`; expected \"1.0\""),
            None => self.err(&root.loc, "missing `file_format: \"1.0\"`"),
        }
        s.disabled = self.bool(root, "disabled");
        if let Some(r) = self.section(root, "resource", &["attributes"]) {
            let mut attrs = self.pairs(r, "attributes");
            if let Some(i) = attrs.iter().rposition(|(k, _)| k == "service.name") {
                s.service_name = Some(attrs[i].1.clone());
                attrs.retain(|(k, _)| k != "service.name");
            }
            s.resource = Some(attrs);
        }
        if let Some(p) = self.section(root, "propagator", &["composite", "composite_list"]) {
            s.propagators = Some(self.propagators(p));
        }
        if let Some(l) = self.section(root, "attribute_limits", LIMITS) {
            self.limits(l, &mut s);
        }
        let providers = [
            ("tracer_provider", &["processors", "sampler", "limits"][..]),
            ("meter_provider", &["readers"]),
            ("logger_provider", &["processors"]),
        ];
        for (key, known) in providers {
            if let Some(n) = self.section(root, key, known) {
                match key {
                    "tracer_provider" => self.tracer(n, &mut s),
                    "meter_provider" => self.meter(n, &mut s),
                    _ => self.logger(n, &mut s),
                }
            }
        }
        s
    }
}

/// The keys of `attribute_limits` (and of a tracer provider's `limits`).
const LIMITS: &[&str] = &["attribute_value_length_limit", "attribute_count_limit"];

/// The keys of a tracer provider's `limits`.
const SPAN_LIMITS: &[&str] = &[
    "attribute_value_length_limit",
    "attribute_count_limit",
    "event_count_limit",
    "link_count_limit",
    "event_attribute_count_limit",
    "link_attribute_count_limit",
];

fn protocol(exporter: &str) -> Protocol {
    if exporter == "otlp_grpc" {
        Protocol::Grpc
    } else {
        Protocol::HttpProtobuf
    }
}

/// Reads config-file `text` (`file` labels locations); `${VAR}` is looked up
/// with `env`. The settings and the warnings (unknown keys), or every error.
pub(crate) fn parse(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Settings, Vec<String>), String> {
    let file: Arc<Path> = Arc::from(file);
    let root = Node::parse(&substitute(text, env), &file)
        .map_err(|d| format!("invalid config file:\n{d}"))?;
    let mut r = Reader::default();
    let settings = r.settings(&root);
    if r.errors.is_empty() {
        Ok((settings, r.warnings.iter().map(|w| w.to_string()).collect()))
    } else {
        let lines: Vec<String> = r.errors.iter().map(|d| d.to_string()).collect();
        Err(format!("invalid config file:\n{}", lines.join("\n")))
    }
}

/// Reads the config file at `path`: every problem is reported with its line
/// and column; warnings join `env`'s.
pub(crate) fn load(path: &Path, env: &mut EnvSource<'_>) -> Result<Settings, InitError> {
    let text = std::fs::read_to_string(path).map_err(|e| InitError::unreadable(path, e))?;
    let (settings, warnings) =
        parse(&text, path, &|k| env.raw(k)).map_err(|e| InitError::invalid(path, e))?;
    env.warnings.extend(warnings);
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_uses_env_and_defaults() {
        let env = |k: &str| (k == "HOST").then(|| "collector".to_string());
        assert_eq!(
            substitute("a: ${HOST}:${PORT:-4317} ${NONE} ${open", &env),
            "a: collector:4317  ${open"
        );
    }
}
