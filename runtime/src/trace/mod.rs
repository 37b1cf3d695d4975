//! Spans: their identity, the current span of each thread, sampling, and the
//! path from a finished span to the exporters.

mod batch;
pub(crate) mod context;
pub(crate) mod id;
pub(crate) mod limits;
pub(crate) mod pipeline;
pub(crate) mod record;
mod sampler;
pub(crate) mod span;
pub(crate) mod trace_state;

pub use context::{SpanContext, WithContext, current_context, in_current_span};
pub use pipeline::{dropped_spans, failed_exports, unsent_spans};
pub(crate) use record::RawSpan;
pub use record::{SpanEvent, SpanLink, SpanRecord, Status};
pub use sampler::{Root, Sampler};
pub(crate) use span::SharedSpan;
pub use span::{ActiveSpan, CurrentSpan, Entered, Parent, current_span};
