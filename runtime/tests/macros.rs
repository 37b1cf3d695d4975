//! Behaviour of `#[traced_task]`, `#[agent_step]` and `#[metered]` on every
//! kind of function, observed through the in-memory capture.

use opentelemetry::Value;
use opentelemetry::trace::SpanId;
use semtel::conventions::SpanKind;
use semtel::testing::{self, Capture};
use semtel::trace::{SpanRecord, Status};
use semtel::{ErrorType, agent_step, current_step, traced_task};
use std::fmt;

fn attr(s: &SpanRecord, key: &str) -> Option<String> {
    s.attribute(key).map(|v| v.as_str().into_owned())
}

fn only(cap: &Capture, name: &str) -> SpanRecord {
    cap.span(name)
}

// ---- error classification ----

#[derive(Debug, ErrorType)]
enum GitError {
    Conflict,
    #[error_type("auth")]
    PermissionDenied {
        remote: String,
    },
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitError::Conflict => f.write_str("merge conflict"),
            GitError::PermissionDenied { remote } => write!(f, "permission denied by {remote}"),
        }
    }
}

#[traced_task(span = orchestration.git.operation, attrs(orchestration.git.operation = "merge"))]
fn merge(fail: u8) -> Result<(), GitError> {
    match fail {
        1 => Err(GitError::Conflict),
        2 => Err(GitError::PermissionDenied {
            remote: "origin".into(),
        }),
        _ => Ok(()),
    }
}

#[derive(Debug)]
struct Opaque;

#[traced_task(error_type = "opaque_failure")]
fn overridden() -> Result<(), Opaque> {
    Err(Opaque)
}

#[test]
fn errors_set_status_type_and_an_exception_event() {
    let cap = testing::capture();
    merge(1).unwrap_err();
    merge(2).unwrap_err();
    merge(0).unwrap();
    overridden().unwrap_err();
    let spans = cap.spans();
    let merges: Vec<_> = spans.iter().filter(|s| s.name == "git merge").collect();
    assert_eq!(
        merges.len(),
        3,
        "span definition name pattern filled from the attribute"
    );
    assert!(
        merges.iter().all(|s| s.kind == SpanKind::Client),
        "kind from the span definition"
    );
    let conflict = &merges[0];
    assert_eq!(conflict.status, Status::Error("merge conflict".into()));
    assert_eq!(attr(conflict, "error.type").as_deref(), Some("conflict"));
    let ev = &conflict.events[0];
    assert_eq!(ev.name, "exception");
    assert_eq!(ev.attributes[0].value.as_str(), "conflict");
    assert_eq!(ev.attributes[1].value.as_str(), "merge conflict");
    assert_eq!(attr(merges[1], "error.type").as_deref(), Some("auth"));
    assert_eq!(merges[2].status, Status::Unset);
    assert!(merges[2].attribute("error.type").is_none());
    let o = only(&cap, "overridden");
    assert_eq!(attr(&o, "error.type").as_deref(), Some("opaque_failure"));
    assert_eq!(
        o.status,
        Status::Error("Opaque".into()),
        "Debug text when there is no Display"
    );
}

// ---- every kind of function ----

struct Worker {
    id: String,
    done: u32,
}

trait Run {
    fn run(&self, n: u32) -> u32;
}

impl Run for Worker {
    #[traced_task(attrs(orchestration.worker.id = self.id))]
    fn run(&self, n: u32) -> u32 {
        n + 1
    }
}

#[traced_task]
impl Worker {
    fn claim(&mut self) -> u32 {
        self.done += 1;
        self.done
    }

    fn finish(self) -> String {
        self.id
    }

    #[traced_task(skip)]
    fn untraced(&self) -> usize {
        self.id.len()
    }

    #[traced_task(name = "worker.custom", kind = server)]
    fn custom(&self) {}

    fn make(id: &str) -> Worker {
        Worker {
            id: id.to_string(),
            done: 0,
        }
    }
}

#[traced_task]
fn generic<T: fmt::Display>(value: T, extra: impl fmt::Debug) -> String {
    format!("{value}{extra:?}")
}

#[traced_task]
unsafe fn raw_read(p: *const u32) -> u32 {
    unsafe { *p }
}

#[traced_task]
fn returns_future(n: u32) -> impl std::future::Future<Output = Result<u32, String>> {
    async move {
        if n > 1 {
            Ok(n)
        } else {
            Err("too small".to_string())
        }
    }
}

