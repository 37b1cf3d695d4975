use semtel::traced_task;

// A `#[track_caller]` body runs inline; a macro that may return from it
// would leave the result unseen.
#[traced_task]
#[track_caller]
fn check(n: u32) -> anyhow::Result<u32> {
    anyhow::ensure!(n > 0, "zero");
    Ok(n)
}

fn main() {
    let _ = check(1);
}
