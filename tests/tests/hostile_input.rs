//! Hostile input never crashes, hangs or stalls a program's `init`: each
//! value below once panicked, aborted, overflowed or spun. A separate
//! instrumented program (`traced_child`, a debug build, where arithmetic
//! overflow panics) is run with each and must start, print its spans and
//! exit, with one short warning naming the input, or fail `init` with an
//! error naming the file, line and problem.

use semtel_tests::collector::TempDir;
use std::ffi::OsString;
use std::process::{Command, Output};

/// Runs `traced_child` with spans printed to the console and `env` set.
fn child(env: &[(&str, OsString)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_traced_child"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("OTEL_") || ["TRACEPARENT", "TRACESTATE", "BAGGAGE"].contains(&&*k) {
            cmd.env_remove(&*k);
        }
    }
    cmd.env("OTEL_SERVICE_NAME", "hostile")
        .env("OTEL_TRACES_EXPORTER", "console")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("OTEL_LOGS_EXPORTER", "none")
        .env("OTEL_BSP_SCHEDULE_DELAY", "50");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run traced_child")
}

/// The warnings semtel printed.
fn warnings(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("semtel: warning: "))
        .map(String::from)
        .collect()
}

/// The program ran to the end and its spans were exported.
fn assert_ran(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("child.work") && stdout.contains("\"result\":3"),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn os(s: &str) -> OsString {
    s.into()
}

#[test]
fn percent_escapes_cut_inside_a_character_are_kept_as_written() {
    let out = child(&[
        ("BAGGAGE", os("k=%aé,tenant=acme")),
        ("OTEL_RESOURCE_ATTRIBUTES", os("k=%aé,team=agents")),
    ]);
    assert_ran(&out);
    assert!(warnings(&out).is_empty(), "{:?}", warnings(&out));
}

#[test]
fn sizes_that_would_overflow_are_refused_with_the_default_named() {
    let out = child(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", os("4611686018427387904")),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", os("0")),
    ]);
    assert_ran(&out);
    assert_eq!(
        warnings(&out),
        vec![
            "semtel: warning: OTEL_BSP_MAX_QUEUE_SIZE=\"4611686018427387904\" is not valid \
             (expected a whole number from 1 to 1048576); using the default 2048"
                .to_string(),
            "semtel: warning: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"0\" is not valid (expected a \
             whole number from 1 to 1048576); using the default 512"
                .to_string(),
        ]
    );
}

#[test]
fn a_zero_metric_interval_is_refused() {
    let out = child(&[("OTEL_METRIC_EXPORT_INTERVAL", os("0"))]);
    assert_ran(&out);
    assert_eq!(
        warnings(&out),
        vec![
            "semtel: warning: OTEL_METRIC_EXPORT_INTERVAL=\"0\" is not valid (expected a whole \
             number of milliseconds, more than 0); using the default 60000 ms"
                .to_string()
        ]
    );
}

#[test]
fn a_huge_traceparent_is_quoted_briefly_and_once() {
    let huge = "00-".to_string() + &"a".repeat(10_240);
    let out = child(&[("TRACEPARENT", os(&huge))]);
    assert_ran(&out);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("semtel: warning: TRACEPARENT=\"00-aaaa"),
        "{}",
        w[0]
    );
    assert!(w[0].contains("... (10243 bytes) is not valid"), "{}", w[0]);
    assert!(w[0].len() < 250, "{}", w[0]);
}

#[cfg(unix)]
#[test]
fn a_traceparent_that_is_not_utf8_is_reported() {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0".to_vec();
    bytes.push(0xff);
    let out = child(&[("TRACEPARENT", OsString::from_vec(bytes))]);
    assert_ran(&out);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("TRACEPARENT=") && w[0].contains("is not valid (it is not valid UTF-8)"),
        "{}",
        w[0]
    );
}

#[test]
fn an_endpoint_without_a_scheme_is_named_with_the_fix() {
    let out = child(&[
        ("OTEL_TRACES_EXPORTER", os("console,otlp")),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", os("localhost:4318")),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", os("not a url")),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", os("200")),
    ]);
    let w = warnings(&out);
    assert!(
        w.contains(
            &"semtel: warning: OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4318\" is not valid \
              (no scheme; did you mean http://localhost:4318?); using the default \
              http://localhost:4318 (http://localhost:4317 for grpc)"
                .to_string()
        ),
        "{w:?}"
    );
    assert!(
        w.contains(
            &"semtel: warning: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"not a url\" is not valid \
              (not a URL; expected http://host:port or https://host:port); using \
              OTEL_EXPORTER_OTLP_ENDPOINT or its default"
                .to_string()
        ),
        "{w:?}"
    );
}

