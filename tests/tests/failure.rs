//! Telemetry never breaks the host program: a missing collector, one that
//! goes away and comes back, and one that accepts connections and never
//! answers leave the instrumented code running; spans that cannot be kept are
//! dropped and counted, and export resumes when the collector is back; a
//! batch refused while the collector is briefly away is retried and arrives.
//! A failed export is reported once with its root cause and what to do.

use semtel::{Protocol, TracesExporter, traced_task};
use semtel_tests::collector::Rotel;
use semtel_tests::free_port;
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[traced_task(name = "work.phase", attrs(orchestration.step.name = phase))]
fn work(phase: &'static str) -> u32 {
    1
}

/// Spans over OTLP gRPC to `endpoint`, exported every 50 ms; nothing else.
fn builder(endpoint: String) -> semtel::Builder {
    semtel::builder()
        .env_source(|_| None)
        .service_name("failure-test")
        .traces_exporter(TracesExporter::Otlp)
        .metrics_exporter(semtel::MetricsExporter::None)
        .logs_exporter(semtel::LogsExporter::None)
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(endpoint)
        .schedule_delay(Duration::from_millis(50))
}

fn telemetry(endpoint: String, queue: usize) -> semtel::Telemetry {
    builder(endpoint)
        .otlp_timeout(Duration::from_millis(500))
        .max_queue_size(queue)
        .export_timeout(Duration::from_secs(3))
        .init()
        .unwrap()
}

/// Runs `n` spans and returns how long that took.
fn run(phase: &'static str, n: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        work(phase);
    }
    t.elapsed()
}

#[test]
fn a_missing_collector_drops_and_counts_spans() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let closed = format!("http://127.0.0.1:{}", free_port());
    let dropped_before = semtel::trace::dropped_spans();
    let failed_before = semtel::trace::failed_exports();
    let t = telemetry(closed, 256);
    // Far more spans than the queue holds, produced faster than any export
    // (what that costs the program is measured in `benches/`).
    run("absent", 50_000);
    std::thread::sleep(Duration::from_millis(600));
    let start = Instant::now();
    drop(t);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "shutdown overran its deadline: {:?}",
        start.elapsed()
    );
    assert!(
        semtel::trace::dropped_spans() > dropped_before,
        "drops are counted"
    );
    assert!(
        semtel::trace::failed_exports() > failed_before,
        "failed exports are counted"
    );
}

#[test]
fn export_resumes_when_the_collector_comes_back() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let (grpc, http) = (rotel.grpc_port, rotel.http_port);
    let t = telemetry(rotel.grpc_endpoint(), 2048);
    run("before", 10);
    assert!(t.flush());
    let spans = rotel.wait_for_spans(10, Duration::from_secs(20));
    assert!(
        spans
            .iter()
            .all(|s| s.attr("orchestration.step.name") == Some("Str(before)"))
    );
    drop(rotel);
    run("while-down", 10);
    t.flush();
    let rotel = Rotel::start_on(grpc, http);
    // Keep producing until spans reach the new collector (the channel reconnects).
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !rotel.output().contains("Str(after)") {
        run("after", 10);
        t.flush();
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = rotel.spans();
    assert!(
        after
            .iter()
            .any(|s| s.attr("orchestration.step.name") == Some("Str(after)")),
        "no span reached the restarted collector:\n{}",
        rotel.output()
    );
    drop(t);
}

#[test]
fn a_collector_that_never_answers_does_not_hold_the_program() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept every connection and never read or answer.
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(64) {
            match c {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let failed_before = semtel::trace::failed_exports();
    let t = telemetry(format!("http://{addr}"), 2048);
    let mut took = Duration::ZERO;
    for _ in 0..5 {
        took += run("silent", 1000);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        took < Duration::from_secs(20),
        "the program was held up: {took:?}"
    );
    let start = Instant::now();
    drop(t);
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "shutdown overran its deadline: {:?}",
        start.elapsed()
    );
    assert!(
        semtel::trace::failed_exports() > failed_before,
        "the timeouts are counted as failed exports"
    );
    drop(holder);
}

