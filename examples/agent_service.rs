//! A long-running agent service: it processes agent jobs in a loop (workflow
//! → tasks → agent steps, git operations and tool calls, some failing),
//! configured only by the environment or an `OTEL_CONFIG_FILE`, and stops
//! cleanly on SIGTERM or Ctrl-C with a final flush. It records every metric
//! of the bundled conventions, so the generated dashboards have data.
//!
//! ```text
//! OTEL_METRICS_EXPORTER=prometheus OTEL_EXPORTER_PROMETHEUS_PORT=9464 \
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
//!   cargo run -p semtel-examples --example agent_service
//! curl -H 'Accept: application/openmetrics-text' localhost:9464/metrics
//! ```
//!
//! `JOB_INTERVAL_MS` sets how often a job starts (default 1000).
//! `AGENT_SERVICE_FAILURE_RATE` (0 to 1) makes that share of agent steps and
//! tool calls fail; unset, about one step in ten fails.

use semtel::conventions::gen_ai::operation::GenAiOperationName;
use semtel::conventions::metrics::{gen_ai as gm, orchestration as m};
use semtel::conventions::orchestration::git::OrchestrationGitOperation as Git;
use semtel::conventions::{gen_ai as g, orchestration as o};
use semtel::metrics::{Counter, Gauge, Histogram, UpDownCounter};
use semtel::{agent_step, current_step, metered, traced_task};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, semtel::ErrorType)]
enum StepError {
    RateLimited,
    TestsFailed,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::RateLimited => f.write_str("the model provider rate-limited the request"),
            StepError::TestsFailed => f.write_str("3 of 41 tests failed"),
        }
    }
}

static JOBS: AtomicU64 = AtomicU64::new(0);

/// The share of steps that fail, from `AGENT_SERVICE_FAILURE_RATE`.
fn failure_rate() -> Option<f64> {
    static RATE: OnceLock<Option<f64>> = OnceLock::new();
    *RATE.get_or_init(|| {
        let v = std::env::var("AGENT_SERVICE_FAILURE_RATE").ok()?;
        match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Some(r),
            _ => {
                eprintln!(
                    "agent-service: AGENT_SERVICE_FAILURE_RATE={v} is not a number from 0 to 1; \
                     using the default failures"
                );
                None
            }
        }
    })
}

/// Whether step `salt` of job `job` fails: the configured share of them, or
/// a fixed pattern (about one in ten).
fn fails(job: u64, salt: u64, pattern: bool) -> bool {
    match failure_rate() {
        Some(rate) => {
            let h = (job.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)
                .wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ((h >> 11) as f64 / (1u64 << 53) as f64) < rate
        }
        None => pattern,
    }
}

struct Instruments {
    operation: Histogram<f64>,
    git: Histogram<f64>,
    context: Gauge<f64>,
    context_used: Gauge<i64>,
    in_progress: UpDownCounter<i64>,
    workers: UpDownCounter<i64>,
    completed: Counter<i64>,
    task_duration: Histogram<f64>,
}

fn instruments() -> &'static Instruments {
    static I: OnceLock<Instruments> = OnceLock::new();
    I.get_or_init(|| Instruments {
        operation: Histogram::new(&gm::client::operation::DURATION),
        git: Histogram::new(&m::git::operation::DURATION),
        context: Gauge::new(&m::context_window::UTILIZATION),
        context_used: Gauge::new(&m::context_window::USED),
        in_progress: UpDownCounter::new(&m::tasks::IN_PROGRESS),
        workers: UpDownCounter::new(&m::workers::ACTIVE),
        completed: Counter::new(&m::tasks::COMPLETED),
        task_duration: Histogram::new(&m::task::DURATION),
    })
}

#[agent_step(agent = agent, model = "claude-sonnet-4", provider = "anthropic", step = "plan")]
async fn plan(agent: &str, job: u64) -> Result<&'static str, StepError> {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(5 + job % 7)).await;
    let chat = vec![
        g::operation::NAME.value(GenAiOperationName::Chat),
        g::provider::NAME.value(g::provider::GenAiProviderName::Anthropic),
        g::request::MODEL.value_static("claude-sonnet-4"),
        g::agent::NAME.value(agent.to_string()),
    ];
    let failed = fails(job, 1, job % 17 == 5);
    let mut attrs = chat.clone();
    if failed {
        attrs.push(semtel::conventions::error::TYPE.value_static("rate_limited"));
    }
    instruments()
        .operation
        .record(started.elapsed().as_secs_f64(), attrs);
    if failed {
        return Err(StepError::RateLimited);
    }
    let used = 20_000 + (job % 90) as i64 * 1_000;
    let window = vec![
        g::agent::NAME.value(agent.to_string()),
        g::request::MODEL.value_static("claude-sonnet-4"),
    ];
    instruments().context_used.set(used, window.clone());
    instruments().context.set(used as f64 / 200_000.0, window);
    current_step().record_usage(900 + job % 300, 120 + job % 40);
    tracing::info!(job, "plan ready");
    Ok(if job.is_multiple_of(5) {
        "run_tests"
    } else {
        "apply_patch"
    })
}

