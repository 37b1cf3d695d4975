//! The quickstart: a small agent workflow instrumented with semtel's three
//! attributes: `#[traced_task]` (workflow and tasks), `#[agent_step]` (the
//! agent and its tool calls, following the GenAI conventions) and
//! `#[metered]` (call counts and durations).
//!
//! A workflow run executes three tasks; each task runs an agent step and a
//! tool call, and one tool call fails. Run it with no configuration and the
//! trace prints as a tree on the terminal, then the metrics:
//!
//! ```text
//! cargo run -p semtel-examples --example quickstart
//! ```
//!
//! Set `OTEL_TRACES_EXPORTER=otlp` (and `OTEL_EXPORTER_OTLP_ENDPOINT`) to send
//! the same trace to a collector instead.

use semtel::{MetricsExporter, TracesExporter, agent_step, current_step, metered, traced_task};
use std::fmt;
use std::thread::sleep;
use std::time::Duration;

struct Task {
    id: &'static str,
    title: &'static str,
    priority: u32,
    tool: &'static str,
}

#[derive(Debug, semtel::ErrorType)]
#[error_type("push_rejected")]
struct ToolError {
    tool: &'static str,
    reason: &'static str,
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tool `{}` failed: {}", self.tool, self.reason)
    }
}

#[agent_step(agent = agent, model = "claude-sonnet-4", provider = "anthropic")]
fn agent_step(agent: &str, task: &Task) -> &'static str {
    sleep(Duration::from_millis(3));
    // Known only once the model has answered.
    current_step().record_usage(1200 + task.title.len() as u64, 180);
    task.tool
}

#[agent_step(operation = execute_tool, tool = tool)]
fn tool_call(tool: &'static str) -> Result<u32, ToolError> {
    sleep(Duration::from_millis(2));
    if tool == "git_push" {
        return Err(ToolError {
            tool,
            reason: "remote rejected the push (non-fast-forward)",
        });
    }
    Ok(0)
}

#[traced_task(
    name = "task.execute",
    attrs(
        orchestration.task.id = task.id,
        orchestration.task.title = task.title,
        orchestration.task.priority = task.priority,
        orchestration.worker.id = "worker-1",
    )
)]
#[metered]
fn execute_task(task: &Task) -> Result<u32, ToolError> {
    let tool = agent_step("coder", task);
    tool_call(tool)
}

#[traced_task(
    name = "workflow.run",
    attrs(orchestration.workflow.name = "fix-bugs", orchestration.workflow.run.id = run_id)
)]
fn run_workflow(run_id: &str, tasks: &[Task]) -> usize {
    tasks.iter().filter(|t| execute_task(t).is_ok()).count()
}

fn main() -> Result<(), semtel::InitError> {
    let telemetry = semtel::builder()
        .service_name("quickstart")
        .default_traces_exporter(TracesExporter::Console)
        .default_metrics_exporter(MetricsExporter::Console)
        .init()?;
    let tasks = [
        Task {
            id: "task-1",
            title: "Reproduce the login bug",
            priority: 80,
            tool: "run_tests",
        },
        Task {
            id: "task-2",
            title: "Fix session expiry",
            priority: 90,
            tool: "apply_patch",
        },
        Task {
            id: "task-3",
            title: "Push the fix",
            priority: 50,
            tool: "git_push",
        },
    ];
    let done = run_workflow("run-0001", &tasks);
    eprintln!("{done} of {} tasks succeeded", tasks.len());
    telemetry.shutdown();
    Ok(())
}
