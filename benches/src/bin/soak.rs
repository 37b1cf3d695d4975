//! Soak: `agent_service` (release build) under a steady load against the
//! rotel collector, then with the collector gone for a while and back, and
//! a label flood on a metric. Prints RSS over time and a summary:
//!
//! - no span lost while the collector is up (every agent step the service
//!   counted in its Prometheus metrics before the collector went away arrived
//!   at the collector, and semtel's loss counters stayed at 0),
//! - what was dropped while it was down (semtel's own counters),
//! - how soon after the collector's return spans arrive again,
//! - RSS of the service over time (bounded while spans cannot be sent),
//! - 1 million distinct values on a metric attribute: series held, RSS growth.
//!
//! `cargo run --release -p semtel-benches --bin soak -- [--quick] [--minutes N]`
//! (default 10 minutes up, 2 down, 1 up again; `--quick`: 40 s, 30 s, 30 s).
//! Needs `rotel-agent` (`SEMTEL_ROTEL_AGENT`, or `scripts/test` once).

use semtel::conventions::metrics::orchestration as m;
use semtel::conventions::orchestration as o;
use semtel_tests::collector::Rotel;
use semtel_tests::{free_port, poll, wait_for_port};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCHEDULE_DELAY_MS: u64 = 1000;
const JOB_INTERVAL_MS: &str = "100";

struct Phases {
    up: Duration,
    down: Duration,
    after: Duration,
    flood: u64,
}

