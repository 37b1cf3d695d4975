//! Builds workspace programs the tests run (an example, the `semtel` CLI)
//! with the cargo that runs the tests, and returns their executables.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo build -q <args> --message-format=json`; the executable of the
/// target named `target`.
pub fn cargo_build(args: &[&str], target: &str) -> PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "-q"])
        .args(args)
        .arg("--message-format=json");
    let out = run_in_workspace(cargo, &format!("cargo build {args:?}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == target)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo build {args:?} made no executable `{target}`"))
}

/// The `agent_service` example.
pub fn agent_service() -> PathBuf {
    cargo_build(
        &["-p", "semtel-examples", "--example", "agent_service"],
        "agent_service",
    )
}

/// The `semtel` command.
pub fn semtel_cli() -> PathBuf {
    cargo_build(&["-p", "semtel-cli", "--bin", "semtel"], "semtel")
}

/// Runs the `semtel` executable `exe` with `args` in the workspace root;
/// panics with its standard error when it fails.
pub fn run_semtel(exe: &Path, args: &[&str]) {
    let mut semtel = Command::new(exe);
    semtel.args(args);
    run_in_workspace(semtel, &format!("semtel {args:?}"));
}

/// Runs `cmd` in the workspace root and returns its output; panics with
/// `what` and its standard error when it cannot start or fails.
fn run_in_workspace(mut cmd: Command, what: &str) -> std::process::Output {
    let out = cmd
        .current_dir(crate::workspace_root())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The dashboard `semtel dashboards --bundled` makes from the schema
/// directory `schema` (on top of the bundled conventions it refers to),
/// written into `dir` as `<name>.json`.
pub fn dashboard(exe: &Path, schema: &str, dir: &Path, name: &str) -> serde_json::Value {
    let out = dir.to_str().expect("a UTF-8 directory");
    run_semtel(exe, &["dashboards", "--bundled", schema, "--out", out]);
    let file = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).expect("dashboard JSON")
}

/// The Golden Armada seed program.
pub fn golden_armada() -> PathBuf {
    cargo_build(
        &["-p", "golden-armada-example", "--bin", "golden_armada"],
        "golden_armada",
    )
}

/// The AgentStack seed program.
pub fn agentstack() -> PathBuf {
    cargo_build(
        &["-p", "agentstack-example", "--bin", "agentstack"],
        "agentstack",
    )
}
