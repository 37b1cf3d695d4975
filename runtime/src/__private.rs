//! Support for the code the macros generate. Not a public API: it may change
//! in any release.

pub use crate::trace::{ActiveSpan, Parent, Site};
pub use opentelemetry::KeyValue;
pub use semtel_conventions::SpanKind;

/// Wraps a function's result so the matching outcome method is picked by
/// auto-ref: `(&&Outcome(&r)).record(&mut span)`.
pub struct Outcome<'a, T>(pub &'a T);

/// Marks the span failed when the result is an `Err` that can be displayed.
pub trait ResultOutcome {
    /// Records the outcome.
    fn record(&self, span: &mut ActiveSpan);
}

impl<T, E: std::fmt::Display> ResultOutcome for &Outcome<'_, Result<T, E>> {
    #[inline]
    fn record(&self, span: &mut ActiveSpan) {
        if let Err(e) = self.0 {
            if span.is_recording() {
                span.set_error(e.to_string());
            }
        }
    }
}

/// Any other result says nothing about the outcome.
pub trait OtherOutcome {
    /// Records nothing.
    fn record(&self, _span: &mut ActiveSpan) {}
}

impl<T> OtherOutcome for Outcome<'_, T> {}

/// Makes a span current while the future it wraps is polled.
pub struct Instrument<'a, F> {
    span: &'a mut ActiveSpan,
    future: F,
}

impl<'a, F> Instrument<'a, F> {
    /// Wraps `future`.
    #[inline]
    pub fn new(span: &'a mut ActiveSpan, future: F) -> Self {
        Instrument { span, future }
    }
}

impl<F: std::future::Future> std::future::Future for Instrument<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: `future` is never moved out of the pinned `Instrument`; `span`
        // is a plain reference and needs no pinning.
        let this = unsafe { self.get_unchecked_mut() };
        let _entered = this.span.enter();
        unsafe { std::pin::Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}
