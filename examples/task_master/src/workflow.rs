//! The workflow: runs each agent step as a separate process, hands it the
//! context through the environment and `TRACEPARENT`, and records the
//! `agent_step_*` metrics (`agent_step_duration_seconds`,
//! `agent_step_success_total`, `agent_step_fail_total`), whose exemplars
//! link each measurement to the workflow's trace.

use crate::semconv;
use crate::step::StepFailed;
use semtel::metrics::Counter;
use semtel::propagation::CommandExt;
use semtel::{metered, traced_task};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// A workflow run and its context.
#[derive(Clone, Debug)]
pub struct Workflow {
    /// The workflow's name (`WORKFLOW_NAME`).
    pub name: String,
    /// `REPO`.
    pub repo: String,
    /// `PR_NUMBER`.
    pub pr_number: String,
    /// `TASK_ID`.
    pub task_id: String,
    /// The steps, run in order.
    pub steps: Vec<Step>,
}

/// One agent step: the command that runs it.
#[derive(Clone, Debug)]
pub struct Step {
    /// `AGENT`.
    pub agent: String,
    /// `STEP`.
    pub name: String,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

fn successes() -> &'static Counter<i64> {
    static C: OnceLock<Counter<i64>> = OnceLock::new();
    C.get_or_init(|| Counter::new(&semconv::metrics::agent_step::SUCCESS))
}

/// Runs one step as a process and waits for it. Its duration goes to
/// `agent_step.duration` and a failure to `agent_step.fail` (with the exit
/// code as `error.type`) through `#[metered]`, which checks these labels
/// against the schema; a success is counted in `agent_step.success`.
#[metered(duration = agent_step.duration, errors = agent_step.fail, attrs(agent = step.agent, repo = wf.repo, step_name = step.name))]
pub fn run_step(wf: &Workflow, step: &Step, node: usize) -> Result<(), StepFailed> {
    let status = Command::new(&step.program)
        .args(&step.args)
        .env("REPO", &wf.repo)
        .env("PR_NUMBER", &wf.pr_number)
        .env("TASK_ID", &wf.task_id)
        .env("AGENT", &step.agent)
        .env("STEP", &step.name)
        .env("WORKFLOW_NAME", &wf.name)
        .env("NODE_ID", format!("{}-{node}", wf.name))
        // The workflow records the step metrics; the step process exports
        // only its spans.
        .env("OTEL_METRICS_EXPORTER", "none")
        .with_trace_context()
        .status();
    let code = match status {
        Ok(s) => s.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + s.signal().unwrap_or(0)
        }),
        Err(e) => {
            eprintln!("task_master: cannot run {}: {e}", step.program.display());
            127
        }
    };
    if code != 0 {
        return Err(StepFailed(code));
    }
    successes().add(
        1,
        vec![
            semconv::AGENT.value(step.agent.clone()),
            semconv::REPO.value(wf.repo.clone()),
            semconv::STEP_NAME.value(step.name.clone()),
        ],
    );
    Ok(())
}

/// The seed's labels on the duration histogram: `task_id`, `pr_number` and
/// `workflow_name` identify one run each. semtel rejects them at compile
/// time (`cargo build --features seed-labels`); they are span attributes,
/// and the exemplars link every measurement to its trace.
#[cfg(feature = "seed-labels")]
#[metered(duration = agent_step.duration, attrs(
    repo = wf.repo, pr.number = wf.pr_number, task.id = wf.task_id,
    agent = step.agent, workflow.name = wf.name, step_name = step.name
))]
pub fn run_step_with_seed_labels(wf: &Workflow, step: &Step) {}

/// Runs the steps in order (all of them, whatever their outcome) inside the
/// workflow's span; returns each step's outcome.
#[traced_task(span = task_master.workflow, attrs(workflow.name = wf.name, repo = wf.repo, pr.number = wf.pr_number, task.id = wf.task_id))]
pub fn run_workflow(wf: &Workflow) -> Vec<Result<(), StepFailed>> {
    wf.steps
        .iter()
        .enumerate()
        .map(|(i, step)| run_step(wf, step, i + 1))
        .collect()
}
