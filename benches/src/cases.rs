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

/// The uninstrumented call every scenario is compared with.
#[inline(never)]
pub fn bare(x: u64) -> u64 {
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

/// Calls the async `f` `n` times, each on a current-thread tokio runtime.
fn async_loop<F: Future<Output = u64>>(f: impl Fn(u64) -> F) -> impl FnMut(u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    move |n| {
        for i in 0..n {
            black_box(rt.block_on(f(i)));
        }
    }
}

/// Runs `run` with `d` as the thread's `tracing` dispatcher.
fn within(d: tracing::Dispatch, mut run: impl FnMut(u64)) -> impl FnMut(u64) {
    move |n| tracing::dispatcher::with_default(&d, || run(n))
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

/// semtel installed with sampling `ratio`, calling `f`.
fn semtel(ratio: f64, f: fn(u64) -> u64) -> Runner {
    runner(loop_of(f), st::install(CountingExporter::default(), ratio))
}

/// `tracing` with its OpenTelemetry layer, sampling `ratio`, calling `f`.
fn tracing_otel(ratio: f64, f: fn(u64) -> u64) -> Runner {
    let i = tr::install(CountingExporter::default(), ratio);
    runner(within(i.dispatch.clone(), loop_of(f)), i)
}

/// fastrace with its reporter installed, calling `f`.
fn fastrace(f: fn(u64) -> u64) -> Runner {
    fr::install(CountingExporter::default());
    runner(loop_of(f), ())
}

/// The OpenTelemetry SDK, sampling `ratio`, calling `f` with its tracer.
fn sdk_with(ratio: f64, f: fn(&opentelemetry_sdk::trace::SdkTracer, u64) -> u64) -> Runner {
    let (p, t) = sdk::install(CountingExporter::default(), ratio);
    runner(
        move |n| {
            (0..n).for_each(|i| {
                black_box(f(&t, i));
            })
        },
        p,
    )
}

/// `n` calls of `f` on instruments of the OpenTelemetry metrics API.
fn api(instruments: cm::Api, f: fn(&cm::Api, u64) -> u64) -> Runner {
    runner(
        move |n| {
            for i in 0..n {
                black_box(f(&instruments, i));
            }
        },
        (),
    )
}

macro_rules! cases {
    ($($scenario:literal $contender:literal => $make:expr;)*) => {
        vec![$(Case { scenario: $scenario, contender: $contender, make: || $make },)*]
    };
}

/// Every case, in table order.
pub fn all() -> Vec<Case> {
    use opentelemetry::trace::{Span as _, Tracer as _};
    cases! {
        // (a) an instrumented call with no telemetry installed
        "a_none" "bare" => runner(loop_of(bare), ());
        "a_none" "semtel" => runner(loop_of(st::step), ());
        "a_none" "tracing" => runner(within(tracing::Dispatch::none(), loop_of(tr::step)), ());
        "a_none" "fastrace" => runner(loop_of(fr::traced), ());
        "a_none" "otel_sdk" => {
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
        };
        // (b) one span with three attributes, recorded and exported
        "b_span" "bare" => runner(loop_of(bare), ());
        "b_span" "semtel" => semtel(1.0, st::step);
        "b_span" "tracing" => tracing_otel(1.0, tr::step);
        "b_span" "fastrace" => fastrace(|i| fr::step(i, true));
        "b_span" "otel_sdk" => sdk_with(1.0, sdk::step);
        // (c) a workflow → task → step tree of 31 spans
        "c_tree31" "bare" => runner(loop_of(bare_tree), ());
        "c_tree31" "semtel" => semtel(1.0, st::tree);
        "c_tree31" "tracing" => tracing_otel(1.0, tr::tree);
        "c_tree31" "fastrace" => fastrace(fr::tree);
        "c_tree31" "otel_sdk" => sdk_with(1.0, sdk::tree);
        // (d) sampled out (ratio 0)
        "d_sampled_out" "bare" => runner(loop_of(bare), ());
        "d_sampled_out" "semtel" => semtel(0.0, st::step);
        "d_sampled_out" "tracing" => tracing_otel(0.0, tr::step);
        "d_sampled_out" "fastrace" => fastrace(|i| fr::step(i, false));
        "d_sampled_out" "otel_sdk" => sdk_with(0.0, sdk::step);
        // (e) #[metered]: counter + histogram + in-flight
        "e_metered" "bare" => runner(loop_of(bare), ());
        "e_metered" "semtel" => semtel(1.0, st::metered_call);
        "e_metered" "prometheus_client" => {
            let p = cm::Prom::new();
            runner(move |n| (0..n).for_each(|i| { black_box(p.call(i)); }), ())
        };
        "e_metered" "otel_metrics" => {
            let o = cm::Otel::new();
            runner(move |n| (0..n).for_each(|i| { black_box(o.call(i)); }), ())
        };
        // (i) a counter add and a histogram record of the OpenTelemetry
        // metrics API (`global::meter`), served by semtel or by the SDK
        "i_api_counter" "bare" => runner(loop_of(bare), ());
        "i_api_counter" "semtel" => api(cm::Api::semtel(), cm::Api::add);
        "i_api_counter" "otel_sdk" => api(cm::Api::sdk(), cm::Api::add);
        "i_api_histogram" "bare" => runner(loop_of(bare), ());
        "i_api_histogram" "semtel" => api(cm::Api::semtel(), cm::Api::record);
        "i_api_histogram" "otel_sdk" => api(cm::Api::sdk(), cm::Api::record);
        // (f) an async fn on a current-thread tokio runtime
        "f_async" "bare" => runner(async_loop(bare_async), ());
        "f_async" "semtel" => runner(
            async_loop(st::step_async),
            st::install(CountingExporter::default(), 1.0),
        );
        "f_async" "tracing" => {
            let i = tr::install(CountingExporter::default(), 1.0);
            runner(within(i.dispatch.clone(), async_loop(tr::step_async)), i)
        };
        "f_async" "fastrace" => {
            fr::install(CountingExporter::default());
            runner(async_loop(fr::step_async), ())
        };
        "f_async" "otel_sdk" => {
            let (p, t) = sdk::install(CountingExporter::default(), 1.0);
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            runner(
                move |n| (0..n).for_each(|i| { black_box(rt.block_on(sdk::step_async(&t, i))); }),
                p,
            )
        };
        // (g) two threads at once (scenario b on each)
        "g_two_threads" "bare" => two_threads(|n| loop_of(bare)(n), ());
        "g_two_threads" "semtel" => two_threads(
            |n| loop_of(st::step)(n),
            st::install(CountingExporter::default(), 1.0),
        );
        "g_two_threads" "tracing" => {
            let i = tr::install(CountingExporter::default(), 1.0);
            let d = i.dispatch.clone();
            two_threads(move |n| within(d.clone(), loop_of(tr::step))(n), i)
        };
        "g_two_threads" "fastrace" => {
            fr::install(CountingExporter::default());
            two_threads(|n| (0..n).for_each(|i| { black_box(fr::step(i, true)); }), ())
        };
        "g_two_threads" "otel_sdk" => {
            let (p, t) = sdk::install(CountingExporter::default(), 1.0);
            two_threads(move |n| (0..n).for_each(|i| { black_box(sdk::step(&t, i)); }), p)
        };
        // (h) a span with a `#[tracing::instrument]` function of a library
        // inside: semtel's span with semtel's subscriber, against the same
        // nesting done entirely with tracing + tracing-opentelemetry; then
        // semtel with the program's own registry and semtel's layer, where
        // semtel keeps tracing's current span in step (last: that lasts for
        // the rest of the process).
        "h_nested" "bare" => runner(loop_of(|x| bare(bare(x))), ());
        "h_nested" "semtel" => runner(
            loop_of(st::nested),
            st::install_with_subscriber(CountingExporter::default()),
        );
        "h_nested" "tracing" => tracing_otel(1.0, tr::nested);
        "h_nested" "semtel_own_registry" => {
            let telemetry = st::install(CountingExporter::default(), 1.0);
            runner(within(st::own_registry(), loop_of(st::nested)), telemetry)
        };
    }
}
