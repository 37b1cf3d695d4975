//! A Drover run: workers claim tasks from a queue; each task gets a git
//! worktree, an agent run, a commit and a merge, and its worktree removed.
//! The agent and git commands are simulated (they sleep), the telemetry is
//! what Drover emits:
//!
//! ```text
//! drover.workflow.run
//! ├── drover.task.execute
//! │   ├── drover.git.worktree.create
//! │   ├── drover.agent.execute
//! │   ├── drover.git.commit
//! │   ├── drover.git.merge
//! │   └── drover.git.worktree.remove
//! └── drover.workflow.metrics
//! ```

use crate::metrics::instruments;
use crate::semconv::drover;
use crate::semconv::drover::task::DroverTaskState as State;
use semtel::{metered, traced_task};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A task as the runner sees it.
#[derive(Clone, Debug)]
pub struct Task {
    /// Task identifier.
    pub id: String,
    /// Human-readable title.
    pub title: String,
    /// The epic it belongs to.
    pub epic: String,
    /// Priority, 0 to 100.
    pub priority: i64,
}

/// Why a task failed.
#[derive(Debug, semtel::ErrorType)]
pub enum TaskError {
    /// Two branches changed the same lines.
    MergeConflict,
    /// The agent did not finish in time.
    Timeout,
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskError::MergeConflict => f.write_str("merge conflict in src/app.rs"),
            TaskError::Timeout => f.write_str("the agent did not finish within its time limit"),
        }
    }
}

/// The git operations of a task, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GitOp {
    /// `git worktree add`.
    WorktreeCreate,
    /// `git commit`.
    Commit,
    /// `git merge`.
    Merge,
    /// `git worktree remove`.
    WorktreeRemove,
}

impl GitOp {
    /// The `drover.git.operation` value (and the span name's last part).
    pub fn as_str(self) -> &'static str {
        match self {
            GitOp::WorktreeCreate => "worktree.create",
            GitOp::Commit => "commit",
            GitOp::Merge => "merge",
            GitOp::WorktreeRemove => "worktree.remove",
        }
    }
}

/// What one `drover run` does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The project worked on.
    pub project: String,
    /// This run's id.
    pub run_id: String,
    /// The tasks, in queue order.
    pub tasks: Vec<Task>,
    /// How many workers claim tasks in parallel.
    pub workers: usize,
    /// The time unit of the simulated work (an agent run takes 2 to 4 of
    /// them, a git operation a quarter).
    pub pace: Duration,
}

/// How a run went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tasks merged.
    pub completed: usize,
    /// Tasks that failed.
    pub failed: usize,
}

/// One git operation on the task's branch; a merge of a task whose title
/// mentions a conflict fails.
#[traced_task(span = drover.git, attrs(drover.git.operation = op.as_str(), drover.git.branch = branch))]
#[metered(duration = drover.git.operation.duration, attrs(drover.git.operation = op.as_str()))]
pub fn git(op: GitOp, task: &Task, branch: &str, pace: Duration) -> Result<(), TaskError> {
    std::thread::sleep(pace / 4);
    if op == GitOp::Merge && task.title.contains("conflict") {
        return Err(TaskError::MergeConflict);
    }
    Ok(())
}

/// The coding agent working on the task: one prompt, then the work; a task
/// whose title mentions a timeout makes it give up.
#[traced_task(span = drover.agent.execute, attrs(drover.agent.type = "claude-code", drover.agent.model = "claude-sonnet-4", drover.agent.provider = "anthropic", gen_ai.agent.name = "coder"))]
#[metered(duration = drover.agent.duration, attrs(drover.agent.type = "claude-code"))]
pub fn run_agent(task: &Task, pace: Duration) -> Result<(), TaskError> {
    instruments()
        .prompts
        .add(1, vec![drover::agent::TYPE.value_static("claude-code")]);
    std::thread::sleep(pace * (2 + (task.title.len() % 3) as u32));
    if task.title.contains("timeout") {
        return Err(TaskError::Timeout);
    }
    Ok(())
}

