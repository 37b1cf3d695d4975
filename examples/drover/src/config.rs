//! Drover's own telemetry settings, mapped onto semtel's builder.
//!
//! Drover is configured the way it always was: `DROVER_OTEL_*` variables
//! over the `telemetry:` section of `~/.drover/config.yaml` over defaults.
//! [`Settings::builder`] turns the result into a [`semtel::Builder`]: what
//! Drover configures is set in code, everything else (exporters, batch
//! sizes, ...) still follows the standard `OTEL_*` variables.
//!
//! ```yaml
//! telemetry:
//!   enabled: true
//!   endpoint: "localhost:4317"
//!   environment: "production"
//!   sampling: 0.1
//!   service:
//!     name: "drover"
//!     version: "0.3.0"
//!   tls:
//!     enabled: true
//!     ca_file: /etc/drover/collector-ca.pem
//! ```

use semtel::trace::{Root, Sampler};
use semtel_yaml::{Node, Value, suggest};
use std::path::{Path, PathBuf};

/// Drover's telemetry settings after precedence is applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Whether telemetry is on (`DROVER_OTEL_ENABLED`, `telemetry.enabled`; default off).
    pub enabled: bool,
    /// The collector's OTLP/gRPC address, `host:port` or a URL
    /// (`DROVER_OTEL_ENDPOINT`, `telemetry.endpoint`; default `localhost:4317`).
    pub endpoint: String,
    /// The deployment environment (`DROVER_ENV`, `telemetry.environment`; default `development`).
    pub environment: String,
    /// The share of traces kept, 0 to 1 (`DROVER_OTEL_SAMPLING`, `telemetry.sampling`; default 1).
    pub sampling: f64,
    /// `service.name` (`telemetry.service.name`; default `drover`).
    pub service_name: String,
    /// `service.version` (`telemetry.service.version`; default this crate's version).
    pub service_version: String,
    /// Whether the collector is reached over TLS (`telemetry.tls.enabled`).
    pub tls: bool,
    /// The CA certificate that signs the collector's (`telemetry.tls.ca_file`;
    /// default the system's roots).
    pub ca_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: false,
            endpoint: "localhost:4317".into(),
            environment: "development".into(),
            sampling: 1.0,
            service_name: "drover".into(),
            service_version: env!("CARGO_PKG_VERSION").into(),
            tls: false,
            ca_file: None,
        }
    }
}

const TELEMETRY_KEYS: &[&str] = &[
    "enabled",
    "endpoint",
    "environment",
    "sampling",
    "service",
    "tls",
];
const SERVICE_KEYS: &[&str] = &["name", "version"];
const TLS_KEYS: &[&str] = &["enabled", "insecure_skip_verify", "ca_file"];

