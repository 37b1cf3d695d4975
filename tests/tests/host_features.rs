//! semtel never changes how the program's other crates behave: a program
//! that builds reqwest without its default features, and one that uses
//! reqwest's own rustls (and rustls's process-wide default provider), each
//! with semtel in its dependency graph, build and make their clients, and
//! install their own global `tracing` subscriber after `init`.
//!
//! Each program is built as a crate of its own, outside this workspace, so
//! that the features of the shared crates are exactly what it and semtel
//! ask for. The builds share a target directory under this one's.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str, reqwest: &str, extra: &str, features: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = root.join("../runtime").canonicalize().unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("host-{name}"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let template = std::fs::read_to_string(root.join("fixtures/host/Cargo.toml.in")).unwrap();
    let manifest = template
        .replace("@RUNTIME@", runtime.to_str().unwrap())
        .replace("@REQWEST@", reqwest)
        .replace("@EXTRA@", extra);
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(
        root.join("fixtures/host/src/main.rs"),
        dir.join("src/main.rs"),
    )
    .unwrap();
    // Start from the workspace's resolved versions.
    let _ = std::fs::copy(root.join("../Cargo.lock"), dir.join("Cargo.lock"));
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("host-target");
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--features"])
        .arg(features.join(","))
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn reqwest_without_default_features_builds_its_client_beside_semtel() {
    let out = fixture(
        "plain",
        "default-features = false",
        "[features]\nown-rustls = []",
        &[],
    );
    assert!(out.contains("host program ran"), "{out}");
    assert!(out.contains("the host's own subscriber logs"), "{out}");
}

#[test]
fn reqwest_with_its_own_rustls_and_the_default_provider_work_beside_semtel() {
    let out = fixture(
        "rustls",
        "default-features = true",
        "rustls = \"0.23\"\n\n[features]\nown-rustls = []",
        &["own-rustls"],
    );
    assert!(out.contains("host program ran"), "{out}");
}
