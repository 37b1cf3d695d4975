//! `semtel exec` against a real collector: seed 001's step wrapper rewritten
//! with it, exit statuses, byte-exact standard streams, forwarded signals,
//! commands that cannot start, and an absent or unresponsive collector.
//!
//! On a cold target the first test waits for `traced_child` (a program of
//! the `semtel-tests` package) to be built, a minute or two on two cores;
//! warm, the whole file takes seconds.

use semtel_tests::collector::{Rotel, Span, TempDir};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{SEMTEL, clean, text, traced_child};

fn exec_to(rotel: &Rotel) -> Command {
    let mut cmd = clean(SEMTEL);
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint())
        .env("OTEL_SERVICE_NAME", "agent-steps")
        .arg("exec");
    cmd
}

fn by_name<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}: {spans:#?}"))
}

/// Seed 001's `tracer-wrapper.sh`, with `semtel exec` in place of
/// `otel-cli exec` around the step itself.
const WRAPPER: &str = r#"#!/bin/bash
set -euo pipefail
AGENT_NAME=${AGENT:-"unknown"}
STEP_NAME=${STEP:-"execute"}
exec "$SEMTEL" exec \
  --name "${AGENT_NAME}/${STEP_NAME}" \
  --attrs-from-env repo=REPO,pr.number=PR_NUMBER,task.id=TASK_ID,agent=AGENT,workflow.name=WORKFLOW_NAME,node.id=NODE_ID \
  --print-context - \
  -- "$@"
"#;

#[test]
fn seed_001_wrapper_puts_the_step_under_the_workflow_and_its_spans_under_the_step() {
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-exec-wrapper");
    let wrapper = dir.0.join("tracer-wrapper.sh");
    std::fs::write(&wrapper, WRAPPER).unwrap();
    let workflow = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let out = clean("bash")
        .arg(&wrapper)
        .arg(traced_child())
        .env("SEMTEL", SEMTEL)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint())
        .env("OTEL_SERVICE_NAME", "agent-steps")
        .env("TRACEPARENT", workflow)
        .env("TRACESTATE", "vendor=abc")
        .env("BAGGAGE", "tenant=acme")
        .envs([
            ("AGENT", "coder"),
            ("STEP", "implement"),
            ("REPO", "org/app"),
            ("PR_NUMBER", "17"),
            ("TASK_ID", "task-9"),
            ("WORKFLOW_NAME", "pr-review"),
        ])
        .env_remove("NODE_ID")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let context: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(lines.next(), Some("{\"result\":3}"), "{stdout}");
    assert!(
        text(&out.stderr).contains("node.id"),
        "an unset variable is reported: {}",
        text(&out.stderr)
    );
    let spans = rotel.wait_for_spans(4, Duration::from_secs(20));
    let step = by_name(&spans, "coder/implement");
    let work = by_name(&spans, "child.work");
    assert_eq!(step.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(step.parent_id, "00f067aa0ba902b7");
    assert_eq!(
        (step.trace_state.as_str(), work.trace_state.as_str()),
        ("vendor=abc", "vendor=abc"),
        "the trace state is written on the step and on the command's own spans"
    );
    assert_eq!(context["trace_id"], step.trace_id.as_str());
    assert_eq!(context["span_id"], step.id.as_str());
    assert_eq!(
        (work.trace_id.as_str(), work.parent_id.as_str()),
        (step.trace_id.as_str(), step.id.as_str()),
        "the step's own spans are children of the exec span"
    );
    assert_eq!(step.kind, "SPAN_KIND_CLIENT");
    assert_eq!(step.status_code, "STATUS_CODE_UNSET");
    for (k, v) in [
        ("repo", "Str(org/app)"),
        ("pr.number", "Str(17)"),
        ("task.id", "Str(task-9)"),
        ("agent", "Str(coder)"),
        ("workflow.name", "Str(pr-review)"),
        ("process.exit.code", "Int(0)"),
    ] {
        assert_eq!(step.attr(k), Some(v), "{k}: {step:#?}");
    }
    assert_eq!(step.attr("node.id"), None);
    assert_eq!(
        step.attr("process.command_args"),
        None,
        "arguments are opt-in"
    );
}

