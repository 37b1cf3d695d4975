use semtel::traced_task;

#[traced_task(nmae = "plan")]
fn plan() {}

fn main() {
    plan();
}
