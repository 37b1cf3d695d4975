//! Random trace and span ids from a per-thread generator: no locking, no system call.

use opentelemetry::trace::{SpanId, TraceId};
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0) };
}

fn seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::clock::wall());
    h.write_usize(&h as *const _ as usize);
    h.finish() | 1
}

/// `N` outputs of wyrand (seeded per thread from the OS's random hasher
/// keys), with one thread-local access. The state only advances by a
/// constant, so the outputs are computed side by side rather than one after
/// another.
#[inline]
fn draws<const N: usize>() -> [u64; N] {
    const STEP: u64 = 0xa076_1d64_78bd_642f;
    const MIX: u64 = 0xe703_7ed1_a0b4_28db;
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed();
        }
        let mut out = [0u64; N];
        for o in &mut out {
            x = x.wrapping_add(STEP);
            let t = u128::from(x) * u128::from(x ^ MIX);
            *o = (t >> 64) as u64 ^ t as u64;
        }
        s.set(x);
        out
    })
}

/// Never zero: ids of zero mean "none".
#[inline]
fn non_zero(v: u64) -> u64 {
    if v == 0 { 1 } else { v }
}

/// A new, valid (non-zero) span id.
#[inline]
pub(crate) fn span_id() -> SpanId {
    SpanId::from(non_zero(draws::<1>()[0]))
}

/// A new trace id and the first span id in it, in one draw of the generator.
#[inline]
pub(crate) fn trace_and_span_id() -> (TraceId, SpanId) {
    let [a, b, c] = draws::<3>();
    (
        TraceId::from((u128::from(a) << 64) | u128::from(non_zero(b))),
        SpanId::from(non_zero(c)),
    )
}
