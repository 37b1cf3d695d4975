//! The client side of HTTP propagation for reqwest-middleware clients
//! (feature `reqwest-middleware`).

use reqwest_middleware::{Middleware, Next, Result};

/// A reqwest-middleware middleware that writes the current span's context
/// into each request it sends: `traceparent`, and `tracestate` and `baggage`
/// when there are any (as `OTEL_PROPAGATORS` says).
///
/// Placed after reqwest-tracing's `TracingMiddleware`, the context written is
/// that of the HTTP client span, so the server's span is its child:
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     // .with(reqwest_tracing::TracingMiddleware::default())
///     .with(semtel::TraceContextMiddleware)
///     .build();
/// # drop(client);
/// ```
///
/// A request that carries a `traceparent` already keeps it.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceContextMiddleware;

#[async_trait::async_trait]
impl Middleware for TraceContextMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        if !req.headers().contains_key("traceparent") {
            crate::propagation::inject(req.headers_mut());
        }
        next.run(req, extensions).await
    }
}
