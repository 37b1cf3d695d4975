//! The producer: calls at a fixed offered rate, and the process's own CPU
//! time and peak memory.

use std::time::{Duration, Instant};

/// Calls `call` `rate` times a second for `secs` seconds on this thread, in
/// 1 ms steps (a step that falls behind is made up without sleeping); the
/// number of calls made.
pub fn produce(rate: u64, secs: f64, call: fn(u64) -> u64) -> u64 {
    let per_ms = (rate / 1000).max(1);
    let start = Instant::now();
    let steps = (secs * 1000.0) as u64;
    let mut n = 0;
    for tick in 1..=steps {
        for i in 0..per_ms {
            std::hint::black_box(call(n + i));
        }
        n += per_ms;
        let due = start + Duration::from_millis(tick);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    n
}

fn usage() -> libc::rusage {
    // SAFETY: `rusage` is plain data for which all-zero bytes are valid.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable `rusage`; RUSAGE_SELF needs nothing else.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u
}

/// CPU time (user + system) of the whole process so far, in nanoseconds.
pub fn cpu_ns() -> u64 {
    let u = usage();
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ns(u.ru_utime) + ns(u.ru_stime)
}

/// The process's peak resident memory so far, in KiB.
pub fn peak_rss_kb() -> u64 {
    usage().ru_maxrss as u64
}
