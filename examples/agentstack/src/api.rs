//! The HTTP API (axum): each route a server span that continues the
//! caller's trace, counted and timed by its route template; `/metrics` is
//! answered from the program's own metrics.

use crate::agents::{self, CreateInput};
use crate::llm::{self, Completion};
use crate::metrics::Metrics;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use semtel::{SpanContext, Telemetry, current_span, traced_task};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// What every handler shares.
pub struct App {
    /// The in-memory database.
    pub db: sqlx::SqlitePool,
    /// The traced HTTP client.
    pub client: reqwest::Client,
    /// The LLM gateway's base URL.
    pub gateway: String,
    /// The instruments.
    pub metrics: Metrics,
    /// The telemetry guard, which renders `/metrics`.
    pub telemetry: Arc<Telemetry>,
}

type Shared = State<Arc<App>>;

/// The routes.
pub fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/projects/{project_id}/agents", post(create_agent))
        .route("/v1/agents/{id}/chat", post(chat))
        .route("/v1/llm/complete", post(complete))
        .with_state(app)
}

/// The caller's context from the request headers (none: a new trace).
fn remote(headers: &HeaderMap) -> SpanContext {
    semtel::propagation::extract(headers).unwrap_or(SpanContext::NONE)
}

/// Sets the status on the server span, counts and times the request.
fn finish(
    app: &App,
    route: &'static str,
    started: Instant,
    status: StatusCode,
    body: serde_json::Value,
) -> Response {
    current_span().set(
        crate::semconv::http::response::STATUS_CODE,
        i64::from(status.as_u16()),
    );
    if status.is_server_error() {
        current_span().set_error(format!("HTTP {}", status.as_u16()));
    }
    app.metrics.request(
        "POST",
        route,
        status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
    (status, Json(body)).into_response()
}

async fn metrics(State(app): Shared, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match app.telemetry.prometheus_scrape(accept) {
        Some((content_type, body)) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[traced_task(name = "POST {http.route}", kind = server, parent = remote(&headers),
    attrs(http.request.method = "POST", http.route = "/v1/projects/{project_id}/agents"))]
async fn create_agent(
    State(app): Shared,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    Json(input): Json<CreateInput>,
) -> Response {
    let started = Instant::now();
    let route = "/v1/projects/{project_id}/agents";
    match agents::create(&app.db, &project_id, &input).await {
        Ok(id) => {
            app.metrics.agents_active.add(
                1,
                vec![crate::semconv::project::ID.value(project_id.clone())],
            );
            finish(
                &app,
                route,
                started,
                StatusCode::CREATED,
                json!({ "id": id }),
            )
        }
        Err(e @ agents::CreateError::Invalid) => finish(
            &app,
            route,
            started,
            StatusCode::BAD_REQUEST,
            json!({ "error": e.to_string() }),
        ),
        Err(e) => finish(
            &app,
            route,
            started,
            StatusCode::CONFLICT,
            json!({ "error": e.to_string() }),
        ),
    }
}

/// A chat message.
#[derive(serde::Deserialize)]
struct ChatInput {
    message: String,
}

#[traced_task(name = "POST {http.route}", kind = server, parent = remote(&headers),
    attrs(http.request.method = "POST", http.route = "/v1/agents/{id}/chat"))]
async fn chat(
    State(app): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(input): Json<ChatInput>,
) -> Response {
    let started = Instant::now();
    let route = "/v1/agents/{id}/chat";
    let Some((name, project)) = agents::find(&app.db, &id).await else {
        return finish(
            &app,
            route,
            started,
            StatusCode::NOT_FOUND,
            json!({ "error": "no such agent" }),
        );
    };
    match llm::invoke(
        &app.client,
        &app.gateway,
        &app.metrics,
        (&id, &name, &project),
        &input.message,
    )
    .await
    {
        Ok(c) => finish(
            &app,
            route,
            started,
            StatusCode::OK,
            json!({
                "answer": c.text,
                "usage": { "input_tokens": c.input_tokens, "output_tokens": c.output_tokens },
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "the model call failed");
            finish(
                &app,
                route,
                started,
                StatusCode::BAD_GATEWAY,
                json!({ "error": "the model call failed" }),
            )
        }
    }
}

/// The prompt the gateway completes.
#[derive(serde::Deserialize)]
struct Prompt {
    prompt: String,
}

#[traced_task(name = "POST {http.route}", kind = server, parent = remote(&headers),
    attrs(http.request.method = "POST", http.route = "/v1/llm/complete"))]
async fn complete(State(app): Shared, headers: HeaderMap, Json(p): Json<Prompt>) -> Response {
    let started = Instant::now();
    let c: Completion = llm::complete(&p.prompt);
    let body = serde_json::to_value(&c).unwrap_or_default();
    finish(&app, "/v1/llm/complete", started, StatusCode::OK, body)
}
