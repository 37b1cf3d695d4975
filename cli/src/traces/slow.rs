//! `semtel traces slow`: the N slowest spans, kept in a heap of N while
//! the files stream past.

use super::model::find;
use super::{Input, table};
use clap::Args;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::process::ExitCode;

/// `slow` options.
#[derive(Args)]
pub struct SlowArgs {
    /// How many spans to show
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    #[command(flatten)]
    input: Input,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Slow {
    duration: u64,
    /// Earlier spans win ties.
    order: Reverse<u64>,
    name: String,
    service: String,
    trace_id: String,
    span_id: String,
    start: u64,
    error: bool,
}

/// Runs `semtel traces slow`.
pub fn run(a: &SlowArgs) -> Result<ExitCode, String> {
    let mut heap: BinaryHeap<Reverse<Slow>> = BinaryHeap::with_capacity(a.top + 1);
    let mut seen = 0u64;
    let tally = a.input.for_each(|s| {
        seen += 1;
        let duration = s.span.duration();
        if a.top == 0
            || heap.len() == a.top
                && heap
                    .peek()
                    .is_some_and(|Reverse(min)| min.duration >= duration)
        {
            return;
        }
        heap.push(Reverse(Slow {
            duration,
            order: Reverse(seen),
            name: s.span.name.to_string(),
            service: find(&s.resource.attributes, "service.name")
                .map(|v| v.text().into_owned())
                .unwrap_or_default(),
            trace_id: s.span.trace_id.to_string(),
            span_id: s.span.span_id.to_string(),
            start: s.span.start_time_unix_nano,
            error: s.span.is_error(),
        }));
        if heap.len() > a.top {
            heap.pop();
        }
    })?;
    let slowest: Vec<Slow> = heap
        .into_sorted_vec()
        .into_iter()
        .map(|Reverse(s)| s)
        .collect();
    let written = if a.json {
        let spans: Vec<_> = slowest
            .iter()
            .map(|s| {
                serde_json::json!({
                    "duration_ms": table::ms(s.duration as f64),
                    "name": s.name,
                    "service": s.service,
                    "trace_id": s.trace_id,
                    "span_id": s.span_id,
                    "start": table::timestamp(s.start),
                    "error": s.error,
                })
            })
            .collect();
        let mut out = table::tally_json(&tally);
        out["slowest"] = serde_json::json!(spans);
        table::print_json(&out)
    } else {
        let rows: Vec<Vec<String>> = slowest
            .iter()
            .map(|s| {
                vec![
                    semtel::format_duration(s.duration),
                    format!("{}{}", s.name, if s.error { " ✗" } else { "" }),
                    s.service.clone(),
                    s.trace_id.clone(),
                    s.span_id.clone(),
                    table::timestamp(s.start),
                ]
            })
            .collect();
        table::print(
            &[
                "DURATION", "NAME", "SERVICE", "TRACE_ID", "SPAN_ID", "START",
            ],
            &rows,
            &[0],
        )
        .map(|()| println!("\n{}", table::summary(&tally)))
    };
    written.map_err(|e| format!("cannot write the answer: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
