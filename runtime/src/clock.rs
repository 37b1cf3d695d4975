//! The process's one clock for telemetry. Every timestamp semtel records —
//! span starts and ends, events, logs, exemplars, metric points — is a raw
//! reading of the CPU's time-stamp counter (through `quanta`, ~8 ns here
//! against ~30 ns for `SystemTime::now`) turned into nanoseconds since the
//! Unix epoch by one mapping.
//!
//! The mapping is a chain of linear segments. Every `REANCHOR` (a minute) the
//! wall clock is read again and a new segment begins where the last one
//! stands, with a rate that absorbs the difference over the next minute (it
//! slews, by at most [`MAX_SLEW_PPM`], and learns the counter's rate against
//! the wall clock). So the mapping never goes backwards, and a reading
//! converts to the same time whenever it is converted: an event taken inside
//! a span lies inside it, a child inside its parent, whatever the counter's
//! drift. A wall clock that jumps ahead by more than the slew can absorb is
//! followed at once (a gap, never a step back); one that jumps back is
//! caught up with by slewing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering, fence};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(not(miri))]
fn clock() -> &'static quanta::Clock {
    static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Under Miri, which cannot run the CPU-counter instructions, ticks are
/// nanoseconds of the monotonic clock since the first reading.
#[cfg(miri)]
mod miri_clock {
    use std::sync::OnceLock;
    use std::time::Instant;

    pub struct Clock {
        origin: Instant,
    }

    impl Clock {
        pub fn raw(&self) -> u64 {
            self.origin.elapsed().as_nanos() as u64
        }
        pub fn delta(&self, start: u64, end: u64) -> std::time::Duration {
            std::time::Duration::from_nanos(end.saturating_sub(start))
        }
        pub fn delta_as_nanos(&self, start: u64, end: u64) -> u64 {
            end.saturating_sub(start)
        }
    }

    pub fn clock() -> &'static Clock {
        static CLOCK: OnceLock<Clock> = OnceLock::new();
        CLOCK.get_or_init(|| Clock {
            origin: Instant::now(),
        })
    }
}

#[cfg(miri)]
use miri_clock::clock;

/// Prepares the clock (its calibration takes a few milliseconds, once).
pub(crate) fn warm_up() {
    let _ = clock();
    let _ = now();
}

/// A raw timestamp, cheap to read.
#[inline]
pub(crate) fn ticks() -> u64 {
    clock().raw()
}

/// The time between two raw timestamps.
#[inline]
pub(crate) fn between(start: u64, end: u64) -> Duration {
    clock().delta(start, end)
}

/// Nanoseconds since the Unix epoch, now, on the telemetry clock.
pub(crate) fn now() -> u64 {
    to_unix(ticks())
}

/// The wall clock itself (for anchors and seeds, not for timestamps).
pub(crate) fn wall() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The `SystemTime` of nanoseconds since the epoch.
pub(crate) fn to_system_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

/// The largest rate correction, in parts per million: how fast a difference
/// from the wall clock is absorbed (at most 30 ms a minute).
pub const MAX_SLEW_PPM: i64 = 500;
/// How far the counter's measured rate may be from nominal (1 %).
const MAX_RATE_ERROR: f64 = 0.01;
/// Segments kept for converting old readings (the start of a long span):
/// 4096 minutes, about three days, at the default interval.
const KEPT: usize = 4096;

/// How often the wall clock is read again, in nanoseconds (changed by tests).
static REANCHOR_NANOS: AtomicU64 = AtomicU64::new(60_000_000_000);
/// A deliberate rate error of the counter, in parts per million (tests only).
static SKEW_PPM: AtomicI64 = AtomicI64::new(0);

/// For tests: re-reads the wall clock every `interval`, and makes the
/// counter run `skew_ppm` parts per million fast (negative: slow). Set
/// before the first timestamp is taken.
pub(crate) fn set_test_clock(interval: Duration, skew_ppm: i64) {
    REANCHOR_NANOS.store(interval.as_nanos().max(1) as u64, Ordering::Relaxed);
    SKEW_PPM.store(skew_ppm, Ordering::Relaxed);
}

