//! Time for telemetry. The hot path reads the CPU's time-stamp counter
//! (through `quanta`, ~8 ns here against ~30 ns for `SystemTime::now`); ticks
//! become wall-clock nanoseconds in batches, off the hot path, against an
//! anchor refreshed every minute.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// Nanoseconds since the Unix epoch, now.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The `SystemTime` of nanoseconds since the epoch.
pub(crate) fn to_system_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

struct Anchor {
    ticks: u64,
    unix: u64,
    taken: Instant,
}

static ANCHOR: Mutex<Option<Anchor>> = Mutex::new(None);

/// Converts raw timestamps to nanoseconds since the Unix epoch, against an
/// anchor (ticks, wall time) refreshed once a minute.
pub(crate) struct Converter {
    ticks: u64,
    unix: u64,
    clock: &'static Clock,
}

#[cfg(not(miri))]
type Clock = quanta::Clock;
#[cfg(miri)]
type Clock = miri_clock::Clock;

impl Converter {
    /// A converter with the current anchor.
    pub fn new() -> Converter {
        let mut anchor = ANCHOR.lock().unwrap_or_else(PoisonError::into_inner);
        let a = match &mut *anchor {
            Some(a) if a.taken.elapsed() <= Duration::from_secs(60) => a,
            stale => stale.insert(Anchor {
                ticks: ticks(),
                unix: now(),
                taken: Instant::now(),
            }),
        };
        Converter {
            ticks: a.ticks,
            unix: a.unix,
            clock: clock(),
        }
    }

    /// Nanoseconds since the Unix epoch of raw timestamp `t`.
    #[inline]
    pub fn to_unix(&self, t: u64) -> u64 {
        if t >= self.ticks {
            self.unix + self.clock.delta_as_nanos(self.ticks, t)
        } else {
            self.unix
                .saturating_sub(self.clock.delta_as_nanos(t, self.ticks))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_convert_to_wall_time() {
        let before = super::now();
        let t = super::ticks();
        let after = super::now();
        let unix = super::Converter::new().to_unix(t);
        assert!(
            unix + 1_000_000 >= before && unix <= after + 1_000_000,
            "{before} <= {unix} <= {after}"
        );
    }
}
