//! End to end, OTLP gRPC into the rotel collector (blackhole exporter).
//!
//! `e2e --compare [--secs S] [--reps N] [--only semtel,tracing,fastrace]`:
//! semtel, `tracing` + `tracing-opentelemetry` and fastrace through the same
//! collector at 20k, 100k and 300k spans/s offered, each run a process
//! pinned to one core with the collector on the other; prints per contender
//! and rate `e2e <contender> <rate> cpu_ns_per_delivered=<n>
//! delivered=<fraction> peak_rss_kb=<n>` (CPU of the whole process net of
//! the same loop with no telemetry, medians of `--reps` runs of `--secs`),
//! `ratio e2e_<rate> semtel/<contender> <n>` lines, each contender's highest
//! rate with at least 99.9% delivered, and a Markdown table. About 7 minutes.
//!
//! Without `--compare`: the rate semtel sustains with no dropped span at the
//! default queue size, its peak RSS, and RSS while the collector is down.
//!
//! Needs `rotel-agent` (set `SEMTEL_ROTEL_AGENT`, or run `scripts/test` once,
//! which installs it into `.venv`) and `taskset`.

use semtel::{LogsExporter, MetricsExporter, Protocol, TracesExporter};
use semtel_benches::contender_semtel::step;
use semtel_benches::e2e::collector::Collector;
use semtel_benches::e2e::compare::{self, Options};
use semtel_benches::e2e::contenders::Contender;
use semtel_benches::e2e::{paced, run};
use std::time::{Duration, Instant};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn sustained() {
    let collector = Collector::start(None);
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("e2e")
        .traces_exporter(TracesExporter::Otlp)
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(collector.endpoint())
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
        let n = paced::produce(rate, 3.0, step);
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
    drop(collector);
    let before = status_kb("VmRSS:");
    let dropped = semtel::trace::dropped_spans();
    let n = paced::produce(best.max(100_000), 5.0, step);
    let after = status_kb("VmRSS:");
    println!(
        "e2e collector_down spans {n} dropped {} rss_before_mb {:.1} rss_after_mb {:.1}",
        semtel::trace::dropped_spans() - dropped,
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    drop(telemetry);
}

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn usage(what: &str) -> ! {
    eprintln!("e2e: {what}\nusage: e2e [--compare [--secs S] [--reps N] [--only NAME,...]]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let [_, c, rate, secs, endpoint] = &args[..] else {
            usage("--child CONTENDER RATE SECS ENDPOINT")
        };
        let c = Contender::parse(c).unwrap_or_else(|| usage("unknown contender"));
        let rate = rate
            .parse()
            .unwrap_or_else(|_| usage("RATE is not a number"));
        let secs = secs
            .parse()
            .unwrap_or_else(|_| usage("SECS is not a number"));
        run::child(c, rate, secs, endpoint);
        return;
    }
    if !args.iter().any(|a| a == "--compare") {
        sustained();
        return;
    }
    let only = match option(&args, "--only") {
        Some(list) => list
            .split(',')
            .map(|n| {
                Contender::parse(n).unwrap_or_else(|| usage(&format!("unknown contender {n:?}")))
            })
            .collect(),
        None => Contender::COMPARED.to_vec(),
    };
    let opts = Options {
        secs: option(&args, "--secs")
            .map_or(5.0, |s| s.parse().unwrap_or_else(|_| usage("--secs"))),
        reps: option(&args, "--reps").map_or(3, |s| s.parse().unwrap_or_else(|_| usage("--reps"))),
        only,
    };
    compare::run(&opts);
}
