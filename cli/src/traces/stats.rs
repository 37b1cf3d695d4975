//! `semtel traces stats`: per span name (or attribute value), the count,
//! error rate and duration quantiles. Quantiles come from a DDSketch per
//! group (mergeable, bounded memory, relative error [`RELATIVE_ERROR`]); the
//! count, errors and maximum are exact.

use super::model::find;
use super::read::SpanRef;
use super::{Input, table};
use clap::Args;
use sketches_ddsketch::{Config, DDSketch};
use std::collections::HashMap;
use std::process::ExitCode;

/// The sketches' relative accuracy: a reported quantile is within 1% of a
/// value of the data at that rank.
pub const RELATIVE_ERROR: f64 = 0.01;

/// Groups kept apart at most; later new groups are counted under `(other)`.
const MAX_GROUPS: usize = 2_000;

/// `stats` options.
#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    input: Input,
    /// Group by this attribute's value (span attribute, else resource attribute) instead of the span name
    #[arg(long, value_name = "ATTRIBUTE")]
    by: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// One group's figures.
pub struct Group {
    /// Spans.
    pub count: u64,
    /// Failed spans.
    pub errors: u64,
    /// The shortest duration, in nanoseconds.
    pub min: u64,
    /// The longest duration, in nanoseconds.
    pub max: u64,
    /// Durations, in nanoseconds.
    pub sketch: DDSketch,
}

impl Group {
    fn new() -> Group {
        Group {
            count: 0,
            errors: 0,
            min: u64::MAX,
            max: 0,
            sketch: DDSketch::new(Config::new(RELATIVE_ERROR, 2048, 1.0)),
        }
    }

    fn add(&mut self, duration: u64, error: bool) {
        self.count += 1;
        self.errors += u64::from(error);
        self.min = self.min.min(duration);
        self.max = self.max.max(duration);
        self.sketch.add(duration as f64);
    }

    /// The `q` quantile of the durations, in nanoseconds (kept within the
    /// exact minimum and maximum, which only brings it closer).
    pub fn quantile(&self, q: f64) -> f64 {
        let v = self.sketch.quantile(q).ok().flatten().unwrap_or(0.0);
        v.clamp(self.min.min(self.max) as f64, self.max as f64)
    }
}

/// The groups, filled span by span.
#[derive(Default)]
pub struct Stats {
    groups: HashMap<String, Group>,
    overflowed: bool,
}

impl Stats {
    /// Adds one span under `key`.
    pub fn add(&mut self, key: &str, duration: u64, error: bool) {
        if let Some(g) = self.groups.get_mut(key) {
            return g.add(duration, error);
        }
        let key = if self.groups.len() < MAX_GROUPS {
            key
        } else {
            self.overflowed = true;
            "(other)"
        };
        self.groups
            .entry(key.to_string())
            .or_insert_with(Group::new)
            .add(duration, error);
    }

    /// The groups, most spans first (then by name).
    pub fn sorted(&self) -> Vec<(&str, &Group)> {
        let mut v: Vec<_> = self.groups.iter().map(|(k, g)| (k.as_str(), g)).collect();
        v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        v
    }
}

fn key<'s>(s: &'s SpanRef<'_, '_>, by: Option<&str>) -> std::borrow::Cow<'s, str> {
    match by {
        None => std::borrow::Cow::Borrowed(&s.span.name),
        Some(attr) => find(&s.span.attributes, attr)
            .or_else(|| find(&s.resource.attributes, attr))
            .map(|v| v.text())
            .unwrap_or(std::borrow::Cow::Borrowed("(unset)")),
    }
}

