//! One clock for every timestamp. The counter behind it is made to run
//! 1000 ppm fast and the wall clock is re-read every 2 ms (a minute in
//! production), so a run of a few seconds crosses a thousand re-anchors:
//! every event, log and exemplar must still lie inside its span, every child
//! inside its parent, a thread's consecutive spans must never overlap
//! backwards, and the times must stay with the wall clock.
//!
//! Logs go over OTLP/HTTP to a receiver on loopback that decodes them with
//! the OpenTelemetry protobuf types; spans are captured in memory.

use opentelemetry::trace::SpanId;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;
use semtel::trace::SpanRecord;
use semtel::{LogsExporter, Protocol, metered, traced_task};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far the telemetry clock may be from the wall clock.
const TOLERANCE: u64 = 1_000_000;

#[traced_task(name = "clock.child")]
#[metered]
fn child(i: u32) -> Result<(), String> {
    tracing::info!(i, "inside the child");
    semtel::current_span().add_event("checkpoint", Vec::new());
    if i % 3 == 0 {
        Err(format!("child {i} failed"))
    } else {
        Ok(())
    }
}

#[traced_task(name = "clock.parent")]
fn parent() {
    for i in 0..4 {
        let _ = child(i);
    }
    tracing::info!("parent done");
}

/// Runs parents until `until`; its span, and the wall clock before and after each parent.
#[traced_task(name = "clock.worker")]
fn worker(until: Instant) -> (SpanId, Vec<(u64, u64)>) {
    let mut walls = Vec::new();
    while Instant::now() < until {
        let before = wall();
        parent();
        walls.push((before, wall()));
        std::thread::sleep(Duration::from_millis(1));
    }
    (semtel::current_span().context().span_id, walls)
}

fn wall() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A log received: its time and the span it was emitted in.
struct Log {
    time: u64,
    span_id: SpanId,
    body: String,
}

/// An OTLP/HTTP receiver on loopback that answers 200 to every request and
/// keeps the log records it decodes.
fn receiver() -> (String, Arc<Mutex<Vec<Log>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&logs);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let store = Arc::clone(&store);
            std::thread::spawn(move || serve(conn, &store));
        }
    });
    (format!("http://{addr}"), logs)
}

fn serve(conn: TcpStream, store: &Mutex<Vec<Log>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let (mut path, mut length) = (String::new(), 0usize);
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some(p) = line.split_whitespace().nth(1) {
            path = p.to_string();
        }
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        if path == "/v1/logs" {
            let req = ExportLogsServiceRequest::decode(&body[..]).expect("an OTLP logs request");
            let mut logs = store.lock().unwrap();
            for rl in req.resource_logs {
                for sl in rl.scope_logs {
                    for r in sl.log_records {
                        logs.push(Log {
                            time: r.time_unix_nano,
                            span_id: SpanId::from_bytes(r.span_id.try_into().unwrap_or([0; 8])),
                            body: format!("{:?}", r.body),
                        });
                    }
                }
            }
        }
        conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
        )
        .unwrap();
    }
}

fn inside(what: &str, t: u64, span: &SpanRecord) {
    assert!(
        span.start <= t && t <= span.end,
        "{what} at {t} lies outside its span {} [{}, {}] (by {} ns)",
        span.name,
        span.start,
        span.end,
        if t < span.start {
            span.start - t
        } else {
            t - span.end
        }
    );
}

#[test]
fn every_timestamp_comes_from_one_clock_that_never_goes_back() {
    semtel::__private::set_test_clock(Duration::from_millis(2), 1000);
    let (endpoint, logs) = receiver();
    let capture = semtel::testing::capture_with(
        semtel::builder()
            .logs_exporter(LogsExporter::Otlp)
            .otlp_protocol(Protocol::HttpProtobuf)
            .otlp_endpoint(endpoint)
            .tracing_subscriber(true),
    );
    let until = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || worker(until)))
        .collect();
    let walls: Vec<(SpanId, Vec<(u64, u64)>)> =
        workers.into_iter().map(|w| w.join().unwrap()).collect();
    let exemplars: Vec<semtel::metrics::Exemplar> = semtel::metrics::collect()
        .into_iter()
        .flat_map(|m| m.series)
        .flat_map(|s| s.exemplars.into_iter().map(|(_, e)| e))
        .collect();
    let spans = capture.spans();
    drop(capture);
    let logs = logs.lock().unwrap();
    let by_id: HashMap<SpanId, &SpanRecord> = spans.iter().map(|s| (s.span_id, s)).collect();

    let (mut events, mut children) = (0, 0);
    for s in &spans {
        assert!(s.start <= s.end, "{} ends before it starts", s.name);
        for e in &s.events {
            inside(&format!("event {}", e.name), e.time, s);
            events += 1;
        }
        if let Some(p) = by_id.get(&s.parent_span_id) {
            inside(&format!("the start of child {}", s.name), s.start, p);
            inside(&format!("the end of child {}", s.name), s.end, p);
            children += 1;
        }
    }
    let mut in_spans = 0;
    for l in logs.iter() {
        if let Some(s) = by_id.get(&l.span_id) {
            inside(&format!("log {}", l.body), l.time, s);
            in_spans += 1;
        }
    }
    let mut exemplars_checked = 0;
    for e in &exemplars {
        if let Some(s) = by_id.get(&e.span_id) {
            inside("an exemplar", e.time, s);
            exemplars_checked += 1;
        }
    }
    // A thread's parents follow one another: each starts after the one before ended.
    let mut parents: Vec<&SpanRecord> = spans.iter().filter(|s| s.name == "clock.parent").collect();
    parents.sort_by_key(|s| (s.parent_span_id.to_bytes(), s.start));
    for pair in parents.windows(2) {
        if pair[0].parent_span_id == pair[1].parent_span_id {
            assert!(
                pair[1].start >= pair[0].end,
                "a parent starts {} ns before the one before it on its thread ended",
                pair[0].end - pair[1].start
            );
        }
    }
    // And the clock kept to the wall clock, though its counter runs fast.
    for (worker, walls) in &walls {
        let mine: Vec<&&SpanRecord> = parents
            .iter()
            .filter(|p| p.parent_span_id == *worker)
            .collect();
        assert_eq!(mine.len(), walls.len());
        for (p, (before, after)) in mine.iter().zip(walls) {
            assert!(
                p.start + TOLERANCE >= *before && p.end <= after + TOLERANCE,
                "a parent at [{}, {}] strays over 1 ms from the wall clock [{before}, {after}]",
                p.start,
                p.end
            );
        }
    }
    assert!(parents.len() > 500, "only {} parents ran", parents.len());
    assert!(events > 4 * parents.len(), "{events} events");
    assert!(children >= 4 * parents.len(), "{children} children");
    assert!(in_spans > parents.len(), "{in_spans} logs in spans");
    assert!(exemplars_checked > 0, "no exemplar names a captured span");
}
