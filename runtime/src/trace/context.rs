//! The current span of each thread, and the identity spans pass to their children.

use super::record::SpanRecord;
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

/// What a thread is inside of: the span's identity and, when it is recorded,
/// its record (owned by the span's guard, which outlives its time as current).
#[derive(Clone, Copy)]
pub(crate) struct Current {
    pub ctx: SpanContext,
    pub record: *mut SpanRecord,
}

impl Current {
    pub const NONE: Current = Current {
        ctx: SpanContext::NONE,
        record: ptr::null_mut(),
    };
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::NONE) };
}

/// The thread's current span.
#[inline]
pub(crate) fn current() -> Current {
    CURRENT.with(Cell::get)
}

/// Makes `c` current and returns what was current before.
#[inline]
pub(crate) fn replace(c: Current) -> Current {
    CURRENT.with(|cell| cell.replace(c))
}

/// Restores a context returned by [`replace`].
#[inline]
pub(crate) fn restore(c: Current) {
    CURRENT.with(|cell| cell.set(c));
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
        ctx: current_context(),
        future,
    }
}

/// A future that runs in a given span context; see [`in_current_span`].
pub struct WithContext<F> {
    ctx: SpanContext,
    future: F,
}

impl<F: std::future::Future> std::future::Future for WithContext<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: `future` is structurally pinned and never moved out.
        let this = unsafe { self.get_unchecked_mut() };
        let previous = replace(Current {
            ctx: this.ctx,
            record: ptr::null_mut(),
        });
        struct Restore(Current);
        impl Drop for Restore {
            fn drop(&mut self) {
                restore(self.0);
            }
        }
        let _restore = Restore(previous);
        unsafe { std::pin::Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}
