//! Behaviour of `#[traced_task]`, observed through the in-memory capture.

use opentelemetry::trace::SpanId;
use semtel::conventions::gen_ai::operation::GenAiOperationName;
use semtel::testing;
use semtel::trace::Status;
use semtel::traced_task;

#[traced_task]
fn leaf() -> u32 {
    1
}

#[traced_task(name = "parent.work", attrs(orchestration.task.id = id, orchestration.task.priority = prio))]
fn parent(id: &str, prio: u32) -> u32 {
    leaf() + leaf()
}

#[derive(Debug)]
struct ToolFailed(&'static str);

impl std::fmt::Display for ToolFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tool {} failed", self.0)
    }
}

#[traced_task(attrs(gen_ai.tool.name = name))]
fn tool(name: &'static str, fail: bool) -> Result<u32, ToolFailed> {
    if fail {
        return Err(ToolFailed(name));
    }
    Ok(7)
}

#[traced_task(attrs(gen_ai.operation.name = "execute_tool", gen_ai.agent.name = "coder"))]
fn literal_attributes() {}

#[traced_task]
fn panics() {
    panic!("boom");
}

#[traced_task]
async fn async_leaf(n: u64) -> u64 {
    tokio::task::yield_now().await;
    n * 2
}

#[traced_task(attrs(orchestration.workflow.name = "wf"))]
async fn async_parent() -> Result<u64, String> {
    let a = async_leaf(1).await;
    tokio::task::yield_now().await;
    let b = async_leaf(2).await;
    Err(format!("sum {}", a + b))
}

#[test]
fn sync_spans_nest_and_carry_attributes() {
    let cap = testing::capture();
    assert_eq!(parent("task-9", 3), 2);
    let spans = cap.spans();
    assert_eq!(spans.len(), 3);
    let p = cap.span("parent.work");
    assert_eq!(p.parent_span_id, SpanId::INVALID);
    assert_eq!(
        p.attribute("orchestration.task.id").unwrap().as_str(),
        "task-9"
    );
    assert_eq!(
        p.attribute("orchestration.task.priority"),
        Some(&opentelemetry::Value::I64(3))
    );
    let leaves: Vec<_> = spans.iter().filter(|s| s.name == "leaf").collect();
    assert_eq!(leaves.len(), 2);
    for l in leaves {
        assert_eq!(l.parent_span_id, p.span_id);
        assert_eq!(l.trace_id, p.trace_id);
        assert!(l.start >= p.start && l.end <= p.end);
    }
    assert_eq!(p.status, Status::Unset);
}

#[test]
fn err_sets_error_status_with_display_text() {
    let cap = testing::capture();
    assert!(tool("git_push", true).is_err());
    assert_eq!(tool("run_tests", false).unwrap(), 7);
    let spans = cap.spans();
    let failed = spans
        .iter()
        .find(|s| s.attribute("gen_ai.tool.name").unwrap().as_str() == "git_push")
        .unwrap();
    assert_eq!(failed.status, Status::Error("tool git_push failed".into()));
    let ok = spans
        .iter()
        .find(|s| s.attribute("gen_ai.tool.name").unwrap().as_str() == "run_tests")
        .unwrap();
    assert_eq!(ok.status, Status::Unset);
}

#[test]
fn literal_values_are_checked_and_typed() {
    let cap = testing::capture();
    literal_attributes();
    let s = cap.span("literal_attributes");
    assert_eq!(
        s.attribute("gen_ai.operation.name").unwrap().as_str(),
        GenAiOperationName::ExecuteTool.as_str()
    );
    assert_eq!(s.attribute("gen_ai.agent.name").unwrap().as_str(), "coder");
}

#[test]
fn panic_ends_the_span_failed_and_propagates() {
    let cap = testing::capture();
    let r = std::panic::catch_unwind(panics);
    assert!(r.is_err());
    let s = cap.span("panics");
    assert_eq!(s.status, Status::Error("panicked".into()));
    // The panic restored the context: a new span is a root again.
    leaf();
    assert_eq!(cap.span("leaf").parent_span_id, SpanId::INVALID);
}

#[test]
fn async_spans_nest_across_await() {
    let cap = testing::capture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(async_parent());
    assert_eq!(r, Err("sum 6".to_string()));
    let p = cap.span("async_parent");
    assert_eq!(p.status, Status::Error("sum 6".into()));
    let kids: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "async_leaf")
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(
        kids.iter()
            .all(|k| k.parent_span_id == p.span_id && k.trace_id == p.trace_id)
    );
}

#[test]
fn without_telemetry_functions_run_unchanged() {
    let _off = testing::without_telemetry();
    assert_eq!(parent("x", 1), 2);
    assert!(tool("t", true).is_err());
    assert_eq!(semtel::current_context(), semtel::SpanContext::NONE);
}

#[traced_task]
fn recovers(path: &str) -> u32 {
    match std::fs::read(path) {
        Ok(bytes) => bytes.len() as u32,
        Err(e) => {
            semtel::current_span().record_error(&e);
            0
        }
    }
}

#[test]
fn an_error_caught_inside_is_recorded_like_a_returned_one() {
    let cap = testing::capture();
    assert_eq!(recovers("/no/such/semtel/file"), 0);
    let mut manual = semtel::trace::ActiveSpan::start_parts(
        "manual".into(),
        semtel::conventions::SpanKind::Internal,
        module_path!(),
        semtel::trace::Parent::Current,
    );
    let unclassified: Box<dyn std::error::Error> = "no route".into();
    manual.record_error(&*unclassified);
    drop(manual);
    for (name, error_type, message) in [
        ("recovers", "not_found", None),
        ("manual", "_OTHER", Some("no route")),
    ] {
        let s = cap.span(name);
        let Status::Error(status) = &s.status else {
            panic!("{name}: status {:?}", s.status)
        };
        if let Some(m) = message {
            assert_eq!(status, m);
        }
        assert_eq!(
            s.attribute("error.type").map(|v| v.as_str().into_owned()),
            Some(error_type.to_string())
        );
        let event = &s.events[0];
        assert_eq!(event.name, "exception");
        let attr = |k: &str| {
            event
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.as_str().into_owned())
        };
        assert_eq!(attr("exception.type").as_deref(), Some(error_type));
        assert_eq!(attr("exception.message").as_deref(), Some(status.as_ref()));
    }
}
