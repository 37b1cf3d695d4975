//! Shutdown is bounded by one deadline however the collector misbehaves:
//! traces, logs and metrics flush in parallel, so a collector on loopback
//! that accepts connections and never answers holds shutdown for about one
//! export timeout (not one per signal), and the report names what was lost.
//! An HTTP 200 whose body never arrives is a failed export, not a delivery;
//! a real collector that takes everything gets a report of nothing lost.

use semtel::{LogsExporter, MetricsExporter, Protocol, TracesExporter, metered, traced_task};
use semtel_tests::collector::Rotel;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[traced_task(name = "shutdown.work")]
#[metered]
fn work(i: u32) -> u32 {
    tracing::info!(i, "working");
    i
}

/// A collector on loopback that accepts every connection and does with it
/// what `answer` says; its endpoint.
fn collector(answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || answer(conn));
        }
    });
    format!("http://{addr}")
}

/// Holds the connection without reading or answering.
fn silent(conn: TcpStream) {
    std::thread::sleep(Duration::from_secs(60));
    drop(conn);
}

/// Reads each request and answers `200 OK` with a 64-byte body that never comes.
fn headers_only(conn: TcpStream) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    let mut length = 0usize;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if line == "\r\n" {
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 64\r\n\r\n",
            );
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
}

/// Every signal over OTLP/HTTP to `endpoint` with a `timeout` per export;
/// nothing is exported before shutdown.
fn telemetry(endpoint: String, timeout: Duration) -> semtel::Telemetry {
    semtel::builder()
        .env_source(|_| None)
        .service_name("shutdown-test")
        .traces_exporter(TracesExporter::Otlp)
        .metrics_exporter(MetricsExporter::Otlp)
        .logs_exporter(LogsExporter::Otlp)
        .otlp_protocol(Protocol::HttpProtobuf)
        .otlp_endpoint(endpoint)
        .otlp_timeout(timeout)
        .schedule_delay(Duration::from_secs(60))
        .metric_export_interval(Duration::from_secs(60))
        .tracing_subscriber(true)
        .init()
        .unwrap()
}

#[test]
fn a_collector_that_never_answers_holds_shutdown_for_one_timeout_not_three() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let timeout = Duration::from_secs(2);
    let t = telemetry(collector(silent), timeout);
    for i in 0..20 {
        work(i);
    }
    let start = Instant::now();
    let report = t.shutdown();
    let took = start.elapsed();
    // One deadline for all three signals: about one timeout; one after
    // another they would take three.
    assert!(
        took >= timeout - Duration::from_millis(100)
            && took < timeout + Duration::from_millis(1500),
        "shutdown took {took:?} with a {timeout:?} export timeout"
    );
    assert_eq!(report.spans_lost, 20, "{report}");
    assert_eq!(report.logs_lost, 20, "{report}");
    assert_eq!(report.metric_exports_failed, 1, "{report}");
    assert!(report.unfinished.is_empty(), "{report}");
    assert_eq!(
        report.to_string(),
        "telemetry lost since start: 20 spans, 20 log records, 1 metric exports"
    );
}

#[test]
fn an_http_200_whose_body_never_arrives_is_a_failed_export() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let timeout = Duration::from_secs(1);
    let t = telemetry(collector(headers_only), timeout);
    for i in 0..5 {
        work(i);
    }
    let start = Instant::now();
    let report = t.shutdown();
    assert!(
        start.elapsed() < timeout + Duration::from_millis(1500),
        "shutdown took {:?}",
        start.elapsed()
    );
    assert_eq!(report.spans_lost, 5, "{report}");
    assert_eq!(report.logs_lost, 5, "{report}");
    assert_eq!(report.metric_exports_failed, 1, "{report}");
}

#[test]
fn a_collector_that_takes_everything_gets_a_report_of_nothing_lost() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rotel = Rotel::start();
    let t = telemetry(rotel.http_endpoint(), Duration::from_secs(10));
    for i in 0..20 {
        work(i);
    }
    let report = t.shutdown();
    assert!(!report.lost_anything(), "{report}");
    let spans = rotel.wait_for_spans(20, Duration::from_secs(20));
    assert_eq!(
        spans.iter().filter(|s| s.name == "shutdown.work").count(),
        20
    );
}
