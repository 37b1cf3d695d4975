//! Alert thresholds and objectives declared on a metric of the schema:
//!
//! ```yaml
//! annotations:
//!   semtel:
//!     alerts:
//!       by: [gen_ai.agent.name]          # attributes the alerts keep (and `job`)
//!       labels: {severity: warning}      # labels every alert of the metric gets
//!       failure_ratio:                   # an outcome's failures / all, over a window
//!         above: 0.1
//!         window: 5m                     # default 5m
//!         for: 2m                        # default 5m
//!         alert: AgentStepFailureRate    # default <Subject>FailureRate
//!         summary: "High failure rate for agent {gen_ai.agent.name}"
//!         description: "... {value} ..."
//!       latency:                         # a histogram's quantile, in its unit
//!         quantile: 0.95                 # default 0.95
//!         above: 600
//!       objective:                       # success-ratio objective: burn-rate alerts
//!         target: 0.99
//! ```

use semtel_codegen::model::Metric;
use semtel_codegen::yaml::{Node, Value};

/// A threshold alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// Fires when the value is above this.
    pub above: f64,
    /// The rate window.
    pub window: String,
    /// How long the condition must hold.
    pub for_: String,
    /// The alert's name, when given.
    pub alert: Option<String>,
    /// The summary template (`{attribute.id}`, `{value}`), when given.
    pub summary: Option<String>,
    /// The description template, when given.
    pub description: Option<String>,
}

/// What one metric's `semtel.alerts` block asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertSpec {
    /// Attribute ids the alerts are grouped by.
    pub by: Vec<String>,
    /// Labels added to every alert.
    pub labels: Vec<(String, String)>,
    /// Failure ratio of the metric's outcome.
    pub failure_ratio: Option<Threshold>,
    /// A quantile of a histogram, and its threshold.
    pub latency: Option<(f64, Threshold)>,
    /// A success-ratio objective (0..1) with its optional alert name.
    pub objective: Option<(f64, Option<String>)>,
}

/// Reads the `semtel.alerts` annotation of `m`; every problem is one line
/// naming the place, the key and what is expected.
pub fn parse(m: &Metric) -> Result<Option<AlertSpec>, Vec<String>> {
    let Some(block) = m
        .annotations
        .as_ref()
        .and_then(|a| a.get("semtel"))
        .and_then(|s| s.get("alerts"))
    else {
        return Ok(None);
    };
    let mut p = Parser {
        metric: &m.name,
        errors: Vec::new(),
    };
    let mut spec = AlertSpec::default();
    for (k, v) in p.entries(block, "alerts") {
        match k.as_str() {
            "by" => spec.by = p.strings(v, "alerts.by"),
            "labels" => {
                spec.labels = p
                    .entries(v, "alerts.labels")
                    .into_iter()
                    .filter_map(|(k, v)| p.text(v, &format!("alerts.labels.{k}")).map(|t| (k, t)))
                    .collect()
            }
            "failure_ratio" => {
                spec.failure_ratio = p.threshold(v, "alerts.failure_ratio", &[], true)
            }
            "latency" => {
                let q = v
                    .get("quantile")
                    .map(|q| p.number(q, "alerts.latency.quantile", true))
                    .unwrap_or(Some(0.95));
                if let (Some(q), Some(t)) =
                    (q, p.threshold(v, "alerts.latency", &["quantile"], false))
                {
                    spec.latency = Some((q, t));
                }
            }
            "objective" => {
                let mut target = None;
                let mut alert = None;
                for (k, v) in p.entries(v, "alerts.objective") {
                    match k.as_str() {
                        "target" => target = p.number(v, "alerts.objective.target", true),
                        "alert" => alert = p.text(v, "alerts.objective.alert"),
                        other => p.unknown(v, "alerts.objective", other, "target, alert"),
                    }
                }
                match target {
                    Some(t) if t < 1.0 => spec.objective = Some((t, alert)),
                    Some(_) => p.error(
                        v,
                        "alerts.objective.target must be below 1 (0.99 leaves a 1% error budget)",
                    ),
                    None => p.error(
                        v,
                        "alerts.objective needs `target`, the success ratio to keep (0.99)",
                    ),
                }
            }
            other => p.unknown(
                v,
                "alerts",
                other,
                "by, labels, failure_ratio, latency, objective",
            ),
        }
    }
    if p.errors.is_empty() {
        Ok(Some(spec))
    } else {
        Err(p.errors)
    }
}

struct Parser<'a> {
    metric: &'a str,
    errors: Vec<String>,
}

