use semtel::traced_task;

#[traced_task(attrs(orchestration.task.state = "finished"))]
fn done() {}

fn main() {
    done();
}