fn phases() -> Phases {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let minutes = args
        .iter()
        .position(|a| a == "--minutes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<u64>().ok());
    if args.iter().any(|a| a == "--quick") {
        return Phases {
            up: Duration::from_secs(40),
            down: Duration::from_secs(30),
            after: Duration::from_secs(30),
            flood: 1_000_000,
        };
    }
    Phases {
        up: Duration::from_secs(60 * minutes.unwrap_or(10)),
        down: Duration::from_secs(120),
        after: Duration::from_secs(60),
        flood: 1_000_000,
    }
}

/// Resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Spans, and agent-step spans, in a collector's output so far.
fn received(rotel: &Rotel) -> (u64, u64) {
    let text = rotel.output();
    let spans = text
        .lines()
        .filter(|l| l.trim_start().starts_with("Span #"))
        .count();
    let steps = text
        .lines()
        .filter(|l| l.trim_start().starts_with("-> gen_ai.operation.name:"))
        .count();
    (spans as u64, steps as u64)
}

/// A sample of a metric family (summed over its series) from the service's endpoint.
fn metric(addr: &str, family: &str) -> u64 {
    let (_, body) = semtel_tests::prometheus::http_get(addr, "/metrics", None).unwrap_or_default();
    body.lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Agent steps the service finished (its own step counters).
fn steps_done(addr: &str) -> u64 {
    metric(addr, "orchestration_step_successes_total")
        + metric(addr, "orchestration_step_failures_total")
}

/// Spans semtel lost (dropped with a full buffer or not delivered).
fn spans_lost(addr: &str) -> u64 {
    metric(addr, "semtel_spans_dropped_total") + metric(addr, "semtel_spans_unsent_total")
}

struct Rss {
    samples: Vec<(f64, &'static str, f64)>,
    started: Instant,
}

impl Rss {
    /// Samples the service's RSS every 5 s for `d`, printing each sample.
    fn watch(&mut self, pid: u32, phase: &'static str, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            let t = self.started.elapsed().as_secs_f64();
            let r = rss_mib(pid);
            println!("  t={t:6.0} s  {phase:<14} RSS {r:6.1} MiB");
            self.samples.push((t, phase, r));
            std::thread::sleep(Duration::from_secs(5).min(until - Instant::now().min(until)));
        }
    }

    fn range(&self, phase: &str) -> (f64, f64) {
        self.samples
            .iter()
            .filter(|s| s.1 == phase)
            .fold((f64::MAX, 0.0f64), |(lo, hi), s| (lo.min(s.2), hi.max(s.2)))
    }
}

fn start_service(exe: &Path, rotel_http: u16, prom: u16) -> Child {
    Command::new(exe)
        .env("OTEL_SERVICE_NAME", "soak")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{rotel_http}"),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("OTEL_BSP_SCHEDULE_DELAY", SCHEDULE_DELAY_MS.to_string())
        .env("OTEL_METRICS_EXPORTER", "prometheus")
        .env("OTEL_EXPORTER_PROMETHEUS_PORT", prom.to_string())
        .env("OTEL_LOGS_EXPORTER", "none")
        .env("JOB_INTERVAL_MS", JOB_INTERVAL_MS)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start agent_service")
}

/// Stops the service with SIGTERM; its last warning lines.
fn stop_service(mut child: Child) -> Vec<String> {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let stderr = child.stderr.take().expect("stderr");
    let lines: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.starts_with("semtel: warning: telemetry lost"))
        .collect();
    let _ = child.wait();
    lines
}

fn main() {
    let p = phases();
    println!("building agent_service (release)...");
    let exe = semtel_tests::build::cargo_build(
        &[
            "--release",
            "-p",
            "semtel-examples",
            "--example",
            "agent_service",
        ],
        "agent_service",
    );
    let (grpc, http, prom) = (free_port(), free_port(), free_port());
    let rotel = Rotel::start_on(grpc, http);
    let service = start_service(&exe, http, prom);
    let pid = service.id();
    let addr = format!("127.0.0.1:{prom}");
    assert!(
        wait_for_port(prom, Duration::from_secs(30)),
        "agent_service serves no metrics"
    );
    let mut rss = Rss {
        samples: Vec::new(),
        started: Instant::now(),
    };
    println!(
        "collector up for {:?}, down for {:?}, up again for {:?}",
        p.up, p.down, p.after
    );
    rss.watch(pid, "collector up", p.up);

    // Everything the service counted by now must reach the collector.
    let steps_before_kill = steps_done(&addr);
    let lost_up = spans_lost(&addr);
    let delay = Duration::from_millis(SCHEDULE_DELAY_MS);
    let arrived = poll(3 * delay + Duration::from_secs(2), || {
        (received(&rotel).1 >= steps_before_kill).then_some(())
    });
    let (spans_1, steps_1) = received(&rotel);
    drop(rotel);
    let down_at = Instant::now();
    let steps_at_kill = steps_done(&addr);
    rss.watch(pid, "collector down", p.down);
    let lost_down = spans_lost(&addr) - lost_up;

    let back = Rotel::start_on(grpc, http);
    let back_at = Instant::now();
    let resumed = poll(Duration::from_secs(30), || {
        (received(&back).0 > 0).then(|| back_at.elapsed())
    });
    let steps_at_return = steps_done(&addr);
    rss.watch(pid, "collector back", p.after);
    let steps_end = steps_done(&addr);
    let lost_after = spans_lost(&addr) - lost_up - lost_down;
    std::thread::sleep(3 * delay);
    let report = stop_service(service);
    let (spans_2, steps_2) = received(&back);
    drop(back);

    let flood = label_flood(p.flood);

    let (up_lo, up_hi) = rss.range("collector up");
    let (down_lo, down_hi) = rss.range("collector down");
    let (back_lo, back_hi) = rss.range("collector back");
    println!("\n== soak summary ==");
    println!(
        "collector up {:?}: {steps_before_kill} agent steps counted by the service, {steps_1} step spans ({spans_1} spans) received{}; spans lost: {lost_up}",
        p.up,
        if arrived.is_some() {
            ""
        } else {
            " (NOT ALL ARRIVED)"
        }
    );
    println!(
        "collector down {:?} (from {:.0} s): {} steps meanwhile, {lost_down} spans dropped and counted",
        p.down,
        down_at.duration_since(rss.started).as_secs_f64(),
        steps_at_return - steps_at_kill
    );
    match resumed {
        Some(d) => println!(
            "collector back: first spans arrived {:.2} s after it listened (schedule delay {:.1} s)",
            d.as_secs_f64(),
            delay.as_secs_f64()
        ),
        None => println!("collector back: NO SPANS within 30 s"),
    }
    println!(
        "after return: {} steps, {steps_2} step spans ({spans_2} spans) received, {lost_after} spans lost",
        steps_end - steps_at_return
    );
    println!(
        "RSS MiB: up {up_lo:.1}-{up_hi:.1}, down {down_lo:.1}-{down_hi:.1}, back {back_lo:.1}-{back_hi:.1}"
    );
    println!("shutdown report: {report:?}");
    println!("{flood}");
    let ok = arrived.is_some()
        && lost_up == 0
        && lost_after == 0
        && resumed.is_some_and(|d| d <= delay + Duration::from_millis(500));
    println!("verdict: {}", if ok { "PASS" } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}

/// `n` distinct values of one attribute on a counter, in this process: the
/// series held (the cardinality cap and its overflow series) and RSS growth.
fn label_flood(n: u64) -> String {
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .traces_exporter(semtel::TracesExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
        .metrics_exporter(semtel::MetricsExporter::Prometheus)
        .prometheus_port(0)
        .init()
        .expect("telemetry");
    let cap = telemetry.config().metric_cardinality_limit;
    let pid = std::process::id();
    let claimed = semtel::metrics::Counter::new(&m::tasks::CLAIMED);
    let before = rss_mib(pid);
    let start = Instant::now();
    let mut peak = before;
    for i in 0..n {
        claimed.add(1, vec![o::queue::NAME.value(format!("queue-{i}"))]);
        if i % 100_000 == 0 {
            peak = peak.max(rss_mib(pid));
        }
    }
    let took = start.elapsed();
    let after = rss_mib(pid).max(peak);
    let series: Vec<semtel::metrics::SeriesSnapshot> = semtel::metrics::collect()
        .into_iter()
        .filter(|s| s.descriptor.name == m::tasks::CLAIMED.name)
        .flat_map(|s| s.series)
        .collect();
    let total: f64 = series
        .iter()
        .map(|s| match s.point {
            semtel::metrics::Point::Sum(v) => v,
            _ => 0.0,
        })
        .sum();
    drop(telemetry);
    assert!(
        series.len() <= cap + 1,
        "{} series over a cap of {cap}",
        series.len()
    );
    assert_eq!(
        total as u64, n,
        "the flood's measurements were not all kept"
    );
    format!(
        "label flood: {n} distinct values in {:.2} s ({:.0} ns each): {} series kept (cap {cap} + overflow), all {n} counted; RSS {before:.1} -> {after:.1} MiB",
        took.as_secs_f64(),
        took.as_nanos() as f64 / n as f64,
        series.len()
    )
}