#[test]
fn a_batch_sent_while_the_collector_is_down_arrives_once_it_is_back() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (grpc, http) = (free_port(), free_port());
    // Until the collector starts, the port takes each connection and closes it.
    let stand_in = TcpListener::bind(("127.0.0.1", grpc)).unwrap();
    stand_in.set_nonblocking(true).unwrap();
    let t = builder(format!("http://127.0.0.1:{grpc}"))
        .otlp_timeout(Duration::from_secs(20))
        .export_timeout(Duration::from_secs(25))
        .init()
        .unwrap();
    let failed_before = semtel::trace::failed_exports();
    run("retried", 5);
    let flusher = std::thread::spawn(move || {
        let flushed = t.flush();
        (t, flushed)
    });
    // The export has been tried (and refused) before the collector exists.
    let refused = semtel_tests::poll(Duration::from_secs(10), || stand_in.accept().ok());
    assert!(refused.is_some(), "semtel never tried to export");
    drop(refused);
    drop(stand_in);
    let rotel = Rotel::start_on(grpc, http);
    let spans = rotel.wait_for_spans(5, Duration::from_secs(20));
    assert_eq!(spans.len(), 5, "{}", rotel.output());
    assert!(
        spans
            .iter()
            .all(|s| s.attr("orchestration.step.name") == Some("Str(retried)"))
    );
    let (t, flushed) = flusher.join().unwrap();
    assert!(flushed, "the flush waited for the retried export");
    assert_eq!(
        semtel::trace::failed_exports(),
        failed_before,
        "a retried export that succeeds is no failure"
    );
    drop(t);
}

#[test]
fn shutdown_does_not_wait_out_retries_to_an_absent_collector() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let closed = format!("http://127.0.0.1:{}", free_port());
    let t = builder(closed)
        .metrics_exporter(semtel::MetricsExporter::Otlp)
        .logs_exporter(semtel::LogsExporter::Otlp)
        .tracing_subscriber(true)
        .otlp_timeout(Duration::from_secs(30))
        .export_timeout(Duration::from_secs(30))
        .metric_export_interval(Duration::from_millis(100))
        .init()
        .unwrap();
    run("absent", 10);
    tracing::info!("a log record for the absent collector");
    // Spans go out after 50 ms, metrics every 100 ms, logs within a second:
    // by then every signal is retrying a refused request.
    std::thread::sleep(Duration::from_millis(1500));
    let start = Instant::now();
    drop(t);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "shutdown waited for retries: {:?}",
        start.elapsed()
    );
}

/// The last line of a child that lost its three spans.
const LOST_THREE: &str =
    "semtel: warning: telemetry lost since start: 3 spans, 0 log records, 0 metric exports";

/// Runs `traced_child` exporting spans over OTLP HTTP to `endpoint` (and
/// nothing else); its warnings.
fn child_warnings(endpoint: &str) -> Vec<String> {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_traced_child"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OTEL_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("OTEL_SERVICE_NAME", "failure-messages")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("OTEL_LOGS_EXPORTER", "none")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1500")
        .output()
        .expect("run traced_child");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("semtel: warning: "))
        .map(String::from)
        .collect()
}

/// A loopback HTTP server answering every request with `status`, until dropped.
fn answering(status: &'static str) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let Ok((mut c, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            c.set_nonblocking(false).unwrap();
            c.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = [0u8; 65536];
            let _ = c.read(&mut buf);
            let _ = c.write_all(
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    (endpoint, server)
}

#[test]
fn the_first_failure_without_a_collector_says_what_to_do() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let warnings = child_warnings(&endpoint);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[1], LOST_THREE);
    // Refused connections are retried within the timeout: "(after N attempts)".
    assert!(
        warnings[0].starts_with(&format!(
            "semtel: warning: exporting spans to otlp failed: no collector at \
             {endpoint}/v1/traces (connection refused); start one, or set \
             OTEL_TRACES_EXPORTER=console to print traces here (OTEL_TRACES_EXPORTER=none to \
             send none)"
        )),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("(3 spans lost)"), "{}", warnings[0]);
}

#[test]
fn an_http_error_names_the_status_and_the_likely_mistake() {
    let (endpoint, _server) = answering("404 Not Found");
    let warnings = child_warnings(&endpoint);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[1], LOST_THREE);
    assert!(
        warnings[0].contains(&format!(
            "{endpoint}/v1/traces: HTTP 404 Not Found (is the path /v1/traces? An endpoint set \
             for one signal is used as is) (3 spans lost)"
        )),
        "{}",
        warnings[0]
    );
}

#[test]
fn a_collector_that_never_answers_is_reported_as_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let warnings = child_warnings(&endpoint);
    drop(listener);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[1], LOST_THREE);
    // The spans are sent at shutdown, whose deadline is the export timeout.
    assert!(
        warnings[0].contains(&format!(
            "{endpoint}/v1/traces: no answer by the shutdown deadline (3 spans lost)"
        )),
        "{}",
        warnings[0]
    );
}
