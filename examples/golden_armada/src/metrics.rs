//! The seed's metric set: agent execution, tool usage, context window,
//! errors and the task queue, as instruments of the schema's definitions.
//! The Prometheus names follow from the schema (`agent_execution.duration`
//! in seconds is `agent_execution_duration_seconds`, counters end in
//! `_total`).

use crate::semconv::{self, metrics as m};
use semtel::metrics::{Counter, Gauge, Histogram};

/// The instruments one process records into.
pub struct Metrics {
    agent_execution: Counter<i64>,
    agent_execution_duration: Histogram<f64>,
    agent_tokens: Counter<i64>,
    tool_calls: Counter<i64>,
    tool_success: Counter<i64>,
    tool_failure: Counter<i64>,
    context_utilization: Gauge<f64>,
    context_size: Gauge<i64>,
    context_used: Gauge<i64>,
    errors: Counter<i64>,
    /// Tasks waiting, by priority.
    pub task_queue_size: Gauge<i64>,
    task_duration: Histogram<f64>,
    task_success: Counter<i64>,
    task_failure: Counter<i64>,
}

/// One finished agent execution, as the seed's `trackAgentExecution` takes it.
pub struct AgentExecution<'a> {
    /// `coder`, `reviewer`, ...
    pub agent_type: &'a str,
    /// The orchestration phase.
    pub phase: &'a str,
    /// Seconds.
    pub duration: f64,
    /// Tokens used.
    pub tokens: i64,
    /// The model used.
    pub model: &'a str,
    /// Tokens in the context window, and its size.
    pub context: (i64, i64),
    /// Whether it succeeded.
    pub success: bool,
}

impl Metrics {
    /// The instruments (registered once per process).
    pub fn new() -> Metrics {
        Metrics {
            agent_execution: Counter::new(&m::AGENT_EXECUTION),
            agent_execution_duration: Histogram::new(&m::agent_execution::DURATION),
            agent_tokens: Counter::new(&m::AGENT_TOKENS_USED),
            tool_calls: Counter::new(&m::TOOL_CALLS),
            tool_success: Counter::new(&m::TOOL_CALL_SUCCESS),
            tool_failure: Counter::new(&m::TOOL_CALL_FAILURE),
            context_utilization: Gauge::new(&m::CONTEXT_WINDOW_UTILIZATION),
            context_size: Gauge::new(&m::CONTEXT_WINDOW_SIZE),
            context_used: Gauge::new(&m::CONTEXT_WINDOW_USED),
            errors: Counter::new(&m::ERROR),
            task_queue_size: Gauge::new(&m::TASK_QUEUE_SIZE),
            task_duration: Histogram::new(&m::task::DURATION),
            task_success: Counter::new(&m::TASK_SUCCESS),
            task_failure: Counter::new(&m::TASK_FAILURE),
        }
    }

    /// Records one agent execution (the coordinator's view of a sub-agent).
    pub fn agent_execution(&self, e: &AgentExecution<'_>) {
        let agent = || semconv::AGENT_TYPE.value(e.agent_type.to_string());
        let phase = || semconv::PHASE.value(e.phase.to_string());
        let status = if e.success { "success" } else { "failure" };
        self.agent_execution.add(
            1,
            vec![agent(), phase(), semconv::STATUS.value_static(status)],
        );
        self.agent_execution_duration
            .record(e.duration, vec![agent(), phase()]);
        self.agent_tokens.add(
            e.tokens,
            vec![agent(), semconv::MODEL.value(e.model.to_string())],
        );
        let (used, size) = e.context;
        self.context_used.set(used, vec![agent()]);
        self.context_size.set(size, vec![agent()]);
        self.context_utilization
            .set(used as f64 / size.max(1) as f64, vec![agent()]);
    }

    /// Counts one tool call; the duration is recorded by `#[metered]`.
    pub fn tool_call(&self, tool: &'static str, error_type: Option<&'static str>) {
        let t = || semconv::TOOL.value_static(tool);
        let status = if error_type.is_some() {
            "failure"
        } else {
            "success"
        };
        self.tool_calls
            .add(1, vec![t(), semconv::STATUS.value_static(status)]);
        match error_type {
            None => self.tool_success.add(1, vec![t()]),
            Some(e) => {
                self.tool_failure
                    .add(1, vec![t(), semconv::ERROR_TYPE.value_static(e)]);
                self.error("tool", e, "warning");
            }
        }
    }

    /// Counts an error of a component.
    pub fn error(&self, component: &'static str, error_type: &'static str, severity: &'static str) {
        self.errors.add(
            1,
            vec![
                semconv::COMPONENT.value_static(component),
                semconv::ERROR_TYPE.value_static(error_type),
                semconv::SEVERITY.value_static(severity),
            ],
        );
    }

    /// Records a finished task.
    pub fn task(&self, task_type: &'static str, seconds: f64, error_type: Option<&'static str>) {
        let t = || semconv::TASK_TYPE.value_static(task_type);
        let status = if error_type.is_some() {
            "failure"
        } else {
            "success"
        };
        self.task_duration
            .record(seconds, vec![t(), semconv::STATUS.value_static(status)]);
        match error_type {
            None => self.task_success.add(1, vec![t()]),
            Some(e) => self
                .task_failure
                .add(1, vec![t(), semconv::ERROR_TYPE.value_static(e)]),
        }
    }
}
