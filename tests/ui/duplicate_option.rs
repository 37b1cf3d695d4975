use semtel::traced_task;

#[traced_task(name = "a", name = "b")]
fn plan() {}

fn main() {
    plan();
}