#[agent_step(operation = execute_tool, tool = tool)]
async fn run_tool(tool: &str, job: u64) -> Result<(), StepError> {
    tokio::time::sleep(Duration::from_millis(2 + job % 5)).await;
    if fails(job, 2, tool == "run_tests" && job.is_multiple_of(3)) {
        tracing::warn!(job, "tests failed");
        return Err(StepError::TestsFailed);
    }
    Ok(())
}

#[metered]
fn git(op: Git, job: u64) -> Result<(), std::io::Error> {
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1 + job % 3));
    instruments().git.record(
        started.elapsed().as_secs_f64(),
        vec![o::git::OPERATION.value(op)],
    );
    Ok(())
}

#[traced_task(name = "task.execute", attrs(orchestration.task.id = format!("task-{job}"), orchestration.worker.id = "worker-1"))]
async fn execute_task(job: u64) -> Result<(), StepError> {
    let _ = git(Git::Checkout, job);
    let tool = plan("coder", job).await?;
    run_tool(tool, job).await?;
    let _ = git(Git::Commit, job);
    Ok(())
}

#[traced_task(name = "workflow.run", attrs(orchestration.workflow.name = "fix-bugs", orchestration.workflow.run.id = format!("run-{job}")))]
async fn run_job(job: u64, claimed: &Counter<i64>, pending: &UpDownCounter<i64>) -> usize {
    use o::task::OrchestrationTaskState as State;
    let i = instruments();
    i.workers.add(1, vec![]);
    let mut done = 0;
    for t in 0..2 {
        claimed.add(1, vec![o::queue::NAME.value("default")]);
        pending.add(-1, vec![o::queue::NAME.value("default")]);
        i.in_progress.add(1, vec![]);
        let mut finished = vec![o::task::TYPE.value("bugfix")];
        let started = Instant::now();
        match execute_task(job * 2 + t).await {
            Ok(()) => {
                done += 1;
                finished.push(o::task::STATE.value(State::Completed));
            }
            Err(e) => {
                finished.push(o::task::STATE.value(State::Failed));
                finished.push(
                    semtel::conventions::error::TYPE.value(semtel::ErrorType::error_type(&e)),
                );
            }
        }
        i.task_duration
            .record(started.elapsed().as_secs_f64(), finished.clone());
        i.completed.add(1, finished);
        i.in_progress.add(-1, vec![]);
    }
    i.workers.add(-1, vec![]);
    done
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = semtel::builder()
        .service_name("agent-service")
        .tracing_subscriber(true)
        .init()?;
    if let Some(addr) = telemetry.prometheus_addr() {
        eprintln!("agent-service: serving metrics on http://{addr}/metrics");
    }
    let interval: u64 = std::env::var("JOB_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let depth = Gauge::new(&m::queue::DEPTH);
    let pending = UpDownCounter::new(&m::tasks::PENDING);
    let mut ticker = tokio::time::interval(Duration::from_millis(interval));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut running = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {
                let job = JOBS.fetch_add(1, Ordering::Relaxed);
                pending.add(2, vec![o::queue::NAME.value("default")]);
                depth.set(running.len() as i64, vec![
                    o::queue::NAME.value("default"),
                    o::task::PRIORITY.value(50i64),
                ]);
                let claimed = Counter::new(&m::tasks::CLAIMED);
                let pending = UpDownCounter::new(&m::tasks::PENDING);
                running.spawn(async move { run_job(job, &claimed, &pending).await });
            }
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    eprintln!(
        "agent-service: stopping; finishing {} jobs in progress",
        running.len()
    );
    while running.join_next().await.is_some() {}
    drop((depth, pending));
    telemetry.shutdown();
    eprintln!(
        "agent-service: stopped after {} jobs",
        JOBS.load(Ordering::Relaxed)
    );
    Ok(())
}
