//! Every scenario × contender, each a runner that performs `n` calls.

use crate::exporter::CountingExporter;
use crate::{
    contender_fastrace as fr, contender_metrics as cm, contender_sdk as sdk,
    contender_semtel as st, contender_tracing as tr,
};
use std::any::Any;
use std::hint::black_box;

/// Performs `n` calls.
pub type Run = Box<dyn FnMut(u64)>;

/// A prepared measurement: what to run, and what keeps its telemetry alive.
pub struct Runner {
    /// Performs `n` calls.
    pub run: Run,
    /// Calls per `run` unit (two-thread runs count every thread's calls as one).
    pub calls_per_unit: u64,
    _keep: Box<dyn Any>,
}

fn runner(run: impl FnMut(u64) + 'static, keep: impl Any) -> Runner {
    Runner {
        run: Box::new(run),
        calls_per_unit: 1,
        _keep: Box::new(keep),
    }
}

/// One scenario for one contender.
pub struct Case {
    /// `a_none`, `b_span`, ...
    pub scenario: &'static str,
    /// `bare`, `semtel`, `tracing`, `fastrace`, `otel_sdk`, `prometheus_client`, `otel_metrics`.
    pub contender: &'static str,
    /// Installs the contender's telemetry and returns the runner.
    pub make: fn() -> Runner,
}

#[inline(never)]
fn bare(x: u64) -> u64 {
    black_box(x) + 1
}

#[inline(never)]
fn bare_tree(x: u64) -> u64 {
    (0..31).map(|i| bare(x + i)).sum()
}

async fn bare_async(x: u64) -> u64 {
    black_box(x) + 1
}

