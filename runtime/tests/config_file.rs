//! The config file (`OTEL_CONFIG_FILE`), read through the public builder:
//! every documented setting reaches the configuration; every problem is
//! reported with the file, line and column, a wrong type or an out-of-range
//! number as an error, an unknown key as a warning naming the likely key.

use semtel::trace::{Root, Sampler};
use semtel::{LogsExporter, MetricsExporter, Protocol, TracesExporter};
use std::time::Duration;

/// Writes `text` to a file of its own, reads it with `${ENDPOINT}` set and
/// no other variable; the configuration and warnings, or the error.
fn read(text: &str) -> Result<(semtel::config::Config, Vec<String>), String> {
    let path = std::env::temp_dir().join(format!(
        "semtel-config-{}-{:?}.yaml",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, text).unwrap();
    let result = semtel::builder()
        .env_source(|k| (k == "ENDPOINT").then(|| "http://c:4318/v1/traces".to_string()))
        .config_file(&path)
        .resolve()
        .map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    result.map(|(c, w)| {
        let w = w.iter().map(|l| strip_dir(l)).collect();
        (c, w)
    })
}

/// The message with the temporary file's path written `f.yaml`.
fn strip_dir(line: &str) -> String {
    match line.split_once(".yaml:") {
        Some((_, rest)) => format!("f.yaml:{rest}"),
        None => line.to_string(),
    }
}

/// The error's lines after `invalid config file:`, with file names as `f.yaml`.
fn errors(text: &str) -> Vec<String> {
    let e = read(text)
        .map(|_| ())
        .expect_err("the file should be rejected");
    let mut lines = e.lines();
    assert_eq!(lines.next(), Some("invalid config file:"), "{e}");
    lines.map(strip_dir).collect()
}

#[test]
fn a_full_file_maps_to_the_configuration() {
    let (c, warnings) = read(
        r#"file_format: "1.0"
resource:
  attributes:
    - name: service.name
      value: agent-service
    - name: deployment.environment
      value: prod
propagator:
  composite: [{tracecontext: }]
attribute_limits:
  attribute_value_length_limit: 4096
  attribute_count_limit: 64
tracer_provider:
  limits:
    event_count_limit: 16
    link_count_limit: 8
    link_attribute_count_limit: 4
  processors:
    - batch:
        schedule_delay: 200
        max_queue_size: 4096
        exporter:
          otlp_http:
            endpoint: ${ENDPOINT}
            headers: [{name: authorization, value: "Bearer x"}]
            compression: gzip
            timeout: 2500
  sampler:
    parent_based:
      root:
        trace_id_ratio_based: {ratio: 0.25}
meter_provider:
  readers:
    - pull:
        exporter:
          prometheus/development: {host: 127.0.0.1, port: 9999}
    - periodic:
        interval: 30000
        exporter:
          otlp_grpc: {endpoint: "http://m:4317"}
logger_provider:
  processors:
    - batch: {exporter: {console: {}}}
"#,
    )
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(c.service_name, "agent-service");
    assert_eq!(
        c.resource,
        vec![("deployment.environment".into(), "prod".into())]
    );
    assert!(c.propagators.tracecontext && !c.propagators.baggage);
    assert_eq!(c.attribute_value_length_limit, Some(4096));
    assert_eq!(
        (
            c.span_attribute_count_limit,
            c.span_event_count_limit,
            c.span_link_count_limit,
            c.event_attribute_count_limit,
            c.link_attribute_count_limit
        ),
        (64, 16, 8, 64, 4),
        "the general attribute count limit applies where no span limit is set"
    );
    assert_eq!(c.traces_exporters, vec![TracesExporter::Otlp]);
    assert_eq!(c.traces_otlp.endpoint, "http://c:4318/v1/traces");
    assert_eq!(
        c.traces_otlp.headers,
        vec![("authorization".into(), "Bearer x".into())]
    );
    assert!(c.traces_otlp.gzip);
    assert_eq!(c.traces_otlp.timeout, Duration::from_millis(2500));
    assert_eq!(c.batch.schedule_delay, Duration::from_millis(200));
    assert_eq!(c.batch.max_queue_size, 4096);
    assert_eq!(c.sampler, Sampler::ParentBased(Root::TraceIdRatio(0.25)));
    assert_eq!(
        c.metrics_exporters,
        vec![MetricsExporter::Prometheus, MetricsExporter::Otlp]
    );
    assert_eq!(
        (c.prometheus_host.as_str(), c.prometheus_port),
        ("127.0.0.1", 9999)
    );
    assert_eq!(c.metrics_otlp.protocol, Protocol::Grpc);
    assert_eq!(c.metric_export_interval, Duration::from_secs(30));
    assert_eq!(c.logs_exporters, vec![LogsExporter::Console]);
}

#[test]
fn wrong_types_are_errors_with_their_place() {
    assert_eq!(
        errors("file_format: \"1.0\"\ntracer_provider: 5\ndisabled: yes\n"),
        vec![
            "f.yaml:3:11: `disabled` must be true or false, found a string",
            "f.yaml:2:18: `tracer_provider` must be a mapping, found an integer",
        ]
    );
    assert_eq!(
        errors("file_format: \"1.0\"\nmeter_provider:\n  readers: {pull: {}}\n"),
        vec!["f.yaml:3:12: `readers` must be a list, found a mapping"]
    );
    assert_eq!(
        errors(
            "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch: {}\n      simple: {}\n"
        ),
        vec![
            "f.yaml:4:7: span processor must be a mapping with exactly one key (batch or \
             simple), found 2 keys"
        ]
    );
}

#[test]
fn numbers_out_of_range_are_errors_not_wrapped() {
    assert_eq!(
        errors(
            "file_format: \"1.0\"\nmeter_provider:\n  readers:\n    - pull: {exporter: {prometheus: {port: 70000}}}\n"
        ),
        vec!["f.yaml:4:44: `port` must be a whole number from 0 to 65535, found 70000"]
    );
    assert_eq!(
        errors(
            "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        max_export_batch_size: 0\n        exporter: {console: }\n  sampler: {trace_id_ratio_based: {ratio: 1.5}}\n"
        ),
        vec![
            "f.yaml:5:32: `max_export_batch_size` must be a whole number from 1 to 1048576, found 0",
            "f.yaml:7:43: `ratio` must be a number from 0 to 1",
        ]
    );
}

#[test]
fn unknown_keys_and_kinds_name_the_likely_one() {
    let (c, warnings) = read(
        "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_http: {endpiont: \"http://x:1\"}\n",
    )
    .unwrap();
    assert_eq!(
        warnings,
        vec![
            "f.yaml:6:23: unknown key `endpiont` in the OTLP exporter; did you mean \
             `endpoint`? (it is ignored; known keys: endpoint, headers, compression, timeout, \
             certificate_file, certificate)"
        ]
    );
    assert_eq!(c.traces_otlp.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(
        errors(
            "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_htp: {}\n"
        ),
        vec![
            "f.yaml:6:11: unknown span exporter `otlp_htp`; did you mean `otlp_http`?; \
             expected otlp_http, otlp_grpc, console, otlp_file or otlp_file/development"
        ]
    );
}

#[test]
fn endpoints_are_checked_where_they_are_written() {
    assert_eq!(
        errors(
            "file_format: \"1.0\"\nlogger_provider:\n  processors:\n    - simple:\n        exporter:\n          otlp_grpc:\n            endpoint: localhost:4317\n"
        ),
        vec![
            "f.yaml:7:23: invalid `endpoint` \"localhost:4317\": no scheme; did you mean \
             http://localhost:4317?"
        ]
    );
}

#[test]
fn yaml_mistakes_are_explained_in_plain_words() {
    assert_eq!(
        errors(
            "file_format: \"1.0\"\nresource:\n  attributes: [\n    {name: a, value: b}\ntracer_provider: {}\n"
        ),
        vec![
            "f.yaml:3:15: YAML syntax: this `[` is still open at line 5, column 1, where \
             reading fails: close the list with `]` before that point (its items are \
             separated by `,`)"
        ]
    );
    assert_eq!(
        errors(&format!(
            "file_format: \"1.0\"\nresource: {}\n",
            "[".repeat(300)
        )),
        vec![
            "f.yaml:2:266: YAML syntax: lists and mappings are nested more than 64 levels \
             deep here; no schema or configuration needs that many"
        ]
    );
}

#[test]
fn values_set_in_code_are_kept_within_bounds() {
    let (c, warnings) = semtel::builder()
        .env_source(|_| None)
        .max_queue_size(usize::MAX)
        .metric_export_interval(Duration::ZERO)
        .otlp_endpoint("collector:4318")
        .resolve()
        .unwrap();
    assert_eq!(c.batch.max_queue_size, 1 << 20);
    assert_eq!(c.metric_export_interval, Duration::from_secs(60));
    assert_eq!(c.traces_otlp.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(
        warnings,
        vec![
            "the OTLP endpoint \"collector:4318\" set in code is not valid (no scheme; did you \
             mean http://collector:4318?); it is ignored"
                .to_string(),
            format!(
                "max_queue_size {} set in code is outside 1 to 1048576; using 1048576",
                usize::MAX
            ),
            "a metric export interval of 0 set in code would export without pause; using the \
             default 60000 ms"
                .to_string(),
        ]
    );
}

#[test]
fn headers_that_cannot_be_sent_are_reported_where_they_are_set() {
    assert_eq!(
        errors(
            "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          otlp_http:\n            headers: [{name: \"bad name\", value: x}]\n"
        ),
        vec!["f.yaml:7:22: invalid header: `bad name` is not a valid header name"]
    );
    let (c, warnings) = semtel::builder()
        .env_source(|k| {
            (k == "OTEL_EXPORTER_OTLP_HEADERS").then(|| "ok=1,bad name=2,x=%0A".to_string())
        })
        .resolve()
        .unwrap();
    assert_eq!(
        c.traces_otlp.headers,
        vec![("ok".to_string(), "1".to_string())]
    );
    assert_eq!(
        warnings,
        vec![
            "OTEL_EXPORTER_OTLP_HEADERS: `bad name` is not a valid header name; the header is not sent",
            "OTEL_EXPORTER_OTLP_HEADERS: the value of `x` holds characters a header cannot carry; the header is not sent",
        ]
    );
}
