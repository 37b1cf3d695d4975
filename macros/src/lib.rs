//! Attribute macros for semtel. Use them through the `semtel` crate, which
//! re-exports them; the code they generate names `::semtel`.
//!
//! Arguments are parsed (`attr.rs`), checked against the semantic-convention
//! schema (`check.rs`, `meter.rs`, `value.rs`, `schema.rs`), and expanded
//! (`expand.rs`, after `shape.rs` has read how the function returns, and
//! `inline.rs` for `#[track_caller]`); `item.rs` finds the functions to
//! instrument. When an argument is wrong, each mistake is one error at the
//! offending tokens and the function is still emitted as written, so the
//! rest of the crate and the IDE keep working.
//!
//! Common to the three attributes:
//! - A method is named after its type: `Git::call` (from the `impl` block's
//!   attribute, or from `Self` where it runs), in span names and in the
//!   `function` attribute of the call metrics.
//! - The other semtel attributes on the same function are merged into one
//!   wrapper when written as `metered`, `semtel::metered` or, with
//!   `crate = path`, `path::metered`; `other_crate::metered` is left alone.
//! - `crate = path` (or `crate = "path"`): where semtel is, for a renamed
//!   dependency (`crate = telemetry`).
//! - `#[track_caller]` functions run their body inline, so
//!   `Location::caller()` still reports their caller; functions returning
//!   `!`, `impl Future` (`+ Send`, `+ Unpin`: boxed) and `#[async_trait]`
//!   methods are supported.
//! - Building with `RUSTFLAGS="--cfg semtel_passthrough"` emits every function
//!   as written (no instrumentation code at all); a flag of the whole build,
//!   which no dependency can set for the others.

mod attr;
mod check;
mod derive;
mod expand;
mod inline;
mod item;
mod meter;
mod schema;
mod shape;
mod value;

use attr::Macro;
use proc_macro::TokenStream;

/// Wraps a function (sync, async, returning `impl Future`, or a method of an
/// `#[async_trait]` impl) or every method of an `impl` block in a span.
///
/// - `name = "..."` (default: the function's name) or `span = dotted.span.id`
///   (a span definition of the schema: its name, kind and required attributes apply);
/// - `attrs(dotted.attribute.name = <expr>, ...)`: attributes checked against
///   the schema (name, value type, enum values); expressions may use the
///   arguments, which are borrowed, never moved. Nothing else is recorded;
/// - `kind = internal|client|server|producer|consumer`;
/// - `parent = <SpanContext>` or `root`; `links(<SpanContext>, ...)`;
/// - `error_type = "..."` overrides the `error.type` of a returned `Err`;
/// - `skip`, on a method of an instrumented `impl` block, leaves it alone;
/// - `crate = path`, for a renamed semtel dependency.
///
/// A returned `Err` marks the span failed with the error's message, sets
/// `error.type` (the error's `semtel::ErrorType`, an I/O error's kind, else
/// `_OTHER`) and records an `exception` event; a panic marks it failed and
/// propagates unchanged.
#[proc_macro_attribute]
pub fn traced_task(args: TokenStream, item: TokenStream) -> TokenStream {
    item::expand(Macro::TracedTask, args.into(), item.into()).into()
}

/// A span following the OpenTelemetry GenAI conventions for agent work, plus
/// the step's duration and success/failure metrics.
///
/// - `operation = invoke_agent|execute_tool|chat|...` (a value of
///   `gen_ai.operation.name`; default `invoke_agent`);
/// - `agent = <expr>`, `tool = <expr>`, `model = <expr>`, `provider = <expr>`,
///   `step = "..."`, `attrs(...)`;
/// - `capture(input = <expr>, output)`: content recorded as JSON, only when the
///   runtime allows it (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`);
/// - `parent`, `root`, `links`, `error_type`, `crate` as for `#[traced_task]`.
#[proc_macro_attribute]
pub fn agent_step(args: TokenStream, item: TokenStream) -> TokenStream {
    item::expand(Macro::AgentStep, args.into(), item.into()).into()
}

/// Call counts, durations and calls in flight for a function.
///
/// With no arguments: `function.calls` (`function`, `module`, `result`,
/// `error.type`), `function.calls.duration` (seconds) and
/// `function.calls.concurrent`. Or bound to metrics of the schema:
/// `duration = metric.name`, `calls = ...`, `errors = ...`, `in_flight = ...`,
/// with `attrs(...)`: instrument kinds and attributes are checked against the
/// definitions; high-cardinality attributes are rejected. `crate = path` as
/// for `#[traced_task]`. Inside a sampled
/// span, measurements carry it as an exemplar. Combined with `#[traced_task]`
/// or `#[agent_step]` on the same function, one wrapper does both.
#[proc_macro_attribute]
pub fn metered(args: TokenStream, item: TokenStream) -> TokenStream {
    item::expand(Macro::Metered, args.into(), item.into()).into()
}

/// Implements `semtel::ErrorType`, the way to give an error type a stable,
/// low-cardinality `error.type`: on an enum, each variant's name in
/// snake_case (override with `#[error_type("...")]` on a variant); on a struct,
/// its name in snake_case (or the `#[error_type("...")]` on the struct).
/// `#[error_type(crate = path)]` on the type names a renamed semtel.
#[proc_macro_derive(ErrorType, attributes(error_type))]
pub fn derive_error_type(input: TokenStream) -> TokenStream {
    derive::error_type(input.into()).into()
}
