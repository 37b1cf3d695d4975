//! `semtel schema check` and `semtel schema docs`.

use semtel_codegen::{Registry, bundled, load_partial, to_markdown};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: semtel schema check [--bundled] DIR...
       semtel schema docs [--bundled] DIR... --out FILE [--title TEXT]

Loads every .yaml/.yml file under the directories and resolves them together.
  --bundled   resolve on top of semtel's bundled conventions (for schemas
              that `ref` them)
";

struct Args {
    dirs: Vec<PathBuf>,
    bundled: bool,
    out: Option<PathBuf>,
    title: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        dirs: Vec::new(),
        bundled: false,
        out: None,
        title: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bundled" => a.bundled = true,
            "--out" => a.out = Some(it.next().ok_or("--out needs a file")?.into()),
            "--title" => a.title = Some(it.next().ok_or("--title needs a text")?.clone()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            dir => a.dirs.push(dir.into()),
        }
    }
    if a.dirs.is_empty() {
        return Err("give at least one schema directory".into());
    }
    Ok(a)
}

fn load(a: &Args) -> Result<(Registry, Vec<semtel_codegen::Diagnostic>), String> {
    let base = if a.bundled {
        Some(bundled().map_err(|e| format!("the bundled schema does not load:\n{e}"))?)
    } else {
        None
    };
    Ok(load_partial(&a.dirs, base.as_ref()))
}

/// Runs `semtel schema <args>`.
pub fn run(args: &[String]) -> ExitCode {
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let a = match parse(rest) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("semtel schema: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (reg, diagnostics) = match load(&a) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("semtel schema: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cmd {
        "check" => {
            println!("{}", reg.counts());
            for d in &diagnostics {
                println!("error: {d}");
            }
        }
        "docs" => {
            let Some(out) = &a.out else {
                eprintln!("semtel schema docs: --out FILE is required\n\n{USAGE}");
                return ExitCode::from(2);
            };
            for d in &diagnostics {
                eprintln!("error: {d}");
            }
            if diagnostics.is_empty() {
                let title = a.title.as_deref().unwrap_or("Semantic conventions");
                if let Err(e) = std::fs::write(out, to_markdown(&reg, title)) {
                    eprintln!("semtel schema docs: cannot write {}: {e}", out.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        other => {
            eprintln!("semtel schema: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if diagnostics.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
