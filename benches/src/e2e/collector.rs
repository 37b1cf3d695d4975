//! The collector the contenders export to: rotel with its blackhole
//! exporter, logging one line per request it receives (`Received traces.
//! ... spans=N`), from which the delivered spans are counted exactly.

use semtel_tests::collector::{TempDir, rotel_binary};
use semtel_tests::{free_port, wait_for_port};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running counting collector, killed when dropped.
pub struct Collector {
    child: Child,
    out: PathBuf,
    port: u16,
    _dir: TempDir,
}

/// `taskset -c <core>` in front of `program` when `core` is given.
pub fn pinned(program: impl AsRef<std::ffi::OsStr>, core: Option<usize>) -> Command {
    match core {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

impl Collector {
    /// Starts rotel on a free port (on `core`, if given) and waits until it listens.
    pub fn start(core: Option<usize>) -> Collector {
        let port = free_port();
        let dir = TempDir::new("semtel-e2e");
        let out = dir.0.join("rotel.out");
        let log = File::create(&out).expect("create collector log");
        let child = pinned(rotel_binary(), core)
            .arg("start")
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{}", free_port()))
            .args(["--debug-log", "traces", "--debug-log-verbosity", "basic"])
            .args(["--exporter", "blackhole"])
            .stdout(Stdio::from(log.try_clone().expect("dup log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rotel-agent (is taskset installed?)");
        let c = Collector {
            child,
            out,
            port,
            _dir: dir,
        };
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "rotel did not start listening:\n{}",
            std::fs::read_to_string(&c.out).unwrap_or_default()
        );
        c
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Spans received so far.
    pub fn received(&self) -> u64 {
        count_spans(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    /// Spans received once the count has stopped changing for half a second
    /// (or reached `expected`), waiting at most ten seconds.
    pub fn settled(&self, expected: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = self.received();
        let mut since = Instant::now();
        while last < expected && since.elapsed() < Duration::from_millis(500) {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            let now = self.received();
            if now != last {
                last = now;
                since = Instant::now();
            }
        }
        last
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The spans counted in rotel's basic debug log: the `spans=N` of every
/// `Received traces.` line (colour codes, if any, removed first).
pub fn count_spans(log: &str) -> u64 {
    log.lines()
        .filter(|l| l.contains("Received traces."))
        .filter_map(|l| {
            let plain = strip_ansi(l);
            let at = plain.find(" spans=")? + " spans=".len();
            let digits: String = plain[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u64>().ok()
        })
        .sum()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::count_spans;

    #[test]
    fn counts_the_spans_of_every_request_line() {
        let log = "2026-12-03T07:00:00Z  INFO rotel: Received traces. data_type=\"traces\" resource_spans=1 spans=512\n\
                   something else spans=7\n\
                   \u{1b}[2m2026\u{1b}[0m INFO Received traces. \u{1b}[3mresource_spans\u{1b}[0m\u{1b}[2m=\u{1b}[0m2 \u{1b}[3mspans\u{1b}[0m\u{1b}[2m=\u{1b}[0m30\n";
        assert_eq!(count_spans(log), 542);
    }
}
