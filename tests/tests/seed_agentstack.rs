//! AgentStack (seed 002) on semtel: a request through the API reaches a
//! second instance of the service over HTTP and the whole is one trace at a
//! real collector, with the right kinds and parents; a real Prometheus
//! scrapes the seed's series and bucket boundaries from the service's own
//! `/metrics`; the JSON logs carry the trace; and the LLM spans show up in
//! Arize Phoenix as AGENT, LLM and TOOL spans with token counts, in the
//! project the resource names.

use semtel_tests::collector::{Rotel, Span, TempDir};
use semtel_tests::prometheus::{Prometheus, http_get};
use semtel_tests::{find_tool, free_port, poll, stop, wait_for_port, workspace_root};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// POSTs JSON with an optional `traceparent`; returns the status code and body.
fn post(port: u16, path: &str, body: &Value, traceparent: Option<&str>) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.to_string();
    let tp = traceparent
        .map(|t| format!("traceparent: {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{tp}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A service process, stopped (SIGTERM, so that it flushes) when dropped,
/// also when an assertion fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        stop(&mut self.0);
    }
}

/// One `agentstack serve` process, its JSON logs in `logs`.
fn serve(exe: &Path, port: u16, logs: &Path, env: &[(&str, String)]) -> Server {
    let mut cmd = Command::new(exe);
    cmd.args(["serve", &port.to_string()])
        .env_remove("OTEL_CONFIG_FILE")
        .env_remove("TRACEPARENT")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(Stdio::from(std::fs::File::create(logs).unwrap()))
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().expect("start agentstack"));
    assert!(
        wait_for_port(port, Duration::from_secs(20)),
        "agentstack did not listen"
    );
    server
}

fn find<'a>(spans: &'a [Span], trace: &str, name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.trace_id == trace && s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in trace {trace}: {spans:#?}"))
}

/// Arize Phoenix, started first because it takes seconds to be ready.
struct Phoenix {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Phoenix {
    fn start() -> Phoenix {
        let exe = find_tool(
            "SEMTEL_PHOENIX",
            &[workspace_root().join(".venv/bin/phoenix")],
            "phoenix",
        );
        let dir = TempDir::new("semtel-phoenix");
        let port = free_port();
        let child = Command::new(exe)
            .arg("serve")
            .env("PHOENIX_WORKING_DIR", &dir.0)
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", free_port().to_string())
            .env("PHOENIX_HOST", "127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.0.join("phoenix.log")).unwrap(),
            ))
            .spawn()
            .expect("start phoenix");
        Phoenix {
            child,
            port,
            _dir: dir,
        }
    }

    fn wait_ready(&self) {
        let addr = format!("127.0.0.1:{}", self.port);
        let up = poll(Duration::from_secs(60), || {
            http_get(&addr, "/", None)
                .ok()
                .filter(|(h, _)| h.contains(" 200 "))
        });
        let log = std::fs::read_to_string(self._dir.0.join("phoenix.log")).unwrap_or_default();
        assert!(up.is_some(), "phoenix did not start:\n{log}");
    }

    fn spans(&self, project: &str) -> Vec<Value> {
        let addr = format!("127.0.0.1:{}", self.port);
        let path = format!("/v1/projects/{project}/spans?limit=100");
        http_get(&addr, &path, None)
            .ok()
            .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
            .and_then(|v| v["data"].as_array().cloned())
            .unwrap_or_default()
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[test]
fn api_gateway_database_metrics_logs_and_phoenix() {
    let phoenix = Phoenix::start();
    let exe = semtel_tests::build::agentstack();
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-agentstack");
    let otlp = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_string()),
    ];
    let (api_port, gateway_port) = (free_port(), free_port());
    let gateway = serve(&exe, gateway_port, &dir.0.join("gateway.log"), &otlp);
    let mut env = otlp.clone();
    env.push((
        "LLM_GATEWAY_URL",
        format!("http://127.0.0.1:{gateway_port}"),
    ));
    let api = serve(&exe, api_port, &dir.0.join("api.log"), &env);
    let prometheus = Prometheus::start(&format!("127.0.0.1:{api_port}"));

