//! The contenders of the end-to-end comparison, each exporting OTLP/gRPC to
//! one endpoint with its default batching: semtel, `tracing` +
//! `tracing-opentelemetry` + `opentelemetry-otlp` (the SDK's batch
//! processor), fastrace + `fastrace-opentelemetry` + `opentelemetry-otlp`
//! (a root span per call), and the same loop with no telemetry.

use crate::{cases, contender_fastrace, contender_semtel, contender_tracing};
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use semtel::{LogsExporter, MetricsExporter, Protocol, TracesExporter};
use std::borrow::Cow;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, filter::Targets};

/// Who records the spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contender {
    /// The same loop with no telemetry (what the others are net of).
    Bare,
    /// semtel, `#[traced_task]` with three attributes.
    Semtel,
    /// `#[tracing::instrument]` with three fields.
    Tracing,
    /// A fastrace root span with three properties.
    Fastrace,
}

impl Contender {
    /// The contenders compared (all but [`Contender::Bare`]).
    pub const COMPARED: [Contender; 3] =
        [Contender::Semtel, Contender::Tracing, Contender::Fastrace];

    /// The name printed and passed to child processes.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Bare => "bare",
            Contender::Semtel => "semtel",
            Contender::Tracing => "tracing",
            Contender::Fastrace => "fastrace",
        }
    }

    /// The contender called `name`.
    pub fn parse(name: &str) -> Option<Contender> {
        [Contender::Bare]
            .into_iter()
            .chain(Contender::COMPARED)
            .find(|c| c.name() == name)
    }
}

/// An installed contender: the call to make, and what delivers everything
/// still buffered and shuts the telemetry down.
pub struct Installed {
    /// One instrumented call (one span).
    pub call: fn(u64) -> u64,
    /// Flushes and shuts down.
    pub finish: Box<dyn FnOnce()>,
}

fn fastrace_call(x: u64) -> u64 {
    contender_fastrace::step(x, true)
}

fn resource() -> Resource {
    Resource::builder_empty().with_service_name("e2e").build()
}

/// A runtime for `opentelemetry-otlp`'s tonic client (entered when the
/// exporter is built, as its documentation asks), and the exporter.
fn otlp_exporter(endpoint: &str) -> (tokio::runtime::Runtime, opentelemetry_otlp::SpanExporter) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let exporter = {
        let _enter = rt.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .expect("OTLP exporter")
    };
    (rt, exporter)
}

/// Installs `c` exporting to `endpoint` (ignored for [`Contender::Bare`]).
pub fn install(c: Contender, endpoint: &str) -> Installed {
    match c {
        Contender::Bare => Installed {
            call: cases::bare,
            finish: Box::new(|| {}),
        },
        Contender::Semtel => {
            let telemetry = semtel::builder()
                .env_source(|_| None)
                .service_name("e2e")
                .traces_exporter(TracesExporter::Otlp)
                .otlp_protocol(Protocol::Grpc)
                .otlp_endpoint(endpoint)
                .metrics_exporter(MetricsExporter::None)
                .logs_exporter(LogsExporter::None)
                .init()
                .expect("semtel telemetry");
            Installed {
                call: contender_semtel::step,
                finish: Box::new(move || drop(telemetry)),
            }
        }
        Contender::Tracing => {
            let (rt, exporter) = otlp_exporter(endpoint);
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource())
                .build();
            // Only the program's spans: the exporter's own h2/tonic spans
            // would otherwise feed back into the pipeline.
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("e2e"))
                .with_filter(Targets::new().with_target("semtel_benches", tracing::Level::TRACE));
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
                .expect("tracing subscriber");
            Installed {
                call: contender_tracing::step,
                finish: Box::new(move || {
                    let _ = provider.shutdown();
                    drop(rt);
                }),
            }
        }
        Contender::Fastrace => {
            let (rt, exporter) = otlp_exporter(endpoint);
            let handle = rt.handle().clone();
            let reporter = fastrace_opentelemetry::OpenTelemetryReporter::new(
                exporter,
                Cow::Owned(resource()),
                InstrumentationScope::builder("e2e").build(),
            )
            .with_block_on(move |f| handle.block_on(f));
            fastrace::set_reporter(reporter, fastrace::collector::Config::default());
            Installed {
                call: fastrace_call,
                finish: Box::new(move || {
                    fastrace::flush();
                    drop(rt);
                }),
            }
        }
    }
}
