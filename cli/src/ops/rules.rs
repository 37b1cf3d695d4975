//! Prometheus recording and alerting rules from the `semtel.alerts`
//! annotations of a schema's metrics: failure ratio above a threshold, a
//! histogram quantile above a threshold, and multi-window burn-rate alerts
//! for a success objective.

use super::alert_spec::{self, AlertSpec, Threshold};
use super::model::{Model, Outcome};
use super::promql::{Side, quantile, ratio};
use semtel_conventions::Instrument;
use semtel_conventions::prometheus::label_name;

/// One rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// `record: <name>` or `alert: <name>`.
    pub kind: RuleKind,
    /// The PromQL expression.
    pub expr: String,
    /// How long an alert's condition must hold.
    pub for_: Option<String>,
    /// Labels added to the result.
    pub labels: Vec<(String, String)>,
    /// An alert's annotations.
    pub annotations: Vec<(String, String)>,
}

/// Recording or alerting.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    /// A recording rule and the series it writes.
    Record(String),
    /// An alerting rule and the alert's name.
    Alert(String),
}

/// A rule group, evaluated in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Its name, unique in the file.
    pub name: String,
    /// Its rules.
    pub rules: Vec<Rule>,
}

/// The burn-rate alerts: (severity, burn label, for, [(factor, long, short)]).
type Burn = (
    &'static str,
    &'static str,
    &'static str,
    [(f64, &'static str, &'static str); 2],
);
const BURNS: [Burn; 2] = [
    (
        "critical",
        "fast",
        "2m",
        [(14.4, "1h", "5m"), (6.0, "6h", "30m")],
    ),
    (
        "warning",
        "slow",
        "15m",
        [(3.0, "1d", "2h"), (1.0, "3d", "6h")],
    ),
];

/// The rules of every annotated metric, or every problem found.
/// `for_override` replaces every alert's `for:` (drills and tests).
pub fn rules(model: &Model, for_override: Option<&str>) -> Result<Vec<Group>, Vec<String>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut errors = Vec::new();
    let mut ratio_owner: Vec<(String, String)> = Vec::new();
    for (i, m) in model.metrics.iter().enumerate() {
        let spec = match alert_spec::parse(&m.def) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                errors.extend(e);
                continue;
            }
        };
        let place = format!("{}: metric `{}`", m.def.location, m.def.name);
        for a in &spec.by {
            if !m.labels.iter().any(|l| &l.attr == a) {
                let allowed: Vec<&str> = m.labels.iter().map(|l| l.attr.as_str()).collect();
                errors.push(format!(
                    "{place}: `alerts.by` names `{a}`, which is not a low-cardinality attribute of the metric (it has: {})",
                    allowed.join(", ")
                ));
            }
        }
        let outcome = model.outcome_of(i);
        let needs_outcome = spec.failure_ratio.is_some() || spec.objective.is_some();
        if needs_outcome && outcome.is_none() {
            errors.push(format!(
                "{place}: `alerts.failure_ratio`/`alerts.objective` need an outcome: a success/failure counter pair \
                 (`x.successes` and `x.failures`) or an enum attribute `result`, `outcome`, `status` or `state`"
            ));
            continue;
        }
        if spec.latency.is_some() && m.kind != Instrument::Histogram {
            errors.push(format!("{place}: `alerts.latency` needs a histogram"));
            continue;
        }
        let b = Builder {
            spec: &spec,
            by: std::iter::once("job".to_string())
                .chain(spec.by.iter().map(|a| label_name(a)))
                .collect(),
            for_override,
        };
        if let Some(o) = outcome.filter(|_| needs_outcome) {
            if let Some((_, first)) = ratio_owner.iter().find(|(s, _)| s == &o.subject) {
                errors.push(format!(
                    "{place}: the outcome `{}` already has alerts, declared on `{first}`",
                    o.subject
                ));
                continue;
            }
            ratio_owner.push((o.subject.clone(), m.def.name.clone()));
            push(&mut groups, &o.subject, b.outcome_rules(model, o));
        }
        if let Some((q, t)) = &spec.latency {
            let rules = b.latency_rules(model, i, *q, t);
            push(&mut groups, &m.def.name, rules);
        }
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(errors)
    }
}

fn push(groups: &mut Vec<Group>, subject: &str, rules: Vec<Rule>) {
    let name = format!("semtel.{}", label_name(subject));
    match groups.iter_mut().find(|g| g.name == name) {
        Some(g) => g.rules.extend(rules),
        None => groups.push(Group { name, rules }),
    }
}

struct Builder<'a> {
    spec: &'a AlertSpec,
    by: Vec<String>,
    for_override: Option<&'a str>,
}

