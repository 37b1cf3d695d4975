//! Criterion benchmarks of every scenario × contender (see `semtel_benches::cases`).

use criterion::{Criterion, criterion_group, criterion_main};
use semtel_benches::cases;
use std::time::Instant;

fn overhead(c: &mut Criterion) {
    for case in cases::all() {
        let mut group = c.benchmark_group(case.scenario);
        let mut runner = (case.make)();
        let per_unit = runner.calls_per_unit;
        group.bench_function(case.contender, |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                (runner.run)(iters);
                t.elapsed() / per_unit as u32
            })
        });
        group.finish();
    }
}

criterion_group!(benches, overhead);
criterion_main!(benches);
