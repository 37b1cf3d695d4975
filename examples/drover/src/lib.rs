//! Drover, a task runner for coding agents, instrumented with semtel and
//! its own `drover.*` conventions. The schema in `schema/` becomes
//! `crate::semconv` (see `build.rs`), and the macros check every name
//! against it and against the bundled conventions it refers to.
//!
//! [`workflow`] is the run and its telemetry, [`config`] maps Drover's own
//! settings onto semtel's builder; `src/main.rs` is the `drover` program.

semtel::include_conventions!();

pub mod config;
mod metrics;
pub mod workflow;

pub use workflow::{GitOp, Plan, Summary, Task, TaskError, execute, git, run, run_agent, tasks};
