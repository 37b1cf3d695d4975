//! The sink for a span exporter the program brings (any OpenTelemetry SDK
//! `SpanExporter`): span records become SDK span data, exported in batches
//! from a runtime of its own.

use super::SpanSink;
use crate::clock::to_system_time;
use crate::trace::{SpanRecord, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::{self as otel, TraceFlags, TraceState};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use semtel_conventions::SpanKind;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A sink that hands span data to any OpenTelemetry SDK span exporter
/// (OTLP, or one the program brings), from a runtime of its own.
pub(crate) struct SdkSink<E> {
    name: &'static str,
    rt: tokio::runtime::Runtime,
    /// Independent exporters, so that a slow export does not hold the next
    /// batch (an exporter takes one batch at a time).
    exporters: Vec<Arc<E>>,
    in_flight: Vec<Option<tokio::task::JoinHandle<OTelSdkResult>>>,
    scopes: HashMap<&'static str, InstrumentationScope>,
    timeout: Duration,
}

/// A runtime with one thread of its own on which exports run, while the
/// batch worker goes on draining.
pub(crate) fn export_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("semtel-export-io")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the export runtime: {e}"))
}

impl<E: opentelemetry_sdk::trace::SpanExporter> SdkSink<E> {
    /// A sink for `exporter`, which receives `resource`.
    pub fn custom(mut exporter: E, resource: &Resource) -> Result<Self, String> {
        exporter.set_resource(resource);
        Ok(SdkSink {
            name: "span exporter",
            rt: export_runtime()?,
            exporters: vec![Arc::new(exporter)],
            in_flight: vec![None],
            scopes: HashMap::new(),
            timeout: Duration::from_secs(10),
        })
    }

    /// Waits for the export in slot `i`, if any; its failure, if it failed.
    fn settle(&mut self, i: usize) -> Option<String> {
        let handle = self.in_flight[i].take()?;
        match self.rt.block_on(handle) {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("export task failed: {e}")),
        }
    }

    /// Settles every finished export; the first failure among them.
    fn reap(&mut self) -> Option<String> {
        let mut failure = None;
        for i in 0..self.in_flight.len() {
            if self.in_flight[i].as_ref().is_some_and(|h| h.is_finished()) {
                failure = failure.or(self.settle(i));
            }
        }
        failure
    }

    fn scope(&mut self, module: &'static str) -> InstrumentationScope {
        self.scopes
            .entry(module)
            .or_insert_with(|| {
                let name = module.split("::").next().unwrap_or(module).to_string();
                InstrumentationScope::builder(name).build()
            })
            .clone()
    }
}

/// The SDK's form of a span record.
fn span_data(r: SpanRecord, scope: InstrumentationScope) -> SpanData {
    let mut events = SpanEvents::default();
    events.events = r
        .events
        .into_iter()
        .map(|e| {
            otel::Event::new(
                e.name,
                to_system_time(e.time),
                e.attributes,
                e.dropped_attributes_count,
            )
        })
        .collect();
    events.dropped_count = r.dropped_events_count;
    let mut links = SpanLinks::default();
    links.links = r
        .links
        .into_iter()
        .map(|l| {
            let ctx = otel::SpanContext::new(
                l.trace_id,
                l.span_id,
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            );
            otel::Link::new(ctx, l.attributes, l.dropped_attributes_count)
        })
        .collect();
    links.dropped_count = r.dropped_links_count;
    let trace_state = r
        .trace_state
        .as_deref()
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    SpanData {
        span_context: otel::SpanContext::new(
            r.trace_id,
            r.span_id,
            TraceFlags::SAMPLED,
            false,
            trace_state,
        ),
        parent_span_id: r.parent_span_id,
        parent_span_is_remote: r.parent_remote,
        span_kind: match r.kind {
            SpanKind::Internal => otel::SpanKind::Internal,
            SpanKind::Client => otel::SpanKind::Client,
            SpanKind::Server => otel::SpanKind::Server,
            SpanKind::Producer => otel::SpanKind::Producer,
            SpanKind::Consumer => otel::SpanKind::Consumer,
        },
        name: r.name,
        start_time: to_system_time(r.start),
        end_time: to_system_time(r.end),
        attributes: r.attributes,
        dropped_attributes_count: r.dropped_attributes_count,
        events,
        links,
        status: match r.status {
            Status::Unset => otel::Status::Unset,
            Status::Ok => otel::Status::Ok,
            Status::Error(d) => otel::Status::error(d),
        },
        instrumentation_scope: scope,
    }
}

impl<E: opentelemetry_sdk::trace::SpanExporter + 'static> SpanSink for SdkSink<E> {
    fn name(&self) -> &str {
        self.name
    }

    /// Starts exporting `spans` on a free exporter (waiting for one when all
    /// are busy); reports a failure of an earlier export, if one finished failed.
    fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String> {
        let batch: Vec<SpanData> = spans
            .drain(..)
            .map(|r| {
                let scope = self.scope(r.scope);
                span_data(r, scope)
            })
            .collect();
        let mut failure = self.reap();
        let slot = match self.in_flight.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                failure = failure.or(self.settle(0));
                0
            }
        };
        let exporter = Arc::clone(&self.exporters[slot]);
        let n = batch.len();
        self.in_flight[slot] = Some(self.rt.spawn(async move {
            let result = exporter.export(batch).await;
            result.map_err(|e| {
                crate::trace::pipeline::count_unsent(n);
                OTelSdkError::InternalFailure(format!("{e} ({n} spans lost)"))
            })
        }));
        failure.map_or(Ok(()), Err)
    }

    fn flush(&mut self) -> Result<(), String> {
        let mut failure = None;
        for i in 0..self.in_flight.len() {
            failure = failure.or(self.settle(i));
        }
        failure.map_or(Ok(()), Err)
    }

    fn shutdown(&mut self) {
        let _ = self.flush();
        let _enter = self.rt.enter();
        for e in &self.exporters {
            let _ = e.shutdown_with_timeout(self.timeout);
        }
    }
}