impl Settings {
    /// The settings from `file` (when given) and then the variables `env`
    /// reads. A value that cannot be used is a warning naming it and what
    /// applies instead; only a file that cannot be read or parsed is an error.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<Settings, String> {
        let mut s = Settings::default();
        if let Some(path) = file {
            let root = semtel_yaml::load_file(path).map_err(|d| d.to_string())?;
            if let Some(t) = root.get("telemetry") {
                s.apply_file(t, warnings);
            }
        }
        s.apply_env(env, warnings);
        Ok(s)
    }

    fn apply_file(&mut self, t: &Node, warnings: &mut Vec<String>) {
        check_keys(t, "telemetry", TELEMETRY_KEYS, warnings);
        if let Some(v) = t.get("enabled") {
            self.enabled = boolean(v, "telemetry.enabled", warnings).unwrap_or(self.enabled);
        }
        if let Some(v) = t.get("endpoint") {
            self.endpoint =
                string(v, "telemetry.endpoint", warnings).unwrap_or(self.endpoint.clone());
        }
        if let Some(v) = t.get("environment") {
            self.environment =
                string(v, "telemetry.environment", warnings).unwrap_or(self.environment.clone());
        }
        if let Some(v) = t.get("sampling") {
            let n = match v.value {
                Value::Int(i) => Some(i as f64),
                Value::Float(f) => Some(f),
                _ => None,
            };
            match n.filter(|r| (0.0..=1.0).contains(r)) {
                Some(r) => self.sampling = r,
                None => warnings.push(format!(
                    "{}: telemetry.sampling must be a number from 0 to 1, not {}; using {}",
                    v.loc,
                    v.scalar_text().unwrap_or_else(|| v.kind().into()),
                    self.sampling
                )),
            }
        }
        if let Some(svc) = t.get("service") {
            check_keys(svc, "telemetry.service", SERVICE_KEYS, warnings);
            if let Some(v) = svc.get("name") {
                self.service_name = string(v, "telemetry.service.name", warnings)
                    .unwrap_or(self.service_name.clone());
            }
            if let Some(v) = svc.get("version") {
                self.service_version = string(v, "telemetry.service.version", warnings)
                    .unwrap_or(self.service_version.clone());
            }
        }
        if let Some(tls) = t.get("tls") {
            check_keys(tls, "telemetry.tls", TLS_KEYS, warnings);
            if let Some(v) = tls.get("enabled") {
                self.tls = boolean(v, "telemetry.tls.enabled", warnings).unwrap_or(self.tls);
            }
            if let Some(v) = tls.get("ca_file") {
                self.ca_file = string(v, "telemetry.tls.ca_file", warnings).map(PathBuf::from);
            }
            if let Some(v) = tls.get("insecure_skip_verify")
                && v.value == Value::Bool(true)
            {
                warnings.push(format!(
                    "{}: telemetry.tls.insecure_skip_verify is not supported: the collector's \
                     certificate is always verified (name its CA with telemetry.tls.ca_file)",
                    v.loc
                ));
            }
        }
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>, warnings: &mut Vec<String>) {
        if let Some(v) = env("DROVER_OTEL_ENABLED") {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => self.enabled = true,
                "false" | "0" | "" => self.enabled = false,
                _ => warnings.push(format!(
                    "DROVER_OTEL_ENABLED={} is not true or false; telemetry stays {}",
                    cut(&v),
                    if self.enabled { "on" } else { "off" }
                )),
            }
        }
        if let Some(v) = env("DROVER_OTEL_ENDPOINT").filter(|v| !v.trim().is_empty()) {
            self.endpoint = v.trim().to_string();
        }
        if let Some(v) = env("DROVER_ENV").filter(|v| !v.trim().is_empty()) {
            self.environment = v.trim().to_string();
        }
        if let Some(v) = env("DROVER_OTEL_SAMPLING") {
            match v.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => self.sampling = r,
                _ => warnings.push(format!(
                    "DROVER_OTEL_SAMPLING={} is not a number from 0 to 1; using {}",
                    cut(&v),
                    self.sampling
                )),
            }
        }
    }

    /// The collector URL: `host:port` gets `http://` (`https://` with TLS).
    pub fn endpoint_url(&self) -> String {
        if self.endpoint.contains("://") {
            self.endpoint.clone()
        } else {
            let scheme = if self.tls { "https" } else { "http" };
            format!("{scheme}://{}", self.endpoint)
        }
    }

    /// The semtel builder for these settings, or `None` when telemetry is
    /// off (then nothing is installed and instrumented code costs an atomic
    /// load per call). OTLP over gRPC to the endpoint, the sampling ratio
    /// for new traces (a parent's decision is kept), the service and the
    /// environment as resource attributes; exporters and the rest follow
    /// the `OTEL_*` variables.
    pub fn builder(&self) -> Option<semtel::Builder> {
        if !self.enabled {
            return None;
        }
        let sampler = if self.sampling >= 1.0 {
            Sampler::ParentBased(Root::AlwaysOn)
        } else {
            Sampler::ParentBased(Root::TraceIdRatio(self.sampling))
        };
        let mut b = semtel::builder()
            .service_name(self.service_name.clone())
            .otlp_endpoint(self.endpoint_url())
            .otlp_protocol(semtel::Protocol::Grpc)
            .sampler(sampler)
            // Below the environment: `OTEL_RESOURCE_ATTRIBUTES`, when set, replaces these.
            .default_resource_attribute("service.version", self.service_version.clone())
            .default_resource_attribute("deployment.environment.name", self.environment.clone());
        if let Some(ca) = &self.ca_file {
            b = b.otlp_certificate(ca);
        }
        Some(b)
    }
}

