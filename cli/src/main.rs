//! The `semtel` command.
//!
//! Each subcommand lives in its own module with its own clap `Args` or
//! `Subcommand` type; adding one is a new module and one variant of
//! [`Command`].

mod alerts;
mod dashboards;
mod exec;
mod ops;
mod schema;
mod traces;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// semtel — semantic telemetry for Rust agent systems
#[derive(Parser)]
#[command(name = "semtel", version, flatten_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a schema or write its documentation
    #[command(subcommand, flatten_help = true)]
    Schema(schema::SchemaCommand),
    /// Write Grafana dashboards for a schema's metrics
    Dashboards(dashboards::DashboardsArgs),
    /// Write Prometheus alerting and recording rules for a schema
    Alerts(alerts::AlertsArgs),
    /// Run a command inside a span, handing it the trace context
    Exec(exec::ExecArgs),
    /// Answer questions from OTLP JSON Lines trace files
    #[command(subcommand, flatten_help = true)]
    Traces(traces::TracesCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Schema(cmd) => schema::run(cmd),
        Command::Dashboards(args) => dashboards::run(args),
        Command::Alerts(args) => alerts::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Traces(cmd) => traces::run(cmd),
    }
}
