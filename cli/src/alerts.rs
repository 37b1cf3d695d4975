//! `semtel alerts`: Prometheus alerting and recording rules for a schema.

use crate::dashboards::write_file;
use crate::ops::alert_spec::is_duration;
use crate::ops::model::Model;
use crate::ops::{load, rules, yaml};
use std::path::PathBuf;
use std::process::ExitCode;

/// Write Prometheus recording and alerting rules for the metrics of a schema
/// that declare thresholds or objectives (`annotations: semtel: alerts:`).
#[derive(clap::Args, Debug)]
pub struct AlertsArgs {
    /// Resolve the schema on top of semtel's bundled conventions (for
    /// schemas that `ref` them); their rules are included
    #[arg(long)]
    pub bundled: bool,
    /// Schema directories (every .yaml/.yml file under them) or files
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The rule file to write
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace every alert's `for:` duration (for drills and tests), e.g. 0s
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub for_override: Option<String>,
}

fn duration(s: &str) -> Result<String, String> {
    if is_duration(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a Prometheus duration such as 0s, 30s or 5m"
        ))
    }
}

/// Writes the rule file; prints the counts.
pub fn run(a: AlertsArgs) -> ExitCode {
    match write(&a) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("semtel alerts: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(a: &AlertsArgs) -> Result<String, String> {
    let reg = load(&a.dirs, a.bundled)?;
    let model = Model::new(&reg);
    let groups = rules::rules(&model, a.for_override.as_deref()).map_err(|e| {
        format!(
            "the schema's alert annotations have errors:\n{}",
            e.join("\n")
        )
    })?;
    if groups.is_empty() {
        return Err(
            "no metric of the schema declares alerts (`annotations: semtel: alerts:`); \
                    add --bundled for the rules of the bundled conventions"
                .into(),
        );
    }
    write_file(&a.out, &yaml::rule_file(&groups))?;
    let count = |alert: bool| {
        groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| matches!(r.kind, rules::RuleKind::Alert(_)) == alert)
            .count()
    };
    Ok(format!(
        "{}: {} groups, {} alerting rules, {} recording rules",
        a.out.display(),
        groups.len(),
        count(true),
        count(false)
    ))
}
