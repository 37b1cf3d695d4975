//! The ecosystem suite, run once per way of setting up `tracing` (see
//! `semtel_ecosystem_tests::Mode`): each test binary names its mode.

pub mod conventions;
pub mod http;
pub mod llm;
pub mod otel_api;
pub mod threads;

/// Declares every test of the suite for `$mode`.
macro_rules! suite_tests {
    ($mode:expr) => {
        crate::suite::tests_for!(
            $mode;
            llm::rig_agent_joins_the_step_s_trace,
            llm::genai_chat_joins_the_step_s_trace,
            http::reqwest_client_and_axum_server_share_one_trace,
            otel_api::global_tracer_and_propagator_serve_semtel_spans,
            otel_api::global_tracer_in_async_code,
            otel_api::global_meter_instruments_are_semtel_s,
            threads::carried_context_keeps_children_under_their_span,
            conventions::otel_fields_errors_and_events,
            conventions::events_as_span_events_can_be_switched_off,
            conventions::tracing_and_semtel_spans_nest_both_ways,
        );
    };
}
pub(crate) use suite_tests;

/// One `#[test]` per suite function, each run with `$mode`.
macro_rules! tests_for {
    ($mode:expr; $($module:ident :: $test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                crate::suite::$module::$test($mode);
            }
        )*
    };
}
pub(crate) use tests_for;
