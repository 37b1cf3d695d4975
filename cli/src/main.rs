//! The `semtel` command.
//!
//! Each subcommand lives in its own module with its own clap `Args` or
//! `Subcommand` type; adding one is a new module and one variant of
//! [`Command`].

mod schema;

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
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Schema(cmd) => schema::run(cmd),
    }
}