fn check_keys(node: &Node, section: &str, known: &[&str], warnings: &mut Vec<String>) {
    let Some(map) = node.as_map() else {
        warnings.push(format!(
            "{}: {section} must be a mapping, not {}; ignored",
            node.loc,
            node.kind()
        ));
        return;
    };
    for (k, _) in map {
        let key = k.scalar_text().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            warnings.push(format!(
                "{}: unknown key {section}.{key}{}; ignored",
                k.loc,
                suggest::did_you_mean(&key, known.iter().copied())
            ));
        }
    }
}

fn boolean(v: &Node, what: &str, warnings: &mut Vec<String>) -> Option<bool> {
    match v.value {
        Value::Bool(b) => Some(b),
        _ => {
            warnings.push(format!(
                "{}: {what} must be true or false, not {}",
                v.loc,
                v.kind()
            ));
            None
        }
    }
}

fn string(v: &Node, what: &str, warnings: &mut Vec<String>) -> Option<String> {
    match &v.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(_) | Value::Float(_) => v.scalar_text(),
        _ => {
            warnings.push(format!("{}: {what} must be text, not {}", v.loc, v.kind()));
            None
        }
    }
}

/// A value echoed in a warning, cut to 60 characters.
fn cut(v: &str) -> String {
    match v.char_indices().nth(60) {
        Some((i, _)) => format!("{:?}...", &v[..i]),
        None => format!("{v:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use std::collections::HashMap;

    /// The settings from `yaml` (written to a file named after the test) and `env`.
    fn load(yaml: Option<(&str, &str)>, env: &[(&str, &str)]) -> (Settings, Vec<String>) {
        let file = yaml.map(|(test, y)| {
            let p = std::env::temp_dir()
                .join(format!("drover-config-{}-{test}.yaml", std::process::id()));
            std::fs::write(&p, y).unwrap();
            p
        });
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut warnings = Vec::new();
        let s = Settings::load(file.as_deref(), |k| env.get(k).cloned(), &mut warnings).unwrap();
        if let Some(f) = file {
            let _ = std::fs::remove_file(f);
        }
        (s, warnings)
    }

    #[test]
    fn defaults_are_the_seeds_and_telemetry_is_off() {
        let (s, w) = load(None, &[]);
        assert!(w.is_empty());
        assert!(!s.enabled);
        assert!(s.builder().is_none());
        assert_eq!(s.endpoint_url(), "http://localhost:4317");
        assert_eq!((s.environment.as_str(), s.sampling), ("development", 1.0));
    }

    #[test]
    fn variables_win_over_the_file() {
        let yaml = "telemetry:\n  enabled: false\n  endpoint: \"prod-collector:4317\"\n  environment: production\n  sampling: 0.1\n  service:\n    name: drover\n    version: \"0.3.0\"\n  tls:\n    enabled: true\n";
        let (s, w) = load(
            Some(("precedence", yaml)),
            &[
                ("DROVER_OTEL_ENABLED", "true"),
                ("DROVER_OTEL_SAMPLING", "0.5"),
            ],
        );
        assert!(w.is_empty(), "{w:?}");
        assert!(s.enabled && s.builder().is_some());
        assert_eq!(s.endpoint_url(), "https://prod-collector:4317");
        assert_eq!((s.environment.as_str(), s.sampling), ("production", 0.5));
        assert_eq!(s.service_version, "0.3.0");
    }

    #[test]
    fn bad_values_are_warnings_naming_them() {
        let yaml =
            "telemetry:\n  sampling: 2\n  endpiont: x\n  tls:\n    insecure_skip_verify: true\n";
        let (s, w) = load(
            Some(("warnings", yaml)),
            &[
                ("DROVER_OTEL_SAMPLING", "ten percent"),
                ("DROVER_OTEL_ENABLED", "yes"),
            ],
        );
        assert_eq!(s.sampling, 1.0);
        assert!(!s.enabled);
        let all = w.join("\n");
        for part in [
            ":2:13: telemetry.sampling must be a number from 0 to 1, not 2",
            "unknown key telemetry.endpiont; did you mean `endpoint`?",
            "insecure_skip_verify is not supported",
            "DROVER_OTEL_SAMPLING=\"ten percent\" is not a number from 0 to 1; using 1",
            "DROVER_OTEL_ENABLED=\"yes\" is not true or false; telemetry stays off",
        ] {
            assert!(all.contains(part), "{part} not in:\n{all}");
        }
    }
}
