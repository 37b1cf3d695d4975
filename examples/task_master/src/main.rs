//! `task_master`: Task Master's agent steps, each a process of its own.
//!
//! ```text
//! task_master workflow [--name NAME] [--repo REPO] [--pr N] [--task ID] [--wrapper SCRIPT] [--linger SECONDS]
//! task_master step [--work-ms N] [--exit-code N] [-- COMMAND ARGS...]
//! ```
//!
//! `workflow` runs a code-review workflow: `rex/plan`, `rex/implement`
//! (which fails, exit code 1), `rex/implement` again, and `cleo/review`
//! (through `SCRIPT`, the `semtel exec` wrapper, when given), each as a
//! separate `task_master step` process, and records the `agent_step_*`
//! metrics. `step` is one agent step: its context comes from `REPO`,
//! `PR_NUMBER`, `TASK_ID`, `AGENT`, `STEP`, `WORKFLOW_NAME` and `NODE_ID`,
//! its parent from `TRACEPARENT`; it runs `COMMAND` (or works `N` ms and
//! exits with `--exit-code`) and exits with its exit code. Telemetry is
//! configured by the `OTEL_*` variables.
//!
//! ```text
//! OTEL_TRACES_EXPORTER=console OTEL_METRICS_EXPORTER=console cargo run -p task-master-example --bin task_master -- workflow
//! ```

use semtel::propagation::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;
use task_master_example::{Step, StepContext, Workflow, agent_step, run_workflow};

const USAGE: &str = "usage: task_master workflow [--name NAME] [--repo REPO] [--pr N] [--task ID] \
                     [--wrapper SCRIPT] [--linger SECONDS]\n       \
                     task_master step [--work-ms N] [--exit-code N] [-- COMMAND ARGS...]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("workflow") => workflow(args.collect()),
        Some("step") => step(args.collect()),
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(String::new()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !e.is_empty() {
                eprintln!("task_master: {e}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// `--flag value` pairs, and the command after `--`.
type Options = (Vec<(String, String)>, Vec<String>);

/// `--flag value` pairs up to `--`, and what follows `--`.
fn options(args: Vec<String>, known: &[&str]) -> Result<Options, String> {
    let mut it = args.into_iter();
    let mut pairs = Vec::new();
    while let Some(flag) = it.next() {
        if flag == "--" {
            return Ok((pairs, it.collect()));
        }
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown option {flag}"));
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        pairs.push((flag, value));
    }
    Ok((pairs, Vec::new()))
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag} takes a whole number, not {v:?}"))
}

fn telemetry() -> Option<semtel::Telemetry> {
    match semtel::init() {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("task_master: telemetry is off: {e}");
            None
        }
    }
}

fn step(args: Vec<String>) -> Result<u8, String> {
    let (opts, command) = options(args, &["--work-ms", "--exit-code"])?;
    let (mut work_ms, mut exit_code) = (0u64, 0i32);
    for (flag, v) in &opts {
        match flag.as_str() {
            "--work-ms" => work_ms = number(flag, v)?,
            _ => exit_code = number(flag, v)?,
        }
    }
    let telemetry = telemetry();
    let ctx = StepContext::from_env(|k| std::env::var(k).ok());
    let result = agent_step(&ctx, &mut std::io::stdout(), || {
        match command.split_first() {
            Some((program, rest)) => {
                match Command::new(program)
                    .args(rest)
                    .with_trace_context()
                    .status()
                {
                    Ok(s) => s.code().unwrap_or_else(|| {
                        use std::os::unix::process::ExitStatusExt;
                        128 + s.signal().unwrap_or(0)
                    }),
                    Err(e) => {
                        eprintln!("task_master: cannot run {program}: {e}");
                        127
                    }
                }
            }
            None => {
                std::thread::sleep(Duration::from_millis(work_ms));
                exit_code
            }
        }
    });
    drop(telemetry); // flushes the step's span before the process exits
    Ok(match result {
        Ok(()) => 0,
        Err(f) => u8::try_from(f.0).unwrap_or(1),
    })
}

fn workflow(args: Vec<String>) -> Result<u8, String> {
    let known = [
        "--name",
        "--repo",
        "--pr",
        "--task",
        "--wrapper",
        "--linger",
    ];
    let (opts, _) = options(args, &known)?;
    let get = |flag: &str, default: &str| {
        opts.iter()
            .rev()
            .find(|(f, _)| f == flag)
            .map_or(default.to_string(), |(_, v)| v.clone())
    };
    let linger: u64 = number("--linger", &get("--linger", "0"))?;
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let step = |agent: &str, name: &str, args: &[&str]| Step {
        agent: agent.into(),
        name: name.into(),
        program: me.clone(),
        args: ["step"].iter().chain(args).map(|s| s.to_string()).collect(),
    };
    let mut steps = vec![
        step("rex", "plan", &["--work-ms", "30"]),
        step("rex", "implement", &["--work-ms", "60", "--exit-code", "1"]),
        step("rex", "implement", &["--work-ms", "40"]),
    ];
    steps.push(match get("--wrapper", "").as_str() {
        "" => step("cleo", "review", &["--work-ms", "20"]),
        wrapper => Step {
            agent: "cleo".into(),
            name: "review".into(),
            program: PathBuf::from(wrapper),
            args: vec![
                "sh".into(),
                "-c".into(),
                "sleep 0.02; echo review done".into(),
            ],
        },
    });
    let wf = Workflow {
        name: get("--name", "coderun-abc12"),
        repo: get("--repo", "acme/web"),
        pr_number: get("--pr", "123"),
        task_id: get("--task", "task-9"),
        steps,
    };

    let telemetry = telemetry();
    let outcomes = run_workflow(&wf);
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    eprintln!(
        "task_master: {}: {} steps, {failed} failed",
        wf.name,
        outcomes.len()
    );
    if let Some(t) = &telemetry {
        t.flush();
        // A pull endpoint lives only as long as the process: --linger keeps
        // it up so that a scraper collects the run's final values.
        if let Some(addr) = t.prometheus_addr().filter(|_| linger > 0) {
            eprintln!("task_master: serving metrics on http://{addr}/metrics for {linger} s");
            std::thread::sleep(Duration::from_secs(linger));
        }
    }
    Ok(0)
}
