//! The macros at compile time, through trybuild: what must compile and run
//! (`ui/pass/*.rs`) and the errors of misuse, pinned as snapshots
//! (`ui/*.stderr`; regenerate after an intended change with
//! `TRYBUILD=overwrite`).
//!
//! Slow on a fresh checkout (over a minute on two cores): trybuild builds
//! the cases as a crate of their own, in `target/tests/trybuild`, so semtel
//! and its dependencies are compiled there once more; the pass cases need
//! them compiled for real (to run), not only checked. Later runs reuse that
//! build and take about 20 s.

use std::io::IsTerminal;

#[test]
fn macros_compile_where_they_should_and_fail_with_pointed_errors() {
    if !std::io::stderr().is_terminal() {
        // trybuild colours its report unless told not to; keep logs plain.
        // SAFETY: this binary's only test, before trybuild starts any thread.
        unsafe { std::env::set_var("NO_COLOR", "1") };
    }
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/*.rs");
}
