//! The OpenTelemetry declarative configuration file (`OTEL_CONFIG_FILE`,
//! `file_format: "1.0"`), the documented subset: `disabled`, `resource`,
//! `propagator`, `attribute_limits`, `tracer_provider` (batch and simple
//! processors; OTLP gRPC/HTTP, console and file exporters; samplers),
//! `meter_provider` (periodic and pull readers; OTLP and Prometheus
//! exporters) and `logger_provider`. `${VAR}` and `${VAR:-default}` are
//! replaced from the environment before parsing.

use super::resolve::{OtlpOverrides, Settings};
use super::{FileSettings, LogsExporter, MetricsExporter, Protocol, TracesExporter};
use crate::propagation::Propagators;
use crate::setup::InitError;
use crate::trace::{Root, Sampler};
use semtel_codegen::yaml::{Node, Value};
use semtel_codegen::{Diagnostic, Location};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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

struct Reader {
    errors: Vec<Diagnostic>,
}

impl Reader {
    fn err(&mut self, loc: &Location, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(loc.clone(), msg));
    }

    fn millis(&mut self, n: &Node, key: &str) -> Option<Duration> {
        self.int(n, key).map(|ms| Duration::from_millis(ms as u64))
    }

    fn int(&mut self, n: &Node, key: &str) -> Option<i64> {
        let v = n.get(key)?;
        match v.value {
            Value::Int(i) if i >= 0 => Some(i),
            _ => {
                self.err(
                    &v.loc,
                    format!("`{key}` must be a non-negative integer, found {}", v.kind()),
                );
                None
            }
        }
    }

    fn text(&mut self, n: &Node, key: &str) -> Option<String> {
        let v = n.get(key)?;
        let t = v.scalar_text();
        if t.is_none() {
            self.err(&v.loc, format!("`{key}` must be text, found {}", v.kind()));
        }
        t
    }

    /// The one key of a single-key mapping (`{otlp_http: {...}}`).
    fn single<'a>(&mut self, n: &'a Node, what: &str) -> Option<(&'a str, &'a Node)> {
        match n.as_map() {
            Some([(k, v)]) => k.as_str().map(|k| (k, v)),
            _ => {
                self.err(
                    &n.loc,
                    format!("{what} must be a mapping with exactly one key"),
                );
                None
            }
        }
    }

    fn otlp(&mut self, n: &Node, protocol: Protocol) -> OtlpOverrides {
        let headers = n.get("headers").and_then(Node::as_seq).map(|items| {
            items
                .iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.scalar_text()?,
                        h.get("value")?.scalar_text()?,
                    ))
                })
                .collect()
        });
        let gzip = self.text(n, "compression").map(|c| c == "gzip");
        OtlpOverrides {
            endpoint: None,
            signal_endpoint: self.text(n, "endpoint"),
            protocol: Some(protocol),
            timeout: self.millis(n, "timeout"),
            headers,
            gzip,
            certificate: self
                .text(n, "certificate_file")
                .or_else(|| self.text(n, "certificate"))
                .map(PathBuf::from),
        }
    }

    fn sampler(&mut self, n: &Node) -> Option<Sampler> {
        let (kind, body) = self.single(n, "`sampler`")?;
        let ratio = |r: &mut Reader, b: &Node| {
            b.get("ratio").and_then(|v| match v.value {
                Value::Float(f) if (0.0..=1.0).contains(&f) => Some(f),
                Value::Int(i) if (0..=1).contains(&i) => Some(i as f64),
                _ => {
                    r.err(&v.loc, "`ratio` must be a number from 0 to 1");
                    None
                }
            })
        };
        Some(match kind {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "trace_id_ratio_based" => Sampler::TraceIdRatio(ratio(self, body)?),
            "parent_based" => {
                let root = match body.get("root").and_then(|r| self.single(r, "`root`")) {
                    None | Some(("always_on", _)) => Root::AlwaysOn,
                    Some(("always_off", _)) => Root::AlwaysOff,
                    Some(("trace_id_ratio_based", b)) => Root::TraceIdRatio(ratio(self, b)?),
                    Some((other, _)) => {
                        self.err(&body.loc, format!("unknown root sampler `{other}`"));
                        return None;
                    }
                };
                Sampler::ParentBased(root)
            }
            other => {
                self.err(
                    &n.loc,
                    format!("unknown sampler `{other}`; expected always_on, always_off, trace_id_ratio_based or parent_based"),
                );
                return None;
            }
        })
    }

    fn tracer(&mut self, n: &Node, s: &mut Settings) {
        let mut exporters = Vec::new();
        for p in n.get("processors").and_then(Node::as_seq).unwrap_or(&[]) {
            let Some((kind, body)) = self.single(p, "a processor") else {
                continue;
            };
            if kind == "batch" {
                s.schedule_delay = self.millis(body, "schedule_delay");
                s.export_timeout = self.millis(body, "export_timeout");
                s.max_queue_size = self.int(body, "max_queue_size").map(|v| v as usize);
                s.max_export_batch_size =
                    self.int(body, "max_export_batch_size").map(|v| v as usize);
            } else if kind != "simple" {
                self.err(
                    &p.loc,
                    format!("unknown span processor `{kind}`; expected batch or simple"),
                );
                continue;
            }
            let Some(exp) = body.get("exporter") else {
                self.err(&body.loc, "a processor needs an `exporter`");
                continue;
            };
            let Some((ek, eb)) = self.single(exp, "`exporter`") else {
                continue;
            };
            match ek {
                "otlp_http" => {
                    s.traces_otlp = self.otlp(eb, Protocol::HttpProtobuf);
                    exporters.push(TracesExporter::Otlp);
                }
                "otlp_grpc" => {
                    s.traces_otlp = self.otlp(eb, Protocol::Grpc);
                    exporters.push(TracesExporter::Otlp);
                }
                "console" => exporters.push(TracesExporter::Console),
                "otlp_file" | "otlp_file/development" => {
                    let path = self.text(eb, "output_stream").or_else(|| self.text(eb, "path"));
                    s.traces_file = path.map(|p| FileSettings {
                        path: p.trim_start_matches("file://").into(),
                        max_bytes: self.int(eb, "max_bytes").map_or(64 << 20, |v| v as u64),
                        max_files: self.int(eb, "max_files").map_or(4, |v| v as usize),
                    });
                    exporters.push(TracesExporter::File);
                }
                other => self.err(&exp.loc, format!("unknown span exporter `{other}`; expected otlp_http, otlp_grpc, console or otlp_file")),
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
        if let Some(l) = n.get("limits") {
            s.attribute_count_limit = self.int(l, "attribute_count_limit").map(|v| v as usize);
        }
    }

    fn meter(&mut self, n: &Node, s: &mut Settings) {
        let mut exporters = Vec::new();
        for r in n.get("readers").and_then(Node::as_seq).unwrap_or(&[]) {
            let Some((kind, body)) = self.single(r, "a reader") else {
                continue;
            };
            let Some(exp) = body.get("exporter") else {
                self.err(&body.loc, "a reader needs an `exporter`");
                continue;
            };
            let Some((ek, eb)) = self.single(exp, "`exporter`") else {
                continue;
            };
            match (kind, ek) {
                ("periodic", "otlp_http" | "otlp_grpc") => {
                    let p = if ek == "otlp_grpc" { Protocol::Grpc } else { Protocol::HttpProtobuf };
                    s.metrics_otlp = self.otlp(eb, p);
                    s.metric_export_interval = self.millis(body, "interval");
                    exporters.push(MetricsExporter::Otlp);
                }
                ("periodic", "console") => exporters.push(MetricsExporter::Console),
                ("pull", "prometheus" | "prometheus/development") => {
                    s.prometheus_host = self.text(eb, "host");
                    s.prometheus_port = self.int(eb, "port").map(|p| p as u16);
                    exporters.push(MetricsExporter::Prometheus);
                }
                (k, e) => self.err(&exp.loc, format!("unsupported metric reader `{k}` with exporter `{e}`; expected a periodic reader with otlp_http, otlp_grpc or console, or a pull reader with prometheus")),
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
        for p in n.get("processors").and_then(Node::as_seq).unwrap_or(&[]) {
            let Some((_, body)) = self.single(p, "a processor") else {
                continue;
            };
            let Some((ek, eb)) = body
                .get("exporter")
                .and_then(|e| self.single(e, "`exporter`"))
            else {
                continue;
            };
            match ek {
                "otlp_http" => {
                    s.logs_otlp = self.otlp(eb, Protocol::HttpProtobuf);
                    exporters.push(LogsExporter::Otlp);
                }
                "otlp_grpc" => {
                    s.logs_otlp = self.otlp(eb, Protocol::Grpc);
                    exporters.push(LogsExporter::Otlp);
                }
                "console" => exporters.push(LogsExporter::Console),
                other => self.err(&body.loc, format!("unknown log exporter `{other}`")),
            }
        }
        s.logs_exporters = Some(if exporters.is_empty() {
            vec![LogsExporter::None]
        } else {
            exporters
        });
    }

    fn settings(&mut self, root: &Node) -> Settings {
        let mut s = Settings::default();
        match root.get("file_format") {
            Some(f) if f.scalar_text().is_some_and(|v| v.starts_with('1')) => {}
            Some(f) => self.err(&f.loc, "unsupported `file_format`; expected \"1.0\""),
            None => self.err(&root.loc, "missing `file_format: \"1.0\"`"),
        }
        if let Some(d) = root.get("disabled") {
            match d.value {
                Value::Bool(b) => s.disabled = Some(b),
                _ => self.err(&d.loc, "`disabled` must be true or false"),
            }
        }
        if let Some(r) = root.get("resource") {
            let mut attrs: Vec<(String, String)> = r
                .get("attributes")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|a| {
                    Some((
                        a.get("name")?.scalar_text()?,
                        a.get("value")?.scalar_text()?,
                    ))
                })
                .collect();
            if let Some(name) = attrs
                .iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
            {
                s.service_name = Some(name);
                attrs.retain(|(k, _)| k != "service.name");
            }
            s.resource = Some(attrs);
        }
        if let Some(p) = root.get("propagator") {
            let mut props = Propagators {
                tracecontext: false,
                baggage: false,
            };
            let names: Vec<String> = match (
                p.get("composite").and_then(Node::as_seq),
                self.text(p, "composite_list"),
            ) {
                (Some(items), _) => items
                    .iter()
                    .filter_map(|i| {
                        i.as_map()
                            .and_then(|m| m.first())
                            .and_then(|(k, _)| k.as_str())
                            .map(String::from)
                    })
                    .collect(),
                (None, Some(list)) => list.split(',').map(|x| x.trim().to_string()).collect(),
                (None, None) => Vec::new(),
            };
            for n in names {
                match n.as_str() {
                    "tracecontext" => props.tracecontext = true,
                    "baggage" => props.baggage = true,
                    "none" => {}
                    other => self.err(
                        &p.loc,
                        format!(
                            "unsupported propagator `{other}`; expected tracecontext or baggage"
                        ),
                    ),
                }
            }
            s.propagators = Some(props);
        }
        if let Some(l) = root.get("attribute_limits") {
            s.attribute_value_length_limit = self
                .int(l, "attribute_value_length_limit")
                .map(|v| v as usize);
            s.attribute_count_limit = self.int(l, "attribute_count_limit").map(|v| v as usize);
        }
        if let Some(t) = root.get("tracer_provider") {
            self.tracer(t, &mut s);
        }
        if let Some(m) = root.get("meter_provider") {
            self.meter(m, &mut s);
        }
        if let Some(l) = root.get("logger_provider") {
            self.logger(l, &mut s);
        }
        s
    }
}

/// Reads the config file at `path`; every problem is reported with its line and column.
pub(crate) fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, InitError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InitError::new(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let file: Arc<Path> = Arc::from(path);
    let root = Node::parse(&substitute(&text, env), &file)
        .map_err(|d| InitError::new(format!("invalid config file: {d}")))?;
    let mut r = Reader { errors: Vec::new() };
    let settings = r.settings(&root);
    if r.errors.is_empty() {
        Ok(settings)
    } else {
        let lines: Vec<String> = r.errors.iter().map(|d| d.to_string()).collect();
        Err(InitError::new(format!(
            "invalid config file:\n{}",
            lines.join("\n")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_uses_env_and_defaults() {
        let env = |k: &str| (k == "HOST").then(|| "collector".to_string());
        assert_eq!(
            substitute("a: ${HOST}:${PORT:-4317} ${NONE}", &env),
            "a: collector:4317 "
        );
    }

    fn parse(text: &str) -> Result<Settings, InitError> {
        let dir = std::env::temp_dir().join(format!(
            "semtel-cfg-{}-{:?}.yaml",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&dir, text).unwrap();
        let r = load(&dir, &|k| {
            (k == "ENDPOINT").then(|| "http://c:4318/v1/traces".to_string())
        });
        let _ = std::fs::remove_file(&dir);
        r
    }

    #[test]
    fn a_full_file_maps_to_settings() {
        let s = parse(
            r#"file_format: "1.0"
resource:
  attributes:
    - name: service.name
      value: agent-service
    - name: deployment.environment
      value: prod
propagator:
  composite: [{tracecontext: }, {baggage: }]
tracer_provider:
  processors:
    - batch:
        schedule_delay: 200
        exporter:
          otlp_http:
            endpoint: ${ENDPOINT}
            headers: [{name: authorization, value: "Bearer x"}]
            compression: gzip
  sampler:
    parent_based:
      root:
        trace_id_ratio_based: {ratio: 0.25}
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development: {host: 127.0.0.1, port: 9999}
logger_provider:
  processors:
    - batch: {exporter: {console: {}}}
"#,
        )
        .unwrap();
        assert_eq!(s.service_name.as_deref(), Some("agent-service"));
        assert_eq!(
            s.resource,
            Some(vec![("deployment.environment".into(), "prod".into())])
        );
        assert_eq!(
            s.traces_otlp.signal_endpoint.as_deref(),
            Some("http://c:4318/v1/traces")
        );
        assert_eq!(
            s.traces_otlp.headers,
            Some(vec![("authorization".into(), "Bearer x".into())])
        );
        assert_eq!(s.traces_otlp.gzip, Some(true));
        assert_eq!(s.schedule_delay, Some(Duration::from_millis(200)));
        assert_eq!(
            s.sampler,
            Some(Sampler::ParentBased(Root::TraceIdRatio(0.25)))
        );
        assert_eq!(s.metrics_exporters, Some(vec![MetricsExporter::Prometheus]));
        assert_eq!(s.prometheus_port, Some(9999));
        assert_eq!(s.logs_exporters, Some(vec![LogsExporter::Console]));
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let e = parse("file_format: \"1.0\"\ntracer_provider:\n  sampler:\n    sometimes: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(".yaml:4:5: unknown sampler `sometimes`"), "{e}");
        let e = parse("file_format: \"1.0\"\ndisabled: [\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid config file:") && e.contains("YAML syntax"),
            "{e}"
        );
        let e = load(Path::new("/nonexistent/semtel.yaml"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cannot read the config file /nonexistent/semtel.yaml"),
            "{e}"
        );
    }
}
