//! `e2e --compare`: every contender at every offered rate, medians of
//! several runs, net of the bare loop run beside it; then each contender's
//! highest rate with at least 99.9% of its spans delivered.

use super::contenders::Contender;
use super::run::{self, Outcome};

/// The offered rates of the table, spans per second.
pub const RATES: [u64; 3] = [20_000, 100_000, 300_000];

/// The rates tried when looking for the highest one delivered.
const LADDER: [u64; 13] = [
    5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 300_000, 500_000, 700_000, 1_000_000,
    1_500_000, 2_000_000, 3_000_000,
];

/// The delivered fraction a rate must reach to count as sustained.
const SUSTAINED: f64 = 0.999;

/// How the comparison runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seconds of offered load per run.
    pub secs: f64,
    /// Runs per contender and rate (the median is reported).
    pub reps: usize,
    /// Only these contenders (all when empty).
    pub only: Vec<Contender>,
}

/// The medians of one contender at one rate.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// CPU per delivered span, net of the bare loop, ns.
    pub cpu_ns_per_delivered: f64,
    /// Delivered fraction.
    pub delivered: f64,
    /// Peak RSS, KiB.
    pub peak_rss_kb: u64,
    /// Whether the producer kept up with the rate in every run.
    pub kept_up: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn sustains(o: &Outcome, rate: u64, secs: f64) -> bool {
    o.delivered_fraction() >= SUSTAINED && o.kept_up(rate, secs)
}

fn net_per_delivered(o: &Outcome, bare: &Outcome) -> f64 {
    o.cpu_ns.saturating_sub(bare.cpu_ns) as f64 / o.delivered.max(1) as f64
}

/// Measures every contender at every rate; prints the lines and returns the table.
pub fn table(opts: &Options) -> Vec<(Contender, u64, Row)> {
    let mut rows = Vec::new();
    for rate in RATES {
        let mut bare = Vec::new();
        let mut runs: Vec<Vec<Outcome>> = vec![Vec::new(); opts.only.len()];
        for _ in 0..opts.reps {
            let b = run::once(Contender::Bare, rate, opts.secs);
            for (i, c) in opts.only.iter().enumerate() {
                let o = run::once(*c, rate, opts.secs);
                eprintln!(
                    "  {} {rate}: produced {} delivered {} cpu {:.3} s (bare {:.3} s) rss {} KiB",
                    c.name(),
                    o.produced,
                    o.delivered,
                    o.cpu_ns as f64 / 1e9,
                    b.cpu_ns as f64 / 1e9,
                    o.peak_rss_kb
                );
                runs[i].push(o);
            }
            bare.push(b);
        }
        let bare_ns = median(
            bare.iter()
                .map(|b| b.cpu_ns as f64 / b.produced as f64)
                .collect(),
        );
        println!("e2e bare {rate} cpu_ns_per_call={bare_ns:.1}");
        for (c, outcomes) in opts.only.iter().zip(runs) {
            let row = Row {
                cpu_ns_per_delivered: median(
                    outcomes
                        .iter()
                        .zip(&bare)
                        .map(|(o, b)| net_per_delivered(o, b))
                        .collect(),
                ),
                delivered: median(outcomes.iter().map(Outcome::delivered_fraction).collect()),
                peak_rss_kb: median(outcomes.iter().map(|o| o.peak_rss_kb as f64).collect()) as u64,
                kept_up: outcomes.iter().all(|o| o.kept_up(rate, opts.secs)),
            };
            println!(
                "e2e {} {rate} cpu_ns_per_delivered={:.0} delivered={:.4} peak_rss_kb={}",
                c.name(),
                row.cpu_ns_per_delivered,
                row.delivered,
                row.peak_rss_kb
            );
            rows.push((*c, rate, row));
        }
    }
    for rate in RATES {
        let at = |c: Contender| {
            rows.iter()
                .find(|(rc, r, _)| *rc == c && *r == rate)
                .map(|x| x.2)
        };
        let Some(semtel) = at(Contender::Semtel) else {
            continue;
        };
        for c in opts.only.iter().filter(|c| **c != Contender::Semtel) {
            if let Some(other) = at(*c) {
                println!(
                    "ratio e2e_{rate} semtel/{} {:.3}",
                    c.name(),
                    semtel.cpu_ns_per_delivered / other.cpu_ns_per_delivered
                );
            }
        }
    }
    rows
}

/// The highest rate of the ladder at which `c` delivers at least 99.9%:
/// climbing from the highest table rate it sustained (one run per step),
/// or below the table when it sustained none. `None` below the ladder.
pub fn highest_rate(c: Contender, rows: &[(Contender, u64, Row)], secs: f64) -> Option<u64> {
    let ok = |row: &Row| row.delivered >= SUSTAINED && row.kept_up;
    let table: Vec<(u64, bool)> = rows
        .iter()
        .filter(|(rc, _, _)| *rc == c)
        .map(|(_, r, row)| (*r, ok(row)))
        .collect();
    let best = table.iter().filter(|(_, s)| *s).map(|(r, _)| *r).max();
    let first_failure = table.iter().filter(|(_, s)| !*s).map(|(r, _)| *r).min();
    let tries = |r: u64| {
        let o = run::once(c, r, secs);
        eprintln!(
            "  {} {r}: delivered {:.4}",
            c.name(),
            o.delivered_fraction()
        );
        sustains(&o, r, secs)
    };
    match best {
        Some(best) => {
            let mut highest = best;
            for r in LADDER.into_iter().filter(|r| *r > best) {
                if first_failure.is_some_and(|f| r >= f) || !tries(r) {
                    break;
                }
                highest = r;
            }
            Some(highest)
        }
        None => {
            let lowest = table.iter().map(|(r, _)| *r).min().unwrap_or(u64::MAX);
            LADDER
                .into_iter()
                .rev()
                .filter(|r| *r < lowest)
                .find(|r| tries(*r))
        }
    }
}

/// The whole comparison: the table, the ratios, the highest rates.
pub fn run(opts: &Options) {
    let rows = table(opts);
    for c in &opts.only {
        let label = highest_rate(*c, &rows, opts.secs)
            .map_or_else(|| format!("<{}", LADDER[0]), |r| r.to_string());
        println!("e2e {} highest_rate_999={label}", c.name());
    }
    println!();
    println!(
        "| offered rate | {} |",
        opts.only
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(opts.only.len()));
    for rate in RATES {
        let cells: Vec<String> = opts
            .only
            .iter()
            .filter_map(|c| rows.iter().find(|(rc, r, _)| rc == c && *r == rate))
            .map(|(_, _, row)| {
                format!(
                    "{:.0} ns, {:.1}%, {:.1} MB",
                    row.cpu_ns_per_delivered,
                    row.delivered * 100.0,
                    row.peak_rss_kb as f64 / 1024.0
                )
            })
            .collect();
        println!("| {rate}/s | {} |", cells.join(" | "));
    }
}
