//! Task Master's agent steps on semtel. A workflow runs each agent step as a
//! separate process whose context comes from the environment (`REPO`,
//! `PR_NUMBER`, `TASK_ID`, `AGENT`, `STEP`, `WORKFLOW_NAME`, `NODE_ID`) and
//! whose span continues the workflow's trace through `TRACEPARENT`.
//!
//! [`step`] is one agent step (the process), [`workflow`] the coordinator
//! that starts the steps and records the `agent_step_*` metrics. The schema
//! in `schema/` becomes `crate::semconv` (see `build.rs`).

semtel::include_conventions!();

pub mod step;
pub mod workflow;

pub use step::{StepContext, StepFailed, agent_step};
pub use workflow::{Step, Workflow, run_step, run_workflow};
