//! Spans exported over OTLP gRPC and OTLP HTTP/protobuf arrive at a real
//! collector (rotel) with their names, parent links, status and attributes.

use semtel::{Protocol, TracesExporter, traced_task};
use semtel_tests::collector::{Rotel, Span};
use std::sync::Mutex;
use std::time::Duration;

/// Telemetry is process-global: one test installs it at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Debug)]
struct Rejected;

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("remote rejected the push")
    }
}

#[traced_task(name = "execute_tool", attrs(gen_ai.tool.name = tool))]
fn tool_call(tool: &str) -> Result<(), Rejected> {
    if tool == "git_push" {
        Err(Rejected)
    } else {
        Ok(())
    }
}

#[traced_task(name = "task.execute", attrs(orchestration.task.id = id, orchestration.task.priority = 7))]
fn task(id: &str, tool: &str) -> Result<(), Rejected> {
    tool_call(tool)
}

#[traced_task(name = "workflow.run", attrs(orchestration.workflow.name = "collector-test"))]
async fn workflow() -> usize {
    tokio::task::yield_now().await;
    [("t-1", "run_tests"), ("t-2", "git_push")]
        .iter()
        .filter(|(id, tool)| task(id, tool).is_ok())
        .count()
}

fn run_against(rotel: &Rotel, protocol: Protocol, endpoint: String) -> Vec<Span> {
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("collector-test")
        .traces_exporter(TracesExporter::Otlp)
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        .metrics_exporter(semtel::MetricsExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
        .init()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(workflow()), 1);
    drop(telemetry);
    rotel.wait_for_spans(5, Duration::from_secs(20))
}

fn by_name<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn check_trace(spans: &[Span]) {
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let root = by_name(spans, "workflow.run")[0];
    assert_eq!(root.parent_id, "");
    assert_eq!(
        root.attr("orchestration.workflow.name"),
        Some("Str(collector-test)")
    );
    assert!(
        spans
            .iter()
            .all(|s| s.trace_id == root.trace_id && s.trace_id.len() == 32)
    );
    let tasks = by_name(spans, "task.execute");
    assert_eq!(tasks.len(), 2);
    for t in &tasks {
        assert_eq!(t.parent_id, root.id);
        assert_eq!(t.attr("orchestration.task.priority"), Some("Int(7)"));
        let tools: Vec<_> = spans.iter().filter(|s| s.parent_id == t.id).collect();
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].name, "execute_tool");
    }
    let failed = tasks
        .iter()
        .find(|t| t.attr("orchestration.task.id") == Some("Str(t-2)"))
        .unwrap();
    assert_eq!(failed.status_code, "STATUS_CODE_ERROR");
    assert_eq!(failed.status_message, "remote rejected the push");
    let ok = tasks
        .iter()
        .find(|t| t.attr("orchestration.task.id") == Some("Str(t-1)"))
        .unwrap();
    assert_eq!(ok.status_code, "STATUS_CODE_UNSET");
    let push = spans
        .iter()
        .find(|s| s.attr("gen_ai.tool.name") == Some("Str(git_push)"))
        .unwrap();
    assert_eq!(push.parent_id, failed.id);
    assert_eq!(push.status_code, "STATUS_CODE_ERROR");
    assert_eq!(root.kind, "SPAN_KIND_INTERNAL");
}

#[test]
fn spans_arrive_over_otlp_grpc() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let spans = run_against(&rotel, Protocol::Grpc, rotel.grpc_endpoint());
    check_trace(&spans);
    assert!(rotel.output().contains("service.name: Str(collector-test)"));
}

#[test]
fn spans_arrive_over_otlp_http_protobuf() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let spans = run_against(&rotel, Protocol::HttpProtobuf, rotel.http_endpoint());
    check_trace(&spans);
}