#[test]
fn the_command_gets_the_span_context_tracestate_and_baggage() {
    let rotel = Rotel::start();
    let out = exec_to(&rotel)
        .env(
            "TRACEPARENT",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .env("TRACESTATE", "vendor=abc")
        .env("BAGGAGE", "tenant=acme")
        .args(["--print-context", "-", "--", "sh", "-c"])
        .arg(r#"printf '%s|%s|%s' "$TRACEPARENT" "$TRACESTATE" "$BAGGAGE""#)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (context, seen) = stdout.split_once('\n').unwrap();
    let context: serde_json::Value = serde_json::from_str(context).unwrap();
    let span = &rotel.wait_for_spans(1, Duration::from_secs(20))[0];
    assert_eq!(context["span_id"], span.id.as_str());
    assert_eq!(span.trace_state, "vendor=abc");
    assert_eq!(
        seen,
        format!(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01|vendor=abc|tenant=acme",
            span.id
        )
    );
}

#[test]
fn exit_statuses_come_back_exactly_and_fail_the_span() {
    let rotel = Rotel::start();
    let cases: [(&str, &str, i32, &str, Option<&str>); 5] = [
        ("exit-0", "exit 0", 0, "STATUS_CODE_UNSET", None),
        ("exit-1", "exit 1", 1, "STATUS_CODE_ERROR", Some("Str(1)")),
        (
            "exit-42",
            "exit 42",
            42,
            "STATUS_CODE_ERROR",
            Some("Str(42)"),
        ),
        (
            "sigkill",
            "kill -KILL $$",
            137,
            "STATUS_CODE_ERROR",
            Some("Str(SIGKILL)"),
        ),
        (
            "sigterm",
            "kill -TERM $$",
            143,
            "STATUS_CODE_ERROR",
            Some("Str(SIGTERM)"),
        ),
    ];
    for (name, script, code, _, _) in cases {
        let status = exec_to(&rotel)
            .args(["--name", name, "--", "sh", "-c", script])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{name}");
    }
    let spans = rotel.wait_for_spans(cases.len(), Duration::from_secs(20));
    for (name, _, code, status, error_type) in cases {
        let s = by_name(&spans, name);
        assert_eq!(s.status_code, status, "{name}");
        assert_eq!(
            s.attr("process.exit.code"),
            Some(format!("Int({code})").as_str())
        );
        assert_eq!(s.attr("error.type"), error_type, "{name}");
    }
    assert_eq!(
        by_name(&spans, "sigkill").status_message,
        "killed by signal 9 (SIGKILL)"
    );
}

#[test]
fn commands_that_cannot_start_exit_127_or_126_with_a_failed_span() {
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-exec-noexec");
    let not_executable = dir.0.join("script.sh");
    std::fs::write(&not_executable, "#!/bin/sh\necho hi\n").unwrap();
    let out = exec_to(&rotel)
        .args(["--name", "missing", "--", "no-such-command-here", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("no-such-command-here: command not found"),
        "{}",
        text(&out.stderr)
    );
    let out = exec_to(&rotel)
        .args(["--name", "not-executable", "--"])
        .arg(&not_executable)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126));
    assert!(
        text(&out.stderr).contains("script.sh: permission denied"),
        "{}",
        text(&out.stderr)
    );
    let spans = rotel.wait_for_spans(2, Duration::from_secs(20));
    for (name, code) in [("missing", 127), ("not-executable", 126)] {
        let s = by_name(&spans, name);
        assert_eq!(s.status_code, "STATUS_CODE_ERROR", "{name}");
        assert_eq!(
            s.attr("process.exit.code"),
            Some(format!("Int({code})").as_str())
        );
    }
}

#[test]
fn standard_streams_pass_through_byte_for_byte() {
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-exec-bytes");
    let data: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let file = dir.0.join("blob.bin");
    std::fs::write(&file, &data).unwrap();
    let direct = clean("cat").arg(&file).output().unwrap();
    let traced = exec_to(&rotel).arg("cat").arg(&file).output().unwrap();
    assert!(traced.status.success());
    assert_eq!(direct.stdout, data);
    assert!(
        traced.stdout == direct.stdout,
        "stdout differs from running cat directly"
    );
    // Standard input reaches the command, and standard error stays its own.
    let mut child = exec_to(&rotel)
        .args(["sh", "-c", "cat; echo to-stderr >&2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(status.success());
    assert!(stdout == data, "stdin was not passed through unchanged");
    assert_eq!(text(&stderr), "to-stderr\n");
    rotel.wait_for_spans(2, Duration::from_secs(20));
}

#[test]
fn sigterm_and_sigint_are_forwarded_to_the_command() {
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-exec-signals");
    for (signal, expected) in [("TERM", 7), ("INT", 8), ("HUP", 9)] {
        let ready = dir.0.join(format!("ready-{signal}"));
        let script = format!(
            "trap 'exit {expected}' {signal}; touch '{}'; while :; do sleep 0.05; done",
            ready.display()
        );
        let mut child = exec_to(&rotel)
            .args(["--name", signal, "--", "sh", "-c", &script])
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !ready.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the command did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(expected),
            "SIG{signal} was not forwarded"
        );
    }
    // Without a handler the command dies of the signal, and so says the status.
    let mut child = exec_to(&rotel).args(["sleep", "30"]).spawn().unwrap();
    let started = Instant::now();
    let pid = child.id().to_string();
    loop {
        let children = Command::new("pgrep").args(["-P", &pid]).output().unwrap();
        if !children.stdout.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "sleep did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let spans = rotel.wait_for_spans(4, Duration::from_secs(20));
    assert_eq!(
        by_name(&spans, "sleep").attr("error.type"),
        Some("Str(SIGTERM)")
    );
}

/// A TCP server that accepts connections and never answers.
fn unresponsive_collector() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn an_absent_collector_adds_at_most_the_export_timeout_and_never_changes_the_status() {
    let free = semtel_tests::free_port();
    let (_listener, silent) = unresponsive_collector();
    for (endpoint, protocol) in [
        (format!("http://127.0.0.1:{free}"), "http/protobuf"),
        (format!("http://127.0.0.1:{free}"), "grpc"),
        (format!("http://127.0.0.1:{silent}"), "http/protobuf"),
    ] {
        for code in [0, 42] {
            let started = Instant::now();
            let out = clean(SEMTEL)
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
                .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
                .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1500")
                .args(["exec", "--", "sh", "-c", &format!("echo out; exit {code}")])
                .output()
                .unwrap();
            let took = started.elapsed();
            assert_eq!(out.status.code(), Some(code), "{endpoint} {protocol}");
            assert_eq!(text(&out.stdout), "out\n", "our messages stay off stdout");
            assert!(
                took < Duration::from_millis(1500 + 1500),
                "{endpoint} ({protocol}): semtel exec took {took:?} with a 1.5 s export timeout"
            );
        }
    }
}
