//! A long-running agent service: it processes agent jobs in a loop (workflow
//! → tasks → agent steps → tool calls, some failing), configured only by the
//! environment or an `OTEL_CONFIG_FILE`, and stops cleanly on SIGTERM or
//! Ctrl-C with a final flush.
//!
//! ```text
//! OTEL_METRICS_EXPORTER=prometheus OTEL_EXPORTER_PROMETHEUS_PORT=9464 \
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
//!   cargo run -p semtel-examples --example agent_service
//! curl -H 'Accept: application/openmetrics-text' localhost:9464/metrics
//! ```
//!
//! `JOB_INTERVAL_MS` sets how often a job starts (default 1000).

use semtel::conventions::{metrics::orchestration as m, orchestration as o};
use semtel::metrics::{Counter, Gauge};
use semtel::{agent_step, current_step, metered, traced_task};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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

#[agent_step(agent = agent, model = "claude-sonnet-4", provider = "anthropic", step = "plan")]
async fn plan(agent: &str, job: u64) -> Result<&'static str, StepError> {
    tokio::time::sleep(Duration::from_millis(5 + job % 7)).await;
    if job % 17 == 5 {
        return Err(StepError::RateLimited);
    }
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
    if tool == "run_tests" && job.is_multiple_of(3) {
        tracing::warn!(job, "tests failed");
        return Err(StepError::TestsFailed);
    }
    Ok(())
}

#[traced_task(name = "task.execute", attrs(orchestration.task.id = format!("task-{job}"), orchestration.worker.id = "worker-1"))]
#[metered(duration = orchestration.task.duration, calls = orchestration.tasks.completed, attrs(orchestration.task.type = "bugfix"))]
async fn execute_task(job: u64) -> Result<(), StepError> {
    let tool = plan("coder", job).await?;
    run_tool(tool, job).await
}

#[traced_task(name = "workflow.run", attrs(orchestration.workflow.name = "fix-bugs", orchestration.workflow.run.id = format!("run-{job}")))]
async fn run_job(job: u64, claimed: &Counter<i64>) -> usize {
    let mut done = 0;
    for t in 0..2 {
        claimed.add(1, vec![o::queue::NAME.value("default")]);
        if execute_task(job * 2 + t).await.is_ok() {
            done += 1;
        }
    }
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
    let claimed = Counter::new(&m::tasks::CLAIMED);
    let depth = Gauge::new(&m::queue::DEPTH);
    let mut ticker = tokio::time::interval(Duration::from_millis(interval));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut running = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {
                let job = JOBS.fetch_add(1, Ordering::Relaxed);
                depth.set(running.len() as i64, vec![o::queue::NAME.value("default")]);
                let claimed = Counter::new(&m::tasks::CLAIMED);
                running.spawn(async move { run_job(job, &claimed).await });
            }
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    eprintln!(
        "agent-service: stopping; finishing {} jobs in progress",
        running.len()
    );
    while running.join_next().await.is_some() {}
    drop(claimed);
    telemetry.shutdown();
    eprintln!(
        "agent-service: stopped after {} jobs",
        JOBS.load(Ordering::Relaxed)
    );
    Ok(())
}
