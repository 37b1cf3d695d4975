//! `semtel dashboards` and `semtel alerts`: the committed files under
//! `deploy/` are what the commands make from the bundled conventions, and
//! bad input gets an error naming it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn semtel(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_semtel"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run semtel");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("semtel-ops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

const REGENERATE: &str = "regenerate with `cargo run -p semtel-cli -- dashboards conventions/schema --out deploy/grafana/dashboards` \
     and `cargo run -p semtel-cli -- alerts conventions/schema --out deploy/prometheus/rules/semtel.rules.yml`";

#[test]
fn committed_dashboards_are_what_the_schema_gives() {
    let out = temp("dashboards");
    let (code, stdout, err) = semtel(&[
        "dashboards",
        "conventions/schema",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let made = files(&out);
    let names: Vec<&str> = made.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "agent-overview.json",
            "function.json",
            "gen_ai.json",
            "orchestration.json"
        ],
        "{stdout}"
    );
    let committed = files(&root().join("deploy/grafana/dashboards"));
    assert!(
        made == committed,
        "deploy/grafana/dashboards is stale: {REGENERATE}"
    );
    // Deterministic: a second run writes the same bytes.
    let again = temp("dashboards-again");
    semtel(&[
        "dashboards",
        "conventions/schema",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(files(&again) == made);
    let _ = std::fs::remove_dir_all(out);
    let _ = std::fs::remove_dir_all(again);
}

#[test]
fn committed_rules_are_what_the_schema_gives() {
    let out = temp("rules").join("semtel.rules.yml");
    let (code, stdout, err) = semtel(&[
        "alerts",
        "conventions/schema",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("alerting rules"), "{stdout}");
    let made = std::fs::read_to_string(&out).unwrap();
    let committed =
        std::fs::read_to_string(root().join("deploy/prometheus/rules/semtel.rules.yml")).unwrap();
    assert!(
        made == committed,
        "deploy/prometheus/rules/semtel.rules.yml is stale: {REGENERATE}"
    );
    for seed in [
        "alert: AgentStepFailureRate",
        "alert: AgentStepHighDuration",
    ] {
        assert!(made.contains(seed), "{made}");
    }
}

#[test]
fn the_for_override_replaces_every_for() {
    let out = temp("for").join("r.yml");
    let (code, _, err) = semtel(&[
        "alerts",
        "conventions/schema",
        "--out",
        out.to_str().unwrap(),
        "--for",
        "1s",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let fors: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("for: "))
        .collect();
    assert!(!fors.is_empty());
    assert!(fors.iter().all(|l| l.trim() == "for: 1s"), "{fors:?}");
    let (code, _, err) = semtel(&[
        "alerts",
        "conventions/schema",
        "--out",
        "x.yml",
        "--for",
        "soon",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("`soon` is not a Prometheus duration"), "{err}");
}

#[test]
fn bad_alert_annotations_are_reported_with_their_place() {
    let dir = temp("bad");
    std::fs::write(
        dir.join("jobs.yaml"),
        "groups:\n  - id: metric.jobs.runs\n    type: metric\n    metric_name: jobs.runs\n    brief: Runs.\n    instrument: counter\n    unit: \"{run}\"\n    stability: development\n    annotations:\n      semtel:\n        alerts:\n          failure_ratio: {above: 0.2}\n",
    )
    .unwrap();
    let (code, _, err) = semtel(&[
        "alerts",
        dir.to_str().unwrap(),
        "--out",
        dir.join("r.yml").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("jobs.yaml:"), "{err}");
    assert!(
        err.contains(
            "metric `jobs.runs`: `alerts.failure_ratio`/`alerts.objective` need an outcome"
        ),
        "{err}"
    );
    let (code, _, err) = semtel(&["dashboards", "--out", "x"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = semtel(&["dashboards", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--bundled") && out.contains("--out <DIR>"),
        "{out}"
    );
}
