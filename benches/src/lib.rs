//! semtel's overhead benchmarks: every contender records through batch
//! processing into the same counting no-op span exporter
//! ([`exporter::CountingExporter`]). `cargo bench -p semtel-benches` runs
//! them with criterion; `cargo run --release -p semtel-benches --bin compare
//! -- --quick` prints a Markdown table and the ratios in about a minute.

pub mod cases;
pub mod contender_fastrace;
pub mod contender_metrics;
pub mod contender_sdk;
pub mod contender_semtel;
pub mod contender_tracing;
pub mod e2e;
pub mod exporter;
pub mod measure;
