use semtel::traced_task;

#[traced_task(attrs(gen_ai.agent.name = "planner"))]
fn plan() -> u32 {
    "not a number"
}

fn main() {
    plan();
}

#[traced_task]
async fn plan_async() -> u32 {
    "not a number either"
}
