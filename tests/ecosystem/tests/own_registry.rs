//! The ecosystem suite with the program's own subscriber:
//! `registry().with(fmt::layer()).with(semtel::tracing_layer())`. The `fmt`
//! layer's lines show the semtel spans they happen in.

mod suite;

use semtel_ecosystem_tests::setup::fmt_output;
use semtel_ecosystem_tests::{Mode, Session};

suite::suite_tests!(Mode::OwnRegistry);

#[semtel::traced_task(name = "deploy.release")]
fn release() {
    tracing::info!(version = "1.4.2", "release tagged");
}

#[test]
fn fmt_lines_show_the_semtel_span() {
    let session = Session::start(Mode::OwnRegistry);
    release();
    drop(session);
    let out = fmt_output();
    let line = out
        .lines()
        .find(|l| l.contains("release tagged"))
        .unwrap_or_else(|| panic!("no fmt line for the event:\n{out}"));
    assert!(line.contains("deploy.release"), "{line}");
    assert!(line.contains("version=\"1.4.2\""), "{line}");
}