    // The caller's trace is sampled: the parent-based sampler follows it.
    let tp = |span: &str, flags: &str| format!("00-{TRACE}-{span}-{flags}");
    let (status, created) = post(
        api_port,
        "/v1/projects/proj-1/agents",
        &serde_json::json!({"name": "support-bot", "framework": "langgraph"}),
        Some(&tp("00f067aa0ba902b7", "01")),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, answer) = post(
        api_port,
        &format!("/v1/agents/{id}/chat"),
        &serde_json::json!({"message": "how do I reset my password"}),
        Some(&tp("00f067aa0ba902b8", "01")),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, _) = post(
        api_port,
        "/v1/projects/proj-1/agents",
        &serde_json::json!({"name": "", "framework": "langgraph"}),
        Some(&tp("00f067aa0ba902b9", "01")),
    );
    assert_eq!(status, 400);
    // A caller that did not sample: nothing of this request is recorded.
    let unsampled = "0af7651916cd43dd8448eb211c80319c";
    let (status, _) = post(
        api_port,
        &format!("/v1/agents/{id}/chat"),
        &serde_json::json!({"message": "again"}),
        Some(&format!("00-{unsampled}-b7ad6b7169203331-00")),
    );
    assert_eq!(status, 200);

    // Prometheus stores the seed's series with its bucket boundaries. A
    // scrape's series become visible one by one while it is appended, so
    // the boundaries are read until a whole histogram is there.
    let buckets = |metric: &str, want: &[f64]| -> Vec<f64> {
        let read = || {
            let mut le: Vec<f64> = prometheus
                .label_values("le", metric)
                .iter()
                .filter(|v| *v != "+Inf")
                .map(|v| v.parse().unwrap())
                .collect();
            le.sort_by(f64::total_cmp);
            le
        };
        poll(Duration::from_secs(15), || {
            let le = read();
            (le.len() >= want.len()).then_some(le)
        })
        .unwrap_or_else(|| panic!("no whole {metric} in Prometheus:\n{}", prometheus.log()))
    };
    let llm = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];
    assert_eq!(buckets("llm_call_duration_seconds_bucket", &llm), llm);
    let http = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    assert_eq!(buckets("http_request_duration_seconds_bucket", &http), http);
    for (query, want) in [
        (
            "http_requests_total{method=\"POST\",path=\"/v1/agents/{id}/chat\",status=\"200\"}",
            2.0,
        ),
        (
            "http_requests_total{path=\"/v1/projects/{project_id}/agents\",status=\"400\"}",
            1.0,
        ),
        // 6 words: 12 + 2 * 6 in, 42 out; then 1 word: 14 in, 42 out.
        (
            "chat_tokens_total{project_id=\"proj-1\",model=\"gpt-4o\"}",
            66.0 + 56.0,
        ),
        ("agents_active{project_id=\"proj-1\"}", 1.0),
        (
            "target_info{service_name=\"agentstack-api\",deployment_environment=\"development\"}",
            1.0,
        ),
    ] {
        let got = poll(Duration::from_secs(5), || prometheus.query_value(query));
        assert_eq!(got, Some(want), "{query}");
    }

    drop(api);
    drop(gateway);
    let spans = rotel.wait_for_spans(11, Duration::from_secs(20));
    // Create: server → agent.Create (agent.id set after creation) → the INSERT, a client span.
    let server = find(&spans, TRACE, "POST /v1/projects/{project_id}/agents");
    let traced: Vec<_> = spans.iter().filter(|s| s.trace_id == TRACE).collect();
    assert_eq!(traced.len(), 11, "{traced:#?}");
    assert!(
        spans.iter().all(|s| s.trace_id == TRACE),
        "the unsampled request left no span"
    );
    let creates: Vec<_> = traced.iter().filter(|s| s.name == "agent.Create").collect();
    assert_eq!(creates.len(), 2);
    let ok = creates.iter().find(|s| s.parent_id == server.id).unwrap();
    let servers: Vec<_> = traced
        .iter()
        .filter(|s| s.name == "POST /v1/projects/{project_id}/agents")
        .collect();
    assert!(servers.iter().all(|s| s.kind == "SPAN_KIND_SERVER"));
    let ok_server = servers.iter().find(|s| s.id == ok.parent_id).unwrap();
    assert_eq!(
        ok_server.attr("http.response.status_code"),
        Some("Int(201)")
    );
    assert_eq!(ok.attr("agent.id"), Some(format!("Str({id})").as_str()));
    assert_eq!(ok.attr("project.id"), Some("Str(proj-1)"));
    assert_eq!(ok.attr("agent.framework"), Some("Str(langgraph)"));
    let insert = find(&spans, TRACE, "INSERT agents");
    assert_eq!(
        (insert.kind.as_str(), &insert.parent_id),
        ("SPAN_KIND_CLIENT", &ok.id)
    );
    assert_eq!(insert.attr("db.system.name"), Some("Str(sqlite)"));
    let bad = creates.iter().find(|s| s.id != ok.id).unwrap();
    assert_eq!(bad.status_code, "STATUS_CODE_ERROR");
    assert_eq!(bad.status_message, "validation failed");

    // Chat: API server → invoke_agent → (execute_tool, POST client) → gateway server → chat.
    let chat_server = find(&spans, TRACE, "POST /v1/agents/{id}/chat");
    assert_eq!(
        chat_server.parent_id, "00f067aa0ba902b8",
        "continues the caller"
    );
    let agent = find(&spans, TRACE, "invoke_agent support-bot");
    assert_eq!(agent.parent_id, chat_server.id);
    let tool = find(&spans, TRACE, "execute_tool search_docs");
    assert_eq!(tool.parent_id, agent.id);
    let client = find(&spans, TRACE, "POST");
    assert_eq!(
        (client.kind.as_str(), &client.parent_id),
        ("SPAN_KIND_CLIENT", &agent.id)
    );
    let remote = find(&spans, TRACE, "POST /v1/llm/complete");
    assert_eq!(
        (remote.kind.as_str(), &remote.parent_id),
        ("SPAN_KIND_SERVER", &client.id)
    );
    let llm = find(&spans, TRACE, "chat gpt-4o");
    assert_eq!(llm.parent_id, remote.id);
    assert_eq!(llm.attr("gen_ai.usage.output_tokens"), Some("Int(42)"));

    // JSON logs with the trace and span they happened in.
    let logs = std::fs::read_to_string(dir.0.join("api.log")).unwrap();
    let created_log: Value = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "agent created")
        .unwrap_or_else(|| panic!("no 'agent created' line:\n{logs}"));
    assert_eq!(created_log["trace_id"], TRACE);
    assert_eq!(created_log["span_id"], ok.id.as_str());
    assert_eq!(created_log["agent_id"], id.as_str());

    // Phoenix: one instance exporting over OTLP/HTTP, its LLM spans in the named project.
    phoenix.wait_ready();
    let port = free_port();
    let alone = serve(
        &exe,
        port,
        &dir.0.join("phoenix-run.log"),
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", phoenix.port),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_string()),
            ("AGENTSTACK_PHOENIX_PROJECT", "agentstack-e2e".to_string()),
        ],
    );
    let (_, created) = post(
        port,
        "/v1/projects/proj-2/agents",
        &serde_json::json!({"name": "triage", "framework": "crewai"}),
        Some(&tp("00f067aa0ba902c1", "01")),
    );
    let id = created["id"].as_str().unwrap().to_string();
    let (status, _) = post(
        port,
        &format!("/v1/agents/{id}/chat"),
        &serde_json::json!({"message": "route this ticket"}),
        Some(&tp("00f067aa0ba902c2", "01")),
    );
    assert_eq!(status, 200);
    drop(alone);
    let seen = poll(Duration::from_secs(20), || {
        let spans = phoenix.spans("agentstack-e2e");
        let kinds: Vec<&str> = spans
            .iter()
            .filter_map(|s| s["span_kind"].as_str())
            .collect();
        ["AGENT", "LLM", "TOOL"]
            .iter()
            .all(|k| kinds.contains(k))
            .then_some(spans)
    })
    .unwrap_or_else(|| {
        panic!(
            "Phoenix has no AGENT/LLM/TOOL spans: {:#?}",
            phoenix.spans("agentstack-e2e")
        )
    });
    let by_kind = |k: &str| seen.iter().find(|s| s["span_kind"] == k).unwrap();
    assert_eq!(by_kind("AGENT")["name"], "invoke_agent triage");
    assert_eq!(by_kind("TOOL")["name"], "execute_tool search_docs");
    let llm = by_kind("LLM");
    assert_eq!(llm["name"], "chat gpt-4o");
    let attrs = llm["attributes"].to_string();
    assert!(
        attrs.contains("\"llm.token_count.completion\":42") || attrs.contains("\"completion\":42"),
        "{llm:#}"
    );
}
