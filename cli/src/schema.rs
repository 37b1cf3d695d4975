//! `semtel schema check` and `semtel schema docs`.

use clap::{Args, Subcommand};
use semtel_codegen::{Diagnostic, Registry, bundled, load_partial, to_markdown};
use std::path::PathBuf;
use std::process::ExitCode;

/// The `schema` subcommands.
#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Load and resolve a schema; print counts and errors
    Check(SchemaArgs),
    /// Write Markdown tables documenting a schema
    Docs(DocsArgs),
}

/// Which schema to load.
#[derive(Args)]
pub struct SchemaArgs {
    /// Directories whose .yaml/.yml files are resolved together
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Resolve on top of semtel's bundled conventions (for schemas that `ref` them)
    #[arg(long)]
    bundled: bool,
}

/// `schema docs` options.
#[derive(Args)]
pub struct DocsArgs {
    #[command(flatten)]
    schema: SchemaArgs,
    /// Write the Markdown to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The document's title
    #[arg(long, value_name = "TEXT", default_value = "Semantic conventions")]
    title: String,
}

fn load(a: &SchemaArgs) -> Result<(Registry, Vec<Diagnostic>), String> {
    let base = if a.bundled {
        Some(bundled().map_err(|e| format!("the bundled schema does not load:\n{e}"))?)
    } else {
        None
    };
    Ok(load_partial(&a.dirs, base.as_ref()))
}

/// Runs `semtel schema <command>`.
pub fn run(cmd: SchemaCommand) -> ExitCode {
    let schema = match &cmd {
        SchemaCommand::Check(a) => a,
        SchemaCommand::Docs(d) => &d.schema,
    };
    let (reg, diagnostics) = match load(schema) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("semtel schema: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &cmd {
        SchemaCommand::Check(_) => {
            println!("{}", reg.counts());
            for d in &diagnostics {
                println!("error: {d}");
            }
        }
        SchemaCommand::Docs(d) => {
            for diag in &diagnostics {
                eprintln!("error: {diag}");
            }
            if diagnostics.is_empty() {
                let text = to_markdown(&reg, &d.title);
                let written = match &d.out {
                    Some(out) => std::fs::write(out, text)
                        .map_err(|e| format!("cannot write {}: {e}", out.display())),
                    None => {
                        use std::io::Write;
                        std::io::stdout()
                            .write_all(text.as_bytes())
                            .map_err(|e| format!("cannot write to standard output: {e}"))
                    }
                };
                if let Err(e) = written {
                    eprintln!("semtel schema docs: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if diagnostics.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
