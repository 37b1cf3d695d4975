use semtel::metered;

#[metered(duration = orchestration.git.operation.duration, attrs(gen_ai.agent.name = "coder"))]
fn push() {}

fn main() {
    push();
}
