//! Built with `--cfg semtel_passthrough`, the macros emit functions as
//! written: nothing is recorded even with telemetry installed. Arguments that
//! only the macros' options use, and the imports of merged macros, still
//! count as used, so the build is free of warnings. `scripts/test` runs it as
//! `RUSTFLAGS="--cfg semtel_passthrough -D warnings" cargo test -p semtel --test passthrough`
//! (in a target directory of its own, since the flag applies to every crate).
#![cfg(semtel_passthrough)]

use semtel::{agent_step, metered, testing, traced_task};

#[traced_task(attrs(gen_ai.agent.name = agent, orchestration.task.priority = priority))]
#[metered]
fn task(agent: &str, priority: u32) -> u32 {
    1
}

#[agent_step(agent = name)]
fn step(name: &str) -> u32 {
    2
}

#[traced_task]
impl Holder {
    fn method(&self) -> u32 {
        3
    }

    #[traced_task(skip)]
    fn skipped(&self) -> u32 {
        4
    }
}

struct Holder;

#[test]
fn passthrough_records_nothing() {
    let cap = testing::capture();
    let sum = task("planner", 5) + step("coder") + Holder.method() + Holder.skipped();
    assert_eq!(sum, 10);
    assert!(cap.spans().is_empty());
    assert_eq!(
        cap.metric_value("function.calls", &[("function", "task")]),
        0.0
    );
}
