//! What the operations generators know about a schema's metrics: their
//! Prometheus names (from the exporter's own naming functions), the labels
//! worth grouping by, and which metrics report outcomes.

use semtel_codegen::Registry;
use semtel_codegen::model::{self, Metric, TypeKind};
use semtel_conventions::Instrument;
use semtel_conventions::prometheus::{MetricName, label_name, metric_name};

/// One metric as the generators see it.
#[derive(Clone, Debug)]
pub struct OpsMetric {
    /// The schema's definition.
    pub def: Metric,
    /// The instrument.
    pub kind: Instrument,
    /// Its Prometheus names.
    pub prom: MetricName,
    /// Its low-cardinality attributes as labels, in schema order.
    pub labels: Vec<Label>,
}

/// An attribute as a Prometheus label.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The attribute id (`gen_ai.agent.name`).
    pub attr: String,
    /// The label name (`gen_ai_agent_name`).
    pub name: String,
    /// The values of an enum attribute.
    pub members: Option<Vec<String>>,
}

/// A metric, or a pair of metrics, that tells successes from failures.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// What succeeds or fails, in the schema's spelling (`orchestration.step`).
    pub subject: String,
    /// How the outcome is read.
    pub kind: OutcomeKind,
}

/// The two shapes of outcome the generators recognize.
#[derive(Clone, Debug)]
pub enum OutcomeKind {
    /// Two counters, `<subject>.successes` and `<subject>.failures` (or
    /// `success`/`failure`, `completed`/`failed`, ...).
    Pair {
        /// Index of the success counter.
        success: usize,
        /// Index of the failure counter.
        failure: usize,
    },
    /// One counter or histogram with an enum attribute named `result`,
    /// `outcome`, `status` or `state` whose members include success and
    /// failure values.
    Attribute {
        /// Index of the metric.
        metric: usize,
        /// The label.
        label: String,
        /// Its values that mean success.
        success: Vec<String>,
        /// Its values that mean failure.
        failure: Vec<String>,
    },
}

const SUCCESS_WORDS: &[&str] = &[
    "successes",
    "success",
    "succeeded",
    "ok",
    "completed",
    "complete",
    "done",
];
const FAILURE_WORDS: &[&str] = &[
    "failures", "failure", "failed", "fail", "fails", "errors", "error",
];
const OUTCOME_ATTRS: &[&str] = &["result", "outcome", "status", "state"];

/// The metrics of a registry and the outcomes among them.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Every metric, in name order.
    pub metrics: Vec<OpsMetric>,
    /// The outcomes, in the order their metrics come.
    pub outcomes: Vec<Outcome>,
}

impl Model {
    /// The model of every metric of `reg` (imported ones included).
    pub fn new(reg: &Registry) -> Model {
        let metrics: Vec<OpsMetric> = reg.metrics.values().map(|m| ops_metric(reg, m)).collect();
        let outcomes = outcomes(&metrics);
        Model { metrics, outcomes }
    }

    /// The metric named `name` in the schema.
    pub fn metric(&self, name: &str) -> Option<&OpsMetric> {
        self.metrics.iter().find(|m| m.def.name == name)
    }

    /// The outcome `metric` takes part in, if any.
    pub fn outcome_of(&self, metric: usize) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.members().contains(&metric))
    }
}

impl Outcome {
    /// The indexes of the metrics it reads.
    pub fn members(&self) -> Vec<usize> {
        match &self.kind {
            OutcomeKind::Pair { success, failure } => vec![*success, *failure],
            OutcomeKind::Attribute { metric, .. } => vec![*metric],
        }
    }

    /// The labels every member carries, so a ratio can be grouped by them.
    pub fn common_labels<'m>(&self, model: &'m Model) -> Vec<&'m Label> {
        let members = self.members();
        let first = &model.metrics[members[0]];
        first
            .labels
            .iter()
            .filter(|l| {
                members
                    .iter()
                    .all(|&i| model.metrics[i].labels.iter().any(|o| o.name == l.name))
            })
            .filter(|l| match &self.kind {
                OutcomeKind::Attribute { label, .. } => &l.name != label,
                OutcomeKind::Pair { .. } => true,
            })
            .collect()
    }
}

fn ops_metric(reg: &Registry, m: &Metric) -> OpsMetric {
    let kind = match m.instrument {
        model::Instrument::Counter => Instrument::Counter,
        model::Instrument::UpDownCounter => Instrument::UpDownCounter,
        model::Instrument::Histogram => Instrument::Histogram,
        model::Instrument::Gauge => Instrument::Gauge,
    };
    let labels = m
        .attributes
        .iter()
        .filter_map(|u| reg.attributes.get(&u.id))
        .filter(|a| !a.high_cardinality && !a.ty.template)
        .map(|a| Label {
            attr: a.id.clone(),
            name: label_name(&a.id),
            members: match &a.ty.kind {
                TypeKind::Enum(e) => Some(e.members.iter().map(|m| m.value.to_string()).collect()),
                _ => None,
            },
        })
        .collect();
    OpsMetric {
        prom: metric_name(&m.name, &m.unit, kind),
        def: m.clone(),
        kind,
        labels,
    }
}

