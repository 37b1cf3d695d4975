//! The OTLP span sink: batches encoded straight from span records and sent
//! by several requests in flight, so a slow response never holds the batch
//! worker.

use super::SpanSink;
use super::otlp::export_runtime;
use super::otlp_client::{Closer, OtlpClient, Signal};
use super::otlp_encode::{TracesEncoder, resource_attributes};
use crate::config::OtlpSettings;
use crate::trace::SpanRecord;
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use tokio::task::JoinHandle;

/// Requests in flight at once.
const IN_FLIGHT: usize = 16;

pub(crate) struct OtlpSink {
    rt: tokio::runtime::Runtime,
    client: OtlpClient,
    resource: Vec<KeyValue>,
    encoder: TracesEncoder,
    in_flight: Vec<JoinHandle<Result<(), String>>>,
}

impl OtlpSink {
    /// A sink sending to `s`'s endpoint; fails only on settings that cannot work.
    pub fn new(s: &OtlpSettings, resource: &Resource) -> Result<Self, String> {
        let rt = export_runtime()?;
        let client = {
            let _enter = rt.enter();
            OtlpClient::new(s.clone(), Signal::Traces)?
        };
        Ok(OtlpSink {
            rt,
            client,
            resource: resource_attributes(resource),
            encoder: TracesEncoder::default(),
            in_flight: Vec::new(),
        })
    }

    /// A handle that stops the sink's retries (at shutdown).
    pub fn closer(&self) -> Closer {
        self.client.closer()
    }

    /// Waits for the oldest request; its failure, if it failed.
    fn settle_oldest(&mut self) -> Option<String> {
        let h = self.in_flight.remove(0);
        match self.rt.block_on(h) {
            Ok(r) => r.err(),
            Err(e) => Some(format!("export task failed: {e}")),
        }
    }
}

impl SpanSink for OtlpSink {
    fn name(&self) -> &str {
        "otlp"
    }

    fn export(&mut self, spans: &mut Vec<SpanRecord>) -> Result<(), String> {
        let body = self.encoder.request(&self.resource, spans);
        let mut failure = None;
        // Collect finished requests; wait for the oldest when all are busy.
        while let Some(i) = self.in_flight.iter().position(JoinHandle::is_finished) {
            let h = self.in_flight.remove(i);
            if let Ok(Err(e)) | Err(e) = self.rt.block_on(h).map_err(|e| e.to_string()) {
                failure = failure.or(Some(e));
            }
        }
        if self.in_flight.len() >= IN_FLIGHT {
            failure = failure.or(self.settle_oldest());
        }
        let (client, n) = (self.client.clone(), spans.len());
        let send = async move {
            client.send(body).await.map_err(|e| {
                crate::trace::pipeline::count_unsent(n);
                format!("{e} ({n} spans lost)")
            })
        };
        self.in_flight.push(self.rt.spawn(send));
        failure.map_or(Ok(()), Err)
    }

    fn flush(&mut self) -> Result<(), String> {
        let mut failure = None;
        while !self.in_flight.is_empty() {
            failure = failure.or(self.settle_oldest());
        }
        failure.map_or(Ok(()), Err)
    }

    fn shutdown(&mut self) {
        self.client.closer().close();
        let _ = self.flush();
    }
}
