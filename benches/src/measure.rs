//! Quick measurement: calibrated batches, the median of many samples.

use crate::cases::Runner;
use std::time::{Duration, Instant};

/// The median nanoseconds per call of `runner`, from `samples` samples of
/// about `sample` each, after a warm-up.
pub fn median_ns(runner: &mut Runner, samples: usize, sample: Duration) -> f64 {
    let run = &mut runner.run;
    // Warm up and calibrate: how many units fill one sample.
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        run(n);
        let e = t.elapsed();
        runner.units += n;
        if e >= sample / 4 || n > 1 << 30 {
            let per = e.as_secs_f64() / n as f64;
            n = ((sample.as_secs_f64() / per.max(1e-12)) as u64).max(1);
            break;
        }
        n *= 4;
    }
    let mut per_call: Vec<f64> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            run(n);
            let ns = t.elapsed().as_nanos() as f64;
            runner.units += n;
            ns / (n * runner.calls_per_unit) as f64
        })
        .collect();
    per_call.sort_by(|a, b| a.total_cmp(b));
    per_call[per_call.len() / 2]
}
