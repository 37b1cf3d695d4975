//! Helpers shared by the `semtel` binary's tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `semtel` binary under test.
pub const SEMTEL: &str = env!("CARGO_BIN_EXE_semtel");

/// A command with no telemetry settings inherited from the test's environment.
pub fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_")
            || k.starts_with("SEMTEL_EXPORTER")
            || ["TRACEPARENT", "TRACESTATE", "BAGGAGE", "NO_COLOR"].contains(&k.as_str())
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// The instrumented program of the integration tests (built on demand: it
/// belongs to the `semtel-tests` package).
pub fn traced_child() -> PathBuf {
    let dir = Path::new(SEMTEL).parent().expect("binary directory");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "semtel-tests",
            "--bin",
            "traced_child",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo");
    assert!(status.success(), "cannot build traced_child");
    let path = dir.join("traced_child");
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// Bytes as text, for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `semtel ARGS` and returns (exit code, stdout, stderr).
pub fn semtel(args: &[&str]) -> (i32, String, String) {
    let out = clean(SEMTEL).args(args).output().expect("run semtel");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}
