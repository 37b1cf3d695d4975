#![deny(warnings)]
use semtel::{metered, traced_task};

// A failed expansion is its error alone: the imports of the merged macros
// stay used and the function keeps its other attributes.
#[traced_task(nmae = "plan")]
#[metered]
fn plan() {}

#[traced_task]
#[metered(calls = orchestration.tasks.claimd)]
#[allow(dead_code)]
fn never_called() {}

fn main() {
    plan();
}
