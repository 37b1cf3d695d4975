//! The `semtel` binary's basic commands.

mod common;
use common::semtel;

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
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
}

#[test]
fn top_level_help_lists_every_option() {
    let (code, out, _) = semtel(&["--help"]);
    assert_eq!(code, 0);
    for option in [
        "--bundled",
        "--out <FILE>",
        "--title <TEXT>",
        "schema check",
        "schema docs",
    ] {
        assert!(
            out.contains(option),
            "`semtel --help` omits {option}:\n{out}"
        );
    }
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["schema", "--help"][..],
        &["schema", "check", "--help"],
        &["schema", "docs", "--help"],
        &["help", "schema", "check"],
    ] {
        let (code, out, err) = semtel(args);
        assert_eq!(code, 0, "semtel {args:?}: {err}");
        assert!(
            out.contains("Usage: semtel schema"),
            "semtel {args:?}:\n{out}"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    let (code, _, err) = semtel(&["schema", "check"]);
    assert_eq!(code, 2);
    assert!(err.contains("<DIR>..."), "{err}");
    let (code, _, err) = semtel(&["schema", "check", "--frob", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("unexpected argument '--frob'"), "{err}");
    let (code, _, err) = semtel(&["schema", "docs", "x", "--out"]);
    assert_eq!(code, 2);
    assert!(err.contains("'--out <FILE>'"), "{err}");
}

#[test]
fn schema_docs_writes_to_stdout_without_out() {
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/../conventions/schema");
    let (code, out, err) = semtel(&[
        "schema",
        "docs",
        schema,
        "--title",
        "semtel bundled conventions",
    ]);
    assert_eq!(code, 0, "{err}");
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/conventions.md");
    assert_eq!(out, std::fs::read_to_string(committed).unwrap());
}

#[test]
fn schema_check_counts_the_upstream_registry() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/semconv/v1.41.0");
    assert!(std::path::Path::new(dir).is_dir(), "{dir} is missing");
    let (code, out, err) = semtel(&["schema", "check", dir]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "attributes=925 enums=166 metrics=529 spans=70 events=31 deprecated=230"
    );
}

#[test]
fn schema_check_reports_errors_and_fails() {
    let dir = std::env::temp_dir().join(format!("semtel-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "groups:\n  - id: g\n    type: attribute_group\n    attributes:\n      - ref: gen_ai.agent.nam\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let (code, out, _) = semtel(&["schema", "check", d]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "attributes=0 enums=0 metrics=0 spans=0 events=0 deprecated=0"
    );
    assert!(
        lines[1].starts_with("error: ")
            && lines[1].contains(
                "s.yaml:5:14: dangling `ref`: no attribute `gen_ai.agent.nam` is defined"
            )
            && lines[1].ends_with("add `--bundled`)"),
        "{out}"
    );
    // With the bundled conventions as base the reference resolves, and the suggestion names it.
    std::fs::write(
        dir.join("s.yaml"),
        "groups:\n  - id: g\n    type: attribute_group\n    attributes:\n      - ref: gen_ai.agent.nam\n",
    )
    .unwrap();
    let (code, out, _) = semtel(&["schema", "check", "--bundled", d]);
    assert_eq!(code, 1);
    assert!(out.contains("did you mean `gen_ai.agent.name`?"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bundled_docs_are_up_to_date() {
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/conventions.md");
    let fresh = std::env::temp_dir().join(format!("semtel-docs-{}.md", std::process::id()));
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/../conventions/schema");
    let (code, _, err) = semtel(&[
        "schema",
        "docs",
        schema,
        "--out",
        fresh.to_str().unwrap(),
        "--title",
        "semtel bundled conventions",
    ]);
    assert_eq!(code, 0, "{err}");
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();
    std::fs::remove_file(&fresh).unwrap();
    let committed_text = std::fs::read_to_string(committed).unwrap_or_default();
    assert!(
        fresh_text == committed_text,
        "docs/conventions.md is stale; regenerate it with:\n  cargo run -p semtel-cli -- schema docs conventions/schema --out docs/conventions.md --title 'semtel bundled conventions'"
    );
}
