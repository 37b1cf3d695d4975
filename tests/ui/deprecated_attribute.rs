#![deny(deprecated)]
use semtel::traced_task;

#[traced_task(attrs(gen_ai.system = "anthropic"))]
fn call_model() {}

fn main() {
    call_model();
}
