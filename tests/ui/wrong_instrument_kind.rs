use semtel::metered;

#[metered(calls = orchestration.task.duration)]
fn run() {}

fn main() {
    run();
}
