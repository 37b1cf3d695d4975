//! Support for the code the macros generate. Not a public API: it may change
//! in any release.

pub use crate::content::capture_enabled;
pub use crate::macro_support::*;
pub use crate::metered::{Call, Descriptor2, Metered, MeteredDefs};
pub use crate::outcome::{ClassifiedError, DebugError, DisplayError, Failure, NoError, Outcome};
pub use crate::step::Step;
pub use crate::trace::span::Site;
pub use crate::trace::{ActiveSpan, Parent, SpanContext};
pub use opentelemetry::KeyValue;
pub use semtel_conventions::{Key, SpanKind};

pin_project_lite::pin_project! {
    /// Makes a span current while the future it wraps is polled.
    pub struct Instrument<'a, F> {
        span: &'a mut ActiveSpan,
        #[pin]
        future: F,
    }
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
        let this = self.project();
        let _entered = this.span.enter();
        this.future.poll(cx)
    }
}

/// Wraps a result for opt-in output capture:
/// `(&&Capture(&result)).capture_into(&mut span, KEY)`.
pub struct Capture<'a, T>(pub &'a T);

/// Captures the `Ok` value of a `Result`.
pub trait CaptureOk {
    /// Sets `key` to the value as JSON.
    fn capture_into(&self, span: &mut ActiveSpan, key: Key<str>);
}

impl<T: serde::Serialize, E> CaptureOk for &Capture<'_, Result<T, E>> {
    fn capture_into(&self, span: &mut ActiveSpan, key: Key<str>) {
        if let Ok(v) = self.0 {
            span.set_json(key, v);
        }
    }
}

/// Captures any serializable value.
pub trait CaptureValue {
    /// Sets `key` to the value as JSON.
    fn capture_into(&self, span: &mut ActiveSpan, key: Key<str>);
}

impl<T: serde::Serialize> CaptureValue for Capture<'_, T> {
    fn capture_into(&self, span: &mut ActiveSpan, key: Key<str>) {
        span.set_json(key, self.0);
    }
}

/// For tests of the telemetry clock: how often it re-reads the wall clock,
/// and a deliberate rate error of its counter (parts per million). Call
/// before the first timestamp is taken.
pub fn set_test_clock(interval: std::time::Duration, skew_ppm: i64) {
    crate::clock::set_test_clock(interval, skew_ppm);
}
