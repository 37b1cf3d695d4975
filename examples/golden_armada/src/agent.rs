//! A sub-agent process: it continues the coordinator's trace from the
//! `TRACE_CONTEXT` variable, runs its tools, and reports its result to the
//! coordinator as one JSON line on standard output.

use crate::metrics::Metrics;
use semtel::{SpanContext, current_span, metered, traced_task};
use std::time::Duration;

/// The tools a sub-agent calls, in order; the fourth `Bash` call times out.
const TOOLS: [&str; 4] = ["Read", "Edit", "Bash", "Read"];

/// The parent the coordinator handed over (the seed's `TRACE_CONTEXT`, a W3C
/// `traceparent` value); none starts a new trace.
fn handed_over_context() -> SpanContext {
    match std::env::var("TRACE_CONTEXT") {
        Ok(v) => semtel::propagation::parse_traceparent(&v).unwrap_or_else(|e| {
            eprintln!("golden_armada: TRACE_CONTEXT {v:?} is not a traceparent ({e}); starting a new trace");
            SpanContext::NONE
        }),
        Err(_) => SpanContext::NONE,
    }
}

/// Why a tool call failed.
#[derive(Debug, semtel::ErrorType)]
pub enum ToolError {
    /// The tool did not answer in time.
    Timeout,
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tool timed out")
    }
}

/// One tool call: its span, its duration histogram (checked against the
/// schema's `tool_call.duration`), its counters.
#[traced_task(span = golden_armada.tool_call, attrs(tool = tool))]
#[metered(duration = tool_call.duration, attrs(tool = tool))]
fn call_tool(metrics: &Metrics, tool: &'static str, n: u64) -> Result<(), ToolError> {
    // Durations spread from 2 to 14 ms, so that quantiles differ.
    std::thread::sleep(Duration::from_micros(2000 + (n * 7919) % 12_000));
    let timed_out = tool == "Bash" && n % 12 == 10;
    metrics.tool_call(tool, timed_out.then_some("timeout"));
    if timed_out {
        Err(ToolError::Timeout)
    } else {
        Ok(())
    }
}

/// The sub-agent's whole execution: the span `{agent_type}-execution`.
#[traced_task(span = golden_armada.agent_execution, parent = handed_over_context(),
    attrs(agent_type = agent_type, agent_id = agent_id, session_id = session_id, phase = phase))]
fn execute(
    metrics: &Metrics,
    agent_type: &str,
    agent_id: &str,
    session_id: &str,
    phase: &str,
    rounds: u64,
) -> u64 {
    current_span().add_event(
        "code_generation_started",
        vec![
            opentelemetry::KeyValue::new("files", 3),
            opentelemetry::KeyValue::new("language", "typescript"),
        ],
    );
    let mut failures = 0;
    for n in 0..rounds {
        let tool = TOOLS[(n % TOOLS.len() as u64) as usize];
        if call_tool(metrics, tool, n).is_err() {
            failures += 1;
        }
    }
    failures
}

/// Runs the sub-agent `agent_type`; prints its result for the coordinator.
pub fn run(agent_type: &str) {
    let metrics = Metrics::new();
    let session = std::env::var("GOLDEN_ARMADA_SESSION").unwrap_or_else(|_| "session-0".into());
    let rounds = std::env::var("GOLDEN_ARMADA_TOOL_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let agent_id = format!("{agent_type}-{}", std::process::id());
    let phase = if agent_type == "reviewer" {
        "review"
    } else {
        "code"
    };
    let failures = execute(&metrics, agent_type, &agent_id, &session, phase, rounds);
    let tokens = 1500 + 250 * rounds as i64;
    println!(
        "{}",
        serde_json::json!({
            "agent_id": agent_id,
            "tool_calls": rounds,
            "tool_failures": failures,
            "tokens": tokens,
            "context_used": 40_000 + tokens * 10,
            "context_total": 200_000,
        })
    );
}