/// Raw timestamp `t` as nanoseconds of the counter (from its origin).
#[inline]
fn counter_nanos(t: u64) -> u64 {
    let d = clock().delta_as_nanos(0, t);
    match SKEW_PPM.load(Ordering::Relaxed) {
        0 => d,
        ppm => (i128::from(d) + i128::from(d) * i128::from(ppm) / 1_000_000).max(0) as u64,
    }
}

/// One linear piece of the mapping, for counter nanoseconds from `from` on.
#[derive(Clone, Copy, Debug)]
struct Segment {
    from: u64,
    unix: u64,
    /// Unix nanoseconds per counter nanosecond.
    rate: f64,
}

impl Segment {
    /// The Unix time of counter nanosecond `c`.
    #[inline]
    fn at(self, c: u64) -> u64 {
        if c >= self.from {
            self.unix + ((c - self.from) as f64 * self.rate) as u64
        } else {
            self.unix
                .saturating_sub(((self.from - c) as f64 * self.rate) as u64)
        }
    }
}

/// The newest segment, readable without a lock (a sequence lock: odd while
/// it is being replaced).
struct Newest {
    seq: AtomicU64,
    from: AtomicU64,
    unix: AtomicU64,
    rate: AtomicU64,
}

static NEWEST: Newest = Newest {
    seq: AtomicU64::new(0),
    from: AtomicU64::new(0),
    unix: AtomicU64::new(0),
    rate: AtomicU64::new(0),
};

impl Newest {
    /// The newest segment, unless one is being made (or none exists yet).
    #[inline]
    fn read(&self) -> Option<Segment> {
        let s1 = self.seq.load(Ordering::Acquire);
        if s1 == 0 || s1 & 1 == 1 {
            return None;
        }
        let seg = Segment {
            from: self.from.load(Ordering::Relaxed),
            unix: self.unix.load(Ordering::Relaxed),
            rate: f64::from_bits(self.rate.load(Ordering::Relaxed)),
        };
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == s1).then_some(seg)
    }
}

/// The segments kept, oldest first, and what the counter's rate is learnt from.
struct Timeline {
    segments: VecDeque<Segment>,
    /// A reading of (counter, wall clock) since which the wall clock ran
    /// without jumping: the rate is measured against it.
    base: (u64, u64),
}

static TIMELINE: Mutex<Timeline> = Mutex::new(Timeline {
    segments: VecDeque::new(),
    base: (0, 0),
});

/// Nanoseconds since the Unix epoch of raw timestamp `t`: the same answer
/// whenever it is asked.
#[inline]
pub(crate) fn to_unix(t: u64) -> u64 {
    let c = counter_nanos(t);
    if let Some(seg) = NEWEST.read() {
        if c >= seg.from && c - seg.from < REANCHOR_NANOS.load(Ordering::Relaxed) {
            return seg.at(c);
        }
    }
    to_unix_slow(c)
}

#[cold]
fn to_unix_slow(c: u64) -> u64 {
    let mut tl = TIMELINE.lock().unwrap_or_else(PoisonError::into_inner);
    let stale = tl.segments.back().is_none_or(|s| {
        counter_nanos(ticks()).saturating_sub(s.from) >= REANCHOR_NANOS.load(Ordering::Relaxed)
    });
    if stale {
        NEWEST.seq.fetch_add(1, Ordering::AcqRel);
        fence(Ordering::SeqCst);
        // Read after the newest segment was marked as changing: every
        // reading converted with the old one is older than this.
        let (now, wall) = paired_reading();
        let seg = tl.next_segment(now, wall);
        tl.segments.push_back(seg);
        if tl.segments.len() > KEPT {
            tl.segments.pop_front();
        }
        NEWEST.from.store(seg.from, Ordering::Relaxed);
        NEWEST.unix.store(seg.unix, Ordering::Relaxed);
        NEWEST.rate.store(seg.rate.to_bits(), Ordering::Relaxed);
        NEWEST.seq.fetch_add(1, Ordering::Release);
    }
    tl.segment_for(c).at(c)
}

