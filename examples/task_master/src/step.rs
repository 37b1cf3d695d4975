//! One agent step: the span `{agent}/{step}` with the workflow's context
//! from the environment, a child of the `TRACEPARENT` the process was given,
//! finished with the step's exit code.

use crate::semconv;
use semtel::traced_task;
use std::io::Write;

/// The step's context, as the workflow hands it to the step's container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepContext {
    /// `REPO`.
    pub repo: String,
    /// `PR_NUMBER`.
    pub pr_number: String,
    /// `TASK_ID`.
    pub task_id: String,
    /// `AGENT` (default `unknown`).
    pub agent: String,
    /// `STEP` (default `execute`).
    pub step: String,
    /// `WORKFLOW_NAME`.
    pub workflow_name: String,
    /// `NODE_ID`.
    pub node_id: String,
}

impl StepContext {
    /// Reads the context with `get` (the process environment: `std::env::var`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> StepContext {
        let var = |k: &str| get(k).unwrap_or_default();
        let or = |v: String, default: &str| {
            if v.is_empty() { default.to_string() } else { v }
        };
        StepContext {
            repo: var("REPO"),
            pr_number: var("PR_NUMBER"),
            task_id: var("TASK_ID"),
            agent: or(var("AGENT"), "unknown"),
            step: or(var("STEP"), "execute"),
            workflow_name: var("WORKFLOW_NAME"),
            node_id: var("NODE_ID"),
        }
    }
}

/// A step that exited with a non-zero code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepFailed(pub i32);

impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code: {}", self.0)
    }
}

impl std::error::Error for StepFailed {}

impl semtel::ErrorType for StepFailed {
    /// The exit code, as `semtel exec` reports it.
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        self.0.to_string().into()
    }
}

/// Runs `work` as the agent step `{agent}/{step}`: first prints the step's
/// trace and span id as JSON on `out` (for log correlation), then records
/// the exit code `work` returns (`exit.code`; an error status when it is not
/// 0). Context values that are empty are left out.
#[traced_task(span = task_master.agent_step, attrs(repo = ctx.repo, agent = ctx.agent, step_name = ctx.step))]
pub fn agent_step(
    ctx: &StepContext,
    out: &mut dyn Write,
    work: impl FnOnce() -> i32,
) -> Result<(), StepFailed> {
    let span = semtel::current_span();
    for (key, value) in [
        (semconv::pr::NUMBER, &ctx.pr_number),
        (semconv::task::ID, &ctx.task_id),
        (semconv::workflow::NAME, &ctx.workflow_name),
        (semconv::node::ID, &ctx.node_id),
    ] {
        if !value.is_empty() {
            span.set(key, value.as_str());
        }
    }
    let c = span.context();
    // Printing is best effort: a closed stdout must not fail the step.
    let _ = writeln!(
        out,
        r#"{{"trace_id":"{}","span_id":"{}"}}"#,
        c.trace_id, c.span_id
    );
    let _ = out.flush();
    let code = work();
    span.set(semconv::exit::CODE, i64::from(code));
    if code == 0 {
        Ok(())
    } else {
        Err(StepFailed(code))
    }
}
