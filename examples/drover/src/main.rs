//! `drover`: runs a workflow of coding tasks with telemetry configured the
//! Drover way (`DROVER_OTEL_ENABLED=true`, `DROVER_OTEL_ENDPOINT`,
//! `DROVER_ENV`, `DROVER_OTEL_SAMPLING`, or the `telemetry:` section of
//! `~/.drover/config.yaml`), then exits.
//!
//! ```text
//! DROVER_OTEL_ENABLED=true DROVER_OTEL_ENDPOINT=localhost:4317 \
//!   cargo run -p drover-example --bin drover -- --tasks 12 --workers 3
//! ```

use drover_example::config::Settings;
use drover_example::{Plan, run, tasks};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: drover [--config FILE] [--tasks N] [--first-task N] [--workers N] \
                     [--pace-ms N] [--project NAME] [--run-id ID] [--linger SECONDS]";

struct Args {
    config: Option<PathBuf>,
    tasks: usize,
    first_task: usize,
    workers: usize,
    pace_ms: u64,
    project: String,
    run_id: Option<String>,
    linger: u64,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        config: None,
        tasks: 6,
        first_task: 1,
        workers: 2,
        pace_ms: 20,
        project: "web-frontend".into(),
        run_id: None,
        linger: 0,
    };
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag} takes a whole number, not {v:?}"))
        };
        match flag.as_str() {
            "--config" => a.config = Some(PathBuf::from(value)),
            "--tasks" => a.tasks = number(&value)? as usize,
            "--first-task" => a.first_task = number(&value)? as usize,
            "--workers" => a.workers = number(&value)? as usize,
            "--pace-ms" => a.pace_ms = number(&value)?,
            "--linger" => a.linger = number(&value)?,
            "--project" => a.project = value,
            "--run-id" => a.run_id = Some(value),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// `~/.drover/config.yaml`, when it exists.
fn default_config() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("HOME")?).join(".drover/config.yaml");
    p.is_file().then_some(p)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("drover: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut warnings = Vec::new();
    let file = args.config.clone().or_else(default_config);
    let settings = match Settings::load(file.as_deref(), |k| std::env::var(k).ok(), &mut warnings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("drover: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &warnings {
        eprintln!("drover: {w}");
    }
    // Telemetry that cannot be set up leaves the run without it, never stops it.
    let telemetry = settings
        .builder()
        .and_then(|b| match b.tracing_subscriber(true).init() {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("drover: telemetry is off: {e}");
                None
            }
        });

    let run_id = args.run_id.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("run-{secs}")
    });
    let plan = Plan {
        project: args.project,
        run_id,
        tasks: tasks(args.tasks, args.first_task),
        workers: args.workers,
        pace: Duration::from_millis(args.pace_ms),
    };
    let summary = run(&plan);
    println!(
        "{}: {} of {} tasks completed, {} failed",
        plan.run_id,
        summary.completed,
        plan.tasks.len(),
        summary.failed
    );

    if let Some(t) = &telemetry {
        t.flush();
        // A pull endpoint lives only as long as the process: --linger keeps
        // it up so that a scraper collects the run's final values.
        if let Some(addr) = t.prometheus_addr().filter(|_| args.linger > 0) {
            eprintln!(
                "drover: serving metrics on http://{addr}/metrics for {} s",
                args.linger
            );
            std::thread::sleep(Duration::from_secs(args.linger));
        }
    }
    drop(telemetry);
    ExitCode::SUCCESS
}
