//! A small instrumented program the integration tests run as a separate
//! process, configured only by its environment: a root task (which joins the
//! caller's trace when `TRACEPARENT` is set), a `tracing` event inside it, a
//! library-style `#[tracing::instrument]` span with a semtel span inside, and
//! a metered call. With `CHILD_SPAWN=1` it runs itself once more as a child
//! process carrying its trace context.

use semtel::propagation::CommandExt;
use semtel::{metered, traced_task};

#[traced_task(name = "child.inner")]
fn inner() -> u32 {
    tracing::warn!(depth = 2, "inside the semtel span within the tracing span");
    2
}

#[tracing::instrument]
fn library_call(x: u32) -> u32 {
    tracing::info!("library work");
    inner() + x
}

#[traced_task(name = "child.work", attrs(orchestration.workflow.name = "child"))]
#[metered]
fn work() -> u32 {
    tracing::info!(task = "t-1", "child says hi");
    if std::env::var_os("CHILD_SPAWN").is_some() {
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .env_remove("CHILD_SPAWN")
            .with_trace_context()
            .status()
            .expect("run the grandchild");
        assert!(status.success());
    }
    library_call(1)
}

fn main() {
    let telemetry = match semtel::builder().tracing_subscriber(true).init() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    println!("{{\"result\":{}}}", work());
    drop(telemetry);
}
