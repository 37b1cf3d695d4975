use semtel::traced_task;

#[traced_task(attrs(gen_ai.usage.input_tokens = "many"))]
fn plan() {}

fn main() {
    plan();
}
