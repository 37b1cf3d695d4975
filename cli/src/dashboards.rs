//! `semtel dashboards`: Grafana dashboards for a schema's metrics.

use crate::ops::model::Model;
use crate::ops::{load, overview, panels};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Write Grafana dashboards (JSON) for the metrics of a schema: one per
/// schema file, and the agent overview when the schema has the bundled
/// agent metrics. Prometheus names come from semtel's exporter.
#[derive(clap::Args, Debug)]
pub struct DashboardsArgs {
    /// Resolve the schema on top of semtel's bundled conventions (for
    /// schemas that `ref` them); adds the agent overview
    #[arg(long)]
    pub bundled: bool,
    /// Schema directories (every .yaml/.yml file under them) or files
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Directory the dashboards are written into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Writes the dashboards; prints each file written.
pub fn run(a: DashboardsArgs) -> ExitCode {
    match write(&a) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("semtel dashboards: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(a: &DashboardsArgs) -> Result<Vec<PathBuf>, String> {
    let reg = load(&a.dirs, a.bundled)?;
    let model = Model::new(&reg);
    let mut dashboards: Vec<(String, serde_json::Value)> = panels::schema_dashboards(&model)
        .into_iter()
        .map(|(stem, d)| (stem, d.to_json()))
        .collect();
    if let Ok(d) = overview::agent_overview(&model) {
        dashboards.push(("agent-overview".into(), d.to_json()));
    }
    if dashboards.is_empty() {
        return Err(format!(
            "{} define no metrics; nothing to write (add --bundled for the agent overview)",
            a.dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("cannot create the directory {}: {e}", a.out.display()))?;
    let mut written = Vec::new();
    for (stem, json) in dashboards {
        let path = a.out.join(format!("{stem}.json"));
        write_file(
            &path,
            &(serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"),
        )?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `text` to `path`, naming the file in the error.
pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
