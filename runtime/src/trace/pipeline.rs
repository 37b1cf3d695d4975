//! From a finished span to the exporters: per-thread buffers filled on the hot
//! path, drained in batches by one worker thread that owns the exporters.
//!
//! Memory is bounded: each thread buffers at most `max_queue_size` spans and
//! counts what it drops. Exporting never blocks the instrumented program.

use super::batch::Batcher;
use super::context::SpanContext;
use super::limits::Limits;
use super::record::RawSpan;
use super::sampler::Prepared;
use crate::export::SpanSink;
use std::cell::RefCell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the hot path reads: present while telemetry is installed.
#[derive(Debug)]
pub(crate) struct Hot {
    pub sampler: Prepared,
    /// The parent adopted from the process environment (`TRACEPARENT`), if any.
    pub process_parent: SpanContext,
    /// The trace state that came with it (`TRACESTATE`).
    pub process_trace_state: super::trace_state::State,
    pub max_queue: usize,
    pub limits: Limits,
    pub wake: Arc<Shared>,
}

static HOT: AtomicPtr<Hot> = AtomicPtr::new(std::ptr::null_mut());

/// The installed hot-path state, or `None` when telemetry is off. One atomic load.
#[inline]
pub(crate) fn hot() -> Option<&'static Hot> {
    let p = HOT.load(Ordering::Acquire);
    // SAFETY: `install_hot` publishes only pointers from `Box::leak`, never
    // freed (and kept reachable in `PUBLISHED`), and stores them with
    // Release after the `Hot` is fully written; this Acquire load sees it so.
    unsafe { p.as_ref() }
}

/// Every `Hot` ever published, kept for the process's life: a span may
/// still be reading one after it is replaced. (One per `init`.)
static PUBLISHED: Mutex<Vec<&'static Hot>> = Mutex::new(Vec::new());

fn install_hot(h: Option<Hot>) {
    let p = match h {
        Some(h) => {
            let hot: &'static Hot = Box::leak(Box::new(h));
            lock(&PUBLISHED).push(hot);
            std::ptr::from_ref(hot).cast_mut()
        }
        None => std::ptr::null_mut(),
    };
    HOT.store(p, Ordering::Release);
}

