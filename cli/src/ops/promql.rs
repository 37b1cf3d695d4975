//! PromQL built from the metric model, shared by dashboards and rules.

use super::model::{Model, OpsMetric, Outcome, OutcomeKind};

/// A series selector: `name{matcher,...}`.
pub fn selector(name: &str, matchers: &[String]) -> String {
    if matchers.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", matchers.join(", "))
    }
}

/// `sum by (labels) (inner)`, or `sum(inner)` without labels.
pub fn sum_by(labels: &[String], inner: &str) -> String {
    aggregate("sum", labels, inner)
}

/// `op by (labels) (inner)`, or `op(inner)` without labels.
pub fn aggregate(op: &str, labels: &[String], inner: &str) -> String {
    if labels.is_empty() {
        format!("{op}({inner})")
    } else {
        format!("{op} by ({}) ({inner})", labels.join(", "))
    }
}

/// `rate(selector[window])`.
pub fn rate(selector: &str, window: &str) -> String {
    format!("rate({selector}[{window}])")
}

/// The `q` quantile of a histogram over `window`, grouped by `labels`.
pub fn quantile(
    m: &OpsMetric,
    q: f64,
    labels: &[String],
    matchers: &[String],
    window: &str,
) -> String {
    let mut by = vec!["le".to_string()];
    by.extend(labels.iter().cloned());
    format!(
        "histogram_quantile({q}, {})",
        sum_by(&by, &rate(&selector(&m.prom.bucket(), matchers), window))
    )
}

/// The series a metric counts events with: a counter's samples or a
/// histogram's `_count`.
pub fn event_series(m: &OpsMetric) -> String {
    match m.kind {
        semtel_conventions::Instrument::Histogram => m.prom.count(),
        _ => m.prom.sample(),
    }
}

/// A regular-expression matcher for one of `values`.
pub fn one_of(label: &str, values: &[String]) -> String {
    format!("{label}=~\"{}\"", values.join("|"))
}

/// The per-second rates of successes and failures of an outcome, grouped by
/// `labels`. Each falls back to zero where only the other has series, so a
/// ratio exists as soon as either does.
pub fn outcome_rates(
    model: &Model,
    o: &Outcome,
    labels: &[String],
    matchers: &[String],
    window: &str,
) -> (String, String) {
    let rated = |i: usize, extra: Option<String>| {
        let mut ms = matchers.to_vec();
        ms.extend(extra);
        sum_by(
            labels,
            &rate(&selector(&event_series(&model.metrics[i]), &ms), window),
        )
    };
    let (ok, failed) = match &o.kind {
        OutcomeKind::Pair { success, failure } => (rated(*success, None), rated(*failure, None)),
        OutcomeKind::Attribute {
            metric,
            label,
            success,
            failure,
        } => (
            rated(*metric, Some(one_of(label, success))),
            rated(*metric, Some(one_of(label, failure))),
        ),
    };
    (
        format!("({ok} or 0 * {failed})"),
        format!("({failed} or 0 * {ok})"),
    )
}

/// Which share of an outcome a ratio measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Successes / (successes + failures).
    Success,
    /// Failures / (successes + failures).
    Failure,
}

/// The share of outcomes on `side` over `window`, grouped by `labels`.
pub fn ratio(
    model: &Model,
    o: &Outcome,
    side: Side,
    labels: &[String],
    matchers: &[String],
    window: &str,
) -> String {
    let (ok, failed) = outcome_rates(model, o, labels, matchers, window);
    let part = if side == Side::Success { &ok } else { &failed };
    format!("{part} / ({ok} + {failed})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_fall_back_to_zero_for_a_missing_side() {
        let model = Model::new(&semtel_codegen::bundled().unwrap());
        let o = model
            .outcomes
            .iter()
            .find(|o| o.subject == "orchestration.step")
            .unwrap();
        let e = ratio(
            &model,
            o,
            Side::Failure,
            &["gen_ai_agent_name".into()],
            &[],
            "5m",
        );
        assert_eq!(
            e,
            "(sum by (gen_ai_agent_name) (rate(orchestration_step_failures_total[5m])) \
             or 0 * sum by (gen_ai_agent_name) (rate(orchestration_step_successes_total[5m]))) / \
             ((sum by (gen_ai_agent_name) (rate(orchestration_step_successes_total[5m])) \
             or 0 * sum by (gen_ai_agent_name) (rate(orchestration_step_failures_total[5m]))) + \
             (sum by (gen_ai_agent_name) (rate(orchestration_step_failures_total[5m])) \
             or 0 * sum by (gen_ai_agent_name) (rate(orchestration_step_successes_total[5m]))))"
        );
        let calls = model
            .outcomes
            .iter()
            .find(|o| o.subject == "function.calls")
            .unwrap();
        let e = ratio(
            &model,
            calls,
            Side::Success,
            &[],
            &["job=~\"$job\"".into()],
            "1m",
        );
        assert!(
            e.starts_with(
                "(sum(rate(function_calls_total{job=~\"$job\", result=~\"ok\"}[1m])) or 0 * "
            ),
            "{e}"
        );
    }
}
