//! Reads Grafana dashboard JSON: checks the structure Grafana needs to load
//! and render it, and lists every query with its template variables.

use serde_json::Value;
use std::collections::HashSet;

/// One PromQL query of a panel.
#[derive(Clone, Debug)]
pub struct Query {
    /// `<dashboard uid> / <panel title> (id N) / <refId>`, for messages.
    pub place: String,
    /// The expression as written (with `$variables`).
    pub expr: String,
    /// Whether the panel asks for exemplars with it.
    pub exemplar: bool,
}

/// A query variable: its name, `label_values(...)` query and "All" value.
#[derive(Clone, Debug)]
pub struct Variable {
    /// `$name`.
    pub name: String,
    /// The `label_values(selector, label)` definition.
    pub query: String,
    /// What "All" stands for (`None`: every value, joined).
    pub all_value: Option<String>,
}

const PANEL_TYPES: &[&str] = &[
    "row",
    "timeseries",
    "stat",
    "gauge",
    "bargauge",
    "heatmap",
    "piechart",
    "table",
    "text",
];
const BUILTINS: &[&str] = &["__rate_interval", "__range", "__interval", "datasource"];

/// Every query of every panel.
pub fn queries(d: &Value) -> Vec<Query> {
    let uid = d["uid"].as_str().unwrap_or("?");
    let mut out = Vec::new();
    for p in d["panels"].as_array().into_iter().flatten() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push(Query {
                place: format!(
                    "{uid} / {} (id {}) / {}",
                    p["title"].as_str().unwrap_or("?"),
                    p["id"],
                    t["refId"].as_str().unwrap_or("?")
                ),
                expr: t["expr"].as_str().unwrap_or_default().to_string(),
                exemplar: t["exemplar"] == true,
            });
        }
    }
    out
}

