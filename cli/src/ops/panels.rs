//! The panels of one schema metric and the dashboards of a schema: one per
//! schema file, a row per metric.

use super::grafana::{Dashboard, Panel, Target, Variable, rate_unit, value_unit};
use super::model::{Model, OpsMetric, OutcomeKind};
use super::promql::{Side, aggregate, event_series, quantile, rate, ratio, selector, sum_by};
use semtel_conventions::Instrument;
use std::collections::BTreeMap;

/// The rate window Grafana picks from the scrape interval and the zoom.
pub const RATE: &str = "$__rate_interval";

/// The variables every generated dashboard starts with: the service (from
/// `target_info`) and the scrape jobs of the chosen services.
pub fn service_variables() -> Vec<Variable> {
    vec![
        Variable::query(
            "service_name",
            "Service",
            "label_values(target_info, service_name)",
            Some(".*"),
        ),
        Variable::query(
            "job",
            "Job",
            "label_values(target_info{service_name=~\"$service_name\"}, job)",
            None,
        ),
    ]
}

/// The matchers that apply a dashboard's variables to one metric.
pub fn matchers(m: &OpsMetric, variables: &[Variable]) -> Vec<String> {
    let mut out = vec!["job=~\"$job\"".to_string()];
    for l in &m.labels {
        if variables.iter().any(|v| v.name == l.name) {
            out.push(format!("{}=~\"${}\"", l.name, l.name));
        }
    }
    out
}

/// A variable for each enum label the metrics carry, listing the values seen.
pub fn enum_variables<'m>(metrics: impl Iterator<Item = &'m OpsMetric> + Clone) -> Vec<Variable> {
    let mut by_label: BTreeMap<&str, (&str, Vec<String>)> = BTreeMap::new();
    for m in metrics {
        for l in m.labels.iter().filter(|l| l.members.is_some()) {
            let entry = by_label.entry(&l.name).or_insert((&l.attr, Vec::new()));
            let series = event_series(m);
            if !entry.1.contains(&series) {
                entry.1.push(series);
            }
        }
    }
    by_label
        .into_iter()
        .map(|(label, (attr, series))| {
            Variable::query(
                label,
                attr,
                format!(
                    "label_values({{__name__=~\"{}\", job=~\"$job\"}}, {label})",
                    series.join("|")
                ),
                Some(".*"),
            )
        })
        .collect()
}

