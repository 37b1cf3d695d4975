//! Grafana dashboard JSON: panels laid out on the 24-column grid, targets on
//! a Prometheus data source chosen by the `datasource` variable, template
//! variables, ids assigned in order so output is deterministic.

use serde_json::{Value, json};

/// The dashboard schema version written (Grafana 12's classic JSON model).
pub const SCHEMA_VERSION: u32 = 42;

/// The data source every panel and variable queries.
fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// One PromQL query of a panel.
#[derive(Clone, Debug)]
pub struct Target {
    /// The expression (with `$variables`).
    pub expr: String,
    /// The legend (`{{label}}`).
    pub legend: String,
    /// Ask the data source for exemplars too.
    pub exemplar: bool,
    /// `heatmap` for bucket series, else a time series.
    pub heatmap: bool,
    /// Evaluate once at the end of the range.
    pub instant: bool,
}

impl Target {
    /// A range query.
    pub fn new(expr: impl Into<String>, legend: impl Into<String>) -> Target {
        Target {
            expr: expr.into(),
            legend: legend.into(),
            exemplar: false,
            heatmap: false,
            instant: false,
        }
    }

    /// An instant query.
    pub fn instant(expr: impl Into<String>, legend: impl Into<String>) -> Target {
        Target {
            instant: true,
            ..Target::new(expr, legend)
        }
    }
}

/// A panel before layout.
#[derive(Clone, Debug)]
pub struct Panel {
    /// `timeseries`, `stat`, `heatmap`, `bargauge`, `gauge`, `piechart` or `row`.
    pub kind: &'static str,
    /// The title.
    pub title: String,
    /// Shown in the panel's info tooltip.
    pub description: String,
    /// A Grafana unit id (`s`, `percentunit`, `cps`).
    pub unit: &'static str,
    /// The queries.
    pub targets: Vec<Target>,
    /// Width in grid columns (of 24).
    pub width: u32,
    /// Height in grid rows.
    pub height: u32,
}

impl Panel {
    /// A panel of `kind`, `width` columns wide and 8 rows high.
    pub fn new(kind: &'static str, title: impl Into<String>, width: u32) -> Panel {
        Panel {
            kind,
            title: title.into(),
            description: String::new(),
            unit: "short",
            targets: Vec::new(),
            width,
            height: if kind == "row" { 1 } else { 8 },
        }
    }

    /// A row that heads the panels after it.
    pub fn row(title: impl Into<String>) -> Panel {
        Panel::new("row", title, 24)
    }

    /// Sets the description.
    pub fn describe(mut self, text: impl Into<String>) -> Panel {
        self.description = text.into();
        self
    }

    /// Sets the unit.
    pub fn unit(mut self, unit: &'static str) -> Panel {
        self.unit = unit;
        self
    }

    /// Adds a query.
    pub fn target(mut self, t: Target) -> Panel {
        self.targets.push(t);
        self
    }

    fn options(&self) -> Value {
        let legend = json!({"displayMode": "list", "placement": "bottom", "showLegend": true});
        let reduce = json!({"calcs": ["lastNotNull"], "fields": "", "values": false});
        match self.kind {
            "timeseries" => json!({"legend": legend, "tooltip": {"mode": "multi", "sort": "desc"}}),
            "stat" => json!({
                "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                "orientation": "auto", "reduceOptions": reduce, "textMode": "auto"
            }),
            "gauge" => {
                json!({"reduceOptions": reduce, "showThresholdLabels": false, "showThresholdMarkers": true})
            }
            "bargauge" => json!({
                "displayMode": "gradient", "orientation": "horizontal",
                "reduceOptions": reduce, "showUnfilled": true
            }),
            "piechart" => json!({
                "legend": legend, "pieType": "pie", "reduceOptions": reduce,
                "tooltip": {"mode": "single", "sort": "none"}
            }),
            "heatmap" => json!({
                "calculate": false,
                "cellGap": 1,
                "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64, "exponent": 0.5, "fill": "dark-orange", "scale": "exponential", "reverse": false},
                "exemplars": {"color": "rgba(255,0,255,0.7)"},
                "filterValues": {"le": 1e-9},
                "legend": {"show": true},
                "rowsFrame": {"layout": "auto"},
                "tooltip": {"mode": "single", "yHistogram": false},
                "yAxis": {"axisPlacement": "left", "reverse": false, "unit": self.unit}
            }),
            _ => json!({}),
        }
    }

