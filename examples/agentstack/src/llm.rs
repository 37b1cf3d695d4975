//! Chat: the agent (`invoke_agent {name}`) looks something up with a tool
//! (`execute_tool search_docs`) and calls the LLM gateway, another instance
//! of this service, over HTTP with the trace context in the headers (a
//! client span, then the gateway's server span and its `chat {model}` span
//! with token usage).

use crate::metrics::Metrics;
use crate::semconv;
use semtel::{agent_step, current_span, current_step, traced_task};
use std::time::Instant;

/// The model the gateway answers with.
pub const MODEL: &str = "gpt-4o";

/// What the gateway returns.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Completion {
    /// The answer.
    pub text: String,
    /// Tokens in and out.
    pub input_tokens: u64,
    /// Tokens generated.
    pub output_tokens: u64,
}

/// A tool the agent calls before asking the model.
#[agent_step(operation = execute_tool, tool = "search_docs")]
fn search_docs(question: &str) -> usize {
    question.split_whitespace().count()
}

/// The outgoing HTTP call: a client span; the headers carry its context.
#[traced_task(name = "POST", kind = client, attrs(http.request.method = "POST", url.full = url))]
async fn post(
    client: &reqwest::Client,
    url: &str,
    prompt: &str,
) -> Result<Completion, reqwest::Error> {
    let mut headers = http::HeaderMap::new();
    semtel::propagation::inject(&mut headers);
    let response = client
        .post(url)
        .headers(headers)
        .json(&serde_json::json!({ "model": MODEL, "prompt": prompt }))
        .send()
        .await?;
    current_span().set(
        semconv::http::response::STATUS_CODE,
        i64::from(response.status().as_u16()),
    );
    response.error_for_status()?.json().await
}

/// The agent answering one message.
#[agent_step(agent = agent_name, model = MODEL, provider = "openai", attrs(gen_ai.agent.id = agent_id))]
pub async fn invoke(
    client: &reqwest::Client,
    gateway: &str,
    metrics: &Metrics,
    (agent_id, agent_name, project_id): (&str, &str, &str),
    message: &str,
) -> Result<Completion, reqwest::Error> {
    let words = search_docs(message);
    tracing::info!(words, "asking the model");
    let started = Instant::now();
    let answer = post(client, &format!("{gateway}/v1/llm/complete"), message).await;
    metrics.llm_duration.record(
        started.elapsed().as_secs_f64(),
        vec![semconv::MODEL.value_static(MODEL)],
    );
    let answer = answer?;
    current_step().record_usage(answer.input_tokens, answer.output_tokens);
    metrics.chat_tokens.add(
        (answer.input_tokens + answer.output_tokens) as i64,
        vec![
            semconv::project::ID.value(project_id.to_string()),
            semconv::MODEL.value_static(MODEL),
        ],
    );
    Ok(answer)
}

/// The gateway's model call: `chat gpt-4o` with the usage it reports.
#[agent_step(operation = chat, model = MODEL, provider = "openai")]
pub fn complete(prompt: &str) -> Completion {
    let input_tokens = 12 + 2 * prompt.split_whitespace().count() as u64;
    let output_tokens = 42;
    current_step().record_usage(input_tokens, output_tokens);
    Completion {
        text: format!(
            "You asked about {} things.",
            prompt.split_whitespace().count()
        ),
        input_tokens,
        output_tokens,
    }
}
