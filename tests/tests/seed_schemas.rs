//! Every attribute and metric the four systems in `../shared/seeds` use is
//! defined: by the bundled conventions or by the system's example schema.

use semtel_codegen::{Registry, bundled, load};
use std::path::Path;

fn schema(dir: &str) -> Registry {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(dir);
    load(&[root], Some(&bundled().unwrap())).unwrap_or_else(|e| panic!("{dir}:\n{e}"))
}

fn assert_defined(reg: &Registry, attributes: &[&str], metrics: &[&str], spans: &[&str]) {
    for a in attributes {
        assert!(
            reg.attributes.contains_key(*a),
            "attribute {a} is not defined"
        );
    }
    for m in metrics {
        assert!(reg.metrics.contains_key(*m), "metric {m} is not defined");
    }
    for s in spans {
        assert!(
            reg.spans.values().any(|d| d.name == *s || d.id == *s),
            "span {s} is not defined"
        );
    }
}

#[test]
fn drover() {
    let reg = schema("drover/schema");
    assert_defined(
        &reg,
        &[
            "drover.project.id",
            "drover.run.id",
            "drover.task.id",
            "drover.task.title",
            "drover.worker.id",
            "drover.agent.type",
            "drover.agent.model",
            "drover.agent.provider",
            "drover.git.operation",
            "drover.git.branch",
            "drover.epic.id",
            "drover.task.status",
            "drover.error.type",
            "drover.error.message",
            "drover.error.retry_count",
            "drover.task.state",
            "drover.task.priority",
            "drover.task.epic_id",
        ],
        &[
            "drover.tasks.claimed",
            "drover.tasks.completed",
            "drover.tasks.failed",
            "drover.agent.prompts",
            "drover.task.duration",
            "drover.agent.duration",
            "drover.git.operation.duration",
            "drover.workers.active",
            "drover.tasks.pending",
            "drover.tasks.in_progress",
        ],
        &[
            "drover.workflow.run",
            "drover.workflow.metrics",
            "drover.task.execute",
            "drover.agent.execute",
            "drover.git.{drover.git.operation}",
        ],
    );
}

#[test]
fn task_master() {
    let reg = schema("task_master/schema");
    assert_defined(
        &reg,
        &[
            "repo",
            "pr.number",
            "task.id",
            "agent",
            "workflow.name",
            "node.id",
            "exit.code",
            "step_name",
            "error.type",
        ],
        &[
            "agent_step.duration",
            "agent_step.success",
            "agent_step.fail",
        ],
        &["{agent}/{step_name}", "workflow"],
    );
}

#[test]
fn agentstack() {
    let reg = schema("schemas/agentstack");
    assert_defined(
        &reg,
        &[
            "project.id",
            "agent.name",
            "agent.framework",
            "agent.id",
            "method",
            "path",
            "status",
            "model",
        ],
        &[
            "http_requests",
            "http_request.duration",
            "chat_tokens",
            "llm_call.duration",
            "llm_calls",
            "llm_tokens.input",
            "llm_tokens.output",
            "agents.active",
            "agent.deploy.duration",
            "chat.latency",
        ],
        &["agent.Create"],
    );
}

#[test]
fn golden_armada() {
    let reg = schema("schemas/golden_armada");
    assert_defined(
        &reg,
        &[
            "agent_type",
            "agent_id",
            "phase",
            "status",
            "tool",
            "error_type",
            "component",
            "severity",
            "session_id",
            "model",
            "priority",
            "task_type",
        ],
        &[
            "agent_execution",
            "agent_execution.duration",
            "agent_tokens_used",
            "tool_calls",
            "tool_call.duration",
            "tool_call_success",
            "tool_call_failure",
            "context_window_utilization",
            "context_window_size",
            "context_window_used",
            "error_rate",
            "error",
            "task_queue_size",
            "task.duration",
            "task_success",
            "task_failure",
        ],
        &["orchestration-session"],
    );
}

#[test]
fn bundled_covers_the_shared_agent_vocabulary() {
    let reg = bundled().unwrap();
    assert_defined(
        &reg,
        &[
            "gen_ai.operation.name",
            "gen_ai.agent.name",
            "gen_ai.agent.id",
            "gen_ai.tool.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
            "gen_ai.response.model",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.conversation.id",
            "error.type",
            "orchestration.workflow.name",
            "orchestration.task.id",
            "orchestration.task.title",
            "orchestration.task.state",
            "orchestration.task.priority",
            "orchestration.epic.id",
            "orchestration.worker.id",
            "orchestration.git.operation",
            "orchestration.context_window.size",
            "orchestration.queue.name",
        ],
        &[
            "gen_ai.client.token.usage",
            "gen_ai.client.operation.duration",
            "orchestration.step.duration",
            "orchestration.step.successes",
            "orchestration.step.failures",
            "orchestration.tasks.claimed",
            "orchestration.queue.depth",
            "orchestration.context_window.utilization",
            "function.calls",
        ],
        &[
            "gen_ai.invoke_agent",
            "gen_ai.execute_tool",
            "gen_ai.inference",
        ],
    );
}
