//! The rotel OpenTelemetry collector as a test peer: started on free loopback
//! ports, printing everything it receives, stopped when dropped.

use crate::{find_tool, free_port, poll, wait_for_port, workspace_root};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running rotel collector.
pub struct Rotel {
    child: Child,
    out: PathBuf,
    /// The OTLP/gRPC port.
    pub grpc_port: u16,
    /// The OTLP/HTTP port.
    pub http_port: u16,
    _dir: TempDir,
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system temporary directory.
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            crate::free_port()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The rotel collector binary: `SEMTEL_ROTEL_AGENT`, the test command's `.venv`, or `PATH`.
pub fn rotel_binary() -> PathBuf {
    let venv = workspace_root().join(".venv/lib");
    let mut candidates = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&venv) {
        for e in entries.flatten() {
            candidates.push(e.path().join("site-packages/rotel/rotel-agent"));
        }
    }
    find_tool("SEMTEL_ROTEL_AGENT", &candidates, "rotel-agent")
}

impl Rotel {
    /// Starts the collector and waits until both ports accept connections.
    pub fn start() -> Rotel {
        Self::start_on(free_port(), free_port())
    }

    /// Starts the collector on the given ports (waiting for a previous
    /// collector to have let go of them).
    pub fn start_on(grpc_port: u16, http_port: u16) -> Rotel {
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        poll(Duration::from_secs(10), || {
            (free(grpc_port) && free(http_port)).then_some(())
        });
        let dir = TempDir::new("semtel-rotel");
        let out = dir.0.join("rotel.out");
        let log = File::create(&out).expect("create collector log");
        let child = Command::new(rotel_binary())
            .args(["start", "--otlp-grpc-endpoint"])
            .arg(format!("127.0.0.1:{grpc_port}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{http_port}"))
            .args([
                "--debug-log",
                "traces",
                "--debug-log",
                "metrics",
                "--debug-log",
                "logs",
            ])
            .args([
                "--debug-log-verbosity",
                "detailed",
                "--exporter",
                "blackhole",
            ])
            .stdout(Stdio::from(log.try_clone().expect("dup log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rotel-agent");
        let rotel = Rotel {
            child,
            out,
            grpc_port,
            http_port,
            _dir: dir,
        };
        let up = wait_for_port(grpc_port, Duration::from_secs(10))
            && wait_for_port(http_port, Duration::from_secs(10));
        assert!(up, "rotel did not start listening:\n{}", rotel.output());
        rotel
    }

    /// `http://127.0.0.1:<grpc port>`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// `http://127.0.0.1:<http port>`.
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Everything the collector printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The spans received so far.
    pub fn spans(&self) -> Vec<Span> {
        parse_spans(&self.output())
    }

    /// The log records received so far.
    pub fn logs(&self) -> Vec<Log> {
        parse_logs(&self.output())
    }

    /// Waits until `check` holds for the output; panics with the output if not.
    pub fn wait_until(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) {
        if poll(timeout, || check(&self.output()).then_some(())).is_none() {
            panic!("the collector did not receive {what}:\n{}", self.output());
        }
    }

    /// Waits until at least `n` spans have arrived; panics with the output if not.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<Span> {
        poll(timeout, || {
            let s = self.spans();
            (s.len() >= n).then_some(s)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} spans at the collector, got {}:\n{}",
                self.spans().len(),
                self.output()
            )
        })
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        if poll(Duration::from_secs(5), || {
            self.child.try_wait().ok().flatten()
        })
        .is_none()
        {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A log record as the collector printed it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    /// `Str(...)` as printed.
    pub body: String,
    /// `INFO`, `WARN`, ...
    pub severity: String,
    /// 32 hex digits, or empty.
    pub trace_id: String,
    /// 16 hex digits, or empty.
    pub span_id: String,
    /// Attributes as printed: `("key", "Str(value)")`.
    pub attributes: Vec<(String, String)>,
}

impl Log {
    /// The printed value of attribute `key` (`Str(x)`, `Int(3)`).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the log records in the collector's output.
pub fn parse_logs(text: &str) -> Vec<Log> {
    let mut logs: Vec<Log> = Vec::new();
    let mut in_attrs = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("LogRecord #") {
            logs.push(Log::default());
            in_attrs = false;
            continue;
        }
        if t.starts_with("ResourceLog") || t.starts_with("ScopeLogs") {
            in_attrs = false;
            continue;
        }
        let Some(l) = logs.last_mut() else { continue };
        if let Some((k, v)) = t.split_once(':') {
            let v = v.trim().to_string();
            match k.trim() {
                "Body" => l.body = v,
                "SeverityText" => l.severity = v,
                "Trace ID" => l.trace_id = v,
                "Span ID" => l.span_id = v,
                "Attributes" => in_attrs = true,
                k if in_attrs && k.starts_with("->") => l
                    .attributes
                    .push((k.trim_start_matches("->").trim().to_string(), v)),
                k => in_attrs = in_attrs && k.starts_with("->"),
            }
        }
    }
    logs
}

/// The names of the metrics in the collector's output.
pub fn parse_metric_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("-> Name: ")
                .map(|n| n.trim().to_string())
        })
        .collect()
}

