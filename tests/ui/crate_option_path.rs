use semtel::traced_task;

// `crate = ...` names the path the generated code uses for semtel.
#[traced_task(crate = telemetry)]
fn plan() {}

fn main() {
    plan();
}
