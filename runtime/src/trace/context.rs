//! The current span of each thread, and the identity spans pass to their children.

use super::record::RawSpan;
use opentelemetry::trace::{SpanId, TraceId};
use std::cell::Cell;
use std::fmt;
use std::ptr;

/// The identity of a span: what its children and other processes see of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanContext {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span itself.
    pub span_id: SpanId,
    /// Whether the span is recorded and exported.
    pub sampled: bool,
    /// Whether the span lives in another process (it came from a `traceparent`).
    pub remote: bool,
}

impl SpanContext {
    /// No span.
    pub const NONE: SpanContext = SpanContext {
        trace_id: TraceId::INVALID,
        span_id: SpanId::INVALID,
        sampled: false,
        remote: false,
    };

    /// Whether this names a span (both ids non-zero).
    pub fn is_valid(&self) -> bool {
        self.trace_id != TraceId::INVALID && self.span_id != SpanId::INVALID
    }

    /// The W3C `traceparent` header value for this context.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

impl fmt::Debug for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SpanContext({}/{}{}{})",
            self.trace_id,
            self.span_id,
            if self.sampled { " sampled" } else { "" },
            if self.remote { " remote" } else { "" }
        )
    }
}

/// A span's place in a thread's context: its identity and, when it is
/// recorded, its record. Frames live in span guards (and in futures that
/// carry a context); the thread-local current pointer refers to the frame of
/// the innermost entered span, which stays alive and in place while entered.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub ctx: SpanContext,
    pub record: *mut RawSpan,
}

impl Frame {
    pub const NONE: Frame = Frame {
        ctx: SpanContext::NONE,
        record: ptr::null_mut(),
    };
}

thread_local! {
    static CURRENT: Cell<*const Frame> = const { Cell::new(ptr::null()) };
}

/// The frame of the thread's current span (a copy).
#[inline]
pub(crate) fn current() -> Frame {
    let p = CURRENT.with(Cell::get);
    // SAFETY: a non-null current pointer refers to a live, unmoved frame (see `Frame`).
    unsafe { p.as_ref() }.copied().unwrap_or(Frame::NONE)
}

/// Makes `frame` current; returns what was current before.
#[inline]
pub(crate) fn enter(frame: *const Frame) -> *const Frame {
    CURRENT.with(|c| c.replace(frame))
}

/// Restores what [`enter`] returned.
#[inline]
pub(crate) fn restore(previous: *const Frame) {
    CURRENT.with(|c| c.set(previous));
}

/// The context of the span the calling code runs in ([`SpanContext::NONE`] outside any span).
pub fn current_context() -> SpanContext {
    current().ctx
}

/// Runs `future` with the calling code's current span as its context, so
/// spans it starts (also on another thread, as in `tokio::spawn`) are
/// children of that span.
///
/// ```
/// # async fn work() {}
/// let task = semtel::in_current_span(async { work().await });
/// # drop(task);
/// ```
pub fn in_current_span<F: std::future::Future>(future: F) -> WithContext<F> {
    WithContext {
        frame: Frame {
            ctx: current_context(),
            record: ptr::null_mut(),
        },
        future,
    }
}

/// A future that runs in a given span context; see [`in_current_span`].
pub struct WithContext<F> {
    frame: Frame,
    future: F,
}

// SAFETY: the frame's record pointer is always null here; the frame only
// carries a span's identity.
unsafe impl<F: Send> Send for WithContext<F> {}

impl<F: std::future::Future> std::future::Future for WithContext<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: `future` is structurally pinned and never moved out.
        let this = unsafe { self.get_unchecked_mut() };
        let previous = enter(&this.frame);
        struct Restore(*const Frame);
        impl Drop for Restore {
            fn drop(&mut self) {
                restore(self.0);
            }
        }
        let _restore = Restore(previous);
        unsafe { std::pin::Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}
