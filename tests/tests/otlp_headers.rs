//! OTLP/HTTP requests carry the configured headers (authentication) and are
//! gzip-compressed when asked: observed on the wire by a loopback HTTP server.

use semtel::{Protocol, traced_task};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An HTTP/1.1 server that records every request and answers 200.
fn recorder() -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(stream) = conn else { break };
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        if h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                        }
                    }
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .map_or(0, |(_, v)| v.parse().unwrap());
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    store.lock().unwrap().push(Request {
                        path,
                        headers,
                        body,
                    });
                    let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n");
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

#[traced_task(name = "header.span")]
fn work() {}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

#[test]
fn headers_and_gzip_reach_the_wire() {
    let _off = semtel::testing::without_telemetry();
    let (endpoint, seen) = recorder();
    let telemetry = semtel::builder()
        .env_source(|_| None)
        .service_name("headers-test")
        .otlp_endpoint(endpoint)
        .otlp_protocol(Protocol::HttpProtobuf)
        .otlp_header("authorization", "Bearer t0ken")
        .otlp_gzip(true)
        .metric_export_interval(Duration::from_millis(100))
        .logs_exporter(semtel::LogsExporter::None)
        .init()
        .unwrap();
    work();
    assert!(telemetry.flush());
    std::thread::sleep(Duration::from_millis(300));
    drop(telemetry);
    let reqs = seen.lock().unwrap().clone();
    let traces = reqs
        .iter()
        .find(|r| r.path == "/v1/traces")
        .expect("a trace export");
    let metrics = reqs
        .iter()
        .find(|r| r.path == "/v1/metrics")
        .expect("a metrics export");
    for r in [traces, metrics] {
        let h = |k: &str| {
            r.headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            h("authorization"),
            Some("Bearer t0ken"),
            "{}: {:?}",
            r.path,
            r.headers
        );
        assert_eq!(
            h("content-encoding"),
            Some("gzip"),
            "{}: {:?}",
            r.path,
            r.headers
        );
        assert_eq!(h("content-type"), Some("application/x-protobuf"));
    }
    let body = gunzip(&traces.body);
    assert!(
        body.windows(11).any(|w| w == b"header.span"),
        "the span name is in the request"
    );
    assert!(
        gunzip(&metrics.body)
            .windows(12)
            .any(|w| w == b"headers-test"),
        "the resource is in the metrics request"
    );
}
