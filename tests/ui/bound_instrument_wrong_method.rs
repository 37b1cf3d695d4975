use semtel::conventions::metrics::orchestration;
use semtel::metrics::{Counter, Histogram};

fn main() {
    let claimed = Counter::new(&orchestration::tasks::CLAIMED).bind(vec![]);
    claimed.add(1);
    claimed.record(1);
    let duration = Histogram::new(&orchestration::task::DURATION).bind(vec![]);
    duration.record(0.5);
    duration.add(0.5);
}