/// Runs `semtel traces stats`.
pub fn run(a: &StatsArgs) -> Result<ExitCode, String> {
    let mut stats = Stats::default();
    let by = a.by.as_deref();
    let tally = a.input.for_each(|s| {
        stats.add(&key(s, by), s.span.duration(), s.span.is_error());
    })?;
    if stats.overflowed {
        eprintln!(
            "semtel traces stats: more than {MAX_GROUPS} groups; the rest are counted under `(other)`"
        );
    }
    let groups = stats.sorted();
    let written = if a.json {
        let rows: Vec<_> = groups
            .iter()
            .map(|(name, g)| {
                serde_json::json!({
                    "group": name,
                    "count": g.count,
                    "errors": g.errors,
                    "error_rate": g.errors as f64 / g.count as f64,
                    "p50_ms": table::ms(g.quantile(0.5)),
                    "p95_ms": table::ms(g.quantile(0.95)),
                    "p99_ms": table::ms(g.quantile(0.99)),
                    "max_ms": table::ms(g.max as f64),
                })
            })
            .collect();
        let mut out = table::tally_json(&tally);
        out["group_by"] = serde_json::json!(by.unwrap_or("span.name"));
        out["quantile_relative_error"] = serde_json::json!(RELATIVE_ERROR);
        out["groups"] = serde_json::json!(rows);
        table::print_json(&out)
    } else {
        let rows: Vec<Vec<String>> = groups
            .iter()
            .map(|(name, g)| {
                vec![
                    name.to_string(),
                    g.count.to_string(),
                    g.errors.to_string(),
                    format!("{:.1}%", 100.0 * g.errors as f64 / g.count as f64),
                    semtel::format_duration(g.quantile(0.5) as u64),
                    semtel::format_duration(g.quantile(0.95) as u64),
                    semtel::format_duration(g.quantile(0.99) as u64),
                    semtel::format_duration(g.max),
                ]
            })
            .collect();
        let first = by.unwrap_or("NAME");
        table::print(
            &[
                first, "COUNT", "ERRORS", "ERROR%", "P50", "P95", "P99", "MAX",
            ],
            &rows,
            &[1, 2, 3, 4, 5, 6, 7],
        )
        .map(|()| {
            println!(
                "\n{}; quantiles within {}% (DDSketch)",
                table::summary(&tally),
                RELATIVE_ERROR * 100.0
            )
        })
    };
    written.map_err(|e| format!("cannot write the answer: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quantile by the sketch's rank definition, computed exactly.
    fn exact(sorted: &[u64], q: f64) -> f64 {
        sorted[(q * (sorted.len() as f64 - 1.0)) as usize] as f64
    }

    /// A small deterministic generator (xorshift), so the property runs
    /// over many different distributions without a dependency.
    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn quantiles_stay_within_the_stated_relative_error() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for case in 0..200 {
            let n = 1 + (xorshift(&mut seed) % 5_000) as usize;
            // Durations from 1 ns to about an hour, spread over orders of magnitude.
            let values: Vec<u64> = (0..n)
                .map(|_| {
                    let exp = xorshift(&mut seed) % 13;
                    1 + xorshift(&mut seed) % 10u64.pow(exp as u32).max(1)
                })
                .collect();
            let mut g = Group::new();
            for &v in &values {
                g.add(v, false);
            }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            for q in [0.5, 0.95, 0.99] {
                let want = exact(&sorted, q);
                let got = g.quantile(q);
                assert!(
                    (got - want).abs() <= want * RELATIVE_ERROR + 1e-9,
                    "case {case}: q={q} n={n}: sketch {got}, exact {want}"
                );
            }
            assert_eq!(g.max, *sorted.last().unwrap());
        }
    }

    #[test]
    fn merged_sketches_answer_like_one() {
        let mut all = Group::new();
        let mut parts = [Group::new(), Group::new()];
        for v in 1..=10_000u64 {
            all.add(v * 1_000, false);
            parts[(v % 2) as usize].add(v * 1_000, false);
        }
        let [mut a, b] = parts;
        a.sketch.merge(&b.sketch).unwrap();
        for q in [0.5, 0.95, 0.99] {
            assert_eq!(a.quantile(q), all.quantile(q));
        }
    }

    #[test]
    fn groups_are_bounded() {
        let mut s = Stats::default();
        for i in 0..MAX_GROUPS + 10 {
            s.add(&format!("task-{i}"), 5, i % 2 == 0);
        }
        assert_eq!(s.groups.len(), MAX_GROUPS + 1);
        assert_eq!(s.groups["(other)"].count, 10);
    }
}
