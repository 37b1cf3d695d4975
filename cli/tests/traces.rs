//! `semtel traces` on files written by semtel's own `otlp_file` exporter
//! (the spans of real `semtel exec` runs and of an instrumented program),
//! checked against figures computed here, independently, from the same
//! files.

mod common;
use common::{SEMTEL, clean, semtel, text, traced_child};
use semtel_tests::collector::TempDir;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A span as this test reads it from the file, with serde_json alone.
#[derive(Debug, Clone)]
struct Plain {
    name: String,
    trace_id: String,
    span_id: String,
    parent: String,
    duration: u64,
    error: bool,
    attrs: HashMap<String, String>,
}

fn nanos(v: &Value) -> u64 {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| v.as_u64())
        .unwrap()
}

fn read_plain(path: &Path) -> Vec<Plain> {
    let mut out = Vec::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    let attrs = s["attributes"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|kv| {
                                    let v = &kv["value"];
                                    let text = v["stringValue"]
                                        .as_str()
                                        .map(String::from)
                                        .or_else(|| v["intValue"].as_str().map(String::from))
                                        .or_else(|| v["intValue"].as_i64().map(|i| i.to_string()))
                                        .unwrap_or_default();
                                    (kv["key"].as_str().unwrap().to_string(), text)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    out.push(Plain {
                        name: s["name"].as_str().unwrap().into(),
                        trace_id: s["traceId"].as_str().unwrap().into(),
                        span_id: s["spanId"].as_str().unwrap().into(),
                        parent: s["parentSpanId"].as_str().unwrap_or("").into(),
                        duration: nanos(&s["endTimeUnixNano"]) - nanos(&s["startTimeUnixNano"]),
                        error: s["status"]["code"].as_i64() == Some(2),
                        attrs,
                    });
                }
            }
        }
    }
    out
}

