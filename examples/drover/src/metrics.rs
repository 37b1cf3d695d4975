//! Drover's instruments that are recorded by hand (the agent and git
//! durations come from `#[metered]`).

use crate::semconv::metrics::drover as m;
use semtel::metrics::{Counter, Gauge, Histogram, UpDownCounter};
use std::sync::OnceLock;

/// The instruments, made once.
pub struct Instruments {
    /// `drover.tasks.claimed`.
    pub claimed: Counter<i64>,
    /// `drover.tasks.completed`.
    pub completed: Counter<i64>,
    /// `drover.tasks.failed`.
    pub failed: Counter<i64>,
    /// `drover.agent.prompts`.
    pub prompts: Counter<i64>,
    /// `drover.task.duration` (ms).
    pub task_duration: Histogram<f64>,
    /// `drover.workers.active`.
    pub workers: UpDownCounter<i64>,
    /// `drover.tasks.pending`.
    pub pending: Gauge<i64>,
    /// `drover.tasks.in_progress`.
    pub in_progress: UpDownCounter<i64>,
}

/// Drover's instruments.
pub fn instruments() -> &'static Instruments {
    static I: OnceLock<Instruments> = OnceLock::new();
    I.get_or_init(|| Instruments {
        claimed: Counter::new(&m::tasks::CLAIMED),
        completed: Counter::new(&m::tasks::COMPLETED),
        failed: Counter::new(&m::tasks::FAILED),
        prompts: Counter::new(&m::agent::PROMPTS),
        task_duration: Histogram::new(&m::task::DURATION),
        workers: UpDownCounter::new(&m::workers::ACTIVE),
        pending: Gauge::new(&m::tasks::PENDING),
        in_progress: UpDownCounter::new(&m::tasks::IN_PROGRESS),
    })
}