    fn to_json(&self, id: u32, x: u32, y: u32) -> Value {
        let grid = json!({"h": self.height, "w": self.width, "x": x, "y": y});
        if self.kind == "row" {
            return json!({
                "collapsed": false, "gridPos": grid, "id": id,
                "panels": [], "title": self.title, "type": "row"
            });
        }
        let targets: Vec<Value> = self
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let ref_id = char::from(b'A' + (i % 26) as u8).to_string();
                json!({
                    "datasource": datasource(),
                    "editorMode": "code",
                    "exemplar": t.exemplar,
                    "expr": t.expr,
                    "format": if t.heatmap { "heatmap" } else { "time_series" },
                    "instant": t.instant,
                    "legendFormat": t.legend,
                    "range": !t.instant,
                    "refId": ref_id,
                })
            })
            .collect();
        let mut defaults = json!({"unit": self.unit});
        if self.unit == "percentunit" {
            defaults["min"] = json!(0);
            defaults["max"] = json!(1);
        }
        json!({
            "datasource": datasource(),
            "description": self.description,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "gridPos": grid,
            "id": id,
            "options": self.options(),
            "targets": targets,
            "title": self.title,
            "type": self.kind,
        })
    }
}

/// A template variable.
#[derive(Clone, Debug)]
pub struct Variable {
    /// The name used as `$name`.
    pub name: String,
    /// The label shown.
    pub label: String,
    /// `label_values(...)`; empty for the data source variable.
    pub query: String,
    /// What "All" stands for; `None` lets Grafana join every value.
    pub all_value: Option<String>,
}

impl Variable {
    /// A multi-value query variable with an "All" option.
    pub fn query(
        name: impl Into<String>,
        label: impl Into<String>,
        query: impl Into<String>,
        all_value: Option<&str>,
    ) -> Variable {
        Variable {
            name: name.into(),
            label: label.into(),
            query: query.into(),
            all_value: all_value.map(String::from),
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "current": {},
            "datasource": datasource(),
            "definition": self.query,
            "hide": 0,
            "includeAll": true,
            "label": self.label,
            "multi": true,
            "name": self.name,
            "options": [],
            "query": {"qryType": 1, "query": self.query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2,
            "regex": "",
            "sort": 1,
            "type": "query",
        });
        if let Some(a) = &self.all_value {
            v["allValue"] = json!(a);
        }
        v
    }
}

/// A dashboard before layout.
#[derive(Clone, Debug)]
pub struct Dashboard {
    /// The title.
    pub title: String,
    /// A stable uid (at most 40 characters).
    pub uid: String,
    /// What it shows.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Variables after `datasource`, in order.
    pub variables: Vec<Variable>,
    /// Panels, in reading order.
    pub panels: Vec<Panel>,
}

impl Dashboard {
    /// The dashboard JSON: panels placed left to right, wrapping at 24
    /// columns, with ids 1, 2, ...
    pub fn to_json(&self) -> Value {
        let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
        let mut panels = Vec::new();
        for (i, p) in self.panels.iter().enumerate() {
            if p.kind == "row" || x + p.width > 24 {
                y += row_height;
                x = 0;
                row_height = 0;
            }
            panels.push(p.to_json(i as u32 + 1, x, y));
            x += p.width;
            row_height = row_height.max(p.height);
        }
        let mut variables = vec![json!({
            "current": {}, "hide": 0, "includeAll": false, "label": "Data source",
            "multi": false, "name": "datasource", "options": [], "query": "prometheus",
            "refresh": 1, "regex": "", "type": "datasource"
        })];
        variables.extend(self.variables.iter().map(Variable::to_json));
        json!({
            "annotations": {"list": [{
                "builtIn": 1,
                "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": true, "hide": true, "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts", "type": "dashboard"
            }]},
            "description": self.description,
            "editable": true,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "id": null,
            "links": [],
            "panels": panels,
            "refresh": "30s",
            "schemaVersion": SCHEMA_VERSION,
            "tags": self.tags,
            "templating": {"list": variables},
            "time": {"from": "now-1h", "to": "now"},
            "timepicker": {},
            "timezone": "browser",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
        })
    }
}

/// The Grafana unit of a metric's values.
pub fn value_unit(ucum: &str) -> &'static str {
    match ucum {
        "s" => "s",
        "ms" => "ms",
        "us" => "µs",
        "ns" => "ns",
        "By" => "bytes",
        "1" => "percentunit",
        "%" => "percent",
        _ => "short",
    }
}

/// The Grafana unit of a counter's per-second rate.
pub fn rate_unit(ucum: &str) -> &'static str {
    match ucum {
        "By" => "Bps",
        _ => "cps",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_wrap_at_24_columns_and_rows_take_a_line() {
        let d = Dashboard {
            title: "t".into(),
            uid: "u".into(),
            description: String::new(),
            tags: vec![],
            variables: vec![],
            panels: vec![
                Panel::row("r"),
                Panel::new("timeseries", "a", 16),
                Panel::new("stat", "b", 8),
                Panel::new("stat", "c", 12),
            ],
        };
        let j = d.to_json();
        let pos: Vec<(u64, u64, u64)> = j["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["id"].as_u64().unwrap(),
                    p["gridPos"]["x"].as_u64().unwrap(),
                    p["gridPos"]["y"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(pos, [(1, 0, 0), (2, 0, 1), (3, 16, 1), (4, 0, 9)]);
        assert_eq!(j["templating"]["list"][0]["type"], "datasource");
    }
}
