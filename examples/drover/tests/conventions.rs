//! The user schema's keys, spans and metrics work like the bundled ones.

use drover_example::{Task, run, semconv};
use semtel::testing;

#[test]
fn user_conventions_drive_spans_and_metrics() {
    assert_eq!(semconv::drover::task::ID.name(), "drover.task.id");
    let cap = testing::capture();
    let tasks = [
        Task {
            id: "t-1".into(),
            title: "Add login".into(),
            epic: "e-1".into(),
        },
        Task {
            id: "t-2".into(),
            title: "Resolve conflict".into(),
            epic: "e-1".into(),
        },
    ];
    assert_eq!(run("run-1", &tasks), 1);
    let spans = cap.spans();
    let root = cap.span("drover.workflow.run");
    assert_eq!(root.attribute("drover.run.id").unwrap().as_str(), "run-1");
    let merges: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "drover.git.merge")
        .collect();
    assert_eq!(
        merges.len(),
        2,
        "name pattern from the user's span definition"
    );
    assert_eq!(
        merges[1].attribute("drover.git.branch").unwrap().as_str(),
        "drover/t-2"
    );
    assert_eq!(
        merges[1].attribute("error.type").unwrap().as_str(),
        "merge_conflict"
    );
    let agent = spans
        .iter()
        .find(|s| s.name == "drover.agent.execute")
        .unwrap();
    assert_eq!(
        agent.attribute("gen_ai.agent.name").unwrap().as_str(),
        "coder"
    );
    assert_eq!(
        cap.metric_value(
            "drover.tasks.failed",
            &[
                ("drover.epic.id", "e-1"),
                ("drover.error.type", "merge_conflict")
            ]
        ),
        0.0,
        "error.type is not an attribute of drover.tasks.failed, so it is not added"
    );
    assert_eq!(
        cap.metric_value("drover.tasks.failed", &[("drover.epic.id", "e-1")]),
        2.0
    );
    assert_eq!(
        cap.metric_value(
            "drover.git.operation.duration",
            &[("drover.git.operation", "merge")]
        ),
        2.0
    );
}
