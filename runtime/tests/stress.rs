//! One `tracing` span entered from four threads 20,000 times each while
//! they write events to it and drop semtel guards out of order. The test
//! command also runs this natively in release, where the races it would
//! expose are likeliest.

mod common;

#[test]
#[cfg_attr(miri, ignore = "the soundness suite runs the same under Miri, smaller")]
fn four_threads_enter_one_tracing_span_twenty_thousand_times_each() {
    let cap = common::capture_keeping_events(4 * 20_000);
    common::shared_span_on_threads(&cap, 4, 20_000);
}
