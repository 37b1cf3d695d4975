//! LLM clients called inside `#[agent_step]`: rig's agent (rig-core and
//! rig-agent 0.44) and the `genai` crate with its `otel` feature, against
//! the fake OpenAI-compatible server. Their spans join the step's trace
//! under the step, with their `gen_ai.*` attributes typed as the
//! conventions say, and the request the server receives names a span of
//! that trace.

use opentelemetry::Value;
use semtel::conventions::SpanKind;
use semtel::trace::SpanRecord;
use semtel_ecosystem_tests::fake_llm::{ANSWER, INPUT_TOKENS, OUTPUT_TOKENS};
use semtel_ecosystem_tests::{FakeLlm, Mode, Session, assert_child, attr, names, one};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Asserts that the fake received one request whose `traceparent` names a
/// span of `spans` in the trace of `step`.
fn assert_traceparent_in_trace(llm: &FakeLlm, spans: &[SpanRecord], step: &SpanRecord) {
    let seen = llm.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let tp = seen[0]
        .traceparent
        .as_deref()
        .expect("a traceparent header");
    let parsed = semtel::propagation::parse_traceparent(tp).expect("a valid traceparent");
    assert_eq!(parsed.trace_id, step.trace_id, "traceparent {tp}");
    assert!(
        spans
            .iter()
            .any(|s| s.span_id == parsed.span_id && s.trace_id == step.trace_id),
        "traceparent {tp} names no span of the trace: {:?}",
        names(spans)
    );
}

fn assert_usage(span: &SpanRecord) {
    assert_eq!(
        span.attribute("gen_ai.usage.input_tokens"),
        Some(&Value::I64(INPUT_TOKENS)),
        "{:?}",
        span.attributes
    );
    assert_eq!(
        span.attribute("gen_ai.usage.output_tokens"),
        Some(&Value::I64(OUTPUT_TOKENS))
    );
}

mod rig_step {
    use rig_core::providers::openai::OpenAIConfig;

    /// An agent of rig's, talking to `base_url` through a reqwest-middleware
    /// client that writes the current context into each request.
    pub fn agent(base_url: String) -> rig_agent::Agent {
        let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(semtel::TraceContextMiddleware)
            .build();
        let openai = OpenAIConfig::new("test-key")
            .with_base_url(base_url)
            .connect(rig_reqwest::ReqwestMiddlewareClient::from(http));
        rig_agent::AgentBuilder::new(openai.chat("gpt-4o-mini"))
            .name("coder")
            .preamble("Answer in one word.")
            .build()
    }

    #[semtel::agent_step(agent = "coder", model = "gpt-4o-mini", provider = "openai")]
    pub async fn ask(agent: &rig_agent::Agent) -> Result<String, String> {
        let out = agent
            .prompt("Capital of France?")
            .await
            .map_err(|e| e.to_string())?;
        Ok(out.output().to_string())
    }
}

pub fn rig_agent_joins_the_step_s_trace(mode: Mode) {
    let session = Session::start(mode);
    let llm = FakeLlm::start();
    let agent = rig_step::agent(llm.base_url());
    let out = runtime().block_on(rig_step::ask(&agent));
    assert_eq!(out.as_deref(), Ok(ANSWER));
    let spans = session.spans();
    let step = one(&spans, "invoke_agent coder");
    // rig adopts the current span as its agent span; its completion spans
    // hang under it, in the step's trace.
    let chats: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.attribute("gen_ai.operation.name").map(|v| v.as_str()) == Some("chat".into()))
        .collect();
    assert!(!chats.is_empty(), "no chat span: {:?}", names(&spans));
    for chat in &chats {
        assert_eq!(chat.trace_id, step.trace_id, "{}", chat.name);
    }
    let top = chats
        .iter()
        .find(|c| c.parent_span_id == step.span_id)
        .unwrap_or_else(|| panic!("no chat span under the step: {:?}", names(&spans)));
    assert_eq!(attr(top, "gen_ai.request.model"), "gpt-4o-mini");
    assert!(
        chats
            .iter()
            .any(|c| c.attribute("gen_ai.usage.input_tokens").is_some()),
        "no chat span with usage: {:?}",
        chats.iter().map(|c| &c.attributes).collect::<Vec<_>>()
    );
    for c in chats
        .iter()
        .filter(|c| c.attribute("gen_ai.usage.input_tokens").is_some())
    {
        assert_usage(c);
    }
    assert_traceparent_in_trace(&llm, &spans, step);
}

mod genai_step {
    use genai::adapter::AdapterKind;
    use genai::chat::{ChatMessage, ChatOptions, ChatRequest};
    use genai::resolver::{AuthData, Endpoint};
    use genai::{Client, ModelIden, ServiceTarget};

    #[semtel::agent_step(agent = "writer", model = "gpt-4o-mini", provider = "openai")]
    pub async fn ask(base_url: &str) -> Result<String, String> {
        let target = ServiceTarget {
            endpoint: Endpoint::from_owned(format!("{base_url}/")),
            auth: AuthData::from_single("test-key"),
            model: ModelIden::new(AdapterKind::OpenAI, "gpt-4o-mini"),
        };
        // genai takes extra headers per request: the current context's.
        let mut headers = http::HeaderMap::new();
        semtel::propagation::inject(&mut headers);
        let headers: Vec<(String, String)> = headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let options = ChatOptions::default().with_extra_headers(headers);
        let request = ChatRequest::new(vec![ChatMessage::user("Capital of France?")]);
        let response = Client::new()
            .map_err(|e| e.to_string())?
            .exec_chat(target, request, Some(&options))
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.first_text().unwrap_or_default().to_string())
    }
}

pub fn genai_chat_joins_the_step_s_trace(mode: Mode) {
    let session = Session::start(mode);
    let llm = FakeLlm::start();
    let out = runtime().block_on(genai_step::ask(&llm.base_url()));
    assert_eq!(out.as_deref(), Ok(ANSWER));
    let spans = session.spans();
    let step = one(&spans, "invoke_agent writer");
    // genai names its span with `otel.name` and makes it a client span.
    let chat = one(&spans, "chat gpt-4o-mini");
    assert_child(chat, step);
    assert_eq!(chat.kind, SpanKind::Client);
    assert_eq!(attr(chat, "gen_ai.operation.name"), "chat");
    assert_eq!(attr(chat, "gen_ai.provider.name"), "openai");
    assert_eq!(
        chat.attribute("gen_ai.request.stream"),
        Some(&Value::Bool(false))
    );
    assert!(chat.attribute("otel.name").is_none() && chat.attribute("otel.kind").is_none());
    assert_usage(chat);
    assert_traceparent_in_trace(&llm, &spans, step);
}
