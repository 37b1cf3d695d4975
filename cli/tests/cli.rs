//! The `semtel` binary's basic commands.

use std::process::Command;

fn semtel(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_semtel"))
        .args(args)
        .output()
        .expect("run semtel");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_version() {
    let (code, out, _) = semtel(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("semtel — semantic telemetry"), "{out}");
    let (code, out, _) = semtel(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("semtel {}", env!("CARGO_PKG_VERSION")));
    let (code, _, err) = semtel(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown command `frobnicate`"));
}
