//! W3C trace context through HTTP headers: a client span's context, injected
//! into a header map and extracted on the server side, parents the server span.

use semtel::propagation::{extract, inject};
use semtel::{SpanContext, testing, traced_task};

#[traced_task(name = "client.request", kind = client)]
fn client_request() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    inject(&mut headers);
    headers
}

#[traced_task(name = "server.handle", kind = server, parent = parent)]
fn server_handle(parent: SpanContext) {}

#[test]
fn headers_carry_the_context_from_client_to_server() {
    let cap = testing::capture();
    let headers = client_request();
    let tp = headers
        .get("traceparent")
        .expect("traceparent injected")
        .to_str()
        .unwrap()
        .to_string();
    let parent = extract(&headers).expect("a valid traceparent");
    assert!(parent.remote && parent.sampled);
    server_handle(parent);
    let client = cap.span("client.request");
    let server = cap.span("server.handle");
    assert_eq!(tp, format!("00-{}-{}-01", client.trace_id, client.span_id));
    assert_eq!(
        (server.trace_id, server.parent_span_id),
        (client.trace_id, client.span_id)
    );
    assert!(server.parent_remote);
    let mut bad = http::HeaderMap::new();
    bad.insert("traceparent", "00-xyz-01".parse().unwrap());
    assert!(extract(&bad).is_none(), "an invalid header gives no parent");
}
