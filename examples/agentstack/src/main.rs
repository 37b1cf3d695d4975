//! AgentStack's API service on semtel, after the seed's Go service: an axum
//! API whose routes are server spans continuing the caller's trace, the
//! `agent.Create` span over a traced SQLite call, chat through an LLM
//! gateway reached with a traced HTTP client (here a second instance of
//! this service), the seed's metrics on its own `/metrics` route and JSON
//! logs with `trace_id`/`span_id`.
//!
//! `agentstack serve [PORT]` runs the service until SIGTERM or Ctrl-C
//! (`LLM_GATEWAY_URL` names the gateway; default: itself).
//! `agentstack` alone runs a demo and exits: a gateway and an API on free
//! ports, an agent created, a chat, an invalid create.
//!
//! ```sh
//! OTEL_TRACES_EXPORTER=console OTEL_TRACES_SAMPLER=always_on cargo run -p agentstack-example --bin agentstack
//! ```

semtel::include_conventions!();

mod agents;
mod api;
mod llm;
mod metrics;
mod telemetry;

use std::sync::Arc;

/// Resolves on SIGTERM or Ctrl-C.
async fn stopped() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Binds `port` (0: a free one) and builds the app around `gateway` (none: itself).
async fn start(
    port: u16,
    gateway: Option<String>,
    telemetry: Arc<semtel::Telemetry>,
) -> std::io::Result<(tokio::net::TcpListener, axum::Router, String)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let db = agents::open().await.map_err(std::io::Error::other)?;
    let app = api::App {
        db,
        client: reqwest::Client::new(),
        gateway: gateway.unwrap_or_else(|| base.clone()),
        metrics: metrics::Metrics::new(),
        telemetry,
    };
    Ok((listener, api::router(Arc::new(app)), base))
}

async fn serve(port: u16, telemetry: Arc<semtel::Telemetry>) -> std::io::Result<()> {
    let gateway = std::env::var("LLM_GATEWAY_URL").ok();
    let (listener, router, base) = start(port, gateway, telemetry).await?;
    eprintln!("agentstack: listening on {base}");
    axum::serve(listener, router)
        .with_graceful_shutdown(stopped())
        .await?;
    eprintln!("agentstack: stopping");
    Ok(())
}

/// Two instances in this process, a few requests, then exit.
async fn demo(telemetry: Arc<semtel::Telemetry>) -> std::io::Result<()> {
    let (gl, gr, gateway) = start(0, None, Arc::clone(&telemetry)).await?;
    tokio::spawn(async move { axum::serve(gl, gr).await });
    let (al, ar, api) = start(0, Some(gateway), telemetry).await?;
    tokio::spawn(async move { axum::serve(al, ar).await });
    let client = reqwest::Client::new();
    let call = |path: String, body: serde_json::Value| {
        let request = client.post(format!("{api}{path}")).json(&body);
        async move {
            let r = request.send().await.map_err(std::io::Error::other)?;
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            eprintln!("agentstack demo: POST {path} -> {status} {body}");
            Ok::<_, std::io::Error>(body)
        }
    };
    let created = call(
        "/v1/projects/proj-1/agents".into(),
        serde_json::json!({"name": "support-bot", "framework": "langgraph"}),
    )
    .await?;
    let id = created["id"].as_str().unwrap_or("agt-1").to_string();
    call(
        format!("/v1/agents/{id}/chat"),
        serde_json::json!({"message": "how do I reset my password"}),
    )
    .await?;
    call(
        "/v1/projects/proj-1/agents".into(),
        serde_json::json!({"name": "", "framework": "langgraph"}),
    )
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() {
    let cfg = telemetry::Config::from_env();
    let telemetry = match telemetry::init(&cfg) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("agentstack: {e}");
            std::process::exit(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => {
            let port = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
            serve(port, Arc::clone(&telemetry)).await
        }
        _ => demo(Arc::clone(&telemetry)).await,
    };
    if let Err(e) = result {
        eprintln!("agentstack: {e}");
        std::process::exit(1);
    }
}
