//! Random trace and span ids from a per-thread generator: no locking, no system call.

use opentelemetry::trace::{SpanId, TraceId};
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0) };
}

fn seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::clock::now());
    h.write_usize(&h as *const _ as usize);
    h.finish() | 1
}

/// The next 64 random bits (xorshift64*, seeded per thread from the OS's random hasher keys).
#[inline]
fn next() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed();
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A new, valid (non-zero) span id.
#[inline]
pub(crate) fn span_id() -> SpanId {
    loop {
        let v = next();
        if v != 0 {
            return SpanId::from(v);
        }
    }
}

/// A new, valid (non-zero) trace id.
#[inline]
pub(crate) fn trace_id() -> TraceId {
    let v = (u128::from(next()) << 64) | u128::from(next());
    if v == 0 { trace_id() } else { TraceId::from(v) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_differ_and_are_valid() {
        let a = super::trace_id();
        let b = super::trace_id();
        assert_ne!(a, b);
        assert_ne!(a, opentelemetry::trace::TraceId::INVALID);
        assert_ne!(super::span_id(), super::span_id());
    }
}