impl Parser<'_> {
    fn error(&mut self, at: &Node, msg: impl std::fmt::Display) {
        self.errors
            .push(format!("{}: metric `{}`: {msg}", at.loc, self.metric));
    }

    fn unknown(&mut self, at: &Node, path: &str, key: &str, known: &str) {
        self.error(
            at,
            format!("unknown key `{path}.{key}`; expected one of: {known}"),
        );
    }

    fn entries<'n>(&mut self, n: &'n Node, path: &str) -> Vec<(String, &'n Node)> {
        match n.as_map() {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| match k.as_str() {
                    Some(s) => Some((s.to_string(), v)),
                    None => {
                        self.error(k, format!("the keys of `{path}` must be text"));
                        None
                    }
                })
                .collect(),
            None => {
                self.error(n, format!("`{path}` must be a mapping, found {}", n.kind()));
                Vec::new()
            }
        }
    }

    fn text(&mut self, n: &Node, path: &str) -> Option<String> {
        let t = n.scalar_text().filter(|_| !matches!(n.value, Value::Null));
        if t.is_none() {
            self.error(n, format!("`{path}` must be text, found {}", n.kind()));
        }
        t
    }

    fn strings(&mut self, n: &Node, path: &str) -> Vec<String> {
        match n.as_seq() {
            Some(items) => items.iter().filter_map(|i| self.text(i, path)).collect(),
            None => {
                self.error(
                    n,
                    format!(
                        "`{path}` must be a list of attribute ids, found {}",
                        n.kind()
                    ),
                );
                Vec::new()
            }
        }
    }

    fn number(&mut self, n: &Node, path: &str, fraction: bool) -> Option<f64> {
        let v = match n.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        };
        match v {
            Some(v) if v > 0.0 && (!fraction || v <= 1.0) => Some(v),
            _ => {
                let want = if fraction {
                    "a number above 0 and at most 1"
                } else {
                    "a number above 0"
                };
                self.error(n, format!("`{path}` must be {want}, found {}", n.kind()));
                None
            }
        }
    }

    fn duration(&mut self, n: &Node, path: &str) -> Option<String> {
        let t = self.text(n, path)?;
        if is_duration(&t) {
            Some(t)
        } else {
            self.error(
                n,
                format!(
                    "`{path}` must be a Prometheus duration such as 30s, 5m or 1h, found `{t}`"
                ),
            );
            None
        }
    }

    /// `above`, `window`, `for`, `alert`, `summary`, `description`, plus the
    /// keys in `extra` (read by the caller).
    fn threshold(
        &mut self,
        n: &Node,
        path: &str,
        extra: &[&str],
        fraction: bool,
    ) -> Option<Threshold> {
        let mut t = Threshold {
            above: f64::NAN,
            window: "5m".into(),
            for_: "5m".into(),
            alert: None,
            summary: None,
            description: None,
        };
        let before = self.errors.len();
        for (k, v) in self.entries(n, path) {
            let key = format!("{path}.{k}");
            match k.as_str() {
                "above" => t.above = self.number(v, &key, fraction).unwrap_or(f64::NAN),
                "window" => t.window = self.duration(v, &key).unwrap_or_default(),
                "for" => t.for_ = self.duration(v, &key).unwrap_or_default(),
                "alert" => t.alert = self.text(v, &key),
                "summary" => t.summary = self.text(v, &key),
                "description" => t.description = self.text(v, &key),
                other if extra.contains(&other) => {}
                other => self.unknown(
                    v,
                    path,
                    other,
                    "above, window, for, alert, summary, description",
                ),
            }
        }
        if t.above.is_nan() && self.errors.len() == before {
            self.error(n, format!("`{path}` needs `above`, the threshold"));
        }
        (self.errors.len() == before).then_some(t)
    }
}

/// Whether `s` is a Prometheus duration (`90s`, `1h30m`).
pub fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .iter()
            .find(|u| rest.starts_with(*u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn metric_with(annotations: &str) -> Metric {
        let file: Arc<Path> = Arc::from(Path::new("t.yaml"));
        let mut m =
            semtel_codegen::bundled().unwrap().metrics["orchestration.step.failures"].clone();
        m.annotations = Some(Node::parse(annotations, &file).unwrap());
        m
    }

    #[test]
    fn reads_thresholds_and_objectives() {
        let m = metric_with(
            "semtel:\n  alerts:\n    by: [gen_ai.agent.name]\n    labels: {severity: page}\n    failure_ratio: {above: 0.1, for: 2m}\n    objective: {target: 0.99}\n",
        );
        let s = parse(&m).unwrap().unwrap();
        assert_eq!(s.by, ["gen_ai.agent.name"]);
        assert_eq!(s.labels, [("severity".to_string(), "page".to_string())]);
        let f = s.failure_ratio.unwrap();
        assert_eq!(
            (f.above, f.window.as_str(), f.for_.as_str()),
            (0.1, "5m", "2m")
        );
        assert_eq!(s.objective, Some((0.99, None)));
    }

    #[test]
    fn problems_name_the_place_and_the_key() {
        let m = metric_with(
            "semtel:\n  alerts:\n    failure_ratio: {above: 3, for: soon}\n    latncy: {above: 1}\n    objective: {target: 1}\n",
        );
        let errors = parse(&m).unwrap_err();
        let text = errors.join("\n");
        assert!(text.contains("t.yaml:3:28: metric `orchestration.step.failures`: `alerts.failure_ratio.above` must be a number above 0 and at most 1"), "{text}");
        assert!(text.contains("`alerts.failure_ratio.for` must be a Prometheus duration such as 30s, 5m or 1h, found `soon`"), "{text}");
        assert!(text.contains("unknown key `alerts.latncy`; expected one of: by, labels, failure_ratio, latency, objective"), "{text}");
        assert!(
            text.contains("alerts.objective.target must be below 1"),
            "{text}"
        );
    }

    #[test]
    fn durations() {
        for ok in ["5m", "90s", "1h30m", "250ms", "3d"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "5", "m5", "5 m", "5min"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }
}