#[test]
fn methods_impl_blocks_generics_unsafe_and_futures() {
    let cap = testing::capture();
    let mut w = Worker::make("w-1");
    assert_eq!(w.run(1), 2);
    assert_eq!(w.claim(), 1);
    assert_eq!(w.untraced(), 3);
    w.custom();
    assert_eq!(generic(5, "x"), "5\"x\"");
    let v = 7u32;
    assert_eq!(unsafe { raw_read(&v) }, 7);
    assert_eq!(w.finish(), "w-1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(rt.block_on(returns_future(1)).is_err());
    let spans = cap.spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    // Methods are named after their type: from the `impl` block's attribute
    // (`Worker::claim`, `Worker::make`) or, on a method, from `Self` where it runs.
    for n in [
        "Worker::run",
        "Worker::claim",
        "worker.custom",
        "generic",
        "raw_read",
        "Worker::finish",
        "Worker::make",
        "returns_future",
    ] {
        assert!(names.contains(&n), "no span {n} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("untraced")));
    assert_eq!(
        attr(&only(&cap, "Worker::run"), "orchestration.worker.id").as_deref(),
        Some("w-1")
    );
    assert_eq!(only(&cap, "worker.custom").kind, SpanKind::Server);
    assert_eq!(
        only(&cap, "returns_future").status,
        Status::Error("too small".into())
    );
}

// ---- async_trait, both attribute orders ----

#[async_trait::async_trait]
trait Agent {
    async fn act(&self, input: u32) -> Result<u32, String>;
    async fn plan(&self) -> u32;
}

struct Planner;

#[async_trait::async_trait]
impl Agent for Planner {
    #[traced_task(attrs(gen_ai.agent.name = "planner"))]
    async fn act(&self, input: u32) -> Result<u32, String> {
        tokio::task::yield_now().await;
        if input == 0 {
            Err("nothing to do".into())
        } else {
            Ok(input)
        }
    }

    #[traced_task(name = "plan.inner")]
    async fn plan(&self) -> u32 {
        self.act(2).await.unwrap()
    }
}

struct Outer;

#[traced_task]
impl Outer {
    async fn direct(&self) -> u32 {
        1
    }
}

#[async_trait::async_trait]
trait Tool {
    async fn call(&self) -> u32;
}

#[async_trait::async_trait]
impl Tool for Outer {
    #[traced_task(name = "tool.call")]
    async fn call(&self) -> u32 {
        self.direct().await + 1
    }
}

#[test]
fn async_trait_methods_nest() {
    let cap = testing::capture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(Planner.plan()), 2);
    assert!(rt.block_on(Planner.act(0)).is_err());
    assert_eq!(rt.block_on(Outer.call()), 2);
    let plan = only(&cap, "plan.inner");
    let acts: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "Planner::act")
        .collect();
    assert_eq!(acts.len(), 2);
    assert_eq!(acts[0].parent_span_id, plan.span_id);
    assert_eq!(acts[1].status, Status::Error("nothing to do".into()));
    assert_eq!(
        only(&cap, "Outer::direct").parent_span_id,
        only(&cap, "tool.call").span_id
    );
}

// ---- parents, roots, links, spawned tasks ----

#[traced_task]
fn child() {}

#[traced_task(root)]
fn new_trace() {}

#[traced_task(parent = ctx)]
fn adopted(ctx: semtel::SpanContext) {}

#[traced_task(links(ctx))]
fn linked(ctx: semtel::SpanContext) {}

#[traced_task]
fn outer() -> semtel::SpanContext {
    child();
    new_trace();
    semtel::current_context()
}

#[traced_task]
async fn fan_out() -> usize {
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(tokio::spawn(semtel::in_current_span(async {
            spawned().await
        })));
    }
    let mut n = 0;
    for h in handles {
        n += h.await.unwrap();
    }
    n
}

#[traced_task]
async fn spawned() -> usize {
    tokio::task::yield_now().await;
    1
}

#[test]
fn parents_roots_links_and_spawned_tasks() {
    let cap = testing::capture();
    let ctx = outer();
    adopted(ctx);
    linked(ctx);
    let o = only(&cap, "outer");
    assert_eq!(only(&cap, "child").parent_span_id, o.span_id);
    let root = only(&cap, "new_trace");
    assert_eq!(root.parent_span_id, SpanId::INVALID);
    assert_ne!(root.trace_id, o.trace_id);
    let a = only(&cap, "adopted");
    assert_eq!((a.trace_id, a.parent_span_id), (o.trace_id, o.span_id));
    let l = only(&cap, "linked");
    assert_eq!(l.links[0].span_id, o.span_id);
    assert_ne!(l.trace_id, o.trace_id);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(fan_out()), 4);
    let f = only(&cap, "fan_out");
    let kids: Vec<_> = cap
        .spans()
        .into_iter()
        .filter(|s| s.name == "spawned")
        .collect();
    assert_eq!(kids.len(), 4);
    assert!(
        kids.iter()
            .all(|k| k.parent_span_id == f.span_id && k.trace_id == f.trace_id)
    );
}

// ---- agent steps ----

#[derive(serde::Serialize, Clone)]
struct Prompt {
    text: String,
}

