use semtel::traced_task;

// One mistake, one error: the misspelled name is the error, not also the
// required attribute it was meant to be.
#[traced_task(span = orchestration.task.execute, attrs(orchestration.task.idd = id))]
fn execute(id: &str) {}

fn main() {
    execute("task-1");
}
