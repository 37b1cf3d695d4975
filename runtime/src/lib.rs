//! # semtel — semantic telemetry for Rust agent systems
//!
//! One attribute on a function gives a span that follows the OpenTelemetry
//! semantic conventions, with attribute names and value types checked by the
//! compiler against a YAML schema:
//!
//! ```no_run
//! use semtel::traced_task;
//!
//! #[traced_task(attrs(orchestration.task.id = id))]
//! fn run_task(id: &str) -> Result<(), String> {
//!     Ok(())
//! }
//!
//! let _telemetry = semtel::init().expect("telemetry configuration");
//! run_task("task-1").unwrap();
//! ```
//!
//! Telemetry is configured with the standard `OTEL_*` variables or the
//! [`Builder`] (and an `OTEL_CONFIG_FILE`); [`init`] returns a guard that
//! flushes and shuts down on drop.

#![deny(clippy::undocumented_unsafe_blocks)]

// The macros name `::semtel`; let them be used inside this crate too.
extern crate self as semtel;

mod bridge;
mod clock;
pub mod config;
mod content;
pub mod error;
mod export;
pub mod logs;
mod macro_support;
mod metered;
pub mod metrics;
pub mod otel;
mod outcome;
pub mod propagation;
mod setup;
mod shutdown;
mod step;
pub mod testing;
pub mod trace;

#[doc(hidden)]
pub mod __private;

#[doc(hidden)]
pub mod __fuzz;

#[cfg(feature = "reqwest-middleware")]
pub use bridge::reqwest::TraceContextMiddleware;
pub use bridge::tracing::{SemtelFilter, TracingSpanExt, tracing_layer};
pub use config::{LogsExporter, MetricsExporter, Protocol, TracesExporter};
pub use error::{InitError, InitErrorKind};
pub use export::console::{format_duration, render_trace};
pub use outcome::ErrorType;
pub use semtel_macros::{ErrorType, agent_step, metered, traced_task};
pub use setup::{Builder, Telemetry, builder, init};
pub use shutdown::ShutdownReport;
pub use step::{CurrentStep, current_step};
pub use trace::{SpanContext, current_context, current_span, in_current_span};

/// The OpenTelemetry API, whose types appear in semtel's signatures
/// (`KeyValue`, `Value`, trace and span ids): use these to stay on the version
/// semtel was built with.
pub use opentelemetry;

/// The OpenTelemetry SDK, whose span exporters
/// [`Builder::span_exporter`] accepts.
pub use opentelemetry_sdk;

/// The `http` crate, whose header maps [`propagation::inject`] and
/// [`propagation::extract`] work on.
pub use http;

/// The bundled semantic conventions: typed attribute keys, enums, metric and
/// span definitions.
pub use semtel_conventions as conventions;

/// Includes the conventions a crate's `build.rs` generated with
/// `semtel_codegen::Generator`, as `mod semconv`.
#[macro_export]
macro_rules! include_conventions {
    () => {
        /// This crate's semantic conventions, generated from its schema.
        pub mod semconv {
            include!(concat!(env!("OUT_DIR"), "/semconv.rs"));
        }
    };
}

/// Prints one warning line on standard error. Telemetry problems are reported
/// here and never interrupt the program.
pub(crate) fn warn(args: std::fmt::Arguments<'_>) {
    eprintln!("semtel: warning: {args}");
}
