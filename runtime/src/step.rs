//! Support for `#[agent_step]`: the step's duration and outcome metrics, and
//! the token usage a step reports while it runs.

use crate::metrics::{self, Histogram};
use crate::outcome::Failure;
use crate::trace::{SpanContext, current_context, current_span};
use opentelemetry::KeyValue;
use semtel_conventions::metrics::{gen_ai, orchestration};
use semtel_conventions::{gen_ai as attr, orchestration as orch};
use std::sync::OnceLock;

struct StepInstruments {
    duration: Histogram<f64>,
    successes: metrics::Counter<i64>,
    failures: metrics::Counter<i64>,
}

fn instruments() -> &'static StepInstruments {
    static I: OnceLock<StepInstruments> = OnceLock::new();
    I.get_or_init(|| StepInstruments {
        duration: Histogram::new(&orchestration::step::DURATION),
        successes: metrics::Counter::new(&orchestration::step::SUCCESSES),
        failures: metrics::Counter::new(&orchestration::step::FAILURES),
    })
}

/// A step being measured: its metric attributes and start time.
pub struct Step {
    start: u64,
    attributes: Vec<KeyValue>,
}

impl Step {
    /// Starts measuring; `None` when metrics are off.
    #[inline]
    pub fn start(attributes: impl FnOnce() -> Vec<KeyValue>) -> Option<Step> {
        metrics::enabled().then(|| Step {
            start: crate::clock::ticks(),
            attributes: attributes(),
        })
    }

    /// Records the step's duration and its success or failure.
    pub fn finish(self, failure: Option<&Failure<'_>>, ctx: SpanContext) {
        let i = instruments();
        let secs = crate::clock::between(self.start, crate::clock::ticks()).as_secs_f64();
        let mut attrs = self.attributes;
        match failure {
            None => {
                i.successes.bind(attrs.clone()).add_in(1, ctx);
                attrs
                    .push(orch::step::OUTCOME.value(orch::step::OrchestrationStepOutcome::Success));
            }
            Some(f) => {
                let error_type = semtel_conventions::error::TYPE.value(f.error_type.to_string());
                let mut failed = attrs.clone();
                failed.push(error_type.clone());
                i.failures.bind(failed).add_in(1, ctx);
                attrs
                    .push(orch::step::OUTCOME.value(orch::step::OrchestrationStepOutcome::Failure));
                attrs.push(error_type);
            }
        }
        i.duration.bind(attrs).record_in(secs, ctx);
    }
}

/// The agent step the calling code runs in.
pub fn current_step() -> CurrentStep {
    CurrentStep { _private: () }
}

/// A handle on the current agent step.
pub struct CurrentStep {
    _private: (),
}

impl CurrentStep {
    /// Reports the tokens the step used: `gen_ai.usage.input_tokens` and
    /// `gen_ai.usage.output_tokens` on its span, and two measurements of
    /// `gen_ai.client.token.usage` (input and output) carrying the span's
    /// operation, provider, model and agent.
    pub fn record_usage(&self, input_tokens: u64, output_tokens: u64) {
        let span = current_span();
        span.set(attr::usage::INPUT_TOKENS, input_tokens);
        span.set(attr::usage::OUTPUT_TOKENS, output_tokens);
        if !metrics::enabled() {
            return;
        }
        static USAGE: OnceLock<Histogram<i64>> = OnceLock::new();
        let usage = USAGE.get_or_init(|| Histogram::new(&gen_ai::client::token::USAGE));
        let allowed = gen_ai::client::token::USAGE.attributes;
        let base: Vec<KeyValue> = span.attributes_where(|k| allowed.contains(&k));
        let ctx = current_context();
        for (ty, n) in [
            (attr::token::GenAiTokenType::Input, input_tokens),
            (attr::token::GenAiTokenType::Output, output_tokens),
        ] {
            let mut a = base.clone();
            a.push(attr::token::TYPE.value(ty));
            usage
                .bind(a)
                .record_in(i64::try_from(n).unwrap_or(i64::MAX), ctx);
        }
    }
}
