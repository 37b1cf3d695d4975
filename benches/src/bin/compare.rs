//! Measures every scenario × contender in one run and prints a Markdown table
//! of median nanoseconds per call, then one line per comparison:
//! `ratio <scenario> semtel/<contender> <number>`.
//!
//! In (b) and (c), where the producer may outrun the export, each cell also
//! gives the fraction of the spans made that reached the exporter (after the
//! contender's telemetry was shut down), a `delivered <scenario>
//! <contender> <fraction>` line follows the table, and beside their ratios
//! `ratio_per_delivered` lines compare the caller's cost per span delivered.
//!
//! `--quick` takes about a minute; without it, samples are longer. Optional
//! arguments: a scenario filter (`b_span`) and a contender (`semtel`).

use semtel_benches::cases;
use semtel_benches::measure::median_ns;
use std::collections::BTreeMap;
use std::time::Duration;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (samples, sample) = if quick {
        (21, Duration::from_millis(20))
    } else {
        (51, Duration::from_millis(50))
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let filter = args.first().cloned();
    let only = args.get(1).cloned();
    let mut results: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    let mut delivered: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut contenders: Vec<&str> = Vec::new();
    for case in cases::all() {
        if filter
            .as_deref()
            .is_some_and(|f| !case.scenario.contains(f))
            || only.as_deref().is_some_and(|o| case.contender != o)
        {
            continue;
        }
        let mut runner = (case.make)();
        let ns = median_ns(&mut runner, samples, sample);
        let spans_per_call = match case.scenario {
            "b_span" => Some(1),
            "c_tree31" => Some(31),
            _ => None,
        };
        // Dropping the runner shuts its telemetry down either way.
        if let Some(fraction) = spans_per_call.and_then(|n| runner.delivered(n)) {
            delivered.insert((case.scenario, case.contender), fraction);
        }
        eprintln!("{:<14} {:<18} {ns:>10.1} ns", case.scenario, case.contender);
        results
            .entry(case.scenario)
            .or_default()
            .push((case.contender, ns));
        if !contenders.contains(&case.contender) {
            contenders.push(case.contender);
        }
    }
    print!("| scenario |");
    for c in &contenders {
        print!(" {c} |");
    }
    println!();
    println!("|---|{}", "---:|".repeat(contenders.len()));
    for (scenario, row) in &results {
        print!("| {scenario} |");
        for c in &contenders {
            match row.iter().find(|(n, _)| n == c) {
                Some((_, ns)) => match delivered.get(&(*scenario, *c)) {
                    Some(f) => print!(" {ns:.1} ({:.1}% delivered) |", f * 100.0),
                    None => print!(" {ns:.1} |"),
                },
                None => print!(" |"),
            }
        }
        println!();
    }
    println!();
    for ((scenario, contender), f) in &delivered {
        println!("delivered {scenario} {contender} {f:.3}");
    }
    for (scenario, row) in &results {
        let Some((_, semtel)) = row.iter().find(|(n, _)| *n == "semtel") else {
            continue;
        };
        for (c, ns) in row.iter().filter(|(n, _)| *n != "semtel") {
            println!("ratio {scenario} semtel/{c} {:.3}", semtel / ns);
            // The caller's cost per span that reached the exporter: a span
            // dropped is not a fast span.
            let share = |n: &str| delivered.get(&(*scenario, n)).copied();
            if let (Some(mine), Some(theirs)) = (share("semtel"), share(c))
                && mine > 0.0
                && theirs > 0.0
            {
                println!(
                    "ratio_per_delivered {scenario} semtel/{c} {:.3}",
                    (semtel / mine) / (ns / theirs)
                );
            }
        }
    }
}