impl Builder<'_> {
    fn record_name(&self, subject: &str, what: &str) -> String {
        format!("{}:{}:{what}", self.by.join("_"), label_name(subject))
    }

    fn labels(&self, severity: &str) -> Vec<(String, String)> {
        let mut out = vec![("severity".to_string(), severity.to_string())];
        for (k, v) in &self.spec.labels {
            match out.iter_mut().find(|(ok, _)| ok == k) {
                Some(e) => e.1 = v.clone(),
                None => out.push((k.clone(), v.clone())),
            }
        }
        out
    }

    /// `{attribute.id}` becomes the label's value, `{value}` the alert's value.
    fn template(&self, text: &str, value: &str) -> String {
        let mut out = text.replace("{value}", value);
        for a in &self.spec.by {
            out = out.replace(
                &format!("{{{a}}}"),
                &format!("{{{{ $labels.{} }}}}", label_name(a)),
            );
        }
        out
    }

    fn for_each_label(&self) -> String {
        let parts: Vec<String> = self
            .spec
            .by
            .iter()
            .map(|a| format!("{a}={{{a}}}"))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" for {}", parts.join(", "))
        }
    }

    fn alert(
        &self,
        name: String,
        expr: String,
        t: &Threshold,
        summary: String,
        description: String,
        value: &str,
    ) -> Rule {
        Rule {
            kind: RuleKind::Alert(name),
            expr,
            for_: Some(self.for_override.unwrap_or(&t.for_).to_string()),
            labels: self.labels("warning"),
            annotations: vec![
                (
                    "summary".into(),
                    self.template(t.summary.as_deref().unwrap_or(&summary), value),
                ),
                (
                    "description".into(),
                    self.template(t.description.as_deref().unwrap_or(&description), value),
                ),
            ],
        }
    }

    fn outcome_rules(&self, model: &Model, o: &Outcome) -> Vec<Rule> {
        let mut rules = Vec::new();
        let mut windows: Vec<&str> = Vec::new();
        if let Some(t) = &self.spec.failure_ratio {
            windows.push(&t.window);
        }
        if self.spec.objective.is_some() {
            for (_, _, _, pairs) in &BURNS {
                for (_, long, short) in pairs {
                    windows.extend([*short, *long]);
                }
            }
        }
        let mut seen = Vec::new();
        for w in windows {
            if seen.contains(&w) {
                continue;
            }
            seen.push(w);
            rules.push(Rule {
                kind: RuleKind::Record(
                    self.record_name(&o.subject, &format!("failure_ratio_rate{w}")),
                ),
                expr: ratio(model, o, Side::Failure, &self.by, &[], w),
                for_: None,
                labels: Vec::new(),
                annotations: Vec::new(),
            });
        }
        let recorded = |w: &str| self.record_name(&o.subject, &format!("failure_ratio_rate{w}"));
        let base = camel(&o.subject);
        if let Some(t) = &self.spec.failure_ratio {
            rules.push(
                self.alert(
                    t.alert
                        .clone()
                        .unwrap_or_else(|| format!("{base}FailureRate")),
                    format!("{} > {}", recorded(&t.window), number(t.above)),
                    t,
                    format!(
                        "High failure rate of {}{}",
                        o.subject,
                        self.for_each_label()
                    ),
                    format!(
                        "{} failed {{value}} of the time over {} (threshold {})",
                        o.subject,
                        t.window,
                        number(t.above)
                    ),
                    "{{ $value | humanizePercentage }}",
                ),
            );
        }
        if let Some((target, name)) = &self.spec.objective {
            let budget = 1.0 - target;
            for (severity, burn, for_, pairs) in &BURNS {
                let conditions: Vec<String> = pairs
                    .iter()
                    .map(|(f, long, short)| {
                        let th = number(f * budget);
                        format!("({} > {th} and {} > {th})", recorded(long), recorded(short))
                    })
                    .collect();
                let t = Threshold {
                    above: budget,
                    window: String::new(),
                    for_: for_.to_string(),
                    alert: None,
                    summary: None,
                    description: None,
                };
                let mut rule = self.alert(
                    name.clone().unwrap_or_else(|| format!("{base}ErrorBudgetBurn")),
                    conditions.join(" or "),
                    &t,
                    format!("{} is burning its error budget{}", o.subject, self.for_each_label()),
                    format!(
                        "{} fails often enough to spend the {} error budget of a {} success objective {} \
                         ({}x over {} and {}, or {}x over {} and {})",
                        o.subject,
                        percent(budget),
                        percent(*target),
                        if *burn == "fast" { "within days" } else { "within the month" },
                        pairs[0].0, pairs[0].1, pairs[0].2, pairs[1].0, pairs[1].1, pairs[1].2
                    ),
                    "",
                );
                // The burn's own severity: a fast burn pages, a slow one warns.
                for l in rule.labels.iter_mut().filter(|(k, _)| k == "severity") {
                    l.1 = severity.to_string();
                }
                rule.labels.push(("burn".into(), burn.to_string()));
                rules.push(rule);
            }
        }
        rules
    }

    fn latency_rules(&self, model: &Model, i: usize, q: f64, t: &Threshold) -> Vec<Rule> {
        let m = &model.metrics[i];
        let p = format!("p{}", number(q * 100.0).replace('.', "_"));
        let record = self.record_name(&m.def.name, &format!("{p}_rate{}", t.window));
        let unit = m.prom.unit().unwrap_or("");
        vec![
            Rule {
                kind: RuleKind::Record(record.clone()),
                expr: quantile(m, q, &self.by[..], &[], &t.window),
                for_: None,
                labels: Vec::new(),
                annotations: Vec::new(),
            },
            self.alert(
                t.alert
                    .clone()
                    .unwrap_or_else(|| format!("{}High{}", camel(&m.def.name), p.to_uppercase())),
                format!("{record} > {}", number(t.above)),
                t,
                format!("Slow {}{}", m.def.name, self.for_each_label()),
                format!(
                    "The {p} of {} is {{value}} {unit} over {} (threshold {})",
                    m.def.name,
                    t.window,
                    number(t.above)
                ),
                "{{ $value }}",
            ),
        ]
    }
}

/// `orchestration.step` → `OrchestrationStep`.
fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A number without float noise (`0.144`, not `0.14400000000000002`).
fn number(v: f64) -> String {
    let r = (v * 1e9).round() / 1e9;
    format!("{r}")
}

fn percent(v: f64) -> String {
    format!("{}%", number(v * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(camel("orchestration.step"), "OrchestrationStep");
        assert_eq!(camel("tool_call"), "ToolCall");
        assert_eq!(number(14.4 * (1.0 - 0.99)), "0.144");
        assert_eq!(percent(0.99), "99%");
    }
}
