//! A separately running instrumented program, configured only by its
//! environment, sends traces, metrics and logs to a real collector; its logs
//! carry the ids of the spans they happened in; `tracing` spans of libraries
//! are children of the semtel spans around them; a child process joins its
//! caller's trace; a config file configures everything.

use semtel_tests::collector::{Rotel, Span, TempDir};
use std::collections::HashMap;
use std::process::{Command, Output};
use std::time::Duration;

fn child(env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_traced_child"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_") || k == "TRACEPARENT" || k == "TRACESTATE" || k == "BAGGAGE" {
            cmd.env_remove(k);
        }
    }
    cmd.env("OTEL_SERVICE_NAME", "traced-child");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run traced_child");
    assert!(
        out.status.success(),
        "traced_child failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn otlp_env(rotel: &Rotel, protocol: &str) -> Vec<(&'static str, String)> {
    let endpoint = if protocol == "grpc" {
        rotel.grpc_endpoint()
    } else {
        rotel.http_endpoint()
    };
    vec![
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_string()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
    ]
}

fn by_name<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}: {spans:#?}"))
}

fn all_signals(protocol: &str) {
    let rotel = Rotel::start();
    child(&otlp_env(&rotel, protocol));
    let spans = rotel.wait_for_spans(3, Duration::from_secs(20));
    let work = by_name(&spans, "child.work");
    let lib = by_name(&spans, "library_call");
    let inner = by_name(&spans, "child.inner");
    assert_eq!(work.parent_id, "");
    assert_eq!(
        (lib.parent_id.as_str(), lib.trace_id.as_str()),
        (work.id.as_str(), work.trace_id.as_str()),
        "the tracing span is a child of the semtel span"
    );
    assert_eq!(
        inner.parent_id, lib.id,
        "the semtel span inside the tracing span is its child"
    );
    assert_eq!(lib.attr("x"), Some("Int(1)"));
    rotel.wait_until("metrics", Duration::from_secs(20), |out| {
        out.contains("-> Name: function.calls.duration")
    });
    let names = semtel_tests::collector::parse_metric_names(&rotel.output());
    assert!(names.iter().any(|n| n == "function.calls"), "{names:?}");
    rotel.wait_until("logs", Duration::from_secs(20), |out| {
        out.contains("Body: Str(inside the semtel span")
    });
    let logs = rotel.logs();
    let hi = logs
        .iter()
        .find(|l| l.body == "Str(child says hi)")
        .expect("log record");
    assert_eq!(
        (
            hi.trace_id.as_str(),
            hi.span_id.as_str(),
            hi.severity.as_str()
        ),
        (work.trace_id.as_str(), work.id.as_str(), "INFO")
    );
    let lib_log = logs.iter().find(|l| l.body == "Str(library work)").unwrap();
    assert_eq!(lib_log.span_id, lib.id);
    let inner_log = logs
        .iter()
        .find(|l| l.body.starts_with("Str(inside"))
        .unwrap();
    assert_eq!(
        (inner_log.span_id.as_str(), inner_log.severity.as_str()),
        (inner.id.as_str(), "WARN")
    );
}

#[test]
fn traces_metrics_and_logs_arrive_over_grpc() {
    all_signals("grpc");
}

#[test]
fn traces_metrics_and_logs_arrive_over_http() {
    all_signals("http/protobuf");
}

#[test]
fn json_logs_carry_the_trace_and_span_ids() {
    let rotel = Rotel::start();
    let mut env = otlp_env(&rotel, "grpc");
    env.push(("OTEL_LOGS_EXPORTER", "console".into()));
    env.push(("OTEL_METRICS_EXPORTER", "none".into()));
    let out = child(&env);
    let spans = rotel.wait_for_spans(3, Duration::from_secs(20));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"level\""))
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let hi = &lines[0];
    assert_eq!(hi["message"], "child says hi");
    assert_eq!(hi["task"], "t-1");
    assert_eq!(hi["level"], "INFO");
    let work = by_name(&spans, "child.work");
    assert_eq!(hi["trace_id"], work.trace_id.as_str());
    assert_eq!(hi["span_id"], work.id.as_str());
    assert_eq!(
        lines[2]["span_id"],
        by_name(&spans, "child.inner").id.as_str()
    );
    assert_eq!(lines[2]["depth"], 2);
}

