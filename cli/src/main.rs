//! The `semtel` command.

mod schema;

use std::process::ExitCode;

const HELP: &str = "\
semtel — semantic telemetry for Rust agent systems

Usage: semtel <command> [options]

Commands:
  schema check DIR...            Load and resolve a schema; print counts and errors
  schema docs DIR... --out FILE  Write Markdown tables documenting a schema
  help       Print this help
  version    Print the version

Options:
  -h, --help     Print this help
  -V, --version  Print the version
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("version" | "-V" | "--version") => {
            println!("semtel {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("schema") => schema::run(&args[1..]),
        Some(other) => {
            eprintln!("semtel: unknown command `{other}`; run `semtel --help` for the commands");
            ExitCode::from(2)
        }
    }
}
