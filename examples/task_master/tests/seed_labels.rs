//! Compile-fail: the seed's labels on `agent_step_duration_seconds`
//! (`task_id`, `pr_number`, `workflow_name`) do not compile. Building this
//! crate with `--features seed-labels` must fail with one error per
//! high-cardinality label, pointing at it in `src/workflow.rs`, and with no
//! other error.

use std::path::Path;
use std::process::Command;

#[test]
fn the_seeds_histogram_labels_are_rejected_at_compile_time() {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "-q",
            "-p",
            "task-master-example",
            "--lib",
            "--features",
            "seed-labels",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    assert!(!out.status.success(), "the seed's labels compiled");
    let mut errors: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-message" && v["message"]["level"] == "error")
        .filter(|v| {
            !v["message"]["spans"]
                .as_array()
                .is_none_or(|s| s.is_empty())
        })
        .map(|v| {
            let m = &v["message"];
            let s = &m["spans"][0];
            let at = format!(
                "{}:{}:{}",
                s["file_name"].as_str().unwrap_or_default(),
                s["line_start"],
                s["column_start"]
            );
            (m["message"].as_str().unwrap_or_default().to_string(), at)
        })
        .collect();
    errors.sort();

    // Where the labels are written in the source, after the cfg of the feature.
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/workflow.rs"))
            .unwrap();
    let start = source
        .find("#[cfg(feature = \"seed-labels\")]")
        .expect("the seed-labels function");
    let at = |label: &str| {
        let offset = start
            + source[start..]
                .find(&format!("{label} = wf."))
                .expect(label);
        let line = source[..offset].lines().count();
        let col = offset - source[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("examples/task_master/src/workflow.rs:{line}:{col}")
    };
    let want: Vec<(String, String)> = ["pr.number", "task.id", "workflow.name"]
        .iter()
        .map(|a| {
            (
                format!(
                    "attribute `{a}` is high-cardinality (so marked in the schema) and cannot be a metric attribute"
                ),
                at(a),
            )
        })
        .collect();
    assert_eq!(errors, want, "{}", String::from_utf8_lossy(&out.stderr));
}
