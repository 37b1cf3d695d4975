//! The seed's metrics, with its explicit bucket boundaries (in the schema:
//! `http_request.duration` 5 ms to 10 s, `llm_call.duration` 0.1 s to 60 s).

use crate::semconv::{self, metrics as m};
use semtel::metrics::{Counter, Histogram, UpDownCounter};

/// The instruments of one service process.
pub struct Metrics {
    requests: Counter<i64>,
    request_duration: Histogram<f64>,
    /// Tokens used in chat, by project and model (not by agent: `agent.id`
    /// is high-cardinality and goes on the spans).
    pub chat_tokens: Counter<i64>,
    /// LLM call latency, by model.
    pub llm_duration: Histogram<f64>,
    /// Agents deployed, by project.
    pub agents_active: UpDownCounter<i64>,
}

impl Metrics {
    /// Registers the instruments.
    pub fn new() -> Metrics {
        Metrics {
            requests: Counter::new(&m::HTTP_REQUESTS),
            request_duration: Histogram::new(&m::http_request::DURATION),
            chat_tokens: Counter::new(&m::CHAT_TOKENS),
            llm_duration: Histogram::new(&m::llm_call::DURATION),
            agents_active: UpDownCounter::new(&m::agents::ACTIVE),
        }
    }

    /// Counts and times one request, labelled by its route template.
    pub fn request(&self, method: &'static str, route: &'static str, status: u16, seconds: f64) {
        self.requests.add(
            1,
            vec![
                semconv::METHOD.value_static(method),
                semconv::PATH.value_static(route),
                semconv::STATUS.value(i64::from(status)),
            ],
        );
        self.request_duration.record(
            seconds,
            vec![
                semconv::METHOD.value_static(method),
                semconv::PATH.value_static(route),
            ],
        );
    }
}