/// Executes one task on `worker`: worktree, agent, commit, merge, and the
/// worktree removed whatever happened. Records the task's duration (ms) and
/// its completion or failure, and logs with the task's id.
#[traced_task(span = drover.task.execute, attrs(drover.task.id = task.id, drover.task.title = task.title, drover.worker.id = worker, drover.epic.id = task.epic, drover.task.priority = task.priority))]
pub fn execute(task: &Task, worker: &str, pace: Duration) -> Result<(), TaskError> {
    let started = Instant::now();
    tracing::info!(task_id = %task.id, worker, "task started");
    let branch = format!("drover/{}", task.id);
    let result = git(GitOp::WorktreeCreate, task, &branch, pace)
        .and_then(|()| run_agent(task, pace))
        .and_then(|()| git(GitOp::Commit, task, &branch, pace))
        .and_then(|()| git(GitOp::Merge, task, &branch, pace));
    let removed = git(GitOp::WorktreeRemove, task, &branch, pace);
    let result = result.and(removed);

    let i = instruments();
    let epic = drover::epic::ID.value(task.epic.clone());
    let state = if result.is_ok() {
        State::Completed
    } else {
        State::Failed
    };
    semtel::current_span().set(drover::task::STATE, state);
    let ms = started.elapsed().as_secs_f64() * 1e3;
    i.task_duration
        .record(ms, vec![epic.clone(), drover::task::STATE.value(state)]);
    match &result {
        Ok(()) => {
            i.completed
                .add(1, vec![epic, drover::task::STATUS.value_static("merged")]);
            tracing::info!(task_id = %task.id, "task completed");
        }
        Err(e) => {
            let kind = semtel::ErrorType::error_type(e);
            i.failed
                .add(1, vec![epic, drover::error::TYPE.value(kind.to_string())]);
            tracing::error!(task_id = %task.id, error = %e, "task failed");
        }
    }
    result
}

/// Reports the run's totals: no task is pending any more.
#[traced_task(span = drover.workflow.metrics, attrs(drover.run.id = plan.run_id))]
fn workflow_metrics(plan: &Plan, summary: Summary) {
    instruments().pending.set(0, vec![]);
    tracing::info!(
        run_id = %plan.run_id,
        completed = summary.completed,
        failed = summary.failed,
        "workflow finished"
    );
}

/// Runs the plan: `plan.workers` workers claim tasks until the queue is
/// empty, then the totals are reported.
#[traced_task(span = drover.workflow.run, attrs(drover.project.id = plan.project, drover.run.id = plan.run_id))]
pub fn run(plan: &Plan) -> Summary {
    let queue: Mutex<VecDeque<&Task>> = Mutex::new(plan.tasks.iter().collect());
    let summary = Mutex::new(Summary::default());
    instruments().pending.set(plan.tasks.len() as i64, vec![]);
    let ctx = semtel::current_context();
    std::thread::scope(|s| {
        for w in 0..plan.workers.max(1) {
            let (queue, summary) = (&queue, &summary);
            let worker = format!("worker-{}", w + 1);
            s.spawn(ctx.wrap(move || work(&worker, queue, summary, plan.pace)));
        }
    });
    let summary = *summary.lock().unwrap_or_else(|e| e.into_inner());
    workflow_metrics(plan, summary);
    summary
}

/// One worker: claims tasks until none is left.
fn work(worker: &str, queue: &Mutex<VecDeque<&Task>>, summary: &Mutex<Summary>, pace: Duration) {
    let i = instruments();
    i.workers.add(1, vec![]);
    loop {
        let (task, left) = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            let task = q.pop_front();
            (task, q.len())
        };
        let Some(task) = task else { break };
        i.claimed
            .add(1, vec![drover::epic::ID.value(task.epic.clone())]);
        i.pending.set(left as i64, vec![]);
        i.in_progress.add(1, vec![]);
        let ok = execute(task, worker, pace).is_ok();
        i.in_progress.add(-1, vec![]);
        let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            s.completed += 1;
        } else {
            s.failed += 1;
        }
    }
    i.workers.add(-1, vec![]);
}

/// `n` tasks with ids from `task-<first>`, over three epics; the titles
/// repeat a list of six in which one merge conflicts and one agent times
/// out.
pub fn tasks(n: usize, first: usize) -> Vec<Task> {
    const TITLES: [&str; 6] = [
        "Add login form",
        "Fix login redirect",
        "Resolve conflict in router",
        "Update dependencies",
        "Migrate sessions (agent timeout)",
        "Refactor session store",
    ];
    (0..n)
        .map(|i| Task {
            id: format!("task-{}", first + i),
            title: TITLES[i % TITLES.len()].to_string(),
            epic: format!("epic-{}", i % 3 + 1),
            priority: (100 - (i * 7) % 100) as i64,
        })
        .collect()
}