fn legend(labels: &[String], fallback: &str) -> String {
    if labels.is_empty() {
        fallback.to_string()
    } else {
        labels
            .iter()
            .map(|l| format!("{{{{{l}}}}}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The row of panels for metric `i` of the model.
pub fn metric_panels(model: &Model, i: usize, variables: &[Variable]) -> Vec<Panel> {
    let m = &model.metrics[i];
    let ms = matchers(m, variables);
    let labels: Vec<String> = m.labels.iter().map(|l| l.name.clone()).collect();
    let name = &m.def.name;
    let mut panels = vec![Panel::row(format!("{name} ({})", m.prom.family()))];
    // The success ratio of an outcome is shown once, with its failure side.
    let shown = model.outcome_of(i).filter(|o| match o.kind {
        OutcomeKind::Pair { failure, .. } => failure == i,
        OutcomeKind::Attribute { .. } => true,
    });
    let ratio_panel = shown.map(|o| {
        // The outcome's own label is chosen by the ratio, not by a variable.
        let ms: Vec<String> = match &o.kind {
            OutcomeKind::Attribute { label, .. } => ms
                .iter()
                .filter(|m| !m.starts_with(&format!("{label}=~")))
                .cloned()
                .collect(),
            OutcomeKind::Pair { .. } => ms.clone(),
        };
        let by: Vec<String> = o
            .common_labels(model)
            .iter()
            .map(|l| l.name.clone())
            .filter(|l| variables.iter().any(|v| &v.name == l))
            .take(1)
            .collect();
        Panel::new("stat", format!("{}: success ratio", o.subject), 8)
            .describe(format!(
                "Successes / (successes + failures) of {} over the rate interval.",
                o.subject
            ))
            .unit("percentunit")
            .target(Target::new(
                ratio(model, o, Side::Success, &by, &ms, RATE),
                legend(&by, &o.subject),
            ))
    });
    let wide = if ratio_panel.is_some() { 16 } else { 24 };
    match m.kind {
        Instrument::Counter => {
            let expr = sum_by(&labels, &rate(&selector(&m.prom.sample(), &ms), RATE));
            panels.push(
                Panel::new("timeseries", format!("{name}: rate"), wide)
                    .describe(format!(
                        "{} Per second, by {}.",
                        m.def.brief,
                        label_list(&labels)
                    ))
                    .unit(rate_unit(&m.def.unit))
                    .target(Target::new(expr, legend(&labels, name))),
            );
        }
        Instrument::Histogram => {
            let unit = value_unit(&m.def.unit);
            let width = if ratio_panel.is_some() { 8 } else { 12 };
            let mut q = Panel::new("timeseries", format!("{name}: p50, p95, p99"), width)
                .describe(format!(
                    "{} Quantiles from the histogram buckets.",
                    m.def.brief
                ))
                .unit(unit);
            for p in [0.5, 0.95, 0.99] {
                q = q.target(Target::new(
                    quantile(m, p, &[], &ms, RATE),
                    format!("p{}", (p * 100.0) as u32),
                ));
            }
            panels.push(q);
            panels.push(heatmap(m, &ms, width));
        }
        Instrument::UpDownCounter | Instrument::Gauge => {
            let op = if matches!(m.def.unit.as_str(), "1" | "%") {
                "avg"
            } else {
                "sum"
            };
            let sel = selector(&m.prom.sample(), &ms);
            let unit = value_unit(&m.def.unit);
            panels.push(
                Panel::new("stat", format!("{name}: now"), 6)
                    .describe(format!(
                        "{} The latest value ({op} over series).",
                        m.def.brief
                    ))
                    .unit(unit)
                    .target(Target::instant(aggregate(op, &[], &sel), name.clone())),
            );
            panels.push(
                Panel::new("timeseries", format!("{name}: over time"), 18)
                    .describe(format!("{} By {}.", m.def.brief, label_list(&labels)))
                    .unit(unit)
                    .target(Target::new(
                        aggregate(op, &labels, &sel),
                        legend(&labels, name),
                    )),
            );
        }
    }
    panels.extend(ratio_panel);
    panels
}

/// A heatmap of a histogram's buckets with exemplars (their `trace_id`
/// links to the trace through the data source's exemplar settings).
pub fn heatmap(m: &OpsMetric, matchers: &[String], width: u32) -> Panel {
    let expr = sum_by(
        &["le".to_string()],
        &format!("increase({}[{RATE}])", selector(&m.prom.bucket(), matchers)),
    );
    let mut t = Target::new(expr, "{{le}}");
    t.heatmap = true;
    t.exemplar = true;
    Panel::new("heatmap", format!("{}: distribution", m.def.name), width)
        .describe(format!(
            "{} Bucket counts per interval; exemplar points link to their trace by trace_id.",
            m.def.brief
        ))
        .unit(value_unit(&m.def.unit))
        .target(t)
}

fn label_list(labels: &[String]) -> String {
    if labels.is_empty() {
        "no attribute".to_string()
    } else {
        labels.join(", ")
    }
}

/// One dashboard per schema file that defines metrics (`imported` ones,
/// from a base schema, are left out), keyed by the file's stem.
pub fn schema_dashboards(model: &Model) -> BTreeMap<String, Dashboard> {
    let mut by_file: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, m) in model.metrics.iter().enumerate() {
        if m.def.imported {
            continue;
        }
        let stem = m
            .def
            .location
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "metrics".into());
        by_file.entry(stem).or_default().push(i);
    }
    by_file
        .into_iter()
        .map(|(stem, members)| {
            let mut variables = service_variables();
            variables.extend(enum_variables(members.iter().map(|&i| &model.metrics[i])));
            let panels = members
                .iter()
                .flat_map(|&i| metric_panels(model, i, &variables))
                .collect();
            let uid: String = format!("semtel-{stem}").chars().take(40).collect();
            let names: Vec<&str> = members
                .iter()
                .map(|&i| model.metrics[i].def.name.as_str())
                .collect();
            let d = Dashboard {
                title: format!("{stem} metrics"),
                uid,
                description: format!(
                    "Generated by `semtel dashboards` from the metrics of the schema file `{stem}`: {}.",
                    names.join(", ")
                ),
                tags: vec!["semtel".into(), stem.clone()],
                variables,
                panels,
            };
            (stem, d)
        })
        .collect()
}
