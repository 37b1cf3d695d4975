use semtel::traced_task;

#[traced_task(span = orchestration.task.execute, attrs(orchestration.task.title = "t"))]
fn execute() {}

fn main() {
    execute();
}
