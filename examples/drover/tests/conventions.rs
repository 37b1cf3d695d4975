//! The user schema's keys, spans and metrics work like the bundled ones, in
//! process: Drover's hierarchy, attributes, counters and millisecond
//! histograms.

use drover_example::{Plan, run, semconv, tasks};
use semtel::metrics::Point;
use semtel::testing;
use std::time::Duration;

fn attr(s: &semtel::trace::SpanRecord, key: &str) -> String {
    s.attribute(key)
        .unwrap_or_else(|| panic!("{} has no {key}", s.name))
        .as_str()
        .into_owned()
}

#[test]
fn a_run_gives_drovers_spans_counters_and_millisecond_histograms() {
    assert_eq!(semconv::drover::task::ID.name(), "drover.task.id");
    let cap = testing::capture();
    let plan = Plan {
        project: "web".into(),
        run_id: "run-1".into(),
        tasks: tasks(6, 1),
        workers: 2,
        pace: Duration::from_millis(8),
    };
    let summary = run(&plan);
    assert_eq!((summary.completed, summary.failed), (4, 2));

    let spans = cap.spans();
    let root = cap.span("drover.workflow.run");
    assert_eq!(attr(&root, "drover.run.id"), "run-1");
    assert_eq!(attr(&root, "drover.project.id"), "web");
    let metrics_span = cap.span("drover.workflow.metrics");
    assert_eq!(metrics_span.parent_span_id, root.span_id);
    let task_spans: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "drover.task.execute")
        .collect();
    assert_eq!(task_spans.len(), 6);
    for t in &task_spans {
        assert_eq!(
            t.parent_span_id, root.span_id,
            "tasks run on worker threads"
        );
        let children: Vec<&str> = spans
            .iter()
            .filter(|s| s.parent_span_id == t.span_id)
            .map(|s| s.name.as_ref())
            .collect();
        let id = attr(t, "drover.task.id");
        let want: &[&str] = match id.as_str() {
            // "Migrate sessions (agent timeout)": the agent fails, no commit or merge.
            "task-5" => &[
                "drover.git.worktree.create",
                "drover.agent.execute",
                "drover.git.worktree.remove",
            ],
            _ => &[
                "drover.git.worktree.create",
                "drover.agent.execute",
                "drover.git.commit",
                "drover.git.merge",
                "drover.git.worktree.remove",
            ],
        };
        assert_eq!(children, want, "{id}");
        let state = attr(t, "drover.task.state");
        match id.as_str() {
            "task-3" | "task-5" => assert_eq!(state, "failed"),
            _ => assert_eq!(state, "completed"),
        }
    }
    let conflict = task_spans
        .iter()
        .find(|t| attr(t, "drover.task.id") == "task-3")
        .unwrap();
    assert_eq!(attr(conflict, "error.type"), "merge_conflict");
    let merge = spans
        .iter()
        .find(|s| s.name == "drover.git.merge" && s.parent_span_id == conflict.span_id)
        .unwrap();
    assert_eq!(attr(merge, "drover.git.branch"), "drover/task-3");

    let epic1 = [("drover.epic.id", "epic-1")];
    assert_eq!(cap.metric_value("drover.tasks.claimed", &epic1), 2.0);
    assert_eq!(
        cap.metric_value(
            "drover.tasks.completed",
            &[
                ("drover.epic.id", "epic-1"),
                ("drover.task.status", "merged")
            ]
        ),
        2.0
    );
    assert_eq!(
        cap.metric_value(
            "drover.tasks.failed",
            &[
                ("drover.epic.id", "epic-3"),
                ("drover.error.type", "merge_conflict")
            ]
        ),
        1.0
    );
    assert_eq!(
        cap.metric_value(
            "drover.tasks.failed",
            &[
                ("drover.epic.id", "epic-2"),
                ("drover.error.type", "timeout")
            ]
        ),
        1.0
    );
    assert_eq!(
        cap.metric_value(
            "drover.agent.prompts",
            &[("drover.agent.type", "claude-code")]
        ),
        6.0
    );
    assert_eq!(cap.metric_value("drover.workers.active", &[]), 0.0);
    assert_eq!(cap.metric_value("drover.tasks.in_progress", &[]), 0.0);
    assert_eq!(cap.metric_value("drover.tasks.pending", &[]), 0.0);

    // Histograms in the unit the schema declares (ms), from `#[metered]` and
    // by hand alike: each sum is close to the spans' own durations in ms.
    let ms = |name: &str| -> f64 {
        spans
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.duration_nanos() as f64 / 1e6)
            .sum()
    };
    let sum = |metric: &str, attrs: &[(&str, &str)]| -> (u64, f64) {
        cap.series(metric, attrs)
            .iter()
            .map(|s| match &s.point {
                Point::Histogram(h) => (h.count, h.sum),
                p => panic!("{metric}: {p:?}"),
            })
            .fold((0, 0.0), |(c, s), (c2, s2)| (c + c2, s + s2))
    };
    for (metric, attrs, span) in [
        (
            "drover.git.operation.duration",
            vec![("drover.git.operation", "merge")],
            "drover.git.merge",
        ),
        (
            "drover.agent.duration",
            vec![("drover.agent.type", "claude-code")],
            "drover.agent.execute",
        ),
        ("drover.task.duration", vec![], "drover.task.execute"),
    ] {
        let (count, total) = sum(metric, &attrs);
        let want = ms(span);
        assert_eq!(
            count as usize,
            spans.iter().filter(|s| s.name == span).count()
        );
        assert!(
            want > 10.0 && (total - want).abs() < 0.2 * want,
            "{metric}: recorded {total} ms in {count} measurements, spans took {want} ms"
        );
    }
}
