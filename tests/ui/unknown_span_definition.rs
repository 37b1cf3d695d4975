use semtel::traced_task;

#[traced_task(span = gen_ai.invoke_agnt)]
fn plan() {}

fn main() {
    plan();
}