/// The metrics in the collector's output with their instrumentation scope:
/// `("chat-lib 0.3.1", "chat.requests")` (scope name and version).
pub fn parse_scoped_metric_names(text: &str) -> Vec<(String, String)> {
    let mut scope = String::new();
    let mut out = Vec::new();
    for l in text.lines().map(str::trim) {
        if let Some(s) = l.strip_prefix("InstrumentationScope") {
            scope = s.trim().to_string();
        } else if let Some(n) = l.strip_prefix("-> Name: ") {
            out.push((scope.clone(), n.trim().to_string()));
        }
    }
    out
}

/// A span as the collector printed it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits, empty for a root.
    pub parent_id: String,
    /// 16 hex digits.
    pub id: String,
    /// The span name.
    pub name: String,
    /// `SPAN_KIND_INTERNAL`, ...
    pub kind: String,
    /// `STATUS_CODE_UNSET`, `STATUS_CODE_ERROR`, ...
    pub status_code: String,
    /// The status message.
    pub status_message: String,
    /// The W3C trace state, empty when none.
    pub trace_state: String,
    /// Attributes as printed: `("key", "Str(value)")`.
    pub attributes: Vec<(String, String)>,
}

impl Span {
    /// The printed value of attribute `key` (`Str(x)`, `Int(3)`).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the collector's detailed debug output into spans.
pub fn parse_spans(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut in_attrs = false;
    let mut in_span = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Span #") {
            spans.push(Span::default());
            in_attrs = false;
            in_span = true;
            continue;
        }
        if [
            "ResourceSpans",
            "ResourceLog",
            "LogRecord",
            "ResourceMetrics",
        ]
        .iter()
        .any(|p| t.starts_with(p))
        {
            // What follows belongs to another record until the next span.
            in_span = false;
        }
        let Some(s) = spans.last_mut().filter(|_| in_span) else {
            continue;
        };
        if let Some((k, v)) = t.split_once(':').map(|(k, v)| (k.trim(), v.trim())) {
            match k {
                "Trace ID" => s.trace_id = v.to_string(),
                "Parent ID" => s.parent_id = v.to_string(),
                "ID" => s.id = v.to_string(),
                "Name" => s.name = v.to_string(),
                "Kind" => s.kind = v.to_string(),
                "Status code" => s.status_code = v.to_string(),
                "Status message" => s.status_message = v.to_string(),
                "TraceState" => s.trace_state = v.to_string(),
                "Attributes" => in_attrs = true,
                _ if in_attrs && k.starts_with("->") => {
                    s.attributes
                        .push((k.trim_start_matches("->").trim().to_string(), v.to_string()));
                }
                _ => in_attrs = in_attrs && k.starts_with("->"),
            }
        } else if t.starts_with("ResourceSpans") || t.starts_with("ScopeSpans") {
            in_attrs = false;
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_rotel_output() {
        let text = "Span #0\n    Trace ID       : aa\n    Parent ID      : \n    ID             : bb\n    Name           : task.execute\n    Kind           : SPAN_KIND_INTERNAL\n    Status code    : STATUS_CODE_ERROR\n    Status message : boom: x\nAttributes:\n     -> orchestration.task.id: Str(t-1)\n     -> n: Int(3)\n";
        let s = &super::parse_spans(text)[0];
        assert_eq!(s.name, "task.execute");
        assert_eq!(s.parent_id, "");
        assert_eq!(s.status_message, "boom: x");
        assert_eq!(s.attr("orchestration.task.id"), Some("Str(t-1)"));
        assert_eq!(s.attr("n"), Some("Int(3)"));
    }
}