/// Writes `text` as a config file and runs the program with it.
fn with_config(text: &str) -> Output {
    let dir = TempDir::new("semtel-hostile");
    let file = dir.0.join("otel.yaml");
    std::fs::write(&file, text).unwrap();
    child(&[("OTEL_CONFIG_FILE", file.into_os_string())])
}

/// `init` failed with exactly these lines after `invalid config file:`.
fn assert_rejected(out: &Output, expected: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "init should fail: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<String> = stderr
        .lines()
        .map(|l| match l.split_once("otel.yaml:") {
            Some((_, rest)) => format!("otel.yaml:{rest}"),
            None => l.to_string(),
        })
        .collect();
    let want: Vec<String> = std::iter::once("invalid config file:".to_string())
        .chain(expected.iter().map(|e| e.to_string()))
        .collect();
    assert_eq!(lines, want, "{stderr}");
}

#[test]
fn deeply_nested_config_files_are_an_error_not_an_abort() {
    let out = with_config(&format!(
        "file_format: \"1.0\"\nresource:\n  attributes:\n    {}x\n",
        "- ".repeat(20_000)
    ));
    assert_rejected(
        &out,
        &[
            "otel.yaml:4:129: lists and mappings are nested more than 64 levels deep here; \
           no schema or configuration needs that many",
        ],
    );
}

#[test]
fn config_values_of_the_wrong_type_or_range_are_errors_with_their_place() {
    let out = with_config(
        "file_format: \"1.0\"\n\
         tracer_provider:\n  processors:\n    - batch:\n        max_queue_size: 9223372036854775807\n        exporter: {console: }\n\
         meter_provider:\n  readers:\n    - pull:\n        exporter:\n          prometheus: {port: 70000}\n    - periodic:\n        interval: 0\n        exporter: {otlp_http: {endpoint: \"localhost:4318\"}}\n\
         logger_provider: 5\n",
    );
    assert_rejected(
        &out,
        &[
            "otel.yaml:5:25: `max_queue_size` must be a whole number from 1 to 1048576, found 9223372036854775807",
            "otel.yaml:11:30: `port` must be a whole number from 0 to 65535, found 70000",
            "otel.yaml:14:42: invalid `endpoint` \"localhost:4318\": no scheme; did you mean http://localhost:4318?",
            "otel.yaml:13:19: `interval` must be a whole number at least 1, found 0",
            "otel.yaml:15:18: `logger_provider` must be a mapping, found an integer",
        ],
    );
}

#[test]
fn unknown_config_keys_are_warned_about_with_the_likely_key() {
    let out = with_config(
        "file_format: \"1.0\"\n\
         tracer_provider:\n  processors:\n    - simple:\n        exporter:\n          console: {}\n\
         \x20 sampler:\n    parent_based: {root: {always_on: }}\n\
         meter_provider: {readers: []}\n\
         logger_provider:\n  procesors: []\n",
    );
    assert_ran(&out);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].ends_with(
            "otel.yaml:11:3: unknown key `procesors` in `logger_provider`; did you mean \
             `processors`? (it is ignored; known keys: processors)"
        ),
        "{}",
        w[0]
    );
}

#[test]
fn many_flow_lists_closed_at_the_block_indentation_load() {
    // Closing brackets on lines of their own at the enclosing indentation, as
    // common YAML writers accept: thousands of them (about 90 KB) once took
    // one full re-parse each.
    let mut text = String::from(
        "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter: {console: }\n\
         resource:\n  attributes:\n",
    );
    for i in 0..2000 {
        text.push_str(&format!(
            "    - name: k{i}\n      value: [\n        {i}\n    ]\n"
        ));
    }
    assert!(text.len() > 80_000);
    let out = with_config(&text);
    // The values are lists, not text: each entry is reported.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("`value` must be text, found a list").count(),
        2000
    );
}
