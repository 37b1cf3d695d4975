use semtel::traced_task;

#[traced_task(attrs(gen_ai.agent.nmae = "planner"))]
fn plan() {}

fn main() {
    plan();
}
