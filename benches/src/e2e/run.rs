//! One measured run: a child process (the `e2e` binary with `--child`) that
//! installs one contender, offers spans at one rate, delivers what it
//! buffered and reports its CPU time and peak memory; the collector counts
//! what arrived.

use super::collector::{Collector, pinned};
use super::contenders::{self, Contender};
use super::paced;

/// The core the program runs on, and the collector's (when there are two).
fn cores() -> (Option<usize>, Option<usize>) {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    if n >= 2 {
        (Some(0), Some(1))
    } else {
        (None, None)
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Calls (spans) made.
    pub produced: u64,
    /// Spans the collector received.
    pub delivered: u64,
    /// The process's CPU time from the first call until its telemetry was shut down.
    pub cpu_ns: u64,
    /// The process's peak resident memory, KiB.
    pub peak_rss_kb: u64,
}

impl Outcome {
    /// The delivered fraction of the spans made.
    pub fn delivered_fraction(&self) -> f64 {
        self.delivered as f64 / self.produced.max(1) as f64
    }

    /// Whether the producer kept up with the offered rate (within 1%).
    pub fn kept_up(&self, rate: u64, secs: f64) -> bool {
        self.produced as f64 >= 0.99 * rate as f64 * secs
    }
}

/// The child's side: installs `c`, produces at `rate` for `secs` and prints
/// `child produced=<n> cpu_ns=<n> peak_rss_kb=<n>`.
pub fn child(c: Contender, rate: u64, secs: f64, endpoint: &str) {
    let installed = contenders::install(c, endpoint);
    let start = paced::cpu_ns();
    let produced = paced::produce(rate, secs, installed.call);
    (installed.finish)();
    let cpu = paced::cpu_ns() - start;
    println!(
        "child produced={produced} cpu_ns={cpu} peak_rss_kb={}",
        paced::peak_rss_kb()
    );
    if c == Contender::Semtel {
        eprintln!(
            "  semtel dropped {} spans, failed exports {}",
            semtel::trace::dropped_spans(),
            semtel::trace::failed_exports()
        );
    }
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in the child's report {line:?}"))
}

/// Runs `c` at `rate` for `secs` in a child process pinned to one core,
/// against a fresh collector on the other.
pub fn once(c: Contender, rate: u64, secs: f64) -> Outcome {
    let (program_core, collector_core) = cores();
    let collector = (c != Contender::Bare).then(|| Collector::start(collector_core));
    let endpoint = collector
        .as_ref()
        .map_or("-".to_string(), Collector::endpoint);
    let exe = std::env::current_exe().expect("own executable");
    let out = pinned(exe, program_core)
        .args([
            "--child",
            c.name(),
            &rate.to_string(),
            &secs.to_string(),
            &endpoint,
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("child "))
        .unwrap_or_else(|| panic!("{} at {rate}/s reported nothing ({})", c.name(), out.status));
    let produced = field(line, "produced");
    let delivered = collector
        .as_ref()
        .map_or(produced, |col| col.settled(produced));
    Outcome {
        produced,
        delivered,
        cpu_ns: field(line, "cpu_ns"),
        peak_rss_kb: field(line, "peak_rss_kb"),
    }
}