static DROPPED: AtomicU64 = AtomicU64::new(0);
static EXPORT_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Spans dropped because a thread's buffer was full (since the process started).
pub fn dropped_spans() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Counts a recorded span that was lost before it reached the pipeline (its
/// record was lent to a thread it could not be taken back from).
pub(crate) fn count_lost() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Span batches an exporter failed to deliver (since the process started).
pub fn failed_exports() -> u64 {
    EXPORT_FAILURES.load(Ordering::Relaxed)
}

static UNSENT: AtomicU64 = AtomicU64::new(0);

/// Spans in batches an OTLP or program-given exporter failed to deliver
/// (since the process started).
pub fn unsent_spans() -> u64 {
    UNSENT.load(Ordering::Relaxed)
}

/// Counts `n` spans of a batch that could not be delivered.
pub(crate) fn count_unsent(n: usize) {
    UNSENT.fetch_add(n as u64, Ordering::Relaxed);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Buffered spans at which a thread wakes the export worker.
const WAKE_AT: usize = 128;
/// Emptied records a thread keeps for its next spans (enough for deep nesting).
const SPARES: usize = 64;

/// One thread's finished spans, drained by the export worker. Only the owning
/// thread pushes, so its lock is uncontended but for the worker's brief swap.
struct ThreadSpans {
    spans: Mutex<Vec<RawSpan>>,
}

static THREADS: Mutex<Vec<Arc<ThreadSpans>>> = Mutex::new(Vec::new());

/// Buffers of threads that ended, kept (with their capacity) for new threads,
/// so short-lived threads do not grow fresh buffers span by span.
static FREE_BUFFERS: Mutex<Vec<Vec<RawSpan>>> = Mutex::new(Vec::new());
const FREE_BUFFERS_KEPT: usize = 16;

thread_local! {
    static SPANS: Arc<ThreadSpans> = {
        let buffer = lock(&FREE_BUFFERS)
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(WAKE_AT * 2));
        let t = Arc::new(ThreadSpans { spans: Mutex::new(buffer) });
        lock(&THREADS).push(Arc::clone(&t));
        t
    };
    /// Emptied records for the thread's next spans: the hot path does not
    /// allocate. (Boxed: a span keeps its record at a fixed address while it runs.)
    #[allow(clippy::vec_box)]
    static SPARE: RefCell<Vec<Box<RawSpan>>> = const { RefCell::new(Vec::new()) };
}

/// A blank record for a new span: one this thread emptied before, else a new one.
#[inline]
pub(crate) fn take_record() -> Box<RawSpan> {
    SPARE
        .try_with(|s| s.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new(RawSpan::empty()))
}

/// Hands a finished span to the pipeline: its content joins the thread's
/// buffer and the emptied record is kept for the thread's next span.
#[inline]
pub(crate) fn submit(mut span: Box<RawSpan>, hot: &Hot) {
    let raw = span.take_content();
    let _ = SPARE.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < SPARES {
            s.push(span);
        }
    });
    let pushed = SPANS.try_with(|t| {
        let mut v = lock(&t.spans);
        if v.len() >= hot.max_queue {
            return Err(());
        }
        v.push(raw);
        Ok(v.len())
    });
    match pushed {
        Ok(Ok(WAKE_AT)) => hot.wake.wake(),
        Ok(Ok(_)) => {}
        // The buffer is full, or the thread is ending and its buffer is gone.
        _ => {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Takes every thread's buffered spans, in turn, and hands them to `each`.
/// `spare` is an emptied buffer given to the first thread (each thread gets
/// the one emptied before it); `threads` is scratch space.
fn drain_all(
    spare: &mut Vec<RawSpan>,
    threads: &mut Vec<Arc<ThreadSpans>>,
    mut each: impl FnMut(RawSpan),
) {
    {
        let mut all = lock(&THREADS);
        // Forget threads that ended (only the registry holds them) once their
        // buffer is empty; the buffer itself is kept for a new thread.
        all.retain(|t| {
            if Arc::strong_count(t) > 1 {
                return true;
            }
            let mut spans = lock(&t.spans);
            if !spans.is_empty() {
                return true;
            }
            let mut free = lock(&FREE_BUFFERS);
            if free.len() < FREE_BUFFERS_KEPT && spans.capacity() <= 4 * 2048 {
                free.push(std::mem::take(&mut *spans));
            }
            false
        });
        threads.clear();
        threads.extend(all.iter().cloned());
    }
    for t in threads.drain(..) {
        std::mem::swap(&mut *lock(&t.spans), spare);
        spare.drain(..).for_each(&mut each);
    }
}

/// Counts a batch a sink failed to deliver.
pub(crate) fn count_export_failure() {
    EXPORT_FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Wakes the worker and tracks flush requests.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<WorkerState>,
    cv: Condvar,
    done: Condvar,
}

#[derive(Debug, Default)]
struct WorkerState {
    wake: bool,
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    stopped: bool,
}

impl Shared {
    fn wake(&self) {
        lock(&self.state).wake = true;
        self.cv.notify_one();
    }
}

/// Settings of the batch worker.
#[derive(Clone, Debug)]
pub(crate) struct BatchConfig {
    pub schedule_delay: Duration,
    pub max_queue: usize,
    pub max_export_batch: usize,
    pub limits: Limits,
}

/// The running pipeline: the worker thread and its exporters.
pub(crate) struct Pipeline {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the worker and publishes the hot-path state.
    pub fn start(
        sinks: Vec<Box<dyn SpanSink>>,
        cfg: BatchConfig,
        sampler: Prepared,
        process_parent: (SpanContext, super::trace_state::State),
    ) -> Pipeline {
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        let run_cfg = cfg.clone();
        let worker = std::thread::Builder::new()
            .name("semtel-export".into())
            .spawn(move || run(worker_shared, sinks, run_cfg));
        let worker = match worker {
            Ok(w) => w,
            Err(e) => {
                crate::warn(format_args!(
                    "cannot start the export thread ({e}); tracing is off"
                ));
                lock(&shared.state).stopped = true;
                return Pipeline {
                    shared,
                    worker: None,
                };
            }
        };
        install_hot(Some(Hot {
            sampler,
            process_parent: process_parent.0,
            process_trace_state: process_parent.1,
            max_queue: cfg.max_queue,
            limits: cfg.limits,
            wake: Arc::clone(&shared),
        }));
        Pipeline {
            shared,
            worker: Some(worker),
        }
    }

    /// Exports everything buffered so far; waits at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.shared.state);
        if st.stopped {
            return false;
        }
        st.flush_requested += 1;
        let want = st.flush_requested;
        self.shared.cv.notify_one();
        drop(st);
        self.wait_for(deadline, |st| st.flush_done >= want || st.stopped)
            && lock(&self.shared.state).flush_done >= want
    }

    /// Waits for the worker to make `done` true, until `deadline`; whether it did.
    fn wait_for(&self, deadline: Instant, done: impl Fn(&WorkerState) -> bool) -> bool {
        let mut st = lock(&self.shared.state);
        while !done(&st) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .shared
                .done
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Stops recording, exports what is buffered and shuts the exporters
    /// down; waits until `deadline` at most.
    pub fn shutdown(mut self, deadline: Instant) -> bool {
        install_hot(None);
        let flushed = self.flush(deadline.saturating_duration_since(Instant::now()));
        lock(&self.shared.state).shutdown = true;
        self.shared.cv.notify_one();
        if !self.wait_for(deadline, |st| st.stopped) {
            return false;
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        flushed
    }
}

fn run(shared: Arc<Shared>, mut sinks: Vec<Box<dyn SpanSink>>, cfg: BatchConfig) {
    let mut batch = Batcher::new(cfg.max_export_batch);
    let mut spare: Vec<RawSpan> = Vec::new();
    let mut threads = Vec::new();
    let mut warned = Warnings::default();
    // When the oldest span still waiting in `batch` was taken from its thread.
    let mut waiting_since: Option<Instant> = None;
    loop {
        let (flush_target, shutdown) = {
            let mut st = lock(&shared.state);
            if !st.wake && st.flush_requested == st.flush_done && !st.shutdown {
                let wait = waiting_since.map_or(cfg.schedule_delay, |t| {
                    cfg.schedule_delay.saturating_sub(t.elapsed())
                });
                st = shared
                    .cv
                    .wait_timeout(st, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            st.wake = false;
            (st.flush_requested, st.shutdown)
        };
        // Threads' buffers are emptied at every wake, so they rarely fill;
        // exports go out in full batches, or when the oldest span has
        // waited the schedule delay, or on a flush.
        let mut sent = false;
        let mut failed = |sink: &str, e: &str| warned.export_failed(sink, e);
        drain_all(&mut spare, &mut threads, |raw| {
            sent |= batch.push(raw, &cfg.limits, &mut sinks, &mut failed);
        });
        waiting_since = match waiting_since {
            _ if batch.is_empty() => None,
            Some(t) if !sent => Some(t),
            _ => Some(Instant::now()),
        };
        let due = flush_target > lock(&shared.state).flush_done
            || shutdown
            || waiting_since.is_some_and(|t| t.elapsed() >= cfg.schedule_delay);
        if due {
            batch.send(&mut sinks, &mut failed);
            waiting_since = None;
        }
        warned.drops();
        let mut st = lock(&shared.state);
        if st.flush_done < flush_target {
            drop(st);
            for sink in &mut sinks {
                if let Err(e) = sink.flush() {
                    count_export_failure();
                    warned.export_failed(sink.name(), &e);
                }
            }
            st = lock(&shared.state);
            st.flush_done = flush_target;
            shared.done.notify_all();
        }
        if shutdown {
            drop(st);
            for sink in &mut sinks {
                sink.shutdown();
            }
            lock(&shared.state).stopped = true;
            shared.done.notify_all();
            return;
        }
    }
}

/// Rate-limited warnings about lost telemetry: at most one line per kind every 10 s.
#[derive(Default)]
struct Warnings {
    last_export: Option<Instant>,
    last_drop: Option<Instant>,
    reported_drops: u64,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

fn due(last: &mut Option<Instant>) -> bool {
    let now = Instant::now();
    if last.is_some_and(|t| now.duration_since(t) < WARN_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}

impl Warnings {
    fn export_failed(&mut self, sink: &str, err: &str) {
        if due(&mut self.last_export) {
            crate::warn(format_args!(
                "exporting spans to {sink} failed: {err} (further failures are counted, reported every 10 s)"
            ));
        }
    }

    fn drops(&mut self) {
        let total = dropped_spans();
        if total > self.reported_drops && due(&mut self.last_drop) {
            crate::warn(format_args!(
                "dropped {} spans because a span buffer was full ({} in total); raise OTEL_BSP_MAX_QUEUE_SIZE or lower the span rate",
                total - self.reported_drops,
                total
            ));
            self.reported_drops = total;
        }
    }
}
