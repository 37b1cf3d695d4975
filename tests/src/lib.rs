//! Support for semtel's integration tests: real components (the rotel
//! collector) started on loopback ports the test picks, and parsers for what
//! they received.
//!
//! A component that cannot be found is a test failure with a message saying
//! how to install it, never a skipped test.

pub mod build;
pub mod clickhouse;
pub mod collector;
pub mod grafana;
pub mod prometheus;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root (where `scripts/test` installs the test tools).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub fn poll<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Stops a child process: SIGTERM, up to ten seconds to exit, then SIGKILL.
pub fn stop(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    if poll(Duration::from_secs(10), || child.try_wait().ok().flatten()).is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Finds a tool: the environment variable `var`, then the given candidates
/// under the workspace root, then `PATH`. Panics with install instructions.
pub fn find_tool(var: &str, candidates: &[PathBuf], name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{var} names {}, which does not exist",
            p.display()
        );
        return p;
    }
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return p.clone();
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "{name} is required by this test and was not found (set {var}, or run `scripts/test`, \
         which installs it)"
    );
}
