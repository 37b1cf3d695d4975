//! A Drover-like task runner instrumented with its own `drover.*`
//! conventions. The schema in `schema/` becomes `crate::semconv` (see
//! `build.rs`), and the macros check every name against it and against the
//! bundled conventions it refers to.

semtel::include_conventions!();

use semtel::{metered, traced_task};

/// A task as the runner sees it.
pub struct Task {
    /// Task identifier.
    pub id: String,
    /// Human-readable title.
    pub title: String,
    /// The epic it belongs to.
    pub epic: String,
}

/// Why a task failed.
#[derive(Debug, semtel::ErrorType)]
pub enum TaskError {
    /// Two branches changed the same lines.
    MergeConflict,
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("merge conflict in src/app.rs")
    }
}

/// Runs the agent on a task.
#[traced_task(span = drover.agent.execute, attrs(drover.agent.type = "claude-code", drover.agent.model = "claude-sonnet-4", gen_ai.agent.name = "coder"))]
pub fn run_agent(task: &Task) -> usize {
    task.title.len()
}

/// Merges the task's branch.
#[traced_task(span = drover.git, attrs(drover.git.operation = "merge", drover.git.branch = format!("drover/{}", task.id)))]
#[metered(duration = drover.git.operation.duration, attrs(drover.git.operation = "merge"))]
pub fn merge(task: &Task) -> Result<(), TaskError> {
    if task.title.contains("conflict") {
        Err(TaskError::MergeConflict)
    } else {
        Ok(())
    }
}

/// Executes one task: agent, then merge.
#[traced_task(span = drover.task.execute, attrs(drover.task.id = task.id, drover.task.title = task.title, drover.worker.id = "worker-1"))]
#[metered(calls = drover.tasks.failed, attrs(drover.epic.id = task.epic))]
pub fn execute(task: &Task) -> Result<(), TaskError> {
    run_agent(task);
    merge(task)
}

/// Runs a workflow over `tasks`; returns how many succeeded.
#[traced_task(span = drover.workflow.run, attrs(drover.project.id = "web", drover.run.id = run_id))]
pub fn run(run_id: &str, tasks: &[Task]) -> usize {
    tasks.iter().filter(|t| execute(t).is_ok()).count()
}
