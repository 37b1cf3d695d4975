//! `semtel traces stats` throughput: a generated OTLP JSON Lines file of 5
//! million spans (batches of 512 per line, as the `otlp_file` exporter
//! writes them: 8 span names, 4 attributes each, 5% errors, durations from
//! microseconds to seconds), then the command run on it; prints spans per
//! second per core (CPU time) and the command's peak RSS.
//!
//! Build the command first (`cargo build --release -p semtel-cli`).
//!
//! `cargo run --release -p semtel-benches --bin traces_stats [SPANS]`

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const NAMES: [&str; 8] = [
    "drover.task.execute",
    "drover.agent.execute",
    "drover.git.merge",
    "drover.git.commit",
    "invoke_agent coder",
    "execute_tool run_tests",
    "chat claude-sonnet-4",
    "drover.workflow.run",
];

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

fn generate(path: &PathBuf, spans: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let start = 1_768_557_600_000_000_000u64;
    let mut written = 0;
    while written < spans {
        let batch = (spans - written).min(512);
        out.write_all(br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"drover"}},{"key":"telemetry.sdk.name","value":{"stringValue":"semtel"}}]},"scopeSpans":[{"scope":{"name":"drover"},"spans":["#)?;
        for i in 0..batch {
            let r = xorshift(&mut seed);
            let name = NAMES[(r % 8) as usize];
            let duration = 1_000 + (xorshift(&mut seed) % 1_000_000) * (1 + r % 4000);
            let t = start + (written + i) * 1_000_000;
            let error = r.is_multiple_of(20);
            if i > 0 {
                out.write_all(b",")?;
            }
            write!(
                out,
                r#"{{"traceId":"{:032x}","spanId":"{:016x}","parentSpanId":"{:016x}","name":"{name}","kind":1,"startTimeUnixNano":"{t}","endTimeUnixNano":"{}","attributes":[{{"key":"drover.task.id","value":{{"stringValue":"task-{}"}}}},{{"key":"drover.epic.id","value":{{"stringValue":"epic-{}"}}}},{{"key":"drover.worker.id","value":{{"stringValue":"worker-{}"}}}},{{"key":"drover.task.priority","value":{{"intValue":"{}"}}}}],"status":{{{}}}}}"#,
                ((r as u128) << 64) | written as u128,
                r | 1,
                xorshift(&mut seed),
                t + duration,
                r % 100_000,
                r % 12,
                r % 8,
                r % 100,
                if error {
                    r#""code":2,"message":"merge conflict""#
                } else {
                    ""
                },
            )?;
        }
        out.write_all(b"]}]}]}\n")?;
        written += batch;
    }
    out.flush()?;
    Ok(written)
}

fn main() {
    let spans: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let semtel = std::env::current_exe()
        .expect("own path")
        .with_file_name("semtel");
    assert!(
        semtel.is_file(),
        "{} is missing: run `cargo build --release -p semtel-cli` first",
        semtel.display()
    );
    let path =
        std::env::temp_dir().join(format!("semtel-bench-spans-{}.jsonl", std::process::id()));
    let t = Instant::now();
    generate(&path, spans).expect("write the span file");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {spans} spans, {:.0} MB, in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let out = Command::new(&semtel)
        .args(["traces", "stats"])
        .arg(&path)
        .output()
        .expect("run semtel");
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    let cpu = usage.ru_utime.tv_sec as f64
        + usage.ru_utime.tv_usec as f64 / 1e6
        + usage.ru_stime.tv_sec as f64
        + usage.ru_stime.tv_usec as f64 / 1e6;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!(
        "\nstats: {spans} spans in {wall:.2} s wall, {cpu:.2} s CPU: {:.0} spans/s per core ({:.0} MB/s); peak RSS {:.1} MB",
        spans as f64 / cpu,
        size as f64 / 1e6 / cpu,
        usage.ru_maxrss as f64 / 1024.0
    );
}
