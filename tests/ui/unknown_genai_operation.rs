use semtel::agent_step;

#[agent_step(operation = invoke_agnet, agent = "planner")]
fn plan() {}

fn main() {
    plan();
}
