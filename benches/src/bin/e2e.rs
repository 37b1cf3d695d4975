//! End to end: the span rate semtel sustains over OTLP gRPC into the rotel
//! collector (blackhole exporter) with zero drops at the default queue size,
//! the peak RSS meanwhile, and RSS while the collector is down.
//!
//! Needs `rotel-agent` (set `SEMTEL_ROTEL_AGENT`, or run `scripts/test` once,
//! which installs it into `.venv`).

use semtel::{LogsExporter, MetricsExporter, Protocol, TracesExporter, traced_task};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[traced_task(name = "step", attrs(orchestration.task.id = "task-1", orchestration.task.priority = 3, gen_ai.agent.name = "coder"))]
fn step(x: u64) -> u64 {
    std::hint::black_box(x) + 1
}

fn rotel_binary() -> String {
    if let Ok(p) = std::env::var("SEMTEL_ROTEL_AGENT") {
        return p;
    }
    let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/lib");
    std::fs::read_dir(lib)
        .ok()
        .and_then(|d| {
            d.flatten()
                .map(|e| e.path().join("site-packages/rotel/rotel-agent"))
                .find(|p| p.is_file())
        })
        .map(|p| p.display().to_string())
        .expect("rotel-agent not found: set SEMTEL_ROTEL_AGENT or run scripts/test once")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_rotel(grpc: u16) -> Child {
    let child = Command::new(rotel_binary())
        .args([
            "start",
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{grpc}"),
        ])
        .args([
            "--otlp-http-endpoint",
            &format!("127.0.0.1:{}", free_port()),
            "--exporter",
            "blackhole",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rotel");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", grpc)).is_err() {
        assert!(Instant::now() < deadline, "rotel did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn stop(mut c: Child) {
    let _ = Command::new("kill").arg(c.id().to_string()).status();
    let _ = c.wait();
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Produces `rate` spans per second for `secs` on this thread, paced in 1 ms steps.
fn produce(rate: u64, secs: f64) -> u64 {
    let per_ms = (rate / 1000).max(1);
    let start = Instant::now();
    let mut n = 0;
    let mut tick = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for i in 0..per_ms {
            step(i);
        }
        n += per_ms;
        tick += 1;
        let due = start + Duration::from_millis(tick);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    n
}

fn main() {
    let grpc = free_port();
    let rotel = start_rotel(grpc);
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("e2e")
        .traces_exporter(TracesExporter::Otlp)
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(format!("http://127.0.0.1:{grpc}"))
        .otlp_timeout(Duration::from_secs(2))
        .metrics_exporter(MetricsExporter::None)
        .logs_exporter(LogsExporter::None)
        .init()
        .expect("telemetry");
    // Find the highest rate (in steps) that runs 3 s without a dropped span.
    let mut best = 0;
    for rate in [
        100_000u64, 200_000, 300_000, 400_000, 500_000, 600_000, 800_000, 1_000_000, 1_200_000,
        1_500_000,
    ] {
        let dropped = semtel::trace::dropped_spans();
        let failed = semtel::trace::failed_exports();
        let start = Instant::now();
        let n = produce(rate, 3.0);
        let achieved = n as f64 / start.elapsed().as_secs_f64();
        telemetry.flush();
        let lost = semtel::trace::dropped_spans() - dropped;
        let failures = semtel::trace::failed_exports() - failed;
        eprintln!(
            "rate {rate}/s: produced {n} ({achieved:.0}/s), dropped {lost}, failed exports {failures}"
        );
        if lost > 0 || failures > 0 || achieved < rate as f64 * 0.95 {
            break;
        }
        best = rate;
    }
    let peak = status_kb("VmHWM:");
    println!("e2e sustained_spans_per_second {best}");
    println!("e2e peak_rss_mb {:.1}", peak as f64 / 1024.0);
    // The collector goes away: memory must stay bounded.
    stop(rotel);
    let before = status_kb("VmRSS:");
    let dropped = semtel::trace::dropped_spans();
    let n = produce(best.max(100_000), 5.0);
    let after = status_kb("VmRSS:");
    println!(
        "e2e collector_down spans {n} dropped {} rss_before_mb {:.1} rss_after_mb {:.1}",
        semtel::trace::dropped_spans() - dropped,
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    drop(telemetry);
}
