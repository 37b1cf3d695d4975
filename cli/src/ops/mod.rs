//! The operations side generated from a schema: the metric model, PromQL,
//! Grafana dashboards and Prometheus rules.

pub mod alert_spec;
pub mod grafana;
pub mod model;
pub mod overview;
pub mod panels;
pub mod promql;
pub mod rules;
pub mod yaml;

use semtel_codegen::{Registry, bundled, load_partial};
use std::path::PathBuf;

/// Loads the schema under `dirs` (on top of the bundled conventions when
/// `with_bundled`); any schema error is returned, one line per problem.
pub fn load(dirs: &[PathBuf], with_bundled: bool) -> Result<Registry, String> {
    let base = if with_bundled {
        Some(bundled().map_err(|e| format!("the bundled schema does not load:\n{e}"))?)
    } else {
        None
    };
    let (reg, diagnostics) = load_partial(dirs, base.as_ref());
    if diagnostics.is_empty() {
        Ok(reg)
    } else {
        let lines: Vec<String> = diagnostics.iter().map(|d| format!("error: {d}")).collect();
        Err(format!("the schema has errors:\n{}", lines.join("\n")))
    }
}