#[agent_step(agent = name, model = "claude-sonnet-4", provider = "anthropic", step = "plan", capture(input = prompt, output))]
fn plan_step(name: &str, prompt: &Prompt) -> Result<String, String> {
    current_step().record_usage(1200, 80);
    if prompt.text.is_empty() {
        Err("empty prompt".into())
    } else {
        Ok(format!("plan for {}", prompt.text))
    }
}

#[agent_step(operation = execute_tool, tool = tool)]
fn tool_step(tool: &str) -> Result<(), GitError> {
    if tool == "git_merge" {
        Err(GitError::Conflict)
    } else {
        Ok(())
    }
}

#[agent_step(operation = chat, model = "gpt-4o", provider = "openai")]
async fn chat_step() -> u32 {
    3
}

#[test]
fn agent_steps_follow_the_genai_conventions() {
    let cap = testing::capture();
    let p = Prompt {
        text: "fix the bug".into(),
    };
    plan_step("step-planner", &p).unwrap();
    plan_step(
        "step-planner",
        &Prompt {
            text: String::new(),
        },
    )
    .unwrap_err();
    tool_step("run_tests").unwrap();
    tool_step("git_merge").unwrap_err();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(chat_step());

    let spans = cap.spans();
    let plans: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "invoke_agent step-planner")
        .collect();
    assert_eq!(plans.len(), 2);
    let s = plans[0];
    assert_eq!(
        attr(s, "gen_ai.operation.name").as_deref(),
        Some("invoke_agent")
    );
    assert_eq!(
        attr(s, "gen_ai.provider.name").as_deref(),
        Some("anthropic")
    );
    assert_eq!(attr(s, "orchestration.step.name").as_deref(), Some("plan"));
    assert_eq!(
        s.attribute("gen_ai.usage.input_tokens"),
        Some(&Value::I64(1200))
    );
    assert_eq!(
        s.attribute("gen_ai.usage.output_tokens"),
        Some(&Value::I64(80))
    );
    // Content is never recorded unless the runtime allows it too.
    assert!(s.attribute("gen_ai.input.messages").is_none());
    assert!(s.attribute("gen_ai.output.messages").is_none());
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool git_merge")
        .unwrap();
    assert_eq!(attr(tool, "error.type").as_deref(), Some("conflict"));
    assert!(
        spans
            .iter()
            .any(|s| s.name == "chat gpt-4o" && s.kind == SpanKind::Client)
    );

    let agent = [("gen_ai.agent.name", "step-planner")];
    assert_eq!(
        cap.metric_value("orchestration.step.successes", &agent),
        1.0
    );
    assert_eq!(
        cap.metric_value(
            "orchestration.step.failures",
            &[
                ("gen_ai.agent.name", "step-planner"),
                ("error.type", "_OTHER")
            ]
        ),
        1.0
    );
    assert_eq!(
        cap.metric_value(
            "orchestration.step.duration",
            &[
                ("gen_ai.agent.name", "step-planner"),
                ("orchestration.step.outcome", "success")
            ]
        ),
        1.0
    );
    assert_eq!(
        cap.metric_value(
            "orchestration.step.failures",
            &[
                ("gen_ai.tool.name", "git_merge"),
                ("error.type", "conflict")
            ]
        ),
        1.0
    );
    let usage = cap.series(
        "gen_ai.client.token.usage",
        &[
            ("gen_ai.agent.name", "step-planner"),
            ("gen_ai.token.type", "input"),
        ],
    );
    assert_eq!(usage.len(), 1);
    let semtel::metrics::Point::Histogram(h) = &usage[0].point else {
        panic!()
    };
    assert_eq!((h.count, h.sum), (2, 2400.0));
    assert!(
        usage[0]
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "gen_ai.request.model")
    );
    // The step metrics carry the step's sampled span as exemplar.
    let d = cap.series(
        "orchestration.step.duration",
        &[
            ("gen_ai.agent.name", "step-planner"),
            ("orchestration.step.outcome", "success"),
        ],
    );
    let (_, ex) = d[0].exemplars[0];
    assert!(
        spans
            .iter()
            .any(|s| s.span_id == ex.span_id && s.trace_id == ex.trace_id)
    );
}

#[test]
fn content_is_captured_as_json_when_both_sides_opt_in() {
    let capture = semtel::testing::capture_with(semtel::builder().capture_content(true));
    plan_step(
        "capturer",
        &Prompt {
            text: "hello".into(),
        },
    )
    .unwrap();
    let spans = capture.spans();
    let s = spans
        .iter()
        .find(|s| s.name == "invoke_agent capturer")
        .unwrap();
    assert_eq!(
        attr(s, "gen_ai.input.messages").as_deref(),
        Some(r#"{"text":"hello"}"#)
    );
    assert_eq!(
        attr(s, "gen_ai.output.messages").as_deref(),
        Some(r#""plan for hello""#)
    );
}
