use semtel::metered;

// The unknown metric is the error; its attributes are not then checked
// against the default function metrics.
#[metered(calls = orchestration.tasks.complted, attrs(orchestration.task.state = "failed"))]
fn finish() {}

fn main() {
    finish();
}