/// Splits `a.b.successes` / `task_success` into the stem and the last word.
fn stem_and_word(name: &str) -> Option<(&str, &str)> {
    let i = name.rfind(['.', '_'])?;
    Some((&name[..i], &name[i + 1..]))
}

fn outcomes(metrics: &[OpsMetric]) -> Vec<Outcome> {
    let mut out = Vec::new();
    let counters = || {
        metrics
            .iter()
            .enumerate()
            .filter(|(_, m)| m.kind == Instrument::Counter)
    };
    for (fi, f) in counters() {
        let Some((stem, word)) = stem_and_word(&f.def.name) else {
            continue;
        };
        if !FAILURE_WORDS.contains(&word) {
            continue;
        }
        // The first success word that names a counter with the same stem.
        let success = SUCCESS_WORDS
            .iter()
            .find_map(|w| counters().find(|(_, s)| stem_and_word(&s.def.name) == Some((stem, w))));
        if let Some((si, _)) = success {
            out.push(Outcome {
                subject: stem.to_string(),
                kind: OutcomeKind::Pair {
                    success: si,
                    failure: fi,
                },
            });
        }
    }
    for (i, m) in metrics.iter().enumerate() {
        if !matches!(m.kind, Instrument::Counter | Instrument::Histogram) {
            continue;
        }
        for l in &m.labels {
            let last = l.attr.rsplit('.').next().unwrap_or(&l.attr);
            let Some(values) = l.members.as_ref().filter(|_| OUTCOME_ATTRS.contains(&last)) else {
                continue;
            };
            let pick = |words: &[&str]| -> Vec<String> {
                values
                    .iter()
                    .filter(|v| words.contains(&v.as_str()))
                    .cloned()
                    .collect()
            };
            let (success, failure) = (pick(SUCCESS_WORDS), pick(FAILURE_WORDS));
            if !success.is_empty() && !failure.is_empty() {
                out.push(Outcome {
                    subject: m.def.name.clone(),
                    kind: OutcomeKind::Attribute {
                        metric: i,
                        label: l.name.clone(),
                        success,
                        failure,
                    },
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Model {
        Model::new(&semtel_codegen::bundled().expect("bundled schema"))
    }

    #[test]
    fn names_come_from_the_exporters_function() {
        let m = bundled();
        let d = m.metric("orchestration.step.duration").unwrap();
        assert_eq!(
            d.prom.bucket(),
            "orchestration_step_duration_seconds_bucket"
        );
        let c = m.metric("orchestration.step.failures").unwrap();
        assert_eq!(c.prom.sample(), "orchestration_step_failures_total");
        assert!(c.labels.iter().any(|l| l.name == "gen_ai_agent_name"));
    }

    #[test]
    fn outcomes_are_found_by_pair_and_by_attribute() {
        let m = bundled();
        let subjects: Vec<&str> = m.outcomes.iter().map(|o| o.subject.as_str()).collect();
        assert!(subjects.contains(&"orchestration.step"), "{subjects:?}");
        assert!(subjects.contains(&"function.calls"), "{subjects:?}");
        assert!(
            subjects.contains(&"orchestration.tasks.completed"),
            "{subjects:?}"
        );
        let tasks = m
            .outcomes
            .iter()
            .find(|o| o.subject == "orchestration.tasks.completed")
            .unwrap();
        match &tasks.kind {
            OutcomeKind::Attribute {
                label,
                success,
                failure,
                ..
            } => {
                assert_eq!(label, "orchestration_task_state");
                assert_eq!(success, &["completed"]);
                assert_eq!(failure, &["failed"]);
            }
            k => panic!("{k:?}"),
        }
        // High-cardinality attributes are never labels to group by.
        let claimed = m.metric("orchestration.tasks.claimed").unwrap();
        assert!(
            claimed
                .labels
                .iter()
                .all(|l| l.attr != "orchestration.task.id")
        );
    }

    #[test]
    fn pair_words_match_whole_words_only() {
        assert_eq!(stem_and_word("task_failure"), Some(("task", "failure")));
        assert_eq!(
            stem_and_word("agent_step.fail"),
            Some(("agent_step", "fail"))
        );
        assert_eq!(stem_and_word("x"), None);
    }
}
