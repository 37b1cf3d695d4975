use semtel::traced_task;
use std::future::Future;

#[traced_task]
fn cached() -> impl Future<Output = u32> + Clone {
    std::future::ready(1)
}

fn main() {
    let _ = cached();
}
