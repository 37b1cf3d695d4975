//! A real Prometheus (Debian package `prometheus`) scraping a target on
//! loopback, with exemplar storage on, stopped when dropped; and `promtool`.

use crate::collector::TempDir;
use crate::{find_tool, free_port, poll, wait_for_port};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `prometheus` on `PATH` (or `SEMTEL_PROMETHEUS`).
pub fn prometheus_binary() -> PathBuf {
    find_tool(
        "SEMTEL_PROMETHEUS",
        &[PathBuf::from("/usr/bin/prometheus")],
        "prometheus",
    )
}

/// `promtool` on `PATH` (or `SEMTEL_PROMTOOL`).
pub fn promtool_binary() -> PathBuf {
    find_tool(
        "SEMTEL_PROMTOOL",
        &[PathBuf::from("/usr/bin/promtool")],
        "promtool",
    )
}

/// A plain HTTP/1.0 GET (no chunked bodies); returns status line, headers and body.
pub fn http_get(addr: &str, path: &str, accept: Option<&str>) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{accept}\r\n")?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Ok((head.to_string(), body.to_string()))
}

/// Percent-encodes a query parameter.
pub fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    _dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`) every second.
    pub fn start(target: &str) -> Prometheus {
        Prometheus::start_with_rules(target, &[])
    }

    /// Starts Prometheus scraping `target` every second and evaluating the
    /// rule files every second.
    pub fn start_with_rules(target: &str, rule_files: &[PathBuf]) -> Prometheus {
        let dir = TempDir::new("semtel-prometheus");
        let config = dir.0.join("prometheus.yml");
        let rules: String = rule_files
            .iter()
            .map(|r| format!("  - '{}'\n", r.display()))
            .collect();
        let rules = if rules.is_empty() {
            String::new()
        } else {
            format!("rule_files:\n{rules}")
        };
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}\n\
                 {rules}\
                 scrape_configs:\n  - job_name: semtel\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let port = free_port();
        let log = std::fs::File::create(dir.0.join("prometheus.log")).expect("log file");
        let child = Command::new(prometheus_binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--enable-feature=exemplar-storage")
            .stdout(Stdio::from(log.try_clone().expect("dup")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start prometheus");
        let p = Prometheus {
            child,
            addr: format!("127.0.0.1:{port}"),
            _dir: dir,
        };
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "prometheus did not start: {}",
            p.log()
        );
        let ready = poll(Duration::from_secs(20), || {
            http_get(&p.addr, "/-/ready", None)
                .ok()
                .filter(|(h, _)| h.contains(" 200 "))
        });
        assert!(ready.is_some(), "prometheus not ready: {}", p.log());
        p
    }

    /// What Prometheus logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.0.join("prometheus.log")).unwrap_or_default()
    }

    /// `GET /api/v1/<path>` as JSON.
    pub fn api(&self, path: &str) -> Value {
        let (_, body) =
            http_get(&self.addr, &format!("/api/v1/{path}"), None).expect("query prometheus");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// The value of an instant query, when it has exactly one result.
    pub fn query_value(&self, query: &str) -> Option<f64> {
        let v = self.api(&format!("query?query={}", encode(query)));
        let result = v["data"]["result"].as_array()?;
        if result.len() != 1 {
            return None;
        }
        result[0]["value"][1].as_str()?.parse().ok()
    }

    /// The result of an instant query, or what Prometheus said was wrong.
    pub fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let v = self.api(&format!("query?query={}", encode(expr)));
        if v["status"] != "success" {
            return Err(format!("{}: {}", v["errorType"], v["error"]));
        }
        Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
    }

    /// The values of `label` on the series `selector` matches.
    pub fn label_values(&self, label: &str, selector: &str) -> Vec<String> {
        let v = self.api(&format!(
            "label/{label}/values?match%5B%5D={}",
            encode(selector)
        ));
        v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    }

    /// The alerts Prometheus holds (pending or firing).
    pub fn alerts(&self) -> Vec<Value> {
        self.api("alerts")["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Every problem a dashboard has against the data this Prometheus holds:
    /// a template variable without values, a query that fails or returns
    /// nothing, a panel that asks for exemplars and gets none. Variables are
    /// substituted as Grafana does: each query variable by its "All" value
    /// (or all its values, joined), `$__rate_interval` and `$__range` by
    /// `window`.
    pub fn dashboard_problems(&self, d: &Value, window: &str) -> Vec<String> {
        let mut values: Vec<(String, String)> = ["__rate_interval", "__range", "__interval"]
            .iter()
            .map(|n| (n.to_string(), window.to_string()))
            .collect();
        let mut problems = Vec::new();
        let uid = d["uid"].as_str().unwrap_or("?");
        for v in crate::grafana::variables(d) {
            let q = crate::grafana::substitute(&v.query, &values);
            let parsed = q
                .strip_prefix("label_values(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.rsplit_once(','));
            let Some((selector, label)) = parsed else {
                problems.push(format!("{uid}: variable ${}: cannot read `{q}`", v.name));
                continue;
            };
            let found = self.label_values(label.trim(), selector.trim());
            if found.is_empty() {
                problems.push(format!("{uid}: variable ${} has no values: {q}", v.name));
            }
            let value = v.all_value.clone().unwrap_or_else(|| {
                let escaped: Vec<String> = found.iter().map(|s| regex_escape(s)).collect();
                format!("({})", escaped.join("|"))
            });
            values.push((v.name.clone(), value));
        }
        for q in crate::grafana::queries(d) {
            let expr = crate::grafana::substitute(&q.expr, &values);
            match self.query(&expr) {
                Err(e) => problems.push(format!("{}: query fails ({e}): {expr}", q.place)),
                Ok(r) if r.is_empty() => problems.push(format!("{}: no data: {expr}", q.place)),
                Ok(_) => {}
            }
            if q.exemplar && self.exemplar_trace_ids(&expr).is_empty() {
                problems.push(format!("{}: no exemplars: {expr}", q.place));
            }
        }
        problems
    }

    /// The trace ids of the exemplars stored for `selector`.
    pub fn exemplar_trace_ids(&self, selector: &str) -> Vec<String> {
        let v = self.api(&format!(
            "query_exemplars?query={}&start=0&end=9999999999",
            encode(selector)
        ));
        v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["labels"]["trace_id"].as_str().map(String::from))
            .collect()
    }

    /// The health of the scrape target, as Prometheus reports it.
    pub fn target_health(&self) -> String {
        let v = self.api("targets");
        v["data"]["activeTargets"][0]["health"]
            .as_str()
            .unwrap_or("unknown")
            .to_string()
            + " "
            + v["data"]["activeTargets"][0]["lastError"]
                .as_str()
                .unwrap_or("")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        crate::stop(&mut self.child);
    }
}

/// Runs `promtool` with `args`; returns its exit code and output.
pub fn promtool(args: &[&str]) -> (i32, String) {
    let out = Command::new(promtool_binary())
        .args(args)
        .output()
        .expect("run promtool");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs `promtool check metrics` on `text`; returns its exit code and output.
pub fn promtool_check_metrics(text: &str) -> (i32, String) {
    let mut child = Command::new(promtool_binary())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool output");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Escapes the characters a regular expression gives a meaning to, for a
/// PromQL string literal (whose own escape doubles the backslash).
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}
