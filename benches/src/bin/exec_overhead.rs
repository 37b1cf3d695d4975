//! Wall time `semtel exec` adds over running a command directly: `true`,
//! run alternately plain and under `semtel exec` (span exported over OTLP
//! HTTP to a listening rotel collector before exit), medians over many runs.
//!
//! Build the command first (`cargo build --release -p semtel-cli`); needs
//! `rotel-agent` (`scripts/test` installs it into `.venv`).
//!
//! `cargo run --release -p semtel-benches --bin exec_overhead [RUNS]`

use semtel_tests::collector::Rotel;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn semtel() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let p = exe.with_file_name("semtel");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build --release -p semtel-cli` first",
        p.display()
    );
    p
}

fn time(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd.status().expect("run");
    let took = start.elapsed();
    assert!(status.success());
    took
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * q) as usize]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let semtel = semtel();
    let rotel = Rotel::start();
    let mut plain = Vec::with_capacity(runs);
    let mut traced = Vec::with_capacity(runs);
    for protocol in ["http/protobuf", "grpc"] {
        let endpoint = if protocol == "grpc" {
            rotel.grpc_endpoint()
        } else {
            rotel.http_endpoint()
        };
        plain.clear();
        traced.clear();
        for _ in 0..runs {
            plain.push(time(&mut Command::new("true")));
            traced.push(time(
                Command::new(&semtel)
                    .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
                    .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
                    .env("OTEL_SERVICE_NAME", "bench")
                    .args(["exec", "--", "true"]),
            ));
        }
        let (p, t) = (median(&mut plain), median(&mut traced));
        println!(
            "{protocol:14} true: median {:>8.3} ms | semtel exec true: median {:>8.3} ms, p90 {:>8.3} ms | added (median): {:.3} ms over {runs} runs",
            p.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e3,
            percentile(&mut traced, 0.9).as_secs_f64() * 1e3,
            (t.as_secs_f64() - p.as_secs_f64()) * 1e3,
        );
    }
    let spans = rotel.spans().len();
    println!("spans at the collector: {spans} (expected {})", 2 * runs);
}
