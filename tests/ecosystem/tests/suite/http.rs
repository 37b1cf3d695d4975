//! A reqwest-middleware client with reqwest-tracing's span and semtel's
//! `TraceContextMiddleware` calls an axum server whose tower-http
//! `TraceLayer` span adopts the incoming context: one trace, the client span
//! named by `otel.name` and of kind client, the server span of kind server
//! and a child of the client span.

use axum::http::Request;
use semtel::TracingSpanExt;
use semtel::conventions::SpanKind;
use semtel_ecosystem_tests::{Mode, Session, assert_child, attr, names, one};
use tower_http::trace::TraceLayer;

/// The server's request span: a child of the request's `traceparent`.
fn request_span<B>(req: &Request<B>) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.name = format!("{} {}", req.method(), req.uri().path()),
        otel.kind = "server",
        http.request.method = %req.method(),
        url.path = req.uri().path(),
    );
    if let Some(remote) = semtel::propagation::extract(req.headers()) {
        span.set_parent(remote);
    }
    span
}

async fn hello() -> &'static str {
    tracing::info!(greeting = "hello", "answering");
    "hello"
}

#[semtel::traced_task(name = "fetch.greeting")]
async fn fetch(url: &str) -> Result<String, String> {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(reqwest_tracing::TracingMiddleware::default())
        .with(semtel::TraceContextMiddleware)
        .build();
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    response.text().await.map_err(|e| e.to_string())
}

pub fn reqwest_client_and_axum_server_share_one_trace(mode: Mode) {
    let session = Session::start(mode);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let body = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hello", axum::routing::get(hello))
            .layer(TraceLayer::new_for_http().make_span_with(request_span));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let body = fetch(&format!("http://{addr}/hello")).await;
        server.abort();
        body
    });
    assert_eq!(body.as_deref(), Ok("hello"));
    let spans = session.spans();
    let task = one(&spans, "fetch.greeting");
    let client = one(&spans, "GET");
    assert_child(client, task);
    assert_eq!(client.kind, SpanKind::Client, "{:?}", names(&spans));
    assert_eq!(attr(client, "http.request.method"), "GET");
    assert!(client.attribute("otel.name").is_none());
    let server = one(&spans, "GET /hello");
    assert_eq!(server.kind, SpanKind::Server);
    assert_child(server, client);
    assert!(server.parent_remote, "the server's parent came in a header");
    let greeting = server
        .events
        .iter()
        .find(|e| e.name == "answering")
        .unwrap_or_else(|| panic!("no handler event on the server span: {:?}", server.events));
    assert!(
        greeting
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "greeting" && kv.value.as_str() == "hello")
    );
}
