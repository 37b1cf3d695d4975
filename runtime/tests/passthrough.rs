//! With the `passthrough` feature the macros emit functions unchanged:
//! nothing is recorded even with telemetry installed. Run by `scripts/test`
//! as `cargo test -p semtel --features passthrough --test passthrough`.
#![cfg(feature = "passthrough")]

use semtel::{agent_step, metered, testing, traced_task};

#[traced_task(attrs(gen_ai.agent.name = "x"))]
#[metered]
fn task() -> u32 {
    1
}

#[agent_step(agent = "a")]
fn step() -> u32 {
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
    assert_eq!(task() + step() + Holder.method() + Holder.skipped(), 10);
    assert!(cap.spans().is_empty());
    assert_eq!(
        cap.metric_value("function.calls", &[("function", "task")]),
        0.0
    );
}
