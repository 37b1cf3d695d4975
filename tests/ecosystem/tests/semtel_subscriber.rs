//! The ecosystem suite with the `tracing` subscriber semtel installs
//! (`builder().tracing_subscriber(true)`).

mod suite;

use semtel_ecosystem_tests::Mode;

suite::suite_tests!(Mode::Semtel);
