use semtel::traced_task;

#[traced_task]
fn plan() -> u32 {
    let x = ;
    x
}

fn main() {
    plan();
}