/// The query variables, in order.
pub fn variables(d: &Value) -> Vec<Variable> {
    d["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "query")
        .map(|v| Variable {
            name: v["name"].as_str().unwrap_or_default().to_string(),
            query: v["definition"].as_str().unwrap_or_default().to_string(),
            all_value: v["allValue"].as_str().map(String::from),
        })
        .collect()
}

/// The `$names` an expression uses.
pub fn used_variables(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// `expr` with each `$name` or `${name}` that `values` knows replaced.
pub fn substitute(expr: &str, values: &[(String, String)]) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let braced = after.starts_with('{');
        let body = if braced { &after[1..] } else { after };
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let consumed = name.len() + if braced { 2 } else { 0 };
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) if !name.is_empty() => {
                out.push_str(v);
                rest = &after[consumed.min(after.len())..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Everything in `d` that keeps Grafana from loading it or a panel from
/// querying: one line per problem.
pub fn structure_problems(d: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            p.push(what);
        }
    };
    let uid = d["uid"].as_str().unwrap_or_default();
    need(
        !uid.is_empty()
            && uid.len() <= 40
            && uid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
        format!("uid `{uid}` must be 1-40 letters, digits, - or _"),
    );
    need(
        d["title"].as_str().is_some_and(|t| !t.is_empty()),
        "no title".into(),
    );
    need(
        d["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
        format!("schemaVersion {} is not a current one", d["schemaVersion"]),
    );
    need(
        d["time"]["from"].is_string() && d["time"]["to"].is_string(),
        "no time range".into(),
    );
    need(
        d["annotations"]["list"].is_array(),
        "no annotations.list".into(),
    );
    let vars: Vec<&Value> = d["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    need(
        vars.iter().any(|v| {
            v["name"] == "datasource" && v["type"] == "datasource" && v["query"] == "prometheus"
        }),
        "no `datasource` variable of Prometheus data sources".into(),
    );
    let defined: HashSet<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
    for v in vars.iter().filter(|v| v["type"] == "query") {
        let def = v["definition"].as_str().unwrap_or_default();
        need(
            def.starts_with("label_values(") && v["query"]["query"] == def,
            format!(
                "variable {}: query `{def}` is not label_values(...)",
                v["name"]
            ),
        );
    }
    let Some(panels) = d["panels"].as_array().filter(|a| !a.is_empty()) else {
        p.push("no panels".into());
        return p;
    };
    let mut ids = HashSet::new();
    for panel in panels {
        let id = panel["id"].as_u64();
        let name = format!("panel {} ({})", panel["title"], panel["id"]);
        need(
            id.is_some_and(|i| ids.insert(i)),
            format!("{name}: id missing or repeated"),
        );
        let kind = panel["type"].as_str().unwrap_or_default();
        need(
            PANEL_TYPES.contains(&kind),
            format!("{name}: unknown type `{kind}`"),
        );
        let g = &panel["gridPos"];
        let (x, w, h) = (g["x"].as_u64(), g["w"].as_u64(), g["h"].as_u64());
        need(
            matches!((x, w, h, g["y"].as_u64()), (Some(x), Some(w), Some(h), Some(_)) if w > 0 && h > 0 && x + w <= 24),
            format!("{name}: gridPos {g} is not inside the 24 columns"),
        );
        if kind == "row" {
            continue;
        }
        need(
            panel["datasource"]["uid"] == "${datasource}",
            format!("{name}: datasource is not the `datasource` variable"),
        );
        need(
            panel["fieldConfig"]["defaults"].is_object(),
            format!("{name}: no fieldConfig.defaults"),
        );
        let targets = panel["targets"].as_array().cloned().unwrap_or_default();
        need(!targets.is_empty(), format!("{name}: no targets"));
        let mut refs = HashSet::new();
        for t in &targets {
            let r = t["refId"].as_str().unwrap_or_default().to_string();
            need(
                !r.is_empty() && refs.insert(r.clone()),
                format!("{name}: refId `{r}` missing or repeated"),
            );
            let expr = t["expr"].as_str().unwrap_or_default();
            need(!expr.trim().is_empty(), format!("{name} {r}: empty expr"));
            for v in used_variables(expr) {
                need(
                    defined.contains(v.as_str()) || BUILTINS.contains(&v.as_str()),
                    format!("{name} {r}: uses ${v}, which no variable defines"),
                );
            }
        }
        if kind == "heatmap" {
            need(
                targets
                    .iter()
                    .any(|t| t["exemplar"] == true && t["format"] == "heatmap"),
                format!("{name}: a heatmap needs a heatmap-format target with exemplars"),
            );
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_in_expressions() {
        assert_eq!(
            used_variables("rate(x{job=~\"$job\", a=~\"${agent}\"}[$__rate_interval])"),
            ["job", "agent", "__rate_interval"]
        );
    }

    #[test]
    fn substitutes_plain_and_braced_variables() {
        let v = vec![
            ("job".to_string(), "(a|b)".to_string()),
            ("job_name".to_string(), "x".to_string()),
            ("__rate_interval".to_string(), "30s".to_string()),
        ];
        assert_eq!(
            substitute(
                "r(x{job=~\"$job\",n=\"${job_name}\"}[$__rate_interval]) $other",
                &v
            ),
            "r(x{job=~\"(a|b)\",n=\"x\"}[30s]) $other"
        );
    }

    #[test]
    fn a_broken_dashboard_has_problems() {
        let d = serde_json::json!({
            "uid": "a b", "title": "", "schemaVersion": 16,
            "panels": [
                {"id": 1, "type": "graph", "gridPos": {"x": 20, "y": 0, "w": 8, "h": 8},
                 "targets": [{"refId": "A", "expr": "up{job=\"$nope\"}"}]},
                {"id": 1, "type": "stat", "gridPos": {"x": 0, "y": 8, "w": 8, "h": 8}, "targets": []}
            ]
        });
        let p = structure_problems(&d).join("\n");
        for want in [
            "uid `a b`",
            "no title",
            "schemaVersion 16",
            "no `datasource` variable",
            "unknown type `graph`",
            "not inside the 24 columns",
            "uses $nope",
            "id missing or repeated",
            "no targets",
        ] {
            assert!(p.contains(want), "{want}:\n{p}");
        }
    }
}
