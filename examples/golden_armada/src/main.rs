//! Golden Armada, hierarchical agent orchestration, on semtel: a
//! coordinator process opens the `orchestration-session` span and starts
//! two sub-agent processes (`coder`, `reviewer`) that continue its trace
//! from the `TRACE_CONTEXT` variable. Spans go to rotated JSON files and
//! over OTLP/HTTP (with an `Authorization` header), metrics to the
//! Prometheus endpoint and over OTLP, all configured from the seed's JSON
//! format (`GOLDEN_ARMADA_TELEMETRY`, see `config.rs`).
//!
//! ```sh
//! cargo run -p golden-armada-example --bin golden_armada
//! ```

semtel::include_conventions!();

mod agent;
mod config;
mod metrics;

use metrics::{AgentExecution, Metrics};
use semtel::traced_task;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The sub-agents a session runs, with their phase.
const AGENTS: [&str; 2] = ["coder", "reviewer"];

/// Starts one sub-agent process with the current span handed over in `TRACE_CONTEXT`.
fn spawn(agent_type: &str, session_id: &str) -> std::io::Result<std::process::Child> {
    Command::new(std::env::current_exe()?)
        .args(["sub-agent", agent_type])
        .env("TRACE_CONTEXT", semtel::current_context().traceparent())
        .env("GOLDEN_ARMADA_SESSION", session_id)
        .stdout(Stdio::piped())
        .spawn()
}

/// The orchestration session: the root span, the sub-agents as child processes.
#[traced_task(span = golden_armada.session, attrs(session_id = session_id, coordinator = "hierarchical", total_agents = AGENTS.len() as i64))]
fn session(metrics: &Metrics, session_id: &str) -> usize {
    let queue = |n: i64| {
        metrics
            .task_queue_size
            .set(n, vec![semconv::PRIORITY.value_static("high")])
    };
    queue(AGENTS.len() as i64);
    let started = Instant::now();
    let children: Vec<_> = AGENTS
        .iter()
        .map(|a| (*a, started, spawn(a, session_id)))
        .collect();
    let mut failed = 0;
    for (agent_type, started, child) in children {
        let outcome = child.and_then(|mut c| {
            let mut out = String::new();
            if let Some(mut s) = c.stdout.take() {
                s.read_to_string(&mut out)?;
            }
            Ok((c.wait()?, out))
        });
        let (status, out) = match outcome {
            Ok(v) => v,
            Err(e) => {
                eprintln!("golden_armada: sub-agent {agent_type}: {e}");
                metrics.error("coordinator", "spawn_failed", "critical");
                failed += 1;
                continue;
            }
        };
        let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_default();
        let success = status.success();
        let seconds = started.elapsed().as_secs_f64();
        metrics.agent_execution(&AgentExecution {
            agent_type,
            phase: if agent_type == "reviewer" {
                "review"
            } else {
                "code"
            },
            duration: seconds,
            tokens: report["tokens"].as_i64().unwrap_or(0),
            model: "claude-sonnet-4",
            context: (
                report["context_used"].as_i64().unwrap_or(0),
                report["context_total"].as_i64().unwrap_or(0),
            ),
            success,
        });
        metrics.task("feature", seconds, (!success).then_some("agent_failed"));
        failed += usize::from(!success);
        queue(0);
    }
    failed
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = config::load();
    if let [cmd, agent_type] = args.as_slice()
        && cmd == "sub-agent"
    {
        let _telemetry = config::builder(&cfg, agent_type, false).init();
        agent::run(agent_type);
        return;
    }
    let telemetry = match config::builder(&cfg, "coordinator", true).init() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("golden_armada: {e}");
            std::process::exit(2);
        }
    };
    if let Some(addr) = telemetry.prometheus_addr() {
        eprintln!("golden_armada: metrics at http://{addr}/metrics");
    }
    let metrics = Metrics::new();
    let session_id = format!("session-{}", std::process::id());
    let failed = session(&metrics, &session_id);
    eprintln!("golden_armada: {session_id} finished, {failed} sub-agent(s) failed");
    // Stay scrapeable for a while when asked (the seed's endpoint is long-lived).
    let hold = std::env::var("GOLDEN_ARMADA_HOLD_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(hold));
}
