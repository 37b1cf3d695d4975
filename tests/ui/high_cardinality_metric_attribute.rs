use semtel::metered;

#[metered(calls = orchestration.tasks.claimed, attrs(orchestration.task.id = id))]
fn claim(id: &str) {
    let _ = id;
}

fn main() {
    claim("task-1");
}
