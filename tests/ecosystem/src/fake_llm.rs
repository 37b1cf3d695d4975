//! A fake OpenAI-compatible model server: `POST /v1/chat/completions`
//! answers one fixed assistant message with token usage, and every request
//! is remembered with its `traceparent` header.
//!
//! It runs on a thread and runtime of its own, on a loopback port the system
//! picks, and stops when dropped.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// What the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The `traceparent` header, if the request had one.
    pub traceparent: Option<String>,
    /// The JSON body.
    pub body: Value,
}

/// The answer every chat request gets.
pub const ANSWER: &str = "Paris.";
/// The input tokens every answer reports.
pub const INPUT_TOKENS: i64 = 21;
/// The output tokens every answer reports.
pub const OUTPUT_TOKENS: i64 = 3;

type Log = Arc<Mutex<Vec<Seen>>>;

/// A running fake; see the module's documentation.
pub struct FakeLlm {
    addr: SocketAddr,
    seen: Log,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn chat(State(seen): State<Log>, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    let traceparent = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let model = body["model"].as_str().unwrap_or("unknown").to_string();
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen { traceparent, body });
    Json(json!({
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": ANSWER},
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": INPUT_TOKENS,
            "completion_tokens": OUTPUT_TOKENS,
            "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS
        }
    }))
}

impl FakeLlm {
    /// Starts the server; returns once it accepts connections.
    pub fn start() -> FakeLlm {
        let seen: Log = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(chat))
            .with_state(Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake model server");
            rt.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        FakeLlm {
            addr,
            seen,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The base URL of its OpenAI API (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