/// The counter (in nanoseconds) and the wall clock read together: the
/// counter is read on both sides of the wall clock, and a pair the thread
/// was interrupted in (more than 20 µs apart) is read again, a few times.
fn paired_reading() -> (u64, u64) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..4 {
        let before = counter_nanos(ticks());
        let w = wall();
        let after = counter_nanos(ticks());
        let gap = after.saturating_sub(before);
        if gap < best.0 {
            best = (gap, before + gap / 2, w);
        }
        if gap <= 20_000 {
            break;
        }
    }
    (best.1, best.2)
}

impl Timeline {
    /// The segment that converts counter nanosecond `c`: the newest that
    /// starts at or before it (the oldest kept, extended backwards, for
    /// older readings).
    fn segment_for(&self, c: u64) -> Segment {
        let i = self.segments.partition_point(|s| s.from <= c);
        self.segments[i.saturating_sub(1)]
    }

    /// The segment beginning at counter nanosecond `now`, when the wall clock
    /// reads `wall`: continuing the last one, its rate set to reach the
    /// wall clock by the next re-anchor.
    fn next_segment(&mut self, now: u64, wall: u64) -> Segment {
        let Some(last) = self.segments.back().copied() else {
            self.base = (now, wall);
            return Segment {
                from: now,
                unix: wall,
                rate: 1.0,
            };
        };
        let interval = REANCHOR_NANOS.load(Ordering::Relaxed) as f64;
        let ours = last.at(now);
        let error = wall as f64 - ours as f64;
        let budget = interval * MAX_SLEW_PPM as f64 / 1e6;
        let elapsed = now.saturating_sub(self.base.0) as f64;
        let measured = (wall as f64 - self.base.1 as f64) / elapsed;
        let rate = if elapsed > 0.0 && (measured - 1.0).abs() <= MAX_RATE_ERROR {
            measured
        } else {
            // The wall clock jumped (or too little time passed): measure afresh.
            self.base = (now, wall);
            last.rate.clamp(1.0 - MAX_RATE_ERROR, 1.0 + MAX_RATE_ERROR)
        };
        if error > budget {
            // Behind by more than a minute's slew: catch up at once (forwards).
            self.base = (now, wall);
            return Segment {
                from: now,
                unix: wall,
                rate,
            };
        }
        let slew = (error / interval).max(-(MAX_SLEW_PPM as f64) / 1e6);
        Segment {
            from: now,
            unix: ours,
            rate: rate + slew,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_convert_to_wall_time() {
        let before = wall();
        let t = ticks();
        let after = wall();
        let unix = to_unix(t);
        assert!(
            unix + 1_000_000 >= before && unix <= after + 1_000_000,
            "{before} <= {unix} <= {after}"
        );
    }

    fn timeline() -> Timeline {
        Timeline {
            segments: VecDeque::new(),
            base: (0, 0),
        }
    }

    /// Drives a timeline by hand: the counter and the wall clock given for
    /// each re-anchor.
    fn anchor(tl: &mut Timeline, now: u64, wall: u64) -> Segment {
        let s = tl.next_segment(now, wall);
        tl.segments.push_back(s);
        s
    }

    #[test]
    fn a_wall_clock_behind_is_slewed_to_never_backwards() {
        let minute = REANCHOR_NANOS.load(Ordering::Relaxed);
        let mut tl = timeline();
        anchor(&mut tl, 0, 1_000_000_000_000);
        // The wall clock stepped back 5 ms: the next segment continues
        // where the last stands and runs slower.
        let s = anchor(&mut tl, minute, 1_000_000_000_000 + minute - 5_000_000);
        assert_eq!(s.unix, 1_000_000_000_000 + minute);
        assert!(s.rate < 1.0 && s.rate >= 1.0 - MAX_SLEW_PPM as f64 / 1e6);
    }
}
