//! `semtel traces find`: the traces that have a span with the given
//! attributes (Drover's "trace for a specific task").

use super::filter::{has, key_value};
use super::{Input, table};
use clap::Args;
use std::collections::HashMap;
use std::process::ExitCode;

/// `find` options.
#[derive(Args)]
pub struct FindArgs {
    /// A span attribute (or resource attribute) the span must have; repeat for all of several
    #[arg(long = "attr", required = true, value_name = "KEY=VALUE", value_parser = key_value)]
    attrs: Vec<(String, String)>,
    #[command(flatten)]
    input: Input,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

struct Found {
    matches: u64,
    first_start: u64,
    first_name: String,
    services: Vec<String>,
}

/// Runs `semtel traces find`.
pub fn run(a: &FindArgs) -> Result<ExitCode, String> {
    let mut order: Vec<String> = Vec::new();
    let mut found: HashMap<String, Found> = HashMap::new();
    let tally = a.input.for_each(|s| {
        if !a.attrs.iter().all(|(k, v)| has(s, k, v)) {
            return;
        }
        let service = super::model::find(&s.resource.attributes, "service.name")
            .map(|v| v.text().into_owned())
            .unwrap_or_default();
        let start = s.span.start_time_unix_nano;
        let entry = found
            .entry(s.span.trace_id.to_ascii_lowercase())
            .or_insert_with_key(|id| {
                order.push(id.clone());
                Found {
                    matches: 0,
                    first_start: start,
                    first_name: s.span.name.to_string(),
                    services: Vec::new(),
                }
            });
        entry.matches += 1;
        if start < entry.first_start {
            entry.first_start = start;
            entry.first_name = s.span.name.to_string();
        }
        if !entry.services.contains(&service) {
            entry.services.push(service);
        }
    })?;
    order.sort_by_key(|id| found[id].first_start);
    let written = if a.json {
        let traces: Vec<_> = order
            .iter()
            .map(|id| {
                let f = &found[id];
                serde_json::json!({
                    "trace_id": id,
                    "matching_spans": f.matches,
                    "first_match": f.first_name,
                    "start": table::timestamp(f.first_start),
                    "services": f.services,
                })
            })
            .collect();
        let mut out = table::tally_json(&tally);
        out["traces"] = serde_json::json!(traces);
        table::print_json(&out)
    } else {
        let rows: Vec<Vec<String>> = order
            .iter()
            .map(|id| {
                let f = &found[id];
                vec![
                    id.clone(),
                    f.matches.to_string(),
                    f.first_name.clone(),
                    f.services.join(","),
                    table::timestamp(f.first_start),
                ]
            })
            .collect();
        table::print(
            &["TRACE_ID", "MATCHES", "FIRST MATCH", "SERVICE", "START"],
            &rows,
            &[1],
        )
        .map(|()| {
            let traces = table::plural(order.len() as u64, "trace");
            println!("\n{traces}; {}", table::summary(&tally))
        })
    };
    written.map_err(|e| format!("cannot write the answer: {e}"))?;
    Ok(if order.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