fn loop_of(f: fn(u64) -> u64) -> impl FnMut(u64) {
    move |n| {
        for i in 0..n {
            black_box(f(i));
        }
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// Two threads at once, each making `PER_THREAD` calls per unit.
const PER_THREAD: u64 = 2000;

fn two_threads(work: impl Fn(u64) + Sync + 'static, keep: impl Any) -> Runner {
    Runner {
        run: Box::new(move |n| {
            for _ in 0..n {
                std::thread::scope(|s| {
                    s.spawn(|| work(PER_THREAD));
                    s.spawn(|| work(PER_THREAD));
                });
            }
        }),
        calls_per_unit: PER_THREAD,
        _keep: Box::new(keep),
    }
}

fn tracing_loop(d: tracing::Dispatch, f: fn(u64) -> u64) -> impl Fn(u64) + Sync {
    move |n| {
        tracing::dispatcher::with_default(&d, || {
            for i in 0..n {
                black_box(f(i));
            }
        })
    }
}

/// Every case, in table order.
pub fn all() -> Vec<Case> {
    vec![
        // (a) an instrumented call with no telemetry installed
        Case {
            scenario: "a_none",
            contender: "bare",
            make: || runner(loop_of(bare), ()),
        },
        Case {
            scenario: "a_none",
            contender: "semtel",
            make: || runner(loop_of(st::step), ()),
        },
        Case {
            scenario: "a_none",
            contender: "tracing",
            make: || {
                let d = tracing::Dispatch::none();
                runner(
                    move |n| tracing::dispatcher::with_default(&d, || loop_of(tr::step)(n)),
                    (),
                )
            },
        },
        Case {
            scenario: "a_none",
            contender: "fastrace",
            make: || runner(loop_of(fr::traced), ()),
        },
        Case {
            scenario: "a_none",
            contender: "otel_sdk",
            make: || {
                use opentelemetry::trace::{Span as _, Tracer as _};
                let tracer = opentelemetry::global::tracer("bench");
                runner(
                    move |n| {
                        for i in 0..n {
                            let mut s = tracer.start("step");
                            black_box(bare(i));
                            s.end();
                        }
                    },
                    (),
                )
            },
        },
        // (b) one span with three attributes, recorded and exported
        Case {
            scenario: "b_span",
            contender: "bare",
            make: || runner(loop_of(bare), ()),
        },
        Case {
            scenario: "b_span",
            contender: "semtel",
            make: || {
                runner(
                    loop_of(st::step),
                    st::install(CountingExporter::default(), 1.0),
                )
            },
        },
        Case {
            scenario: "b_span",
            contender: "tracing",
            make: || {
                let i = tr::install(CountingExporter::default(), 1.0);
                let d = i.dispatch.clone();
                runner(
                    move |n| tracing::dispatcher::with_default(&d, || loop_of(tr::step)(n)),
                    i,
                )
            },
        },
        Case {
            scenario: "b_span",
            contender: "fastrace",
            make: || {
                fr::install(CountingExporter::default());
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(fr::step(i, true));
                        })
                    },
                    (),
                )
            },
        },
        Case {
            scenario: "b_span",
            contender: "otel_sdk",
            make: || {
                let (p, t) = sdk::install(CountingExporter::default(), 1.0);
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(sdk::step(&t, i));
                        })
                    },
                    p,
                )
            },
        },
        // (c) a workflow → task → step tree of 31 spans
        Case {
            scenario: "c_tree31",
            contender: "bare",
            make: || runner(loop_of(bare_tree), ()),
        },
        Case {
            scenario: "c_tree31",
            contender: "semtel",
            make: || {
                runner(
                    loop_of(st::tree),
                    st::install(CountingExporter::default(), 1.0),
                )
            },
        },
        Case {
            scenario: "c_tree31",
            contender: "tracing",
            make: || {
                let i = tr::install(CountingExporter::default(), 1.0);
                let d = i.dispatch.clone();
                runner(
                    move |n| tracing::dispatcher::with_default(&d, || loop_of(tr::tree)(n)),
                    i,
                )
            },
        },
        Case {
            scenario: "c_tree31",
            contender: "fastrace",
            make: || {
                fr::install(CountingExporter::default());
                runner(loop_of(fr::tree), ())
            },
        },
        Case {
            scenario: "c_tree31",
            contender: "otel_sdk",
            make: || {
                let (p, t) = sdk::install(CountingExporter::default(), 1.0);
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(sdk::tree(&t, i));
                        })
                    },
                    p,
                )
            },
        },
        // (d) sampled out (ratio 0)
        Case {
            scenario: "d_sampled_out",
            contender: "bare",
            make: || runner(loop_of(bare), ()),
        },
        Case {
            scenario: "d_sampled_out",
            contender: "semtel",
            make: || {
                runner(
                    loop_of(st::step),
                    st::install(CountingExporter::default(), 0.0),
                )
            },
        },
        Case {
            scenario: "d_sampled_out",
            contender: "tracing",
            make: || {
                let i = tr::install(CountingExporter::default(), 0.0);
                let d = i.dispatch.clone();
                runner(
                    move |n| tracing::dispatcher::with_default(&d, || loop_of(tr::step)(n)),
                    i,
                )
            },
        },
        Case {
            scenario: "d_sampled_out",
            contender: "fastrace",
            make: || {
                fr::install(CountingExporter::default());
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(fr::step(i, false));
                        })
                    },
                    (),
                )
            },
        },
        Case {
            scenario: "d_sampled_out",
            contender: "otel_sdk",
            make: || {
                let (p, t) = sdk::install(CountingExporter::default(), 0.0);
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(sdk::step(&t, i));
                        })
                    },
                    p,
                )
            },
        },
        // (e) #[metered]: counter + histogram + in-flight
        Case {
            scenario: "e_metered",
            contender: "bare",
            make: || runner(loop_of(bare), ()),
        },
        Case {
            scenario: "e_metered",
            contender: "semtel",
            make: || {
                runner(
                    loop_of(st::metered_call),
                    st::install(CountingExporter::default(), 1.0),
                )
            },
        },
        Case {
            scenario: "e_metered",
            contender: "prometheus_client",
            make: || {
                let p = cm::Prom::new();
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(p.call(i));
                        })
                    },
                    (),
                )
            },
        },
        Case {
            scenario: "e_metered",
            contender: "otel_metrics",
            make: || {
                let o = cm::Otel::new();
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(o.call(i));
                        })
                    },
                    (),
                )
            },
        },
        // (f) an async fn on a current-thread tokio runtime
        Case {
            scenario: "f_async",
            contender: "bare",
            make: || {
                let rt = current_thread();
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(rt.block_on(bare_async(i)));
                        })
                    },
                    (),
                )
            },
        },
        Case {
            scenario: "f_async",
            contender: "semtel",
            make: || {
                let rt = current_thread();
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(rt.block_on(st::step_async(i)));
                        })
                    },
                    st::install(CountingExporter::default(), 1.0),
                )
            },
        },
        Case {
            scenario: "f_async",
            contender: "tracing",
            make: || {
                let i = tr::install(CountingExporter::default(), 1.0);
                let d = i.dispatch.clone();
                let rt = current_thread();
                runner(
                    move |n| {
                        tracing::dispatcher::with_default(&d, || {
                            (0..n).for_each(|i| {
                                black_box(rt.block_on(tr::step_async(i)));
                            })
                        })
                    },
                    i,
                )
            },
        },
        Case {
            scenario: "f_async",
            contender: "fastrace",
            make: || {
                fr::install(CountingExporter::default());
                let rt = current_thread();
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(rt.block_on(fr::step_async(i)));
                        })
                    },
                    (),
                )
            },
        },
        Case {
            scenario: "f_async",
            contender: "otel_sdk",
            make: || {
                let (p, t) = sdk::install(CountingExporter::default(), 1.0);
                let rt = current_thread();
                runner(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(rt.block_on(sdk::step_async(&t, i)));
                        })
                    },
                    p,
                )
            },
        },
        // (g) two threads at once (scenario b on each)
        Case {
            scenario: "g_two_threads",
            contender: "bare",
            make: || two_threads(|n| loop_of(bare)(n), ()),
        },
        Case {
            scenario: "g_two_threads",
            contender: "semtel",
            make: || {
                two_threads(
                    |n| loop_of(st::step)(n),
                    st::install(CountingExporter::default(), 1.0),
                )
            },
        },
        Case {
            scenario: "g_two_threads",
            contender: "tracing",
            make: || {
                let i = tr::install(CountingExporter::default(), 1.0);
                two_threads(tracing_loop(i.dispatch.clone(), tr::step), i)
            },
        },
        Case {
            scenario: "g_two_threads",
            contender: "fastrace",
            make: || {
                fr::install(CountingExporter::default());
                two_threads(
                    |n| {
                        (0..n).for_each(|i| {
                            black_box(fr::step(i, true));
                        })
                    },
                    (),
                )
            },
        },
        Case {
            scenario: "g_two_threads",
            contender: "otel_sdk",
            make: || {
                let (p, t) = sdk::install(CountingExporter::default(), 1.0);
                two_threads(
                    move |n| {
                        (0..n).for_each(|i| {
                            black_box(sdk::step(&t, i));
                        })
                    },
                    p,
                )
            },
        },
    ]
}
