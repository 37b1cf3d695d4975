//! `semtel traces`: answers from OTLP JSON Lines trace files (what semtel's
//! `otlp_file` exporter and the OpenTelemetry Collector's file exporter
//! write), streamed line by line in bounded memory.

mod clickhouse;
mod filter;
mod find;
mod model;
mod read;
mod slow;
mod stats;
mod table;
mod tree;

use clap::{Args, Subcommand};
use filter::FilterArgs;
use std::path::PathBuf;
use std::process::ExitCode;

/// The `traces` subcommands.
#[derive(Subcommand)]
pub enum TracesCommand {
    /// Count, error rate and p50/p95/p99/max duration per span name (or attribute)
    Stats(stats::StatsArgs),
    /// Print one trace as a tree (the console exporter's rendering)
    Tree(tree::TreeArgs),
    /// The traces that have a span with the given attributes
    Find(find::FindArgs),
    /// The slowest spans, with their trace ids
    Slow(slow::SlowArgs),
    /// Write the spans as rows of another store (ClickHouse `otel_traces`)
    Export(clickhouse::ExportArgs),
}

/// The files to read and which of their spans to use.
#[derive(Args)]
pub struct Input {
    /// OTLP JSON Lines files (gzip allowed); rotated siblings FILE.1, FILE.2, ... are read too
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    filter: FilterArgs,
}

impl Input {
    /// Streams the selected spans to `each`.
    fn for_each(
        &self,
        mut each: impl FnMut(&read::SpanRef<'_, '_>),
    ) -> Result<read::Tally, String> {
        let files = read::expand(&self.files)?;
        read::for_each_span(&files, |s| {
            if self.filter.matches(s) {
                each(s)
            }
        })
    }
}

/// Runs `semtel traces <command>`.
pub fn run(cmd: TracesCommand) -> ExitCode {
    let done = match cmd {
        TracesCommand::Stats(a) => stats::run(&a),
        TracesCommand::Tree(a) => tree::run(&a),
        TracesCommand::Find(a) => find::run(&a),
        TracesCommand::Slow(a) => slow::run(&a),
        TracesCommand::Export(a) => clickhouse::run(&a),
    };
    match done {
        Ok(code) => code,
        Err(e) => {
            eprintln!("semtel traces: {e}");
            ExitCode::FAILURE
        }
    }
}