/// Runs `semtel exec` `n` times with spans written to `file`: steps named
/// `step-a`/`step-b`, every third one failing, of varying length.
fn write_exec_spans(file: &Path, n: usize) {
    for i in 0..n {
        let name = if i % 2 == 0 { "step-a" } else { "step-b" };
        let code = if i % 3 == 0 { 3 } else { 0 };
        let status = clean(SEMTEL)
            .env("OTEL_TRACES_EXPORTER", "otlp_file")
            .env("SEMTEL_EXPORTER_FILE_PATH", file)
            .env("OTEL_SERVICE_NAME", "steps")
            .args(["exec", "--name", name, "--attrs"])
            .arg(format!("task.id=task-{i}"))
            .args(["--", "sh", "-c"])
            .arg(format!("sleep 0.00{}; exit {code}", i % 7))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code));
    }
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = semtel(args);
    assert_eq!(code, 0, "semtel {args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The quantile at rank floor(q (n-1)), computed exactly.
fn exact(mut v: Vec<u64>, q: f64) -> f64 {
    v.sort_unstable();
    v[(q * (v.len() as f64 - 1.0)) as usize] as f64
}

fn close(got: f64, want_ns: f64, what: &str) {
    let want = want_ns / 1e6;
    // 1% relative error of the sketch, plus the microsecond rounding of the output.
    assert!(
        (got - want).abs() <= want * 0.01 + 0.001,
        "{what}: semtel says {got} ms, the data {want} ms"
    );
}

struct Fixture {
    _dir: TempDir,
    file: PathBuf,
    spans: Vec<Plain>,
}

fn fixture(n: usize) -> Fixture {
    let dir = TempDir::new("semtel-traces");
    let file = dir.0.join("spans.jsonl");
    write_exec_spans(&file, n);
    let spans = read_plain(&file);
    assert_eq!(spans.len(), n);
    Fixture {
        _dir: dir,
        file,
        spans,
    }
}

#[test]
fn stats_match_the_spans_counted_here() {
    let f = fixture(24);
    let path = f.file.to_str().unwrap();
    let out = json(&["traces", "stats", "--json", path]);
    assert_eq!(out["spans"], 24);
    assert_eq!(out["skipped_lines"], 0);
    assert_eq!(out["quantile_relative_error"], 0.01);
    let groups = out["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    for g in groups {
        let name = g["group"].as_str().unwrap();
        let mine: Vec<&Plain> = f.spans.iter().filter(|s| s.name == name).collect();
        let durations: Vec<u64> = mine.iter().map(|s| s.duration).collect();
        let errors = mine.iter().filter(|s| s.error).count();
        assert_eq!(g["count"], mine.len(), "{name}");
        assert_eq!(g["errors"], errors, "{name}");
        assert!(
            (g["error_rate"].as_f64().unwrap() - errors as f64 / mine.len() as f64).abs() < 1e-12
        );
        for (key, q) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
            close(
                g[key].as_f64().unwrap(),
                exact(durations.clone(), q),
                &format!("{name} {key}"),
            );
        }
        let max = *durations.iter().max().unwrap() as f64;
        assert!(
            (g["max_ms"].as_f64().unwrap() - max / 1e6).abs() <= 0.0006,
            "{name} max"
        );
    }
    // The table says the same, for people.
    let (code, table, _) = semtel(&["traces", "stats", path]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("P95"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("step-a") && lines[1].contains(" 12 "),
        "{table}"
    );
    assert!(
        table.contains(
            "24 spans in 24 lines of 1 file; 0 lines skipped; quantiles within 1% (DDSketch)"
        ),
        "{table}"
    );
}

#[test]
fn where_since_until_and_by_select_and_group() {
    let f = fixture(12);
    let path = f.file.to_str().unwrap();
    let out = json(&[
        "traces",
        "stats",
        "--json",
        "--where",
        "process.exit.code=3",
        path,
    ]);
    let failed = f.spans.iter().filter(|s| s.error).count();
    assert_eq!(
        out["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .sum::<u64>(),
        failed as u64
    );
    // A resource attribute selects too.
    let out = json(&[
        "traces",
        "stats",
        "--json",
        "--where",
        "service.name=steps",
        path,
    ]);
    assert_eq!(out["groups"].as_array().unwrap().len(), 2);
    let out = json(&[
        "traces",
        "stats",
        "--json",
        "--where",
        "service.name=other",
        path,
    ]);
    assert_eq!(out["groups"].as_array().unwrap().len(), 0);
    let out = json(&[
        "traces",
        "stats",
        "--json",
        "--by",
        "process.exit.code",
        path,
    ]);
    let by: HashMap<&str, u64> = out["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap(), g["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        by,
        HashMap::from([("0", 12 - failed as u64), ("3", failed as u64)])
    );
    let out = json(&["traces", "stats", "--json", "--since", "1h", path]);
    assert_eq!(out["groups"].as_array().unwrap().len(), 2);
    let out = json(&[
        "traces",
        "stats",
        "--json",
        "--until",
        "2000-01-01T00:00:00Z",
        path,
    ]);
    assert_eq!(out["groups"].as_array().unwrap().len(), 0);
    let (code, _, err) = semtel(&["traces", "stats", "--since", "yesterday-ish", path]);
    assert_eq!(code, 2);
    assert!(err.contains("neither an RFC 3339 time"), "{err}");
}

#[test]
fn bad_lines_are_reported_with_file_and_line_and_counted() {
    let f = fixture(6);
    let good = std::fs::read_to_string(&f.file).unwrap();
    let bad = f.file.with_file_name("bad.jsonl");
    let mut text_in = String::new();
    for (i, line) in good.lines().enumerate() {
        text_in.push_str(line);
        text_in.push('\n');
        if i == 1 {
            text_in.push_str("this is not json\n");
            text_in.push_str("{\"resourceMetrics\":[]}\n");
        }
    }
    let last = good.lines().next().unwrap();
    text_in.push_str(&last[..last.len() / 2]);
    std::fs::write(&bad, text_in).unwrap();
    let (code, out, err) = semtel(&["traces", "stats", "--json", bad.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["skipped_lines"], 3);
    assert_eq!(out["spans"], 6);
    let b = bad.display();
    assert!(
        err.contains(&format!("{b}:3: skipped: not OTLP JSON")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{b}:4: skipped: no `resourceSpans`")),
        "{err}"
    );
    assert!(err.contains(&format!("{b}:9: skipped: truncated")), "{err}");
}

#[test]
fn rotated_and_gzip_files_are_read_with_their_file() {
    use std::io::Write;
    let f = fixture(9);
    let all = std::fs::read_to_string(&f.file).unwrap();
    let lines: Vec<&str> = all.lines().collect();
    let base = f.file.with_file_name("rot.jsonl");
    let part = |from: usize, to: usize| {
        lines[from..to]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    };
    std::fs::write(&base, part(6, 9)).unwrap();
    std::fs::write(f.file.with_file_name("rot.jsonl.1"), part(3, 6)).unwrap();
    let gz = std::fs::File::create(f.file.with_file_name("rot.jsonl.2.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::default());
    enc.write_all(part(0, 3).as_bytes()).unwrap();
    enc.finish().unwrap();
    let whole = json(&["traces", "stats", "--json", f.file.to_str().unwrap()]);
    let rotated = json(&["traces", "stats", "--json", base.to_str().unwrap()]);
    assert_eq!(rotated["files"], 3);
    assert_eq!(rotated["groups"], whole["groups"]);
    // A gzip file named on its own is read too.
    let gz_only = json(&[
        "traces",
        "stats",
        "--json",
        f.file.with_file_name("rot.jsonl.2.gz").to_str().unwrap(),
    ]);
    assert_eq!(gz_only["spans"], 3);
}

#[test]
fn tree_find_and_slow_answer_from_two_processes_files() {
    let dir = TempDir::new("semtel-traces-tree");
    let steps = dir.0.join("steps.jsonl");
    let child = dir.0.join("child.jsonl");
    // The step's span goes to one file, the instrumented command's to another.
    let out = clean(SEMTEL)
        .env("OTEL_TRACES_EXPORTER", "otlp_file")
        .env("SEMTEL_EXPORTER_FILE_PATH", &steps)
        .args([
            "exec",
            "--name",
            "coder/implement",
            "--attrs",
            "task.id=task-123",
            "--",
        ])
        .arg("env")
        .arg(format!("SEMTEL_EXPORTER_FILE_PATH={}", child.display()))
        .arg("OTEL_METRICS_EXPORTER=none")
        .arg("OTEL_LOGS_EXPORTER=none")
        .arg(traced_child())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    write_exec_spans(&steps, 3);
    let mine: Vec<Plain> = [&steps, &child]
        .iter()
        .flat_map(|p| read_plain(p))
        .collect();
    let step = mine.iter().find(|s| s.name == "coder/implement").unwrap();
    let files = [steps.to_str().unwrap(), child.to_str().unwrap()];

    let (code, tree, err) = semtel(&[&["traces", "tree", &step.trace_id][..], &files].concat());
    assert_eq!(code, 0, "{err}");
    // Events (the program's `tracing` events) sit at the depth of the span's children.
    assert!(tree.contains("\n    │ • event child says hi  "), "{tree}");
    let shape: Vec<String> = tree
        .lines()
        .filter(|l| !l.contains("• event"))
        .map(|l| {
            // The tree glyphs and the name, without what follows the name.
            let name_at = l.find(|c: char| c.is_alphanumeric()).unwrap_or(0);
            let end = l[name_at..].find("  ").map_or(l.len(), |e| name_at + e);
            l[..end].to_string()
        })
        .collect();
    assert_eq!(
        shape[..5],
        [
            format!("trace {}", step.trace_id),
            "coder/implement".to_string(),
            "└── child.work".to_string(),
            "    └── library_call".to_string(),
            "        └── child.inner".to_string(),
        ],
        "{tree}"
    );
    assert!(tree.contains("task.id=\"task-123\""), "{tree}");

    let out = json(
        &[
            &["traces", "find", "--json", "--attr", "task.id=task-123"][..],
            &files,
        ]
        .concat(),
    );
    let traces = out["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0]["trace_id"], step.trace_id.as_str());
    let (code, _, _) =
        semtel(&[&["traces", "find", "--attr", "task.id=nope"][..], &files].concat());
    assert_eq!(code, 1, "nothing found is a failure, for scripts");

    let out = json(&[&["traces", "slow", "--json", "--top", "3"][..], &files].concat());
    let mut by_duration = mine.clone();
    by_duration.sort_by_key(|s| std::cmp::Reverse(s.duration));
    let got: Vec<&str> = out["slowest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["span_id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = by_duration[..3]
        .iter()
        .map(|s| s.span_id.as_str())
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        out["slowest"][0]["trace_id"],
        by_duration[0].trace_id.as_str()
    );

    let (code, _, err) = semtel(
        &[
            &["traces", "tree", "0123456789abcdef0123456789abcdef"][..],
            &files,
        ]
        .concat(),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("no span of trace 0123456789abcdef0123456789abcdef"),
        "{err}"
    );
    let (code, _, err) = semtel(&["traces", "stats", "/no/such/file.jsonl"]);
    assert_eq!(code, 1);
    assert!(err.contains("/no/such/file.jsonl: no such file"), "{err}");
    assert!(step.parent.is_empty());
    assert_eq!(step.attrs["task.id"], "task-123");
}