#[test]
fn a_child_process_joins_its_callers_trace() {
    let rotel = Rotel::start();
    let mut env = otlp_env(&rotel, "grpc");
    env.push(("CHILD_SPAWN", "1".into()));
    env.push(("BAGGAGE", "tenant=acme".into()));
    child(&env);
    let spans = rotel.wait_for_spans(6, Duration::from_secs(20));
    let works: Vec<&Span> = spans.iter().filter(|s| s.name == "child.work").collect();
    assert_eq!(works.len(), 2, "{spans:#?}");
    let (outer, grandchild) = if works[0].parent_id.is_empty() {
        (works[0], works[1])
    } else {
        (works[1], works[0])
    };
    assert_eq!(
        grandchild.trace_id, outer.trace_id,
        "one trace across both processes"
    );
    assert_eq!(
        grandchild.parent_id, outer.id,
        "the grandchild's root hangs under the caller's span"
    );
}

#[test]
fn traceparent_from_the_environment_is_adopted_and_bad_ones_are_reported() {
    let rotel = Rotel::start();
    let mut env = otlp_env(&rotel, "grpc");
    env.push((
        "TRACEPARENT",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
    ));
    child(&env);
    let spans = rotel.wait_for_spans(3, Duration::from_secs(20));
    let work = by_name(&spans, "child.work");
    assert_eq!(work.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(work.parent_id, "00f067aa0ba902b7");

    let mut env = otlp_env(&rotel, "grpc");
    env.push(("TRACEPARENT", "00-not-a-trace-01".into()));
    env.push(("OTEL_BSP_MAX_QUEUE_SIZE", "lots".into()));
    let out = child(&env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("semtel: warning: TRACEPARENT=\"00-not-a-trace-01\" is not valid"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "semtel: warning: OTEL_BSP_MAX_QUEUE_SIZE=\"lots\" is not valid (expected a whole number"
        ) && stderr.contains("using the default"),
        "{stderr}"
    );
    let spans = rotel.wait_for_spans(6, Duration::from_secs(20));
    let roots: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "child.work" && s.parent_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 1, "a new trace: {spans:#?}");
}

#[test]
fn a_config_file_configures_the_exporters() {
    let rotel = Rotel::start();
    let dir = TempDir::new("semtel-config");
    let file = dir.0.join("otel.yaml");
    std::fs::write(
        &file,
        "file_format: \"1.0\"\n\
         resource:\n  attributes:\n    - name: service.name\n      value: from-config-file\n\
         tracer_provider:\n  processors:\n    - batch:\n        schedule_delay: 100\n        exporter:\n          otlp_http:\n            endpoint: ${COLLECTOR:-http://nowhere:1}/v1/traces\n\
         meter_provider:\n  readers: []\n\
         logger_provider:\n  processors: []\n",
    )
    .unwrap();
    let env = vec![
        ("OTEL_CONFIG_FILE", file.display().to_string()),
        ("COLLECTOR", rotel.http_endpoint()),
        ("OTEL_TRACES_EXPORTER", "console".to_string()),
    ];
    let out = child(&env);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("trace "),
        "the file wins over OTEL_TRACES_EXPORTER"
    );
    rotel.wait_for_spans(3, Duration::from_secs(20));
    assert!(
        rotel
            .output()
            .contains("service.name: Str(from-config-file)")
    );

    std::fs::write(&file, "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          zipkin: {}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_traced_child"))
        .env("OTEL_CONFIG_FILE", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("otel.yaml:6:11: unknown span exporter `zipkin`"),
        "{err}"
    );
}

#[test]
fn environment_settings_reach_the_process() {
    let _ = HashMap::<(), ()>::new();
    let rotel = Rotel::start();
    let mut env = otlp_env(&rotel, "grpc");
    env.push((
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment=ci,team=agents".into(),
    ));
    env.push(("OTEL_TRACES_SAMPLER", "always_off".into()));
    child(&env);
    rotel.wait_until("metrics", Duration::from_secs(20), |o| {
        o.contains("function.calls")
    });
    assert!(rotel.spans().is_empty(), "always_off records no span");
    let out = rotel.output();
    assert!(
        out.contains("deployment.environment: Str(ci)") && out.contains("team: Str(agents)"),
        "{out}"
    );
}
