//! The file exporter writes one OTLP/JSON `TracesData` object per line and
//! rotates by size, keeping a bounded number of files.

use semtel::traced_task;
use semtel_tests::collector::TempDir;
use std::time::Duration;

#[traced_task(name = "file.span", attrs(orchestration.task.id = n.to_string()))]
fn span(n: u32) {}

#[test]
fn spans_go_to_rotated_json_lines() {
    let _off = semtel::testing::without_telemetry();
    let dir = TempDir::new("semtel-file");
    let path = dir.0.join("traces.jsonl");
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("file-test")
        .traces_exporter(semtel::TracesExporter::File)
        .traces_file(&path, 4096, 2)
        .metrics_exporter(semtel::MetricsExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
        .schedule_delay(Duration::from_millis(20))
        .init()
        .unwrap();
    for batch in 0..20 {
        for i in 0..5 {
            span(batch * 5 + i);
        }
        assert!(telemetry.flush());
    }
    drop(telemetry);
    let rotated = |n: usize| dir.0.join(format!("traces.jsonl.{n}"));
    assert!(
        rotated(1).exists() && rotated(2).exists(),
        "files were rotated"
    );
    assert!(
        !rotated(3).exists(),
        "at most max_files rotated files are kept"
    );
    let mut ids = Vec::new();
    for p in [path.clone(), rotated(1), rotated(2)] {
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.len() <= 4096 + 2048,
            "{} is {} bytes",
            p.display(),
            text.len()
        );
        for line in text.lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).expect("each line is one JSON object");
            let rs = &v["resourceSpans"][0];
            assert!(
                rs["resource"]["attributes"]
                    .to_string()
                    .contains("file-test"),
                "{line}"
            );
            for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
                assert_eq!(s["name"], "file.span");
                assert_eq!(
                    s["traceId"].as_str().unwrap().len(),
                    32,
                    "hex trace ids: {s}"
                );
                ids.push(
                    s["attributes"][0]["value"]["stringValue"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
        }
    }
    assert!(
        ids.contains(&"99".to_string()),
        "the newest spans are in the files: {ids:?}"
    );
}
